// The engine's data plane against queueing theory: M/M/c mean wait (Erlang C) and M/M/1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, type ServiceModel } from '../../../src/sim/engine.ts';
import { staticController } from '../../../src/sim/controllers.ts';
import { generate } from '../../../src/sim/workload.ts';
import { mmcMeanWait, erlangC } from '../../../src/math/queueing.ts';

function svc(concurrency: number, meanMs: number): ServiceModel {
  return {
    concurrency,
    dist: { kind: 'exponential', meanMs },
    coldStart: { kind: 'fixed', ms: 0 },
    cpuRequestMilli: 1000,
    cpuPerSlotMilli: 1000 / concurrency,
    idleCpuMilli: 0,
    coldStartCpuMilli: 0,
  };
}

test('erlangC matches known values', () => {
  // c = 1: P(wait) = rho
  assert.ok(Math.abs(erlangC(1, 0.5) - 0.5) < 1e-12);
  // c = 2, a = 1: C = 1/3
  assert.ok(Math.abs(erlangC(2, 1) - 1 / 3) < 1e-12);
  assert.equal(erlangC(3, 3), 1);
});

for (const [replicas, slots, rps, meanMs] of [
  [1, 1, 7, 100],   // M/M/1, rho 0.7
  [4, 1, 30, 100],  // M/M/4, rho 0.75
  [2, 4, 60, 100],  // 8 slots, rho 0.75
  [3, 5, 120, 100], // 15 slots, rho 0.8
] as const) {
  test(`M/M/${replicas * slots} (${replicas} replicas x ${slots} slots): mean sojourn within 4% of Erlang C`, () => {
    const trace = generate({ kind: 'poisson', rps }, 6 * 3600_000, 11);
    const r = simulate({ seed: 5, trace, service: svc(slots, meanMs), sloMs: 1000, initialReplicas: replicas }, staticController(replicas));
    const c = replicas * slots;
    const expected = mmcMeanWait(c, rps / 1000, meanMs) + meanMs;
    const got = r.summary.meanMs;
    assert.ok(Math.abs(got - expected) / expected < 0.04, `mean sojourn ${got.toFixed(1)} ms vs theory ${expected.toFixed(1)} ms`);
    // utilization: busy slot-time / capacity
    const util = 1 - r.summary.idleReplicaSeconds / r.summary.replicaSeconds;
    const rho = (rps * meanMs) / 1000 / c;
    assert.ok(Math.abs(util - rho) < 0.02, `utilization ${util.toFixed(3)} vs rho ${rho}`);
    assert.ok(r.summary.requests - r.summary.served < 50, "only requests arriving in the last instants are still queued");
  });
}

test('an overloaded service queues without bound (SLO attainment collapses)', () => {
  const trace = generate({ kind: 'poisson', rps: 20 }, 600_000, 3);
  const r = simulate({ seed: 1, trace, service: svc(1, 100), sloMs: 1000, initialReplicas: 1 }, staticController(1));
  assert.ok(r.summary.sloAttainment < 0.2, `attainment ${r.summary.sloAttainment}`);
  assert.ok(r.summary.served < r.summary.requests);
});
