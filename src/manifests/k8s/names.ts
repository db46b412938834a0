// Object names as Kubernetes validates them (apimachinery's IsDNS1123Label / IsDNS1123Subdomain /
// IsDNS1035Label, chosen per kind). Names end up in file names (replica logs, state), URLs and
// label values, so nothing else in Tide may use a name that did not pass here.

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const RULES: Record<NameRule, { re: RegExp; max: number; what: string; example: string }> = {
  'dns1123-subdomain': { re: SUBDOMAIN, max: 253, what: 'a lowercase RFC 1123 subdomain: lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit', example: 'app-fastapi' },
  'dns1123-label': { re: LABEL_1123, max: 63, what: 'a lowercase RFC 1123 label: lowercase letters, digits and \'-\', starting and ending with a letter or digit', example: 'ai-inference' },
  'dns1035-label': { re: LABEL_1035, max: 63, what: 'a DNS-1035 label: lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit', example: 'app-fastapi' },
};

/** Problems with `name` under `rule` (empty when valid): messages for people. */
export function nameProblems(name: string, rule: NameRule): string[] {
  const r = RULES[rule];
  const out: string[] = [];
  if (name.length > r.max) out.push(`must be no more than ${r.max} characters (got ${name.length})`);
  if (!r.re.test(name)) out.push(`must be ${r.what} (e.g. "${r.example}")`);
  return out;
}

export function isValidName(name: unknown, rule: NameRule): name is string {
  return typeof name === 'string' && name.length > 0 && nameProblems(name, rule).length === 0;
}

/** Shown in messages: `"My App"` (long names cut so a 300-character name does not flood the terminal). */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}
