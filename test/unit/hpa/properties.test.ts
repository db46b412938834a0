// Property tests (fast-check) for the HPA decider's invariants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideHpa } from '../../../src/deciders/hpa/decide.ts';
import type { HpaBehavior, HpaPolicy, HpaState, MetricObservation, MetricSpec, PodInfo } from '../../../src/deciders/hpa/types.ts';
import { S, T0, pod } from './helpers.ts';

const RUNS = 300;

const policyArb = fc
  .record({
    min: fc.integer({ min: 1, max: 5 }),
    span: fc.integer({ min: 0, max: 20 }),
    withBehavior: fc.boolean(),
    upWindow: fc.integer({ min: 0, max: 120 }),
    downWindow: fc.integer({ min: 0, max: 600 }),
    upPolicy: fc.record({ type: fc.constantFrom('Pods' as const, 'Percent' as const), value: fc.integer({ min: 1, max: 200 }), periodSeconds: fc.integer({ min: 1, max: 120 }) }),
    downPolicy: fc.record({ type: fc.constantFrom('Pods' as const, 'Percent' as const), value: fc.integer({ min: 1, max: 100 }), periodSeconds: fc.integer({ min: 1, max: 120 }) }),
    upSelect: fc.constantFrom('Max' as const, 'Min' as const, 'Disabled' as const),
    downSelect: fc.constantFrom('Max' as const, 'Min' as const, 'Disabled' as const),
    target: fc.integer({ min: 10, max: 150 }),
    podsTarget: fc.option(fc.integer({ min: 100, max: 10000 }), { nil: undefined }),
  })
  .map((r): HpaPolicy => {
    const metrics: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: r.target } } }];
    if (r.podsTarget !== undefined) metrics.push({ type: 'Pods', pods: { metric: { name: 'q' }, target: { type: 'AverageValue', averageValue: r.podsTarget } } });
    const behavior: HpaBehavior | undefined = r.withBehavior
      ? {
          scaleUp: { stabilizationWindowSeconds: r.upWindow, selectPolicy: r.upSelect, policies: [r.upPolicy] },
          scaleDown: { stabilizationWindowSeconds: r.downWindow, selectPolicy: r.downSelect, policies: [r.downPolicy] },
        }
      : undefined;
    return {
      name: 'p',
      namespace: 'default',
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'p' },
      minReplicas: r.min,
      maxReplicas: r.min + r.span,
      metrics,
      behavior,
    };
  });

const podStateArb: fc.Arbitrary<PodState> = fc.record({
  phase: fc.constantFrom('Running', 'Running', 'Running', 'Pending', 'Failed') as fc.Arbitrary<PodInfo['phase']>,
  ready: fc.constantFrom('True', 'True', 'False') as fc.Arbitrary<'True' | 'False'>,
  startedAgo: fc.integer({ min: 0, max: 3600 }),
  readyAgo: fc.integer({ min: 0, max: 3600 }),
  deleted: fc.integer({ min: 0, max: 9 }).map((k) => k === 0),
  cpu: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined, freq: 8 }),
  q: fc.option(fc.integer({ min: 0, max: 20000 }), { nil: undefined, freq: 8 }),
});

const historyArb = fc.array(fc.record({ ago: fc.integer({ min: 0, max: 900 }), r: fc.integer({ min: 0, max: 40 }) }), { maxLength: 25 });
const eventsArb = fc.array(fc.record({ ago: fc.integer({ min: 0, max: 300 }), c: fc.integer({ min: 1, max: 10 }) }), { maxLength: 6 });

interface PodState {
  phase: PodInfo['phase'];
  ready: 'True' | 'False';
  startedAgo: number;
  readyAgo: number;
  deleted: boolean;
  cpu: number | undefined;
  q: number | undefined;
}

