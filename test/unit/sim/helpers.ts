import type { ServiceModel } from '../../../src/sim/engine.ts';

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
