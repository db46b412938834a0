import type { ServiceModel } from '../../../src/sim/engine.ts';
import { defaultPredictivePolicy, type decidePredictive, type DemandSample, type PredictivePolicy } from '../../../src/policies/predictive.ts';

/** The predictive policy the predictive-*.test.ts files pin: 4 slots, a 1 s SLO, a 30 s cold start, no season. */
export const policy = (over: Partial<PredictivePolicy> = {}): PredictivePolicy =>
  defaultPredictivePolicy({ name: 'x', slotsPerReplica: 4, sloLatencyMs: 1000, coldStartMs: 30_000, seasonMs: 0, ...over });

/** One second of traffic as a proxy reports it: `arrivals` requests of `serviceMs` each, no queue. */
export const second = (t: number, arrivals: number, serviceMs = 200): DemandSample =>
  ({ t, arrivals, busyMs: arrivals * serviceMs, queuedMs: 0, started: arrivals, startedServiceMs: arrivals * serviceMs });

export type Rec = ReturnType<typeof decidePredictive>['record'];

export function service(over: Partial<ServiceModel> = {}): ServiceModel {
  return {
    concurrency: 4,
    dist: { kind: 'lognormal', medianMs: 200, sigma: 0.5 },
    coldStart: { kind: 'fixed', ms: 20_000 },
    cpuRequestMilli: 1000,
    cpuPerSlotMilli: 250,
    idleCpuMilli: 10,
    coldStartCpuMilli: 500,
    ...over,
  };
}
