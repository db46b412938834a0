// Baseline policies with upstream defaults, built as the manifests a user would write would be
// normalized: HPA CPU 50 % / 70 % (autoscaling/v2 with the API server's default behavior), Knative KPA
// defaults, and KEDA on queue length.
import type { HpaBehavior, HpaPolicy } from '../deciders/hpa/types.ts';
import type { KedaPolicy } from '../deciders/keda/types.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import { makeKpaPolicy } from '../deciders/kpa/policy.ts';

/** Knobs of the KPA baseline (Knative annotations); omitted ones keep `config-autoscaler`'s defaults. */
export interface KpaKnobs {
  minScale?: number;
  maxScale?: number;
  /** autoscaling.knative.dev/target-utilization-percentage (default 70). */
  targetUtilizationPercentage?: number;
  /** autoscaling.knative.dev/window, seconds (default 60). */
  windowSeconds?: number;
}

/**
 * Knative defaults for a revision whose containerConcurrency is the replica's slot count, with the
 * simulation's min/max as min-scale/max-scale annotations (so `--min`/`--max` bind it like every
 * other policy; min 0 keeps scale to zero).
 */
export function kpaDefaultsBaseline(containerConcurrency: number, knobs: KpaKnobs = {}): KpaPolicy {
  const ann: Record<string, number> = {};
  if (knobs.minScale !== undefined && knobs.minScale > 0) ann.minScale = knobs.minScale;
  if (knobs.maxScale !== undefined && knobs.maxScale > 0) ann.maxScale = knobs.maxScale;
  if (knobs.targetUtilizationPercentage !== undefined) ann.targetUtilizationPercentage = knobs.targetUtilizationPercentage;
  if (knobs.windowSeconds !== undefined) ann.windowSeconds = knobs.windowSeconds;
  return makeKpaPolicy({ name: 'kpa-defaults', target: 'Deployment/model', containerConcurrency, annotations: ann });
}

/** autoscaling/v2 behavior as the API server defaults it. */
export function defaultHpaBehavior(): HpaBehavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}

/**
 * HPA on CPU utilization; `scaleDownWindowS` replaces the default 300 s scale-down stabilization
 * window (the sweep's variants: 0, 60, 300, 600 s).
 */
export function hpaCpuBaseline(utilization: number, minReplicas = 1, maxReplicas = 100, scaleDownWindowS?: number): HpaPolicy {
  const behavior = defaultHpaBehavior();
  if (scaleDownWindowS !== undefined) behavior.scaleDown.stabilizationWindowSeconds = scaleDownWindowS;
  return {
    name: `hpa-cpu-${utilization}`,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'model' },
    minReplicas,
    maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } }],
    behavior,
    source: { apiVersion: 'autoscaling/v2' },
  };
}

/** KEDA ScaledObject on a queue-length trigger (rabbitmq QueueLength, target `perReplica` messages). */
export function kedaQueueBaseline(perReplica: number, minReplicaCount = 0, maxReplicaCount = 100): KedaPolicy {
  return {
    name: `keda-queue-${perReplica}`,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'model' },
    pollingIntervalSeconds: 30,
    cooldownPeriodSeconds: 300,
    initialCooldownPeriodSeconds: 0,
    minReplicaCount,
    maxReplicaCount,
    triggers: [{
      type: 'rabbitmq',
      metricType: 'AverageValue',
      metadata: { queueName: 'inference', mode: 'QueueLength', value: String(perReplica) },
      target: perReplica,
      activationTarget: 0,
      metricName: 's0-rabbitmq-inference',
    }],
    annotations: {},
    source: { apiVersion: 'keda.sh/v1alpha1' },
  };
}
