// Synthetic tune-on shapes for Tide's policy (issue 15): sparse and batched arrivals built from
// generators (src/sim/workload.ts), not from any trace, so that the policy's sparse/batched terms
// can be designed and validated without looking at the evaluate-only scenarios (azure-batched,
// azure-sparse and the public traces). Constants chosen before any run: a diurnal rate (1 h period),
// lognormal LLM-like service times (median 2.5 s, σ 0.7), a fixed 20 s cold start.
// - synth-sparse: mean 0.4 req/s (±70 %), one request per replica, SLO 12 s (a cold start does not
//   fit in it: the M/M/c sizing path), 2 h.
// - synth-batched: mean 6 req/s (±50 %), every arrival moved to the start of its 5 s window, 8 slots
//   per replica, SLO 30 s (covers a cold start plus two service times: the reactive path), 2 h.
// - synth-tenants: many small tenants that are silent most of the time and then send a session of
//   requests close together (an agent, a notebook, a batch script): 40 tenants, a session per tenant
//   every 40 min on average (Poisson, ±50 % over a 6 h period), 15 requests per session on average
//   (geometric) 2 s apart on average (exponential), 8 slots per replica, SLO 15 s (a cold start does
//   not fit in it), scale to zero allowed, 2 days. Added after the evaluate-only servegen-sparse run
//   showed a loss there, as a shape to study that loss on without probing servegen-sparse itself;
//   its constants were fixed before it was first simulated.
// - synth-clumps: tenants whose requests come in clumps (a renewal process with gamma inter-arrival
//   times of coefficient of variation 4, the kind of burstiness ServeGen reports for language-model
//   tenants) at a rate that changes every 10 min: 30 tenants, each active in half of the 10-min
//   windows at a lognormal rate (median 0.02 req/s, sigma 1), 8 slots per replica, SLO 15 s (a
//   cold start does not fit in it), scale to zero allowed, 2 days. Constants fixed before its first
//   simulation, like synth-tenants', and for the same reason.
import { defaultService, type ServiceModel } from '../src/sim/engine.ts';
import { generate, type RequestsTrace } from '../src/sim/workload.ts';
import { Rng } from '../src/sim/rng.ts';
import type { Scenario } from './scenarios.ts';

export const SYNTH_TUNE = ['synth-sparse', 'synth-batched', 'synth-tenants', 'synth-clumps'] as const;

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

const SHAPES: Record<Exclude<(typeof SYNTH_TUNE)[number], 'synth-tenants' | 'synth-clumps'>, Shape> = {
  'synth-sparse': {
    meanRps: 0.4, amplitude: 0.7, genSeed: 7, concurrency: 1, batchMs: 0, sloMs: 12_000,
    describe: 'synthetic sparse arrivals (Poisson, mean 0.4 req/s ±70 % over a 1 h period), 2 h; service lognormal(median 2.5 s, σ 0.7), 1 slot/replica, cold start 20 s, SLO 12 s',
  },
  'synth-batched': {
    meanRps: 6, amplitude: 0.5, genSeed: 8, concurrency: 8, batchMs: 5000, sloMs: 30_000,
    describe: 'synthetic batched arrivals (Poisson, mean 6 req/s ±50 % over a 1 h period, every arrival moved to the start of its 5 s window), 2 h; service lognormal(median 2.5 s, σ 0.7), 8 slots/replica, cold start 20 s, SLO 30 s',
  },
};

/** Sessions of small tenants, superposed (synth-tenants): a thinned Poisson process of session starts per tenant. */
export function tenantSessions(o: { tenants: number; sessionEveryMs: number; amplitude: number; periodMs: number; meanRequests: number; meanGapMs: number; durationMs: number; seed: number }, name: string): RequestsTrace {
  const rng = new Rng(o.seed);
  const t: number[] = [];
  for (let k = 0; k < o.tenants; k++) {
    const phase = rng.next() * o.periodMs;
    // candidate starts at the peak rate, kept with probability rate(t) / peak (thinning)
    const peakEvery = o.sessionEveryMs / (1 + o.amplitude);
    for (let s = rng.exponential(peakEvery); s < o.durationMs; s += rng.exponential(peakEvery)) {
      const rate = 1 + o.amplitude * Math.sin((2 * Math.PI * (s + phase)) / o.periodMs);
      if (rng.next() * (1 + o.amplitude) > rate) continue;
      // geometric number of requests with the given mean (at least one)
      const n = 1 + Math.floor(Math.log(rng.nextOpen()) / Math.log(1 - 1 / o.meanRequests));
      let at = s;
      for (let i = 0; i < n && at < o.durationMs; i++, at += rng.exponential(o.meanGapMs)) t.push(Math.floor(at));
    }
  }
  t.sort((a, b) => a - b);
  return { kind: 'requests', name, startMs: 0, times: Float64Array.from(t) };
}

