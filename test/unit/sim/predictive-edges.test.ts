// Tide's predictive policy: its defaults (every field a manifest without tide.dev/* annotations
// decides with, how the cold start drives the horizon and the window) and replicasFor's sizing at
// exact edges (utilization rounding, headroom, the Erlang C search with and without slack).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPredictivePolicy, replicasFor } from '../../../src/policies/predictive.ts';
import { erlangC } from '../../../src/math/queueing.ts';

test('defaults: every field, with a 30 s cold start', () => {
  assert.deepEqual(defaultPredictivePolicy({ name: 'web' }), {
    name: 'web',
    target: 'Deployment/web',
    minReplicas: 1,
    maxReplicas: 100,
    slotsPerReplica: 1,
    targetUtilization: 0.7,
    sloTarget: 0.99,
    maxUtilization: 0.95,
    seasonMs: 86_400_000,
    headroom: 0,
    burstQuantile: 0,
    spikeMemory: true,
    burstPersistence: 'auto',
    rateMinArrivals: 20,
    reactiveSizing: 'deadline',
    wakeBudget: 0.5,
    windowBudget: 0.5,
    coldStartMs: 30_000,
    prewarmHorizonMs: 32_000,
    scaleDownWindowMs: 60_000,
  });
});

test('defaults: the horizon is the cold start plus one tick, the window the cold start but at least 60 s; given values win', () => {
  const long = defaultPredictivePolicy({ name: 'm', coldStartMs: 90_000 });
  assert.deepEqual([long.coldStartMs, long.prewarmHorizonMs, long.scaleDownWindowMs], [90_000, 92_000, 90_000]);
  const short = defaultPredictivePolicy({ name: 'm', coldStartMs: 1000 });
  assert.deepEqual([short.prewarmHorizonMs, short.scaleDownWindowMs], [3000, 60_000]);
  const given = defaultPredictivePolicy({ name: 'm', coldStartMs: 1000, prewarmHorizonMs: 5, scaleDownWindowMs: 7, minReplicas: 0, target: 'StatefulSet/x' });
  assert.deepEqual([given.prewarmHorizonMs, given.scaleDownWindowMs, given.minReplicas, given.target], [5, 7, 0, 'StatefulSet/x']);
  assert.equal(defaultPredictivePolicy({ name: 'm', coldStartMs: 0 }).coldStartMs, 0, 'a cold start of 0 is kept');
});

// ---------------------------------------------------------------- replicasFor

test('replicasFor without an SLO: ceil(demand / (slots x targetUtilization)), at least 1 for any demand, 0 for none', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 2, targetUtilization: 0.8 });
  assert.equal(replicasFor(p, 0, 100), 0);
  assert.equal(replicasFor(p, -1, 100), 0);
  assert.equal(replicasFor(p, 0.01, 100), 1);
  assert.equal(replicasFor(p, 1.6, 100), 1);
  assert.equal(replicasFor(p, 1.61, 100), 2);
  assert.equal(replicasFor(p, 3.2, 100), 2);
});

test('replicasFor headroom: n x (1 + headroom) rounded up, without float noise turning 55 into 56', () => {
  const p = (headroom: number) => defaultPredictivePolicy({ name: 'x', slotsPerReplica: 1, targetUtilization: 1, headroom });
  assert.equal(replicasFor(p(0.5), 2, 100), 3);
  assert.equal(replicasFor(p(0.1), 50, 100), 55, '50 x (1 + 0.1) = 55.00000000000001 in floating point');
  assert.equal(replicasFor(p(0.1), 3, 100), 4, '3.3 → 4');
});

test('replicasFor with an SLO: maxUtilization caps utilization, and the fewest replicas whose Erlang C tail meets the target', () => {
  const p = defaultPredictivePolicy({ name: 'x', slotsPerReplica: 1, targetUtilization: 0.5, maxUtilization: 0.9, sloLatencyMs: 1, sloTarget: 0.99 });
  // unknown service time (0): utilization only, at maxUtilization (not targetUtilization)
  assert.equal(replicasFor(p, 0.9, 0), 1);
  // service time 1 ms and an SLO of 1 ms: no slack, so P(wait > 0) = Erlang C must be <= 1 %
  assert.ok(erlangC(4, 1) > 0.01 && erlangC(5, 1) <= 0.01);
  assert.equal(replicasFor(p, 1, 1), 5);
  // with slack the tail shrinks by exp(-(c - d) / s x slack): a long SLO needs only the utilization bound
  const relaxed = { ...p, sloLatencyMs: 1000 };
  assert.equal(replicasFor(relaxed, 0.5, 100), 1, 'Erlang C(1, 0.5) x exp(-0.5 / 100 x 900) = 0.0056');
  // slack 1 ms: C(3, 1) x e^-2 = 0.0123 is not enough, C(4, 1) x e^-3 = 0.001 is: 4 (with no slack 5)
  const oneMs = { ...p, sloLatencyMs: 2 };
  assert.equal(replicasFor(oneMs, 1, 1), 4);
  // two slots a replica: c counts slots
  const two = { ...p, slotsPerReplica: 2 };
  assert.equal(replicasFor(two, 1, 1), 3, 'c = 4 slots is not enough (C(4, 1) = 0.02), 6 are');
});
