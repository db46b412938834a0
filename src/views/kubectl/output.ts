// -o json / -o yaml as kubectl prints them: one object for one named object, otherwise a v1 List.
// JSON keeps the object's field order with 4-space indentation; YAML (sigs.k8s.io/yaml) sorts keys
// and does not indent sequences under their key. The yaml package is loaded only for -o yaml.

export function asList(items: unknown[]): { apiVersion: 'v1'; items: unknown[]; kind: 'List'; metadata: { resourceVersion: string } } {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

export function toJson(obj: unknown): string {
  return JSON.stringify(obj, null, 4);
}

export async function toYaml(obj: unknown): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(obj, { sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false }).replace(/\n$/, '');
}

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
