// Normalization: legacy path (no behavior) and v2 behavior (stabilization windows, rate policies,
// scale-event history). Situations after upstream's horizontal_test.go behavior cases (own numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';
import {
  defaultScaleDownRules,
  defaultScaleUpRules,
  normalizeWithBehavior,
  scaleDownLimitWithRules,
  scaleUpLimitWithRules,
  storeScaleEvent,
} from '../../../src/deciders/hpa/normalize.ts';
import type { HpaBehavior, HpaState, ScaleEvent } from '../../../src/deciders/hpa/types.ts';
import { S, T0, behavior, cpu, observation, pods, policy, samples } from './helpers.ts';

const limited = (r: { conditions: { type: string; status: string; reason: string }[] }) => {
  const c = r.conditions.find((x) => x.type === 'ScalingLimited')!;
  return `${c.status}/${c.reason}`;
};
const able = (r: { conditions: { type: string; reason: string }[] }) => r.conditions.find((x) => x.type === 'AbleToScale')!.reason;

/** Observation of n pods all at `util`% of a 1000m request. */
const at = (n: number, util: number, now = T0) => observation(n, pods(n), [samples(Array(n).fill(util * 10))], { now });
const stateWith = (recs: [number, number][], up: ScaleEvent[] = [], down: ScaleEvent[] = []): HpaState => ({
  recommendations: recs.map(([ago, r]) => ({ timestamp: T0 - ago * S, recommendation: r })),
  scaleUpEvents: up,
  scaleDownEvents: down,
});

// ---------------------------------------------------------------- legacy

test('legacy: scale-up limited to max(2 × current, 4)', () => {
  const { record } = decideHpa(policy([cpu(50)], { maxReplicas: 20 }), at(2, 300), emptyHpaState());
  assert.equal(record.details.metricDesiredReplicas, 12);
  assert.equal(record.desiredReplicas, 4);
  assert.equal(limited(record), 'True/ScaleUpLimit');
  assert.deepEqual(record.limitedBy, ['legacy-scale-up-limit']);
  const r2 = decideHpa(policy([cpu(50)], { maxReplicas: 20 }), at(5, 300), emptyHpaState()).record;
  assert.equal(r2.desiredReplicas, 10);
});

test('legacy: maxReplicas below the up-limit gives TooManyReplicas', () => {
  const { record } = decideHpa(policy([cpu(50)], { maxReplicas: 5 }), at(3, 300), emptyHpaState());
  assert.equal(record.desiredReplicas, 5);
  assert.equal(limited(record), 'True/TooManyReplicas');
  assert.deepEqual(record.limitedBy, ['max']);
});

test('legacy: minReplicas clamp gives TooFewReplicas', () => {
  const st = stateWith([[400, 6]]);
  const { record } = decideHpa(policy([cpu(50)], { minReplicas: 4 }), at(6, 10), st);
  assert.equal(record.desiredReplicas, 4);
  assert.equal(limited(record), 'True/TooFewReplicas');
});

test('legacy: first sync seeds the history with the current count, so no immediate scale-down', () => {
  const { record, state } = decideHpa(policy([cpu(50)]), at(5, 20), emptyHpaState());
  assert.equal(record.details.metricDesiredReplicas, 2);
  assert.equal(record.desiredReplicas, 5);
  assert.equal(record.rescale, false);
  assert.equal(able(record), 'ScaleDownStabilized');
  assert.deepEqual(record.limitedBy, ['stabilization']);
  // the seed is taken before the metrics are fetched, so it is older than the decision at the same ms
  assert.deepEqual(state.recommendations, [
    { timestamp: T0, recommendation: 5, beforeFetch: true },
    { timestamp: T0, recommendation: 2 },
  ]);
});

test('legacy: with a 0 s controller window the first-sync seed does not hold a scale-down (upstream 4→2)', () => {
  const { record, state } = decideHpa(policy([cpu(50)]), at(4, 25), emptyHpaState(), { downscaleStabilizationSeconds: 0 });
  assert.equal(record.details.metricDesiredReplicas, 2);
  assert.equal(record.desiredReplicas, 2);
  assert.equal(able(record), 'SucceededRescale');
  // the seed is older than the 0 s window: replaced by the new recommendation
  assert.deepEqual(state.recommendations, [{ timestamp: T0, recommendation: 2 }]);
  // with the default 300 s window the same first sync is held
  assert.equal(decideHpa(policy([cpu(50)]), at(4, 25), emptyHpaState()).record.desiredReplicas, 4);
});

