// The HPA memory annotation (src/runtime/kubernetes/memory-store.ts): compaction never changes a
// stabilization result, the decider takes the same decisions from a restored memory, the write key
// ignores only the newest recommendation's moving time, and bad annotations are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';
import { stabilizeRecommendationLegacy, stabilizeRecommendationWithBehaviors } from '../../../src/deciders/hpa/normalize.ts';
import type { HpaState, TimestampedRecommendation } from '../../../src/deciders/hpa/types.ts';
import {
  compactRecommendations, decodeMemory, encodeMemory, MEMORY_MAX_BYTES, MEMORY_MAX_RECOMMENDATIONS, memoryKey, persistMemory, restoreMemory,
} from '../../../src/runtime/kubernetes/memory-store.ts';
import { S, T0, behavior, cpu, observation, pods, policy, samples } from '../hpa/helpers.ts';

const recsArb = fc.array(fc.record({ timestamp: fc.integer({ min: 0, max: 600_000 }), recommendation: fc.integer({ min: 1, max: 12 }) }), { maxLength: 200 });

test('compaction keeps every window\'s max and min (behavior and legacy stabilization alike)', () => {
  fc.assert(fc.property(recsArb, fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 700 }), fc.integer({ min: 600_000, max: 1_400_000 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }),
    (recs, up, down, now, current, desired) => {
      const c = compactRecommendations(recs);
      assert.ok(c.length <= 2 * 12);
      const a = stabilizeRecommendationWithBehaviors(now, recs, up, down, current, desired);
      const b = stabilizeRecommendationWithBehaviors(now, c, up, down, current, desired);
      assert.equal(b.stabilized, a.stabilized);
      assert.equal(b.upRecommendation, a.upRecommendation);
      assert.equal(b.downRecommendation, a.downRecommendation);
      assert.equal(stabilizeRecommendationLegacy(now, c, down * 1000, desired).stabilized, stabilizeRecommendationLegacy(now, recs, down * 1000, desired).stabilized);
    }), { numRuns: 400 });
});

test('a restored memory gives the same stabilization as the live one', () => {
  fc.assert(fc.property(recsArb, fc.integer({ min: 0, max: 700 }), fc.integer({ min: 600_000, max: 1_400_000 }), (recs, down, now) => {
    const state: HpaState = { recommendations: recs, scaleUpEvents: [{ timestamp: 5_000, replicaChange: 2 }], scaleDownEvents: [{ timestamp: 1_000, replicaChange: 1, outdated: true }], lastScaleTime: 5_000 };
    const writtenAt = Math.max(0, ...recs.map((r) => r.timestamp));
    const text = encodeMemory(persistMemory('u1', state, writtenAt));
    const m = decodeMemory(text, 'u1');
    assert.notEqual(typeof m, 'string');
    // the previous leader's newest recommendation is restored as seen at writtenAt (nothing later known)
    const restored = restoreMemory(m as Exclude<typeof m, string>, now, writtenAt);
    const a = stabilizeRecommendationWithBehaviors(now, recs, 0, down, 3, 3);
    const b = stabilizeRecommendationWithBehaviors(now, restored.recommendations, 0, down, 3, 3);
    assert.equal(b.stabilized, a.stabilized);
    assert.deepEqual(restored.scaleUpEvents, [{ timestamp: 5_000, replicaChange: 2, outdated: false }]);
    assert.deepEqual(restored.scaleDownEvents, [], 'outdated events are not kept');
    assert.equal(restored.lastScaleTime, 5_000);
    assert.ok(text.length <= MEMORY_MAX_BYTES);
  }), { numRuns: 200 });
});

