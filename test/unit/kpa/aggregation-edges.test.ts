// knative's pkg/autoscaler/aggregation/bucketing.go at its boundaries (own numbers): a silence of
// exactly one window, partially filled windows after silence, the "older than a window" cut, the
// empty test, the weighted average after silence, and the scale-down-delay max window's slots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketsEmpty, currentMax, goRound, linearAverage, newBuckets, newMaxTimeWindow, recordBucket, recordMax,
  smoothingCoefficient, weightedAverage, windowAverage,
} from '../../../src/deciders/kpa/aggregation.ts';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;

test('a silence of exactly one window starts over: the next value is the whole average', () => {
  const b = newBuckets(10);
  recordBucket(b, at(0), 50);
  recordBucket(b, at(10), 6);
  assert.equal(b.firstWrite, Math.floor(at(10) / 1000));
  assert.equal(linearAverage(b, at(10)), 6);
  // one second short of a window: no reset, the old value's second is still in the divisor
  const c = newBuckets(10);
  recordBucket(c, at(0), 50);
  recordBucket(c, at(9), 6);
  assert.equal(linearAverage(c, at(9)), 5.6, '(50 + 6) / 10');
});

test('partially filled window after silence: only the slots still inside count, divided by what is left', () => {
  // window 10, values in seconds 0..9 = 1..10, then 3 silent seconds: seconds 3..9 remain (4..10)
  const b = newBuckets(10);
  for (let s = 0; s < 10; s++) recordBucket(b, at(s), s + 1);
  assert.equal(linearAverage(b, at(12)), (4 + 5 + 6 + 7 + 8 + 9 + 10) / 7);
  // only 3 seconds ever written (0..2 = 3, 6, 9), then 4 silent seconds: all three are still inside
  const c = newBuckets(10);
  [3, 6, 9].forEach((v, s) => recordBucket(c, at(s), v));
  assert.equal(linearAverage(c, at(6)), 6, '18 / min(3, 10 − 4)');
  // 9 silent seconds after a full window: one slot (second 9 = 10) left, over 1 bucket
  assert.equal(linearAverage(b, at(18)), 10);
  // the next write after a partial silence clears the silent slots it passes over
  recordBucket(b, at(12), 100);
  assert.equal(b.windowTotal, 4 + 5 + 6 + 7 + 8 + 9 + 10 + 100);
  assert.equal(linearAverage(b, at(12)), goRound(((4 + 5 + 6 + 7 + 8 + 9 + 10 + 100) / 10) * 1e6) / 1e6);
});

test('writes: exactly a window older than the last write is dropped, one second newer is kept', () => {
  const b = newBuckets(5);
  recordBucket(b, at(100), 4);
  recordBucket(b, at(95), 1000);
  assert.equal(b.windowTotal, 4, 'bt + window = last: ignored');
  recordBucket(b, at(96), 1);
  assert.equal(b.windowTotal, 5);
  assert.equal(b.firstWrite, Math.floor(at(96) / 1000), 'an older accepted write moves firstWrite back');
  assert.equal(b.lastWrite, Math.floor(at(100) / 1000), '… and leaves lastWrite');
  assert.equal(linearAverage(b, at(100)), 1, '5 / 5 seconds');
  // a newer write does not move firstWrite forward
  recordBucket(b, at(101), 5);
  assert.equal(b.firstWrite, Math.floor(at(96) / 1000));
});

test('empty: strictly more than a window without writes; never written = empty', () => {
  const b = newBuckets(6);
  assert.equal(bucketsEmpty(b, at(0)), true);
  recordBucket(b, at(0), 1);
  assert.equal(bucketsEmpty(b, at(6)), false);
  assert.equal(bucketsEmpty(b, at(7)), true);
  assert.equal(linearAverage(newBuckets(6), at(0)), 0);
  assert.equal(weightedAverage(newBuckets(6), at(0)), 0);
});