test('legacy: 5-minute downscale stabilization keeps the highest recent recommendation', () => {
  const st = stateWith([[290, 8], [200, 6], [100, 3]]);
  const r = decideHpa(policy([cpu(50)]), at(8, 20), st).record;
  assert.equal(r.desiredReplicas, 8);
  // once the 8 is older than 300 s, the next highest (6) applies; the old sample is replaced
  const st2 = stateWith([[310, 8], [200, 6], [100, 3]]);
  const { record, state } = decideHpa(policy([cpu(50)]), at(8, 20), st2);
  assert.equal(record.desiredReplicas, 6);
  assert.deepEqual(state.recommendations.map((x) => x.recommendation), [4, 6, 3]);
  assert.equal(record.events[0].message, 'New size: 6; reason: All metrics below target');
  // the window edge counts (a sample exactly 300 s old is still in)
  assert.equal(decideHpa(policy([cpu(50)]), at(8, 20), stateWith([[300, 8]])).record.desiredReplicas, 8);
});

test('legacy: no scale events are stored', () => {
  const { state } = decideHpa(policy([cpu(50)]), at(2, 100), emptyHpaState());
  assert.deepEqual(state.scaleUpEvents, []);
  assert.equal(state.lastScaleTime, T0);
});

// ---------------------------------------------------------------- behavior: stabilization

test('behavior: scale-down stabilization uses the highest recommendation in the window', () => {
  const b = behavior({ scaleDown: { stabilizationWindowSeconds: 120 } });
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 20), stateWith([[100, 7], [50, 5], [130, 10]])).record;
  assert.equal(r.desiredReplicas, 7);
  assert.equal(able(r), 'SucceededRescale'); // the rescale overwrites AbleToScale, as upstream
  const held = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 20), stateWith([[100, 10]])).record;
  assert.equal(held.rescale, false);
  assert.equal(able(held), 'ScaleDownStabilized');
  assert.deepEqual(r.limitedBy, ['stabilization']);
  assert.match(r.explanation, /scaleDown stabilization window 120s/);
});

test('behavior: scale-up stabilization uses the lowest recommendation in the window', () => {
  const b = behavior({ scaleUp: { stabilizationWindowSeconds: 60 } });
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(4, 150), stateWith([[30, 5], [20, 9]])).record;
  assert.equal(r.details.metricDesiredReplicas, 12);
  assert.equal(r.desiredReplicas, 5);
  // a recommendation at or below the current count in the up window holds the count
  const held = decideHpa(policy([cpu(50)], { behavior: b }), at(4, 150), stateWith([[30, 3]])).record;
  assert.equal(held.desiredReplicas, 4);
  assert.equal(held.rescale, false);
  assert.equal(able(held), 'ScaleUpStabilized');
});

test('behavior: recommendations exactly at a window cutoff are outside it', () => {
  const b = behavior({ scaleDown: { stabilizationWindowSeconds: 120 } });
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 20), stateWith([[120, 10]])).record;
  assert.equal(r.desiredReplicas, 4);
});

test('behavior: history keeps one slot per sync, reusing samples older than both windows', () => {
  const b = behavior({ scaleUp: { stabilizationWindowSeconds: 30 }, scaleDown: { stabilizationWindowSeconds: 60 } });
  const { state } = decideHpa(policy([cpu(50)], { behavior: b }), at(4, 50), stateWith([[90, 2], [70, 3], [40, 4]]));
  assert.deepEqual(state.recommendations.map((x) => [(x.timestamp - T0) / S, x.recommendation]), [[-90, 2], [0, 4], [-40, 4]]);
});

// ---------------------------------------------------------------- behavior: policies

test('behavior: default scale-up policies allow max(+4 pods, +100%) per 15 s', () => {
  const b: HpaBehavior = { scaleUp: defaultScaleUpRules(), scaleDown: defaultScaleDownRules(300) };
  const small = decideHpa(policy([cpu(50)], { behavior: b }), at(1, 500), emptyHpaState()).record;
  assert.equal(small.desiredReplicas, 5); // 1 + 4 beats 1 × 2
  const big = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 500), emptyHpaState()).record;
  assert.equal(big.desiredReplicas, 20); // 10 × 2 beats 10 + 4
  assert.equal(big.details.limitingPolicy, 'scaleUp policy Percent 100%/15s');
  assert.equal(limited(big), 'True/ScaleUpLimit');
});

test('behavior: selectPolicy Min picks the smallest change', () => {
  const b = behavior({
    scaleUp: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 100, periodSeconds: 60 }] },
  });
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 500), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 14);
  assert.equal(r.details.limitingPolicy, 'scaleUp policy Pods 4/60s');
});

