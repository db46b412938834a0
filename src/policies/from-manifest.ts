// Which autoscaler documents run Tide's own predictive policy instead of their native decider, and
// the policy built from them. Shared by the simulator and the local runtime so both read a manifest
// the same way (one code path, as for every other decider).
import { UserError } from '../core/errors.ts';
import { predictiveFromAnnotations, wantsPredictive, type PredictivePolicy } from './predictive.ts';
import type { ManifestDoc } from '../manifests/load.ts';
import type { HpaPolicy } from '../deciders/hpa/types.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import type { KedaPolicy } from '../deciders/keda/types.ts';

function bounds(decider: string, policy: unknown): { min: number; max: number; slots?: number } {
  if (decider === 'hpa') {
    const p = policy as HpaPolicy;
    return { min: p.minReplicas, max: p.maxReplicas };
  }
  if (decider === 'kpa') {
    const p = policy as KpaPolicy;
    return { min: p.minScale, max: p.maxScale > 0 ? p.maxScale : 1000, ...(p.containerConcurrency > 0 ? { slots: p.containerConcurrency } : {}) };
  }
  const p = policy as KedaPolicy;
  return { min: p.minReplicaCount, max: p.maxReplicaCount };
}

/**
 * The one place that decides whether an autoscaler document runs Tide's predictive policy
 * (`tide.dev/policy: predictive`) and builds that policy: min/max (and containerConcurrency) from the
 * manifest, tide.dev/* annotations on top. Used by the simulator and by the local runtime (`tide up`).
 * Returns undefined for autoscalers that keep their native decider.
 */
export function predictivePolicyForDoc(
  doc: ManifestDoc,
  opts: { defaultColdStart?: string; defaultSlots?: number; target?: string } = {},
): PredictivePolicy | undefined {
  const a = doc.autoscaler;
  if (!a) return undefined;
  const annotations = ((doc.object as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations) ?? {};
  if (!wantsPredictive(annotations)) return undefined;
  const b = bounds(a.decider, a.policy);
  try {
    return predictiveFromAnnotations(
      { ...(opts.defaultColdStart ? { 'tide.dev/cold-start': opts.defaultColdStart } : {}), ...annotations },
      { name: doc.name, minReplicas: b.min, maxReplicas: b.max, ...(opts.target ? { target: opts.target } : {}), ...((b.slots ?? opts.defaultSlots) ? { slotsPerReplica: b.slots ?? opts.defaultSlots } : {}) },
    );
  } catch (e) {
    throw new UserError(`${doc.file}:${doc.line}: ${(e as Error).message}`);
  }
}
