// The oracle is a lower bound: on generated workloads, no policy reaches the same SLO attainment
// with fewer replica-seconds than the oracle searched for that attainment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulate, type SimOptions } from '../../../src/sim/engine.ts';
import { runOracle, oracleSchedule, peakConcurrency } from '../../../src/sim/oracle.ts';
import { builtinController, type PolicyContext } from '../../../src/sim/run.ts';
import { generate, type Generator } from '../../../src/sim/workload.ts';
import { service } from './helpers.ts';

test('oracleSchedule starts capacity one lead time early and keeps it through short gaps', () => {
  const peak = Float64Array.from([0, 0, 0, 0, 8, 0, 0, 8, 0, 0, 0, 0, 0]);
  const s = oracleSchedule(peak, 4, 1, 2);
  // needed at 4 and 7 (2 replicas): started at 2, kept through 5-6, released after 7
  assert.deepEqual(Array.from(s), [0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
});

test('peakConcurrency counts overlapping requests per second', () => {
  const opts: SimOptions = {
    seed: 1,
    trace: { kind: 'requests', name: 't', startMs: 0, times: Float64Array.from([100, 200, 300, 2500]), serviceMs: Float64Array.from([1500, 1500, 100, 100]) },
    service: service(),
    sloMs: 1000,
    initialReplicas: 0,
    endMs: 4000,
  };
  assert.deepEqual(Array.from(peakConcurrency(opts)), [3, 2, 1, 0]);
});

const workloads: [string, Generator][] = [
  ['diurnal', { kind: 'diurnal', meanRps: 25, amplitude: 0.8, periodMs: 1200_000 }],
  ['bursts', { kind: 'bursts', baseRps: 8, burstRps: 40, everyMs: 900_000, burstMs: 90_000 }],
  ['step', { kind: 'step', rps1: 5, rps2: 30, atMs: 1500_000 }],
];

for (const [name, g] of workloads) {
  test(`no policy beats the oracle on cost at its SLO attainment (${name})`, () => {
    const trace = generate(g, 3600_000, 21);
    const svc = service({ coldStart: { kind: 'fixed', ms: 20_000 } });
    const base: SimOptions = { seed: 4, trace, service: svc, sloMs: 1000, initialReplicas: 2 };
    const ctx: PolicyContext = { service: svc, sloMs: 1000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 50, seasonMs: 1800_000 };
    for (const p of ['hpa-cpu-70', 'kpa-defaults', 'keda-queue', 'tide', 'static:6']) {
      const r = simulate(base, builtinController(p, ctx));
      const o = runOracle(base, r.summary.sloAttainment, { iterations: 6 });
      assert.ok(o.summary.sloAttainment >= r.summary.sloAttainment);
      assert.ok(o.summary.replicaSeconds <= r.summary.replicaSeconds,
        `${p}: ${r.summary.replicaSeconds.toFixed(0)} replica-s at ${(r.summary.sloAttainment * 100).toFixed(2)}% < oracle ${o.summary.replicaSeconds.toFixed(0)}`);
    }
  });
}