test('the newest recommendation is held until the previous leader could last have acted (never later than now)', () => {
  const state: HpaState = { recommendations: [{ timestamp: 100_000, recommendation: 6 }, { timestamp: 130_000, recommendation: 2 }], scaleUpEvents: [], scaleDownEvents: [] };
  const m = persistMemory('u', state, 130_000);
  assert.deepEqual(m.r, [[-30_000, 6], [0, 2]]);
  assert.equal(restoreMemory(m, 200_000, 170_000).recommendations[1]!.timestamp, 170_000);
  assert.equal(restoreMemory(m, 150_000, 170_000).recommendations[1]!.timestamp, 150_000);
  assert.equal(restoreMemory(m, 200_000, 120_000).recommendations[1]!.timestamp, 130_000);
  assert.equal(restoreMemory(m, 200_000).recommendations[1]!.timestamp, 200_000, 'unknown: now');
  assert.equal(restoreMemory(m, 200_000, 170_000).recommendations[0]!.timestamp, 100_000, 'older entries are exact');
});

test('the write key: the same value recommended again is no change; a new value, an event or a new scale time is', () => {
  const base: HpaState = { recommendations: [{ timestamp: 1_000, recommendation: 5 }, { timestamp: 3_000, recommendation: 3 }], scaleUpEvents: [], scaleDownEvents: [] };
  const k0 = memoryKey(persistMemory('u', base, 3_000));
  // one more sync, same recommendation, later (the decider replaced no slot or an old one)
  const same: HpaState = { ...base, recommendations: [...base.recommendations, { timestamp: 5_000, recommendation: 3 }] };
  assert.equal(memoryKey(persistMemory('u', same, 5_000)), k0);
  const changed: HpaState = { ...base, recommendations: [...base.recommendations, { timestamp: 5_000, recommendation: 4 }] };
  assert.notEqual(memoryKey(persistMemory('u', changed, 5_000)), k0);
  assert.notEqual(memoryKey(persistMemory('u', { ...same, scaleDownEvents: [{ timestamp: 5_000, replicaChange: 1 }] }, 5_000)), k0);
  assert.notEqual(memoryKey(persistMemory('u', { ...same, lastScaleTime: 5_000 }, 5_000)), k0);
});

test('bounded: many distinct values are merged towards holding replicas; the text stays under the limit', () => {
  const recs: TimestampedRecommendation[] = [];
  // strictly decreasing values: every one is a suffix maximum
  for (let i = 0; i < 500; i++) recs.push({ timestamp: i * 1000, recommendation: 1000 - i });
  const c = compactRecommendations(recs);
  assert.equal(c.length, MEMORY_MAX_RECOMMENDATIONS);
  assert.equal(c[0]!.recommendation, 1000, 'the largest old value survives the merge');
  const events = Array.from({ length: 300 }, (_, i) => ({ timestamp: i * 1000, replicaChange: 1 }));
  const m = persistMemory('u', { recommendations: recs, scaleUpEvents: events, scaleDownEvents: events }, 500_000);
  assert.equal(m.u.reduce((s, e) => s + e[1], 0), 300, 'merged events keep their total');
  assert.ok(encodeMemory(m).length <= MEMORY_MAX_BYTES, `${encodeMemory(m).length} bytes`);
});

test('bad annotations are refused with a reason', () => {
  const good = encodeMemory(persistMemory('u', { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] }, 1));
  assert.equal(typeof decodeMemory(good, 'u'), 'object');
  assert.match(decodeMemory(good, 'other') as string, /another object/);
  assert.match(decodeMemory('{', 'u') as string, /not JSON/);
  assert.match(decodeMemory('{"v":2}', 'u') as string, /unknown format/);
  assert.match(decodeMemory('{"v":1,"uid":"u","t":1,"r":[[1]],"u":[],"d":[]}', 'u') as string, /pairs/);
  assert.match(decodeMemory('x'.repeat(MEMORY_MAX_BYTES + 1), 'u') as string, /too large/);
});

