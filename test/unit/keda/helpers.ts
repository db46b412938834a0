// Builders for KEDA decider tests.
import type { KedaObservation, KedaPolicy, KedaTrigger, TriggerObservation } from '../../../src/deciders/keda/types.ts';
import type { PodInfo } from '../../../src/deciders/hpa/types.ts';

export function trigger(over: Partial<KedaTrigger> = {}, index = 0): KedaTrigger {
  return {
    type: 'redis',
    metricType: 'AverageValue',
    metadata: { listName: 'jobs' },
    target: 5,
    activationTarget: 0,
    metricName: `s${index}-redis-jobs`,
    ...over,
  };
}

/** A ScaledObject with an HPA behavior that reacts at once (no stabilization), to isolate KEDA logic. */
export function policy(over: Partial<KedaPolicy> = {}): KedaPolicy {
  return {
    name: 'worker',
    namespace: 'default',
    scaleTargetRef: { kind: 'Deployment', name: 'worker' },
    pollingIntervalSeconds: 30,
    cooldownPeriodSeconds: 300,
    initialCooldownPeriodSeconds: 0,
    minReplicaCount: 0,
    maxReplicaCount: 20,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 1000, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
    triggers: [trigger()],
    annotations: {},
    ...over,
  };
}

export function pods(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `worker-${i}`,
    phase: 'Running' as const,
    ready: { status: 'True' as const, lastTransitionTime: 0 },
    startTime: 0,
    containers: [{ name: 'main', requests: { cpu: 100, memory: 64 * 1024 * 1024 * 1000 } }],
  }));
}

export const v = (value: number, now = 0): TriggerObservation => ({ kind: 'value', value, timestamp: now });
export const err = (message = 'redis 127.0.0.1:6379: unreachable: connection refused'): TriggerObservation => ({ kind: 'error', message });

export function obs(current: number, triggers: TriggerObservation[], now: number, readyPods = current): KedaObservation {
  return { now, target: { specReplicas: current, statusReplicas: current }, pods: pods(readyPods), triggers };
}