test('behavior: selectPolicy Disabled freezes that direction', () => {
  const b = behavior({ scaleDown: { selectPolicy: 'Disabled' } });
  const down = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 10), emptyHpaState()).record;
  assert.equal(down.desiredReplicas, 10);
  assert.equal(down.rescale, false);
  assert.deepEqual(down.limitedBy, ['disabled']);
  assert.equal(limited(down), 'True/ScaleDownLimit');
  const up = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 100), emptyHpaState()).record;
  assert.equal(up.desiredReplicas, 20);
});

test('behavior: Percent scale-down truncates, past events in the period are counted', () => {
  const b = behavior({ scaleDown: { policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } });
  const p = policy([cpu(50)], { behavior: b });
  const first = decideHpa(p, at(9, 5), emptyHpaState());
  assert.equal(first.record.desiredReplicas, 4); // trunc(9 × 0.5)
  assert.deepEqual(first.state.scaleDownEvents, [{ timestamp: T0, replicaChange: 5, outdated: false }]);
  // 15 s later: the period started at 9 replicas → limit still 4 → no further step
  const second = decideHpa(p, at(4, 5, T0 + 15 * S), first.state);
  assert.equal(second.record.desiredReplicas, 4);
  assert.equal(second.record.rescale, false);
  assert.equal(limited(second.record), 'True/ScaleDownLimit');
  // after the period: trunc(4 × 0.5) = 2
  const third = decideHpa(p, at(4, 5, T0 + 61 * S), second.state);
  assert.equal(third.record.desiredReplicas, 2);
});

test('behavior: Pods scale-up counts both directions in the period', () => {
  const rules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] };
  const up: ScaleEvent[] = [{ timestamp: T0 - 30 * S, replicaChange: 1 }];
  const down: ScaleEvent[] = [{ timestamp: T0 - 20 * S, replicaChange: 3 }, { timestamp: T0 - 90 * S, replicaChange: 5 }];
  // period start = 4 − 1 + 3 = 6 → 6 + 2
  assert.equal(scaleUpLimitWithRules(T0, 4, up, down, rules).limit, 8);
  // an event exactly at the cutoff is outside the period
  assert.equal(scaleUpLimitWithRules(T0, 4, [{ timestamp: T0 - 60 * S, replicaChange: 1 }], [], rules).limit, 6);
  assert.equal(scaleDownLimitWithRules(T0, 6, [], [{ timestamp: T0 - 10 * S, replicaChange: 2 }], { ...rules, policies: [{ type: 'Pods', value: 3, periodSeconds: 60 }] }).limit, 5);
});

test('behavior: a limit below the current count means no further scale-up yet', () => {
  const b = behavior({ scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } });
  const st = stateWith([], [{ timestamp: T0 - 10 * S, replicaChange: 5 }]);
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(8, 200), st).record;
  assert.equal(r.details.scaleUpLimit, 8); // 8 − 5 + 2 = 5 < 8 → held at 8
  assert.equal(r.desiredReplicas, 8);
  assert.equal(r.rescale, false);
});

test('behavior: max and min still clamp', () => {
  const r = decideHpa(policy([cpu(50)], { maxReplicas: 12, behavior: behavior() }), at(10, 500), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 12);
  assert.equal(limited(r), 'True/TooManyReplicas');
  assert.deepEqual(r.limitedBy, ['max']);
  const d = decideHpa(policy([cpu(50)], { minReplicas: 3, behavior: behavior() }), at(10, 5), emptyHpaState()).record;
  assert.equal(d.desiredReplicas, 3);
  assert.equal(limited(d), 'True/TooFewReplicas');
});

test('behavior: stabilization then policy are both reported in order', () => {
  const b = behavior({ scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 10), stateWith([[100, 6]])).record;
  assert.equal(r.details.stabilizedReplicas, 6);
  assert.equal(r.desiredReplicas, 9);
  assert.deepEqual(r.limitedBy, ['stabilization', 'policy']);
  assert.match(r.explanation, /^scaled 10→9: .*limited by scaleDown stabilization window 300s .* then scaleDown policy Pods 1\/60s$/);
});

test('behavior: per-direction tolerance comes from behavior', () => {
  const b = behavior();
  b.scaleUp.tolerance = 0.02;
  const r = decideHpa(policy([cpu(50)], { behavior: b }), at(10, 53), emptyHpaState()).record;
  assert.equal(r.desiredReplicas, 11);
  assert.deepEqual(r.details.tolerances, { scaleUp: 0.02, scaleDown: 0.1 });
});

// ---------------------------------------------------------------- scale events

