// Baseline policies with upstream defaults, built as the manifests a user would write would be
// normalized: HPA CPU 50 % / 70 % (autoscaling/v2 with the API server's default behavior), Knative KPA
// defaults, and KEDA on queue length.
import type { HpaBehavior, HpaPolicy } from '../deciders/hpa/types.ts';
import type { KedaPolicy } from '../deciders/keda/types.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import { makeKpaPolicy } from '../deciders/kpa/policy.ts';

/** Knative defaults for a revision whose containerConcurrency is the replica's slot count. */
export function kpaDefaultsBaseline(containerConcurrency: number): KpaPolicy {
  return makeKpaPolicy({ name: 'kpa-defaults', target: 'Deployment/model', containerConcurrency });
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

export function hpaCpuBaseline(utilization: number, minReplicas = 1, maxReplicas = 100): HpaPolicy {
  return {
    name: `hpa-cpu-${utilization}`,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'model' },
    minReplicas,
    maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } }],
    behavior: defaultHpaBehavior(),
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