function build(p: HpaPolicy, current: number, podStates: PodState[], failPods: boolean) {
  const list: PodInfo[] = podStates.map((s, i) =>
    pod(`p${i}`, {
      phase: s.phase,
      ready: s.ready,
      startTime: T0 - Math.max(s.startedAgo, s.readyAgo) * S,
      readySince: T0 - s.readyAgo * S,
      deleted: s.deleted,
    }),
  );
  const cpuObs: MetricObservation = { kind: 'pods', samples: podStates.flatMap((s, i) => (s.cpu === undefined ? [] : [{ pod: `p${i}`, value: s.cpu, timestamp: T0 - 5 * S, windowSeconds: 30 }])) };
  const qObs: MetricObservation = failPods
    ? { kind: 'error', message: 'boom' }
    : { kind: 'pods', samples: podStates.flatMap((s, i) => (s.q === undefined ? [] : [{ pod: `p${i}`, value: s.q, timestamp: T0 - 5 * S, windowSeconds: 30 }])) };
  return {
    now: T0,
    target: { specReplicas: current, statusReplicas: current, selector: 'app=p' },
    pods: list,
    metrics: p.metrics.length > 1 ? [cpuObs, qObs] : [cpuObs],
  };
}

function stateOf(h: { ago: number; r: number }[], up: { ago: number; c: number }[], down: { ago: number; c: number }[]): HpaState {
  return {
    recommendations: h.map((x) => ({ timestamp: T0 - x.ago * S, recommendation: x.r })),
    scaleUpEvents: up.map((e) => ({ timestamp: T0 - e.ago * S, replicaChange: e.c })),
    scaleDownEvents: down.map((e) => ({ timestamp: T0 - e.ago * S, replicaChange: e.c })),
  };
}

test('property: the result is never outside [min, max] (unless spec replicas is 0)', () => {
  fc.assert(
    fc.property(policyArb, fc.integer({ min: 0, max: 40 }), fc.array(podStateArb, { maxLength: 12 }), historyArb, eventsArb, eventsArb, fc.boolean(), (p, current, ps, h, up, down, failPods) => {
      const { record } = decideHpa(p, build(p, current, ps, failPods), stateOf(h, up, down));
      if (current === 0) {
        assert.equal(record.desiredReplicas, 0);
        assert.equal(record.rescale, false);
      } else if (record.rescale || (current >= p.minReplicas && current <= p.maxReplicas)) {
        assert.ok(record.desiredReplicas >= p.minReplicas && record.desiredReplicas <= p.maxReplicas, `${record.desiredReplicas} outside [${p.minReplicas}, ${p.maxReplicas}]`);
      }
      assert.equal(record.rescale, record.desiredReplicas !== current);
    }),
    { numRuns: RUNS },
  );
});

test('property: no change when every metric ratio is within tolerance', () => {
  // coverage: runs where ceil(ratio × pods) alone would move the count (only the tolerance holds it)
  let heldByTolerance = 0;
  let runs = 0;
  fc.assert(
    fc.property(
      policyArb,
      fc.integer({ min: 1, max: 12 }),
      fc.double({ min: 0.905, max: 1.095, noNaN: true }),
      historyArb,
      eventsArb,
      eventsArb,
      (p0, n, ratio, h, up, down) => {
        const p: HpaPolicy = { ...p0, metrics: [p0.metrics[0]], maxReplicas: Math.max(p0.maxReplicas, n), minReplicas: Math.min(p0.minReplicas, n) };
        const target = (p.metrics[0] as { resource: { target: { averageUtilization: number } } }).resource.target.averageUtilization;
        // all pods ready with the same usage: utilization ≈ ratio × target (integer percent)
        const usage = Math.round(ratio * target * 10);
        const util = Math.trunc((usage * n * 100) / (1000 * n));
        fc.pre(util / target >= 0.9 && util / target <= 1.1);
        const podStates: PodState[] = Array.from({ length: n }, () => ({ phase: 'Running', ready: 'True', startedAgo: 3600, readyAgo: 3500, deleted: false, cpu: usage, q: undefined }));
        // legacy stabilization can raise the count to an earlier, higher recommendation: keep history ≤ n there
        const hist = p.behavior ? h : h.map((x) => ({ ...x, r: Math.min(x.r, n) }));
        const { record } = decideHpa(p, build(p, n, podStates, false), stateOf(hist, up, down));
        runs++;
        if (Math.ceil((util / target) * n) !== n) heldByTolerance++;
        assert.equal(record.proposals[0].proposedReplicas, n);
        assert.equal(record.desiredReplicas, n);
        assert.equal(record.rescale, false);
      },
    ),
    { numRuns: RUNS },
  );
  assert.ok(heldByTolerance >= runs / 6, `the tolerance was what held the count in only ${heldByTolerance} of ${runs} runs`);
});

