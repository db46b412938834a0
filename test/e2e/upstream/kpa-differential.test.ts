// Differential test: Tide's KPA decider against Knative's own autoscaler code.
//
// test/upstream-kpa/build.sh builds a harness from knative.dev/serving's unmodified
// pkg/autoscaler/scaling/autoscaler.go (the decider's Scale), pkg/autoscaler/aggregation/bucketing.go
// (the stable and panic windows, linear and weighted) and aggregation/max (scale-down delay), at the
// version Tide follows, from the Go module proxy. Seeded random scenarios run through the harness and
// through src/deciders/kpa/{scaling,aggregation}.ts; any difference fails:
//   - buckets: records (same second, gaps, out of order, silence over a window) and, between them,
//     the window average and emptiness;
//   - max: the scale-down-delay window's current maximum after each record;
//   - scale: desired pods, excess burst capacity and validity per tick, from a decider created with
//     some pods ready (restart protection: it starts in panic) and then fed stable/panic values, ready
//     counts and no-data ticks, for random specs (targets, burst capacity -1/0/>0, panic threshold,
//     rate limits, stable window, scale-down delay, activation scale, reachability).
//
//   TIDE_DIFF_SEED=<n>   reproduce a run (the seed is printed); default: a fresh seed every run
//   TIDE_DIFF_COUNT=<n>  scenarios of each kind (default 3000)
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { bucketsEmpty, currentMax, newBuckets, newMaxTimeWindow, recordBucket, recordMax, windowAverage } from '../../../src/deciders/kpa/aggregation.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import { newScalerState, scale } from '../../../src/deciders/kpa/scaling.ts';
import type { KpaPolicy } from '../../../src/deciders/kpa/types.ts';
import { buildHarness, haveGo, Rng, runJsonLines } from './upstream-harness.ts';

/** The harness's epoch for the window kinds (ms). */
const BASE = 1_700_000_000_000;

interface Op { t: number; rec?: number; avg?: boolean }
interface Spec {
  targetValue: number; totalValue: number; targetBurstCapacity: number; activatorCapacity: number; panicThreshold: number;
  maxScaleUpRate: number; maxScaleDownRate: number; stableWindowS: number; scaleDownDelayS: number; activationScale: number;
  reachable: boolean; metric: 'concurrency' | 'rps';
}
interface Tick { dt: number; ready: number; stable: number; panic: number; noData?: boolean }
type Case =
  | { id: string; kind: 'buckets'; algo: 'linear' | 'weighted'; windowS: number; ops: Op[] }
  | { id: string; kind: 'max'; durationS: number; ops: Op[] }
  | { id: string; kind: 'scale'; spec: Spec; initialReady: number; ticks: Tick[] };
interface Upstream { id: string; t0?: number; results: unknown[]; error?: string }

/** A metric value: mostly small, some fractional, zeros, a few very large. */
function value(r: Rng): number {
  switch (r.int(0, 9)) {
    case 0: return 0;
    case 1: return r.int(0, 5);
    case 2: return Number((r.next() * 3).toFixed(r.int(0, 4)));
    case 3: return r.pick([1e6, 123456.789, 1e-7, 0.1, 0.2, 0.3, 5e9]); // 5e9: past int32 with a large scale-up rate
    default: return Number((r.next() * r.pick([10, 100, 1000])).toFixed(r.int(0, 3)));
  }
}

/** Times in ms after BASE: mostly forward by about a second, some in the same second, some gaps, some back. */
function times(r: Rng, n: number, windowS: number): number[] {
  let t = r.int(0, 999);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Math.max(0, t));
    switch (r.int(0, 9)) {
      case 0: t += r.int(0, 400); break; // the same second, often
      case 1: t += r.int(1, 3) * windowS * 1000 + r.int(-1500, 1500); break; // silence around a window
      case 2: t -= r.int(1, windowS + 2) * 1000; break; // out of order: within or before the window
      case 3: t += r.int(2000, 9000); break;
      default: t += r.int(600, 1400);
    }
  }
  return out;
}

