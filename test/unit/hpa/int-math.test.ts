// Go's int64 division on milli-values (src/deciders/hpa/int-math.ts): truncation toward zero for
// every sign, exactness beyond 2^53, the divide-by-zero error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulDiv, truncDiv } from '../../../src/deciders/hpa/int-math.ts';

test('truncDiv truncates toward zero for every sign, as Go\'s / does', () => {
  assert.equal(truncDiv(7, 2), 3);
  assert.equal(truncDiv(-7, 2), -3); // not floor (−4)
  assert.equal(truncDiv(7, -2), -3);
  assert.equal(truncDiv(-7, -2), 3);
  assert.equal(truncDiv(0, 5), 0);
  assert.equal(truncDiv(6, 3), 2);
  assert.equal(truncDiv(9007199254740991, 2), 4503599627370495); // 2^53 − 1, the largest safe dividend
});

test('truncDiv is exact beyond 2^53 (a float quotient is one too high here)', () => {
  // 564651924205473792 / 100 = 5646519242054737.92; the float quotient rounds to …738
  assert.equal(truncDiv(564651924205473792, 100), 5646519242054737);
  assert.equal(truncDiv(-564651924205473792, 100), -5646519242054737);
  assert.equal(truncDiv(564651924205473792, 2 ** 53 + 2), 62); // a divisor beyond 2^53
});

test('truncDiv by zero is Go\'s integer divide by zero', () => {
  assert.throws(() => truncDiv(5, 0), { name: 'RangeError', message: 'integer divide by zero' });
  assert.throws(() => truncDiv(0, 0), RangeError);
});

test('mulDiv: a × b / c exact when the product leaves the safe range', () => {
  assert.equal(mulDiv(7, 100, 3), 233);
  assert.equal(mulDiv(-7, 100, 3), -233);
  // the float product is off by a few units: float-then-divide gives …318
  assert.equal(mulDiv(4667197194338493, 100, 73), 6393420814162319);
  assert.equal(mulDiv(4503599627370497, 100, 100), 4503599627370497);
});
