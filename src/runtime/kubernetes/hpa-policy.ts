// A live autoscaling/v2 HorizontalPodAutoscaler (as the apiserver serves it, v1 objects included)
// -> the decider's HpaPolicy, through the same dialect (schema, upstream validation, defaults) that
// reads manifest files. Problems come back as one readable message per field.
import { hpaV2Dialect } from '../../manifests/dialects/hpa.ts';
import type { DialectIssue } from '../../manifests/dialects/types.ts';
import type { HpaPolicy } from '../../deciders/hpa/types.ts';
import type { HpaObject } from './status.ts';

export type PolicyResult = { ok: true; policy: HpaPolicy } | { ok: false; problems: string[] };

// The informer hands out the same object until the HPA changes: parse each version once.
const parsedPolicies = new WeakMap<HpaObject, PolicyResult>();

export function policyOf(hpa: HpaObject): PolicyResult {
  let r = parsedPolicies.get(hpa);
  if (!r) { r = parsePolicy(hpa); parsedPolicies.set(hpa, r); }
  return r;
}

function parsePolicy(hpa: HpaObject): PolicyResult {
  const plain = JSON.parse(JSON.stringify({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: hpa.metadata?.name, namespace: hpa.metadata?.namespace, ...(hpa.metadata?.annotations ? { annotations: hpa.metadata.annotations } : {}) },
    spec: hpa.spec,
  }));
  const parsed = hpaV2Dialect.schema.safeParse(plain);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message.replace(/^unknown field; known: .*/, 'unknown field')}`) };
  }
  const issues: DialectIssue[] = [];
  const ctx = { file: `${hpa.metadata?.namespace}/${hpa.metadata?.name}`, apiVersion: 'autoscaling/v2', env: {}, report: (i: DialectIssue) => { issues.push(i); } };
  hpaV2Dialect.validate?.(parsed.data, ctx);
  const errors = issues.filter((i) => i.severity !== 'warning');
  if (errors.length) return { ok: false, problems: errors.map((i) => `${i.path.join('.')}: ${i.message}${i.allowed ? ` (${i.allowed})` : ''}`) };
  const policy = hpaV2Dialect.normalize!(parsed.data, ctx);
  delete policy.source;
  return { ok: true, policy };
}