export function generateKpaCases(seed: number, count: number): Case[] {
  const r = new Rng(seed);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const windowS = r.pick([1, 2, 3, 6, 7, 10, 60]);
    const ts = times(r, r.int(1, 40), windowS);
    out.push({
      id: `b${seed}-${i}`, kind: 'buckets', algo: r.chance(0.5) ? 'linear' : 'weighted', windowS,
      ops: ts.map((t) => (r.chance(0.3) ? { t, avg: true } : r.chance(0.2) ? { t, rec: value(r), avg: true } : { t, rec: value(r) })),
    });
    const durationS = r.pick([1, 2, 3, 4, 5, 7, 30, 61]);
    out.push({
      id: `m${seed}-${i}`, kind: 'max', durationS,
      ops: times(r, r.int(1, 30), Math.max(2, durationS)).sort((a, b) => a - b).map((t) => ({ t, rec: r.chance(0.1) ? 0 : r.int(0, 30) })),
    });
    const targetValue = r.pick([1, 0.5, 0.7, 10, 70, 100, 2.5, 180]);
    const spec: Spec = {
      targetValue,
      totalValue: r.chance(0.7) ? targetValue / r.pick([0.7, 1, 0.5]) : r.pick([1, 100, 200]),
      targetBurstCapacity: r.pick([0, -1, 200, 211, 10, 0.5]),
      activatorCapacity: 100,
      panicThreshold: r.pick([2, 1, 1.5, 10, 0.5]),
      maxScaleUpRate: r.pick([1000, 1.1, 2, 10, 1000, 1e12]),
      maxScaleDownRate: r.pick([2, 1.5, 1.1, 4]),
      stableWindowS: r.pick([6, 7, 10, 30, 60, 61]),
      scaleDownDelayS: r.pick([0, 0, 0, 2, 5, 30, 61]),
      activationScale: r.pick([1, 1, 1, 2, 5]),
      reachable: r.chance(0.85),
      metric: r.chance(0.7) ? 'concurrency' : 'rps',
    };
    const ticks: Tick[] = [];
    let dt = 0;
    let ready = r.int(0, 6);
    const initialReady = r.chance(0.7) ? ready : r.int(0, 6);
    for (let k = r.int(5, 80); k > 0; k--) {
      dt += r.pick([2, 2, 2, 1, 0, 3, 2, 13, spec.stableWindowS, spec.stableWindowS - 1, spec.scaleDownDelayS]);
      ready = Math.max(0, ready + r.pick([0, 0, 0, 1, -1, 3, -3, 10]));
      const stable = r.chance(0.1) ? 0 : value(r) * (r.chance(0.5) ? ready + 1 : 1);
      const burst = r.chance(0.15) ? r.pick([3, 10, 100]) : 1;
      ticks.push({ dt, ready, stable, panic: r.chance(0.2) ? stable : Math.max(0, stable * burst + r.pick([0, 1, -1, 0.5])), ...(r.chance(0.05) ? { noData: true } : {}) });
    }
    out.push({ id: `s${seed}-${i}`, kind: 'scale', spec, initialReady, ticks });
  }
  return out;
}

/** The policy Tide's decider reads, with every field Knative's DeciderSpec carries taken from the spec. */
function policyOf(s: Spec): KpaPolicy {
  return {
    ...makeKpaPolicy({ name: 'rev', target: 'Deployment/rev' }),
    metric: s.metric, targetValue: s.targetValue, totalValue: s.totalValue, panicThreshold: s.panicThreshold,
    stableWindowSeconds: s.stableWindowS, targetBurstCapacity: s.targetBurstCapacity, scaleDownDelaySeconds: s.scaleDownDelayS,
    activationScale: s.activationScale, maxScaleUpRate: s.maxScaleUpRate, maxScaleDownRate: s.maxScaleDownRate,
    activatorCapacity: s.activatorCapacity, reachable: s.reachable,
  };
}

