// Knative Service / KServe InferenceService → the autoscaler they declare: which kind decides
// (the KPA, or the HPA for the `hpa.autoscaling.knative.dev` class / cpu & memory metrics) and its
// policy. Manifest translation only; the runtime that runs the revision builds its own objects
// from the normalized Deployment and Service (src/runtime/local/bundle.ts for `tide up`).
import type { KpaRevisionInput } from '../deciders/kpa/policy.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import type { KnativeNormalized } from './dialects/knative-workload.ts';

export function isKnativeObject(obj: Record<string, unknown>): boolean {
  return (obj.apiVersion === 'serving.knative.dev/v1' && obj.kind === 'Service')
    || (obj.apiVersion === 'serving.kserve.io/v1beta1' && obj.kind === 'InferenceService');
}

/** What a 'kpa' autoscaler carries as its policy: the resolved KpaPolicy and what re-resolves it. */
export interface KpaItemPolicy {
  kpa: KpaPolicy;
  /** The revision inputs, to re-resolve the policy with config-autoscaler overrides. */
  revision: KpaRevisionInput;
  containerConcurrency: number;
  timeoutSeconds: number;
}

/** The autoscaler a normalized Knative/KServe object declares. */
export function knativeAutoscaler(n: KnativeNormalized): { kind: 'kpa' | 'hpa'; name: string; policy: unknown } {
  if (n.autoscaler.decider === 'kpa') {
    const policy: KpaItemPolicy = { kpa: n.autoscaler.policy, revision: n.autoscaler.revision, containerConcurrency: n.containerConcurrency, timeoutSeconds: n.timeoutSeconds };
    return { kind: 'kpa', name: n.name, policy };
  }
  return { kind: 'hpa', name: n.autoscaler.policy.name, policy: n.autoscaler.policy };
}