test('weighted: silence shifts the weights (m(1−m)^z for the newest) and drops buckets from the far end', () => {
  const nb = 4;
  const b = newBuckets(nb);
  const m = smoothingCoefficient(nb);
  [8, 4, 2, 1].forEach((v, s) => recordBucket(b, at(s), v)); // newest (second 3) = 1
  const full = 1 * m + 2 * m * (1 - m) + 4 * m * (1 - m) ** 2 + 8 * m * (1 - m) ** 3;
  assert.ok(Math.abs(weightedAverage(b, at(3)) - full) < 1e-12);
  // 2 silent seconds: only the 2 newest buckets still count, weights start at m(1−m)^2
  const two = 1 * m * (1 - m) ** 2 + 2 * m * (1 - m) ** 3;
  assert.ok(Math.abs(weightedAverage(b, at(5)) - two) < 1e-12);
  assert.ok(Math.abs(windowAverage(b, at(5), 'weighted-exponential') - two) < 1e-12);
  assert.ok(Math.abs(windowAverage(b, at(5), 'linear') - linearAverage(b, at(5))) < 1e-12);
  // a time before the last write is read like "now = last write"
  assert.ok(Math.abs(weightedAverage(b, at(2)) - full) < 1e-12);
});

test('smoothing coefficient: 1 − (1 − 0.9999)^(1/nb), at least 0.2', () => {
  assert.ok(Math.abs(smoothingCoefficient(1) - 0.9999) < 1e-12);
  assert.ok(Math.abs(smoothingCoefficient(10) - (1 - 0.0001 ** 0.1)) < 1e-12);
  assert.equal(smoothingCoefficient(1000), 0.2);
});

test('go rounding: half away from zero for both signs', () => {
  assert.equal(goRound(2.5), 3);
  assert.equal(goRound(-2.5), -3);
  assert.equal(goRound(-2.4), -2);
  assert.equal(goRound(0.5), 1);
});

test('window sizes: ceil of the seconds, at least one bucket', () => {
  assert.equal(newBuckets(6.2).buckets.length, 7);
  assert.equal(newBuckets(0).buckets.length, 1);
  assert.equal(newMaxTimeWindow(5).size, 3, 'ceil(5 / 2)');
  assert.equal(newMaxTimeWindow(5, 1).size, 5);
});

test('max window: a value leaves exactly `size` slots later; equal values replace, the slot max is kept', () => {
  const w = newMaxTimeWindow(10); // 5 slots of 2 s
  recordMax(w, at(0), 5);       // slot 0
  recordMax(w, at(8), 1);       // slot 4
  assert.equal(currentMax(w), 5);
  recordMax(w, at(9), 1);       // still slot 4
  assert.equal(currentMax(w), 5);
  recordMax(w, at(10), 1);      // slot 5: slot 0 is 5 slots old → out
  assert.equal(currentMax(w), 1);
  const e = newMaxTimeWindow(10);
  recordMax(e, at(0), 3);
  recordMax(e, at(2), 3);       // equal, newer: the older entry goes
  assert.deepEqual(e.entries.map((x) => x.value), [3]);
  assert.equal(e.entries[0]!.index, Math.floor(Math.floor(at(2) / 1000) / 2));
  recordMax(e, at(3), 4);       // same slot, larger: replaces in place
  assert.deepEqual(e.entries.map((x) => x.value), [4]);
  recordMax(e, at(3), 2);       // same slot, smaller: appended as a later candidate? no — same slot keeps the max
  assert.deepEqual(e.entries.map((x) => x.value), [4]);
  assert.equal(currentMax(newMaxTimeWindow(10)), 0);
});

test('property: the max window equals the brute-force max over the last `size` slots', () => {
  let dropped = 0;
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 20 })), { minLength: 1, maxLength: 40 }),
    (size, steps) => {
      const w = newMaxTimeWindow(size * 2);
      let t = 0;
      const seen: { slot: number; v: number }[] = [];
      for (const [dt, v] of steps) {
        t += dt;
        recordMax(w, at(t), v);
        const slot = Math.floor(Math.floor(at(t) / 1000) / 2);
        seen.push({ slot, v });
        const inside = seen.filter((x) => slot - x.slot < size);
        if (inside.length < seen.length) dropped++;
        assert.equal(currentMax(w), Math.max(...inside.map((x) => x.v)));
      }
    },
  ), { numRuns: 150 });
  assert.ok(dropped > 50, 'values did fall out of the window');
});

test('linear: a time before the last write reads the whole window; one silent second drops exactly one slot', () => {
  const b = newBuckets(10);
  for (let s = 0; s < 20; s++) recordBucket(b, at(s), s); // window holds seconds 10..19
  const mean = (10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19) / 10;
  assert.equal(linearAverage(b, at(15)), mean, 'divided by the window, not by the seconds since the first write');
  assert.equal(linearAverage(b, at(19)), mean);
  // one silent second: second 10 leaves the window, 9 slots remain
  assert.equal(linearAverage(b, at(20)), (11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19) / 9);
});
