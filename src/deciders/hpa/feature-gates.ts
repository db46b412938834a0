// kube-controller-manager's --feature-gates for the HPA: which gates Tide knows, their default in
// each Kubernetes release, and the flag's parser ("HPAScaleToZero=false,HPAConfigurableTolerance=true").
// Tide's defaults are v1.37's; a user on an older cluster selects that version's behaviour with the
// gates below (docs/hpa.md has the version matrix).
import { UserError } from '../../core/errors.ts';
import type { HpaFeatureGates } from './types.ts';

export const HPA_FEATURE_GATES: readonly { name: keyof HpaFeatureGates; what: string; defaults: string }[] = [
  {
    name: 'HPAScaleToZero',
    what: 'minReplicas: 0 with Object/External metrics; ScaledToZero condition; a target at 0 replicas is scaled only when the HPA put it there',
    defaults: 'off (alpha) v1.16-v1.36, on (beta) v1.37',
  },
  {
    name: 'HPAConfigurableTolerance',
    what: 'behavior.scaleUp/scaleDown.tolerance',
    defaults: 'absent before v1.33, off (alpha) v1.33-v1.34, on (beta) v1.35-v1.36, on (GA, locked) v1.37',
  },
];

/**
 * Parse a --feature-gates value: comma-separated Name=true|false. Gates that do not change HPA
 * decisions (kube-controller-manager has many) are accepted and ignored, so a cluster's own flag
 * value can be pasted as is; a malformed entry or a non-boolean value is an error.
 */
export function parseFeatureGates(spec: string, flag = '--feature-gates'): Partial<HpaFeatureGates> {
  const out: Partial<HpaFeatureGates> = {};
  const known = new Set<string>(HPA_FEATURE_GATES.map((g) => g.name));
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(item);
    if (!m) throw new UserError(`${flag}: expected Name=true|false, got ${JSON.stringify(item)} (HPA gates: ${[...known].join(', ')})`);
    const v = m[2].trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new UserError(`${flag}: ${m[1]}: expected true or false, got ${JSON.stringify(m[2])}`);
    if (known.has(m[1])) out[m[1] as keyof HpaFeatureGates] = v === 'true';
  }
  return out;
}
