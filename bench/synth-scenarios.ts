// Synthetic tune-on shapes for Tide's policy (issue 15): sparse and batched arrivals built from
// generators (src/sim/workload.ts), not from any trace, so that the policy's sparse/batched terms
// can be designed and validated without looking at the evaluate-only scenarios (azure-batched,
// azure-sparse and the public traces). Constants chosen before any run: a diurnal rate (1 h period),
// lognormal LLM-like service times (median 2.5 s, σ 0.7), a fixed 20 s cold start.
// - synth-sparse: mean 0.4 req/s (±70 %), one request per replica, SLO 12 s (a cold start does not
//   fit in it: the M/M/c sizing path), 2 h.
// - synth-batched: mean 6 req/s (±50 %), every arrival moved to the start of its 5 s window, 8 slots
//   per replica, SLO 30 s (covers a cold start plus two service times: the reactive path), 2 h.
import { defaultService, type ServiceModel } from '../src/sim/engine.ts';
import { generate, type RequestsTrace } from '../src/sim/workload.ts';
import type { Scenario } from './scenarios.ts';

export const SYNTH_TUNE = ['synth-sparse', 'synth-batched'] as const;

function svc(over: Partial<ServiceModel>): ServiceModel {
  const s = { ...defaultService, ...over };
  s.cpuPerSlotMilli = (0.9 * s.cpuRequestMilli) / s.concurrency;
  return s;
}

/** A generated counts trace as requests: spread over each second, or moved to the start of each `batchMs` window. */
function requests(counts: Float64Array, batchMs: number, name: string): RequestsTrace {
  const t: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    for (let k = 0; k < counts[i]; k++) t.push(batchMs > 0 ? Math.floor((i * 1000) / batchMs) * batchMs : i * 1000 + ((k * 617 + i * 131) % 1000));
  }
  t.sort((a, b) => a - b);
  return { kind: 'requests', name, startMs: 0, times: Float64Array.from(t) };
}

/** One synthetic shape: a diurnal Poisson rate (1 h period, 2 h), the shared service model, its SLO. */
interface Shape { meanRps: number; amplitude: number; genSeed: number; concurrency: number; batchMs: number; sloMs: number; describe: string }

const SHAPES: Record<(typeof SYNTH_TUNE)[number], Shape> = {
  'synth-sparse': {
    meanRps: 0.4, amplitude: 0.7, genSeed: 7, concurrency: 1, batchMs: 0, sloMs: 12_000,
    describe: 'synthetic sparse arrivals (Poisson, mean 0.4 req/s ±70 % over a 1 h period), 2 h; service lognormal(median 2.5 s, σ 0.7), 1 slot/replica, cold start 20 s, SLO 12 s',
  },
  'synth-batched': {
    meanRps: 6, amplitude: 0.5, genSeed: 8, concurrency: 8, batchMs: 5000, sloMs: 30_000,
    describe: 'synthetic batched arrivals (Poisson, mean 6 req/s ±50 % over a 1 h period, every arrival moved to the start of its 5 s window), 2 h; service lognormal(median 2.5 s, σ 0.7), 8 slots/replica, cold start 20 s, SLO 30 s',
  },
};

export function synthScenario(name: string): Scenario {
  const shape = SHAPES[name as (typeof SYNTH_TUNE)[number]];
  if (!shape) throw new Error(`unknown synthetic scenario ${name} (${SYNTH_TUNE.join(', ')})`);
  const dist = { kind: 'lognormal', medianMs: 2500, sigma: 0.7 } as const;
  const coldStart = { kind: 'fixed', ms: 20_000 } as const;
  const g = generate({ kind: 'diurnal', meanRps: shape.meanRps, amplitude: shape.amplitude, periodMs: 3_600_000 }, 7_200_000, shape.genSeed);
  const service = svc({ concurrency: shape.concurrency, dist, coldStart });
  return {
    name, set: 'tune',
    describe: shape.describe,
    base: { seed: 1, trace: requests(g.counts, shape.batchMs, name), service, sloMs: shape.sloMs, initialReplicas: 0, maxReplicas: 200 },
    ctx: { service, sloMs: shape.sloMs, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 0 },
    tide: [{ label: 'Tide predictive', seasonMs: 0 }],
  };
}