test('storeScaleEvent: marks events older than the longest period outdated and reuses the last one', () => {
  const b: HpaBehavior = {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }, { type: 'Pods', value: 1, periodSeconds: 60 }] },
    scaleDown: defaultScaleDownRules(),
  };
  const events: ScaleEvent[] = [
    { timestamp: T0 - 100 * S, replicaChange: 1 },
    { timestamp: T0 - 70 * S, replicaChange: 2 },
    { timestamp: T0 - 40 * S, replicaChange: 3 },
  ];
  const copy = structuredClone(events);
  const r = storeScaleEvent(T0, b, events, [], 5, 9);
  assert.deepEqual(events, copy); // input untouched
  assert.deepEqual(r.scaleUpEvents, [
    { timestamp: T0 - 100 * S, replicaChange: 1, outdated: true },
    { timestamp: T0, replicaChange: 4, outdated: false },
    { timestamp: T0 - 40 * S, replicaChange: 3 },
  ]);
  const d = storeScaleEvent(T0, b, [], [], 9, 7);
  assert.deepEqual(d.scaleDownEvents, [{ timestamp: T0, replicaChange: 2, outdated: false }]);
  assert.deepEqual(storeScaleEvent(T0, undefined, [], [], 1, 2).scaleUpEvents, []);
});

test('storeScaleEvent: an event from a sync without a metrics fetch is outdated exactly one period later, if the new sync fetched', () => {
  const b: HpaBehavior = { scaleUp: defaultScaleUpRules(), scaleDown: defaultScaleDownRules() }; // scale-down period 15 s
  const noFetch: ScaleEvent = { timestamp: T0 - 15 * S, replicaChange: 2, outdated: false, beforeFetch: true };
  const fetched: ScaleEvent = { timestamp: T0 - 15 * S, replicaChange: 2, outdated: false };
  // upstream's clock moved on during this sync's fetch, so the earlier pre-fetch stamp is Before(cutoff): replaced
  assert.deepEqual(storeScaleEvent(T0, b, [], [noFetch], 10, 6).scaleDownEvents, [{ timestamp: T0, replicaChange: 4, outdated: false }]);
  // both stamped after a fetch: an exact tie, kept
  assert.deepEqual(storeScaleEvent(T0, b, [], [fetched], 10, 6).scaleDownEvents, [fetched, { timestamp: T0, replicaChange: 4, outdated: false }]);
  // both before a fetch: a tie again, kept; the new event says it was stamped before a fetch
  assert.deepEqual(storeScaleEvent(T0, b, [], [noFetch], 10, 6, false).scaleDownEvents, [
    noFetch,
    { timestamp: T0, replicaChange: 4, outdated: false, beforeFetch: true },
  ]);
  // a millisecond later it is outdated in every case
  assert.equal(storeScaleEvent(T0 + 1, b, [], [fetched], 10, 6, false).scaleDownEvents.length, 1);
});

test('behavior: an above-max scale-down no longer counts 15 s later at the next metric sync (upstream 6→11, not 6→13)', () => {
  // 20 → 18 above max (no fetch), 15 s later 14 → 10 from metrics, 15 s after that a surge from 6:
  // the first event was replaced at the second sync, so the 60 s scale-up policy starts from 6 + 4 deleted
  const b = behavior({ scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
  let st = emptyHpaState();
  const p = policy([cpu(50)], { minReplicas: 1, maxReplicas: 18, behavior: b });
  st = decideHpa(p, at(20, 50), st).state;
  assert.deepEqual(st.scaleDownEvents.map((e) => [e.replicaChange, e.beforeFetch === true]), [[2, true]]);
  const second = decideHpa(p, observation(14, pods(14), [samples(Array(14).fill(350), T0 + 5 * S)], { now: T0 + 15 * S }), st);
  assert.equal(second.record.desiredReplicas, 10);
  st = second.state;
  assert.deepEqual(st.scaleDownEvents.map((e) => e.replicaChange), [4]);
  const third = decideHpa(p, observation(6, pods(6), [samples(Array(6).fill(5000), T0 + 20 * S)], { now: T0 + 30 * S }), st);
  assert.equal(third.record.desiredReplicas, 11);
});

test('normalizeWithBehavior: missing scaleDown window falls back to the controller default', () => {
  const b = behavior();
  (b.scaleDown as { stabilizationWindowSeconds?: number }).stabilizationWindowSeconds = undefined;
  const r = normalizeWithBehavior(T0, [{ timestamp: T0 - 200 * S, recommendation: 9 }], [], [], b, 10, 3, 1, 20, 300);
  assert.equal(r.stabilized, 9);
});
