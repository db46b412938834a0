// decideKpa copies only what changes (copy-on-write, no structuredClone): no decision may alter a
// state it was given — not at once, and not later through parts the next state still shares — and
// every record still replays from its inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideKpa } from '../../../src/deciders/kpa/decide.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import { kpaConfigFromMap } from '../../../src/deciders/kpa/config.ts';
import type { KpaDecisionRecord, KpaState } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
const json = (v: unknown) => JSON.stringify(v);
const delayWindowSeen = (s: KpaState) => (s.delayWindow?.entries.length ?? 0) > 0;

test('decideKpa never mutates a given state, even through parts shared with later states', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 4, maxLength: 80 }),
    fc.constantFrom(0, 4, 10),
    fc.constantFrom<'linear' | 'weighted-exponential'>('linear', 'weighted-exponential'),
    fc.constantFrom(-1, 0, 200),
    (loads, delay, algo, tbc) => {
      const p = makeKpaPolicy({
        name: 'svc', target: 'Deployment/svc', containerConcurrency: 0,
        annotations: { windowSeconds: 8, panicWindowPercentage: 25, scaleDownDelaySeconds: delay, metricAggregationAlgorithm: algo, targetBurstCapacity: tbc, target: 10 },
      }, kpaConfigFromMap({}));
      let state: KpaState | null = null;
      let ready = 1;
      const seen: { state: KpaState; snapshot: string }[] = [];
      const records: KpaDecisionRecord[] = [];
      let withDelay = 0;
      loads.forEach((v, i) => {
        const now = T0 + (i + 1) * 2000;
        // some ticks carry no samples (the windows are then shared with the previous state)
        const samples = i % 3 === 2 ? [] : [{ time: now - 1500, concurrency: v, rps: v }, { time: now - 500, concurrency: v / 2, rps: v }];
        if (state) seen.push({ state, snapshot: json(state) });
        if (state && delayWindowSeen(state)) withDelay++;
        const r = decideKpa(p, { now, readyPods: ready, currentReplicas: ready, samples }, state);
        records.push(r.record);
        state = r.state;
        if (r.record.rescale) ready = Math.max(0, r.record.desiredReplicas);
      });
      assert.ok(delay === 0 || withDelay > 0 || loads.length < 2);
      for (const s of seen) assert.equal(json(s.state), s.snapshot);
      for (const rec of records) {
        const i = JSON.parse(json(rec.inputs));
        const again = decideKpa(i.policy, i.observation, i.state, rec.now).record;
        assert.equal(json(again), json(rec));
      }
    },
  ), { numRuns: 150 });
});
