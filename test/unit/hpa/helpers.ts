// Builders for HPA decider tests: pods, samples, policies, observations in a few words.
import assert from 'node:assert/strict';
import type { CalcEnv, CalcResult } from '../../../src/deciders/hpa/replica-calculator.ts';
import type {
  HpaBehavior,
  HpaObservation,
  HpaPolicy,
  HpaScalingRules,
  MetricObservation,
  MetricSpec,
  PodInfo,
  PodMetricSample,
} from '../../../src/deciders/hpa/types.ts';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const S = 1000;
export const MIN = 60 * S;

export interface PodOpts {
  phase?: PodInfo['phase'];
  ready?: 'True' | 'False' | 'Unknown' | null; // null: no Ready condition
  readySince?: number; // lastTransitionTime
  startTime?: number | null;
  deleted?: boolean;
  cpuRequest?: number; // milli, per container
  containers?: number;
  requests?: Record<string, number>;
}

/** A running, ready pod started long ago (outside every initialization period). */
export function pod(name: string, o: PodOpts = {}): PodInfo {
  const containers = o.containers ?? 1;
  const requests = o.requests ?? { cpu: o.cpuRequest ?? 1000 };
  const p: PodInfo = {
    name,
    phase: o.phase ?? 'Running',
    containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i + 1}`, requests: { ...requests } })),
  };
  if (o.ready !== null) p.ready = { status: o.ready ?? 'True', lastTransitionTime: o.readySince ?? T0 - 60 * MIN };
  if (o.startTime !== null) p.startTime = o.startTime ?? T0 - 61 * MIN;
  if (o.deleted) p.deletionTimestamp = T0 - S;
  return p;
}

export function pods(n: number, o: PodOpts = {}): PodInfo[] {
  return Array.from({ length: n }, (_, i) => pod(`p${i}`, o));
}

export function sample(podName: string, value: number, timestamp = T0 - 10 * S, windowSeconds = 60): PodMetricSample {
  return { pod: podName, value, timestamp, windowSeconds };
}

/** Per-pod samples p0..p{n-1} with the given values (undefined: no sample for that pod). */
export function samples(values: (number | undefined)[], timestamp = T0 - 10 * S): MetricObservation {
  const out: PodMetricSample[] = [];
  values.forEach((v, i) => {
    if (v !== undefined) out.push(sample(`p${i}`, v, timestamp));
  });
  return { kind: 'pods', samples: out };
}

export const cpu = (util: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: util } } });
export const cpuAvg = (milli: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: milli } } });
export const podsMetric = (name: string, avgMilli: number): MetricSpec => ({ type: 'Pods', pods: { metric: { name }, target: { type: 'AverageValue', averageValue: avgMilli } } });
export const objectValue = (name: string, milli: number): MetricSpec => ({
  type: 'Object',
  object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'frontend' }, metric: { name }, target: { type: 'Value', value: milli } },
});
export const objectAvg = (name: string, milli: number): MetricSpec => ({
  type: 'Object',
  object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'frontend' }, metric: { name }, target: { type: 'AverageValue', averageValue: milli } },
});
export const externalValue = (name: string, milli: number): MetricSpec => ({ type: 'External', external: { metric: { name }, target: { type: 'Value', value: milli } } });
export const externalAvg = (name: string, milli: number): MetricSpec => ({ type: 'External', external: { metric: { name }, target: { type: 'AverageValue', averageValue: milli } } });

export function rules(o: Partial<HpaScalingRules> & { policies: HpaScalingRules['policies'] }): HpaScalingRules {
  return { stabilizationWindowSeconds: 0, selectPolicy: 'Max', ...o };
}

/** Behavior with wide-open policies unless overridden, no stabilization. */
export function behavior(o: { scaleUp?: Partial<HpaScalingRules>; scaleDown?: Partial<HpaScalingRules> } = {}): HpaBehavior {
  return {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 1000, periodSeconds: 15 }], ...o.scaleUp },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], ...o.scaleDown },
  };
}

export function policy(metrics: MetricSpec[], o: Partial<HpaPolicy> = {}): HpaPolicy {
  return {
    name: 'web',
    namespace: 'default',
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 100,
    metrics,
    ...o,
  };
}

export function observation(specReplicas: number, podList: PodInfo[], metrics: MetricObservation[], o: Partial<HpaObservation> = {}): HpaObservation {
  return {
    now: T0,
    target: { specReplicas, statusReplicas: specReplicas, selector: 'app=web' },
    pods: podList,
    metrics,
    ...o,
  };
}

// ---- the replica calculator's own inputs and results ----

/** The calculator's environment at T0: upstream's default 5 min CPU initialization, 30 s readiness delay. */
export function calcEnv(podList: PodInfo[], tol = { scaleUp: 0.1, scaleDown: 0.1 }): CalcEnv {
  return { now: T0, pods: podList, cpuInitializationPeriodMs: 300 * S, delayOfInitialReadinessStatusMs: 30 * S, tolerances: tol };
}

/** Samples of pods p0, p1, … (undefined: that pod has no sample). */
export function vals(values: (number | undefined)[]): PodMetricSample[] {
  const out: PodMetricSample[] = [];
  values.forEach((v, i) => v !== undefined && out.push(sample(`p${i}`, v)));
  return out;
}

/** The result, asserted to be a success. */
export function ok(r: CalcResult): Extract<CalcResult, { ok: true }> {
  assert.equal(r.ok, true, r.ok ? '' : r.error);
  return r as Extract<CalcResult, { ok: true }>;
}