/** Gamma(shape k, scale 1) by Marsaglia and Tsang (k < 1 boosted: Gamma(k + 1) x U^(1/k)). */
function gamma(rng: Rng, k: number): number {
  if (k < 1) return gamma(rng, k + 1) * Math.pow(rng.nextOpen(), 1 / k);
  const d = k - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal(), v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0, u = rng.nextOpen();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Clumpy tenants (synth-clumps): per tenant and 10-min window, active or not, a lognormal rate, gamma inter-arrivals. */
export function clumpyTenants(o: { tenants: number; windowMs: number; activeShare: number; medianRps: number; sigma: number; cv: number; durationMs: number; seed: number }, name: string): RequestsTrace {
  const rng = new Rng(o.seed);
  const k = 1 / (o.cv * o.cv); // gamma shape for the coefficient of variation
  const t: number[] = [];
  for (let j = 0; j < o.tenants; j++) {
    for (let w = 0; w < o.durationMs; w += o.windowMs) {
      if (rng.next() >= o.activeShare) continue;
      const rate = o.medianRps * Math.exp(o.sigma * rng.normal());
      const meanGapMs = 1000 / rate;
      // start at a random point of a gap (stationary renewal: close enough for a 10-min window)
      for (let at = w + rng.next() * meanGapMs; at < w + o.windowMs && at < o.durationMs; at += gamma(rng, k) * meanGapMs / k) t.push(Math.floor(at));
    }
  }
  t.sort((a, b) => a - b);
  return { kind: 'requests', name, startMs: 0, times: Float64Array.from(t) };
}

/**
 * The two tenant shapes' common setting: LLM-like service (lognormal, median 2.5 s, σ 0.7), 8 slots
 * per replica, a 20 s cold start against a 15 s SLO, scale to zero allowed.
 */
function tenantScenario(name: string, trace: RequestsTrace, shape: string): Scenario {
  const dist = { kind: 'lognormal', medianMs: 2500, sigma: 0.7 } as const;
  const service = svc({ concurrency: 8, dist, coldStart: { kind: 'fixed', ms: 20_000 } });
  return {
    name, set: 'tune',
    describe: `${shape}, 2 days; service lognormal(median 2.5 s, σ 0.7), 8 slots/replica, cold start 20 s, SLO 15 s, scale to zero allowed`,
    base: { seed: 1, trace, service, sloMs: 15_000, initialReplicas: 0, maxReplicas: 200 },
    ctx: { service, sloMs: 15_000, sloTarget: 0.99, minReplicas: 0, maxReplicas: 200, seasonMs: 0 },
    tide: [{ label: 'Tide predictive', seasonMs: 0 }],
  };
}

const clumpsScenario = (name: string): Scenario => tenantScenario(name,
  clumpyTenants({ tenants: 30, windowMs: 600_000, activeShare: 0.5, medianRps: 0.02, sigma: 1, cv: 4, durationMs: 2 * 86_400_000, seed: 10 }, name),
  'synthetic clumpy tenants (30 tenants, each active in half of the 10-min windows at a lognormal rate, median 0.02 req/s, σ 1; gamma inter-arrivals, CV 4)');

const tenantsScenario = (name: string): Scenario => tenantScenario(name,
  tenantSessions({ tenants: 40, sessionEveryMs: 2_400_000, amplitude: 0.5, periodMs: 6 * 3_600_000, meanRequests: 15, meanGapMs: 2000, durationMs: 2 * 86_400_000, seed: 9 }, name),
  'synthetic multi-tenant sessions (40 tenants, a session each every 40 min on average ±50 % over 6 h, 15 requests per session 2 s apart on average)');

export function synthScenario(name: string): Scenario {
  if (name === 'synth-tenants') return tenantsScenario(name);
  if (name === 'synth-clumps') return clumpsScenario(name);
  const shape = SHAPES[name as keyof typeof SHAPES];
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
