// Engine behaviours: determinism, cold starts, drain-aware scale-down, scale from zero, accounting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { simulate, type SimController, type SimHandle } from '../../../src/sim/engine.ts';
import { predictiveController, staticController } from '../../../src/sim/controllers.ts';
import { hpaController } from '../../../src/sim/controllers.ts';
import { hpaCpuBaseline } from '../../../src/sim/baselines.ts';
import { generate, type RequestsTrace } from '../../../src/sim/workload.ts';
import { defaultPredictivePolicy } from '../../../src/policies/predictive.ts';
import { EventQueue, SlotHeap } from '../../../src/sim/heap.ts';
import { service } from './helpers.ts';

test('same seed gives identical results; another seed differs', () => {
  const trace = generate({ kind: 'diurnal', meanRps: 30, amplitude: 0.7, periodMs: 1800_000 }, 3600_000, 9);
  const run = (seed: number) => simulate({ seed, trace, service: service(), sloMs: 800, initialReplicas: 2 },
    hpaController(hpaCpuBaseline(60)));
  const a = run(1);
  const b = run(1);
  const c = run(2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.summary, c.summary);
  const p1 = simulate({ seed: 3, trace, service: service(), sloMs: 800, initialReplicas: 2 }, predictiveController(defaultPredictivePolicy({ name: 't', slotsPerReplica: 4, sloLatencyMs: 800 })));
  const p2 = simulate({ seed: 3, trace, service: service(), sloMs: 800, initialReplicas: 2 }, predictiveController(defaultPredictivePolicy({ name: 't', slotsPerReplica: 4, sloLatencyMs: 800 })));
  assert.deepEqual(p1, p2);
});

function requests(times: number[], serviceMs: number[]): RequestsTrace {
  return { kind: 'requests', name: 't', startMs: 0, times: Float64Array.from(times), serviceMs: Float64Array.from(serviceMs) };
}

function scripted(name: string, steps: [number, number][]): SimController {
  return {
    name,
    start(sim: SimHandle) {
      for (const [t, n] of steps) sim.at(t, () => sim.setDesired(n));
    },
  };
}

test('a cold replica serves nothing before it is ready; a queued request waits for it', () => {
  // no replica at the start; the controller adds one at t=1s, ready after the 20 s cold start
  const tr = requests([500, 600], [100, 100]);
  const r = simulate({ seed: 1, trace: tr, service: service({ concurrency: 1, coldStart: { kind: 'fixed', ms: 20_000 } }), sloMs: 1000, initialReplicas: 0, endMs: 60_000 },
    scripted('s', [[1000, 1]]));
  // first request: waits from 0.5 s to 21 s, then 100 ms of service
  assert.equal(r.summary.served, 2);
  assert.ok(Math.abs(r.summary.p99Ms - 20_700) < 200, `p99 ${r.summary.p99Ms}`);
  assert.equal(r.summary.coldStarts, 1);
  assert.equal(r.summary.sloAttainment, 0);
  // replica exists from 1 s to 60 s
  assert.ok(Math.abs(r.summary.replicaSeconds - 59) < 1e-6);
});

test('scale-down drains: in-flight requests finish and the replica is billed until then', () => {
  // two warm replicas, one slot each; two 10 s requests at t=0; scale to 1 at t=1 s
  const tr = requests([0, 1], [10_000, 10_000]);
  const r = simulate({ seed: 1, trace: tr, service: service({ concurrency: 1 }), sloMs: 20_000, initialReplicas: 2, endMs: 60_000 },
    scripted('s', [[1000, 1]]));
  assert.equal(r.summary.served, 2);
  assert.equal(r.summary.sloAttainment, 1);
  // replica A: 60 s; replica B drained at ~10 s
  assert.ok(Math.abs(r.summary.replicaSeconds - (60 + 10.001)) < 0.01, `replica-s ${r.summary.replicaSeconds}`);
  assert.equal(r.summary.scalingActions, 1);
});