test('before-fetch marks survive a failover: the above-max event is still replaced one period later (upstream 6→11, not 6→13)', () => {
  // the scenario of test/unit/hpa/behavior.test.ts, with a leader change after the first sync
  const b = behavior({ scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } });
  const p = policy([cpu(50)], { minReplicas: 1, maxReplicas: 18, behavior: b });
  const first = decideHpa(p, observation(20, pods(20), [samples(Array(20).fill(500))], { now: T0 }), emptyHpaState()).state;
  const m = persistMemory('u', first, T0);
  assert.deepEqual(m.db, [0], 'the above-max scale-down was stamped before any fetch');
  const decoded = decodeMemory(encodeMemory(m), 'u');
  assert.notEqual(typeof decoded, 'string');
  let st = restoreMemory(decoded as Exclude<typeof decoded, string>, T0 + 15 * S, T0);
  assert.equal(st.scaleDownEvents[0]!.beforeFetch, true);
  st = decideHpa(p, observation(14, pods(14), [samples(Array(14).fill(350), T0 + 5 * S)], { now: T0 + 15 * S }), st).state;
  assert.deepEqual(st.scaleDownEvents.map((e) => e.replicaChange), [4]);
  assert.equal(decideHpa(p, observation(6, pods(6), [samples(Array(6).fill(5000), T0 + 20 * S)], { now: T0 + 30 * S }), st).record.desiredReplicas, 11);
  // without the mark (an annotation written before marks existed) the tie keeps the old event: 13
  const unmarked = { ...(decoded as Exclude<typeof decoded, string>) };
  delete unmarked.db;
  let old = restoreMemory(unmarked, T0 + 15 * S, T0);
  old = decideHpa(p, observation(14, pods(14), [samples(Array(14).fill(350), T0 + 5 * S)], { now: T0 + 15 * S }), old).state;
  assert.equal(decideHpa(p, observation(6, pods(6), [samples(Array(6).fill(5000), T0 + 20 * S)], { now: T0 + 30 * S }), old).record.desiredReplicas, 13);
});

test('before-fetch marks: kept through compaction, dropped when the newest recommendation is taken as seen later, part of the write key only when present', () => {
  const recs: TimestampedRecommendation[] = [{ timestamp: 1_000, recommendation: 5, beforeFetch: true }, { timestamp: 1_000, recommendation: 2 }];
  const m = persistMemory('u', { recommendations: recs, scaleUpEvents: [], scaleDownEvents: [] }, 1_000);
  assert.deepEqual(m.rb, [0]);
  assert.equal(m.ub, undefined);
  assert.deepEqual(restoreMemory(m, 1_000, 1_000).recommendations, recs);
  const seed = persistMemory('u', { recommendations: [recs[0]!], scaleUpEvents: [], scaleDownEvents: [] }, 1_000);
  assert.deepEqual(restoreMemory(seed, 1_000, 1_000).recommendations, [recs[0]], 'not moved: still the written moment');
  assert.deepEqual(restoreMemory(seed, 9_000, 9_000).recommendations, [{ timestamp: 9_000, recommendation: 5 }], 'moved to a later sync');
  // a merged pair keeps the newer entry's mark (events 0…136 merge into one at 136's time)
  const many = Array.from({ length: 200 }, (_, i) => ({ timestamp: i, replicaChange: 1, beforeFetch: i === 136 }));
  assert.deepEqual(persistMemory('u', { recommendations: [], scaleUpEvents: many, scaleDownEvents: [] }, 200).ub, [0]);
  // the key: a memory without marks keys as before; a mark is a change
  const plain = persistMemory('u', { recommendations: [{ timestamp: 1_000, recommendation: 2 }], scaleUpEvents: [], scaleDownEvents: [] }, 1_000);
  assert.equal(memoryKey(plain), JSON.stringify(['u', [[0, 2]], [], [], null]));
  assert.notEqual(memoryKey(m), memoryKey({ ...m, rb: undefined }));
  // bad indices are refused
  assert.match(decodeMemory(encodeMemory({ ...plain, db: [0] }), 'u') as string, /db is not a list of indices into d/);
  assert.match(decodeMemory(encodeMemory({ ...plain, rb: [0.5] }), 'u') as string, /rb is not a list of indices/);
  assert.equal(typeof decodeMemory(encodeMemory({ ...plain, rb: [0] }), 'u'), 'object');
});
