// A scriptable ClusterPort for autoscaler unit tests: a scale target with pods, canned metric
// answers (optionally asynchronous), and recorded writes, records and events.
import type { DecisionEvent, DecisionRecord } from '../../../src/core/decision.ts';
import type { PodInfo } from '../../../src/deciders/hpa/types.ts';
import type { AutoscalerRef, ClusterPort, ExternalMetricResult, ObjectMetricResult, PodMetricsResult, ScalerMetricResult } from '../../../src/autoscalers/port.ts';
import type { KpaSample } from '../../../src/deciders/kpa/types.ts';
import type { DemandSample } from '../../../src/policies/predictive.ts';

export const NOW = 1_764_000_000_000;

export function pod(name: string, over: Partial<PodInfo> = {}): PodInfo {
  return { name, phase: 'Running', ready: { status: 'True', lastTransitionTime: NOW - 600_000 }, startTime: NOW - 600_000, containers: [{ name: 'app', requests: { cpu: 100 } }], ...over };
}

export interface FakePort extends ClusterPort {
  t: number;
  spec: number;
  pods: PodInfo[];
  scaled: number[];
  records: DecisionRecord[];
  events: DecisionEvent[];
  resource?: (ref: AutoscalerRef, res: string, container?: string) => PodMetricsResult;
  custom?: () => PodMetricsResult;
  object?: () => ObjectMetricResult;
  external?: () => ExternalMetricResult;
  scaler?: (i: number) => ScalerMetricResult;
  concurrency: KpaSample[];
  demand: DemandSample[];
  async: boolean;
  failScale?: string;
}

export function fakePort(over: Partial<FakePort> = {}): FakePort {
  const later = <T>(p: FakePort, v: T): T | Promise<T> => (p.async ? new Promise((r) => setImmediate(() => r(v))) : v);
  const p: FakePort = {
    t: NOW, spec: 2, pods: [pod('web-a'), pod('web-b')], scaled: [], records: [], events: [], concurrency: [], demand: [], async: false,
    now() { return p.t; },
    getScale() { return later(p, { specReplicas: p.spec, statusReplicas: p.pods.filter((x) => x.deletionTimestamp === undefined).length, selector: 'app=web' }); },
    setScale(_t, n) {
      if (p.failScale) return Promise.reject(new Error(p.failScale));
      p.scaled.push(n); p.spec = n;
    },
    listPods() { return later(p, p.pods); },
    readyPods() { return p.pods.filter((x) => x.deletionTimestamp === undefined && x.ready?.status === 'True').length; },
    resourceMetrics(ref, res, container) { return later(p, p.resource ? p.resource(ref, res, container) : { kind: 'pods' as const, samples: [] }); },
    podMetrics() { return later(p, p.custom ? p.custom() : { kind: 'error' as const, message: 'none' }); },
    objectMetric() { return later(p, p.object ? p.object() : { kind: 'error' as const, message: 'none' }); },
    externalMetric() { return later(p, p.external ? p.external() : { kind: 'error' as const, message: 'no PromQL for metric' }); },
    scalerMetric(_ref, _t, i) { return later(p, p.scaler ? p.scaler(i) : { kind: 'error' as const, message: 'none' }); },
    openConcurrencyStats() { return { take: () => p.concurrency.splice(0), close() {} }; },
    openDemandStats() { return { take: () => ({ samples: p.demand.splice(0), queued: 0, inFlight: 0 }), close() {} }; },
    record(_ref, r) { p.records.push(r); },
    event(_ref, e) { p.events.push(e); },
    ...over,
  } as FakePort;
  return p;
}