test('scale from zero: the cold-request hook lets a policy start a replica', () => {
  const tr = requests([5_000, 5_100, 40_000], [100, 100, 100]);
  let pokes = 0;
  const ctl: SimController = {
    name: 'poke',
    start() {},
    onColdRequest() { pokes++; },
  };
  const sim = simulate({ seed: 1, trace: tr, service: service({ concurrency: 1 }), sloMs: 1000, initialReplicas: 0, endMs: 60_000 }, ctl);
  assert.equal(pokes, 3);
  assert.equal(sim.summary.served, 0);
  const pred = simulate({ seed: 1, trace: tr, service: service({ concurrency: 1, coldStart: { kind: 'fixed', ms: 2000 } }), sloMs: 3000, initialReplicas: 0, endMs: 60_000 },
    predictiveController(defaultPredictivePolicy({ name: 'p', minReplicas: 0, slotsPerReplica: 1, coldStartMs: 2000 })));
  assert.equal(pred.summary.served, 3);
  assert.ok(pred.summary.p50Ms >= 2000, 'the first requests waited for the cold start');
});

test('a static policy never scales and costs replicas x duration', () => {
  const trace = generate({ kind: 'poisson', rps: 5 }, 600_000, 1);
  const r = simulate({ seed: 1, trace, service: service(), sloMs: 1000, initialReplicas: 3 }, staticController(3));
  assert.equal(r.summary.scalingActions, 0);
  assert.equal(r.summary.replicaSeconds, 1800);
  assert.equal(r.summary.coldStarts, 0);
  assert.ok(r.series.t.length > 100);
  assert.ok(r.series.replicas.every((x) => x === 3));
});

test('EventQueue pops by time, then insertion order (property)', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (ts) => {
    const q = new EventQueue();
    ts.forEach((t, i) => q.push(t, () => i));
    const out: [number, number][] = [];
    for (let e = q.pop(); e; e = q.pop()) out.push([e.t, e.seq]);
    const sorted = ts.map((t, i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.deepEqual(out, sorted);
  }));
});

test('SlotHeap yields (time, id) in order, with replaceTop (property)', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 200 }), (xs, repl) => {
    const h = new SlotHeap(2);
    for (const [t, id] of xs) h.push(t, id);
    const ref = xs.slice();
    h.replaceTop(repl, 3);
    ref.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    ref.shift();
    ref.push([repl, 3]);
    ref.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const out: [number, number][] = [];
    while (h.size) { out.push([h.topTime(), h.topId()]); h.pop(); }
    assert.deepEqual(out, ref);
  }));
});

test('lateCounter: requests that miss an SLO only by waiting, counted when they start; the DemandCollector reports them per second', async () => {
  const { DemandCollector } = await import('../../../src/sim/port.ts');
  // one warm replica, one slot: three 1 s requests at 0.1 s wait 0, 1 and 2 s (latencies 1, 2, 3 s);
  // a 5 s request at 4 s does not wait (latency 5 s)
  const tr = requests([100, 100, 100, 4000], [1000, 1000, 1000, 5000]);
  let c15: () => number = () => -1, c05: () => number = () => -1, c25: () => number = () => -1;
  const collector = new DemandCollector(1500);
  const none = new DemandCollector();
  const seen: import('../../../src/policies/predictive.ts').DemandSample[] = [];
  simulate({ seed: 1, trace: tr, service: service({ concurrency: 1 }), sloMs: 1500, initialReplicas: 1, endMs: 12_000 }, {
    name: 'probe',
    start(sim: SimHandle) {
      c15 = sim.lateCounter(1500);
      c05 = sim.lateCounter(500);
      c25 = sim.lateCounter(2500);
      assert.equal(sim.lateCounter(1500)(), 0, 'the same SLO shares one counter');
      collector.start(sim, (s) => seen.push(s));
      none.start(sim);
    },
  });
  // SLO 1.5 s: the 2 s and 3 s ones (1 s of service fits it); the 5 s one misses by its service alone
  assert.equal(c15(), 2);
  // SLO 0.5 s: no request's service fits it, so none missed only by waiting
  assert.equal(c05(), 0);
  // SLO 2.5 s: only the one that waited 2 s
  assert.equal(c25(), 1);
  // booked in the second they started: 1.1 s and 2.1 s
  assert.deepEqual(seen.filter((s) => s.late! > 0).map((s) => [s.t, s.late, s.lateSloMs]), [[1000, 1, 1500], [2000, 1, 1500]]);
  assert.equal(seen.reduce((a, s) => a + s.late!, 0), 2);
  assert.ok(none.drain().every((s) => s.late === undefined && s.lateSloMs === undefined), 'without an SLO nothing is reported');
});
