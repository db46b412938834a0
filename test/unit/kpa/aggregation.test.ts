import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bucketsEmpty, currentMax, linearAverage, newBuckets, newMaxTimeWindow, recordBucket, recordMax,
  smoothingCoefficient, weightedAverage,
} from '../../../src/deciders/kpa/aggregation.ts';

const T0 = 1_700_000_000_000; // a whole second
const at = (s: number) => T0 + s * 1000;

test('linear: partial window divides by the seconds seen since the first write', () => {
  const b = newBuckets(60);
  recordBucket(b, at(0), 10);
  assert.equal(linearAverage(b, at(0)), 10);
  recordBucket(b, at(1), 20);
  recordBucket(b, at(2), 30);
  assert.equal(linearAverage(b, at(2)), 20);
});

test('linear: values within one second add up; sub-second offsets land in the same bucket', () => {
  const b = newBuckets(10);
  recordBucket(b, at(0), 1);
  recordBucket(b, at(0) + 999, 2);
  assert.equal(linearAverage(b, at(0) + 500), 3);
});

test('linear: holes inside the window count as zero', () => {
  const b = newBuckets(10);
  recordBucket(b, at(0), 6);
  recordBucket(b, at(2), 6); // second 1 is a hole
  assert.equal(linearAverage(b, at(2)), 4);
});

test('linear: the divisor never exceeds the number of buckets and old slots are overwritten', () => {
  const b = newBuckets(5);
  for (let s = 0; s < 12; s++) recordBucket(b, at(s), s);
  // last 5 seconds: 7,8,9,10,11
  assert.equal(linearAverage(b, at(11)), 9);
});

test('linear: recent silence drops the slots that left the window', () => {
  const b = newBuckets(5);
  for (let s = 0; s < 5; s++) recordBucket(b, at(s), 10); // full window of 10s
  // Two silent seconds later, window covers seconds 2..6: 3 slots of 10 over min(5, 5-2)=3 buckets.
  assert.equal(linearAverage(b, at(6)), 10);
  // now=9: 4 seconds silent, 1 slot left (second 4) over 1 bucket
  assert.equal(linearAverage(b, at(8)), 10);
  // a full window of silence gives 0 and reads as empty once it is exceeded
  assert.equal(linearAverage(b, at(9)), 0);
  assert.equal(bucketsEmpty(b, at(9)), false);
  assert.equal(bucketsEmpty(b, at(10)), true);
});

test('linear: a write after a silence of at least a window resets (first value counts fully)', () => {
  const b = newBuckets(60);
  for (let s = 0; s < 60; s++) recordBucket(b, at(s), 100);
  recordBucket(b, at(200), 1);
  assert.equal(linearAverage(b, at(200)), 1);
});

test('linear: a write older than a window before the last write is ignored', () => {
  const b = newBuckets(5);
  recordBucket(b, at(100), 4);
  recordBucket(b, at(90), 1000);
  assert.equal(linearAverage(b, at(100)), 4);
  // but an older write inside the window is accepted and moves firstWrite back
  recordBucket(b, at(98), 2);
  assert.equal(linearAverage(b, at(100)), 2); // (4+2)/3 seconds
});

test('linear: result is rounded to 6 digits', () => {
  const b = newBuckets(3);
  recordBucket(b, at(0), 1);
  recordBucket(b, at(1), 0);
  recordBucket(b, at(2), 0);
  assert.equal(linearAverage(b, at(2)), 0.333333);
});

test('weighted: smoothing coefficients as upstream', () => {
  assert.equal(Math.round(smoothingCoefficient(5) * 1e5) / 1e5, 0.84151);
  assert.equal(Math.round(smoothingCoefficient(6) * 1e5) / 1e5, 0.78456);
  assert.equal(Math.round(smoothingCoefficient(40) * 1e5) / 1e5, 0.20567);
  assert.equal(smoothingCoefficient(60), 0.2);
});

test('weighted: newest second weighs most; silent seconds are leading zeros', () => {
  const b = newBuckets(5);
  const m = smoothingCoefficient(5);
  recordBucket(b, at(0), 10);
  assert.ok(Math.abs(weightedAverage(b, at(0)) - 10 * m) < 1e-9);
  recordBucket(b, at(1), 20);
  assert.ok(Math.abs(weightedAverage(b, at(1)) - (20 * m + 10 * m * (1 - m))) < 1e-9);
  // one silent second later
  assert.ok(Math.abs(weightedAverage(b, at(2)) - (20 * m * (1 - m) + 10 * m * (1 - m) ** 2)) < 1e-9);
  assert.equal(weightedAverage(b, at(10)), 0);
});

test('max window: scale-down delay of 5 min keeps a value for 300 s, gone at 302 s', () => {
  const w = newMaxTimeWindow(300);
  recordMax(w, at(2), 10);
  recordMax(w, at(100), 3);
  assert.equal(currentMax(w), 10);
  recordMax(w, at(300), 1);
  assert.equal(currentMax(w), 10);
  recordMax(w, at(302), 1);
  assert.equal(currentMax(w), 3);
  recordMax(w, at(500), 1);
  assert.equal(currentMax(w), 1);
});

test('max window: a larger value replaces smaller ones, same slot keeps the max', () => {
  const w = newMaxTimeWindow(10);
  recordMax(w, at(0), 2);
  recordMax(w, at(1), 1); // same 2-second slot
  assert.equal(currentMax(w), 2);
  recordMax(w, at(4), 7);
  assert.equal(currentMax(w), 7);
  assert.equal(w.entries.length, 1);
});


test('property: with a value every second, the linear average is the mean of the last window (or of all seen)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }),
    fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 60 }),
    (nb, values) => {
      const b = newBuckets(nb);
      values.forEach((v, i) => recordBucket(b, at(i), v));
      const last = values.slice(-nb);
      const mean = last.reduce((a, x) => a + x, 0) / last.length;
      assert.ok(Math.abs(linearAverage(b, at(values.length - 1)) - mean) <= 1e-6);
    },
  ), { numRuns: 200 });
});

test('property: weighted average of a constant c over a full window is c × (1 − (1−m)^nb)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 500 }), (nb, c) => {
    const b = newBuckets(nb);
    for (let i = 0; i < nb * 2; i++) recordBucket(b, at(i), c);
    const m = smoothingCoefficient(nb);
    const want = c * (1 - (1 - m) ** nb);
    assert.ok(Math.abs(weightedAverage(b, at(nb * 2 - 1)) - want) <= 1e-6 * Math.max(1, want));
  }), { numRuns: 100 });
});