/** Tide's answer to one case, in the harness's shape. */
function tide(c: Case, t0: number | undefined): unknown[] {
  if (c.kind === 'buckets') {
    const b = newBuckets(c.windowS);
    const out: unknown[] = [];
    for (const o of c.ops) {
      if (o.rec !== undefined) recordBucket(b, BASE + o.t, o.rec);
      if (o.avg) out.push({ avg: windowAverage(b, BASE + o.t, c.algo === 'weighted' ? 'weighted-exponential' : 'linear'), empty: bucketsEmpty(b, BASE + o.t) });
    }
    return out;
  }
  if (c.kind === 'max') {
    const w = newMaxTimeWindow(c.durationS);
    return c.ops.map((o) => { recordMax(w, BASE + o.t, o.rec!); return currentMax(w); });
  }
  const policy = policyOf(c.spec);
  // upstream's decider starts its restart panic at New's wall clock time, just under a second before t0
  const st = newScalerState(policy, c.initialReady, t0! - 1);
  return c.ticks.map((k) => {
    if (k.noData) return { desired: 0, ebc: 0, valid: false };
    const r = scale(policy, st, k.ready, k.stable, k.panic, t0! + k.dt * 1000);
    return { desired: r.desired, ebc: r.ebc, valid: true };
  });
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    return ka.join() === Object.keys(b).sort().join() && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

const inCI = process.env.CI === 'true';

test('KPA decider, windows and scale-down delay equal knative.dev/serving\'s own code on random scenarios', { skip: !inCI && !haveGo() ? 'Go is not installed (CI installs it)' : false }, (t?: TestContext) => {
  const mutant = process.env.TIDE_MUTANT !== undefined;
  const seed = process.env.TIDE_DIFF_SEED ? Number(process.env.TIDE_DIFF_SEED) : mutant ? 1 : randomInt(1, 2 ** 31 - 1);
  const count = process.env.TIDE_DIFF_COUNT ? Number(process.env.TIDE_DIFF_COUNT) : mutant ? 500 : 3000;
  t?.diagnostic(`seed ${seed} (TIDE_DIFF_SEED=${seed} reproduces this run)`);
  const cases = generateKpaCases(seed, count);
  const upstream = runJsonLines<Upstream>(buildHarness('test/upstream-kpa/build.sh'), cases);
  const divergences: string[] = [];
  const counts = { buckets: 0, max: 0, scale: 0, ticks: 0, exactAverages: 0, averages: 0 };
  cases.forEach((c, i) => {
    const u = upstream[i];
    assert.equal(u.error, undefined, `${c.id}: the harness failed: ${u.error}`);
    const mine = tide(c, u.t0);
    counts[c.kind]++;
    if (c.kind === 'scale') counts.ticks += c.ticks.length;
    if (c.kind === 'buckets') {
      (u.results as { avg: number }[]).forEach((x, j) => { counts.averages++; if (x.avg === (mine[j] as { avg: number }).avg) counts.exactAverages++; });
    }
    const at = (u.results as unknown[]).findIndex((x, j) => !same(mine[j], x));
    if (at >= 0 || mine.length !== u.results.length) {
      divergences.push(`${c.id} at result ${at}: upstream ${JSON.stringify(u.results[at])}, Tide ${JSON.stringify(mine[at])}; case ${JSON.stringify(c).slice(0, 1500)}`);
    }
  });
  console.log(`kpa-differential: seed ${seed}, ${counts.buckets} bucket, ${counts.max} max-window and ${counts.scale} decider scenarios (${counts.ticks} ticks), ${counts.exactAverages}/${counts.averages} window averages bit for bit, ${divergences.length} divergences`);
  assert.deepEqual(divergences.slice(0, 5), [], `${divergences.length} divergences from knative.dev/serving (seed ${seed})`);
});
