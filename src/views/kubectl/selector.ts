// Label selectors as kubectl takes them (-l "app=x,tier!=db,env in (a,b),!legacy") and prints them. Pure.
import type { LabelSelector } from './types.ts';

export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

/** Parse a `-l` selector; throws Error with a kubectl-like message on bad syntax. */
export function parseSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += ch;
  }
  if (cur.trim() || parts.length) parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) throw new Error(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) out.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((s) => s.trim()).filter(Boolean) });
    else if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) out.push({ key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] });
    else if ((m = p.match(/^!\s*([\w./-]+)$/))) out.push({ key: m[1], op: '!exists' });
    else if ((m = p.match(/^([\w./-]+)$/))) out.push({ key: m[1], op: 'exists' });
    else throw new Error(`unable to parse requirement: ${JSON.stringify(p)}`);
  }
  return out;
}

export function selectorMatches(req: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return req.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case '=': return has && l[r.key] === r.value;
      case '!=': return !has || l[r.key] !== r.value;
      case 'in': return has && r.values.includes(l[r.key]);
      case 'notin': return !has || !r.values.includes(l[r.key]);
      case 'exists': return has;
      case '!exists': return !has;
    }
  });
}

/** metav1.LabelSelectorAsSelector(...).String(): "app=x,tier in (a,b)"; "<none>" when empty. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const k of Object.keys(sel?.matchLabels ?? {})) parts.push(`${k}=${sel!.matchLabels![k]}`);
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In' || op === 'NotIn') parts.push(`${e.key} ${op.toLowerCase()} (${[...(e.values ?? [])].sort().join(',')})`);
    else if (op === 'Exists') parts.push(e.key);
    else if (op === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',') || '<none>';
}