test('property: a scale-down never goes below the highest recommendation in the stabilization window', () => {
  // Generated so that the window matters: every pod is far below target (the metrics propose a
  // scale-down) and the history holds a higher recommendation inside the window.
  let held = 0;
  let runs = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 30 }), // current
      fc.boolean(), // behavior or legacy
      fc.integer({ min: 30, max: 600 }), // window (s)
      fc.integer({ min: 0, max: 100 }), // where in the window the high recommendation sits (%)
      fc.integer({ min: 1, max: 40 }), // its value above the proposal
      fc.array(fc.record({ ago: fc.integer({ min: 0, max: 900 }), r: fc.integer({ min: 0, max: 40 }) }), { maxLength: 8 }),
      (current, withBehavior, windowS, where, above, noise) => {
        const p: HpaPolicy = {
          name: 'p',
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'p' },
          minReplicas: 1,
          maxReplicas: 60,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
          ...(withBehavior
            ? { behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: windowS, selectPolicy: 'Max' as const, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 15 }] } } }
            : {}),
        };
        const list = Array.from({ length: current }, (_, i) => pod(`p${i}`));
        const obs = { now: T0, target: { specReplicas: current, statusReplicas: current }, pods: list, metrics: [{ kind: 'pods' as const, samples: list.map((x) => ({ pod: x.name, value: 50, timestamp: T0 - 5 * S, windowSeconds: 30 })) }] };
        // 5% of request vs 50% target: the metrics propose ceil(0.1 × current)
        const proposal = Math.ceil(0.1 * current);
        const agoS = Math.max(1, Math.floor(((windowS - 1) * where) / 100)); // strictly inside the window
        const high = { timestamp: T0 - agoS * S, recommendation: proposal + above };
        const recs = [...noise.map((h) => ({ timestamp: T0 - h.ago * S, recommendation: h.r })), high];
        const state: HpaState = { recommendations: recs, scaleUpEvents: [], scaleDownEvents: [] };
        const { record } = decideHpa(p, obs, state, { downscaleStabilizationSeconds: windowS });
        runs++;
        assert.equal(record.details.metricDesiredReplicas, proposal);
        const inWindow = recs.filter((r) => (withBehavior ? r.timestamp > T0 - windowS * S : r.timestamp >= T0 - windowS * S));
        const highest = Math.max(...inWindow.map((r) => r.recommendation));
        // behavior bounds the stabilized count by the current one; the legacy path takes the window's
        // maximum as is (it can even scale up), within max(2 × current, 4) and maxReplicas
        const stabilized = Math.max(highest, proposal);
        const expected = withBehavior ? Math.min(stabilized, current) : Math.min(stabilized, Math.max(2 * current, 4), 60);
        assert.equal(record.desiredReplicas, expected, `window ${windowS}s, highest ${highest}`);
        assert.ok(record.desiredReplicas >= Math.min(highest, current));
        if (record.desiredReplicas > proposal) held++;
      },
    ),
    { numRuns: RUNS },
  );
  // the interesting branch was reached: the window, not the metrics, set the count in most runs
  assert.ok(held >= runs / 2, `the window held the count in only ${held} of ${runs} runs`);
});

test('property: deterministic and replayable (same inputs → deep-equal record), inputs untouched', () => {
  fc.assert(
    fc.property(policyArb, fc.integer({ min: 0, max: 40 }), fc.array(podStateArb, { maxLength: 10 }), historyArb, eventsArb, eventsArb, fc.boolean(), (p, current, ps, h, up, down, failPods) => {
      const obs = build(p, current, ps, failPods);
      const state = stateOf(h, up, down);
      const before = JSON.stringify({ p, obs, state });
      const a = decideHpa(p, obs, state);
      const b = decideHpa(p, obs, state);
      assert.deepEqual(a, b);
      const replay = decideHpa(a.record.inputs.policy, a.record.inputs.observation, a.record.inputs.state, a.record.inputs.config);
      assert.deepEqual(replay.record, a.record);
      assert.equal(JSON.stringify({ p, obs, state }), before);
    }),
    { numRuns: RUNS },
  );
});
