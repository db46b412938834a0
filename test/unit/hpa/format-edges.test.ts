// Formatting edges (src/deciders/hpa/format.ts): quantities at the largest suffix and beyond
// finite values, and isoTime against Date's own toISOString at the boundaries of its fast path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMilli, isoTime } from '../../../src/deciders/hpa/format.ts';

test('formatMilli: up to the E suffix, non-finite values as JavaScript prints them, fractions truncated', () => {
  assert.equal(formatMilli(1e21), '1E'); // 10^18 units: E, not 1000P
  assert.equal(formatMilli(1e22), '10E');
  assert.equal(formatMilli(1e18), '1P');
  assert.equal(formatMilli(Infinity), 'Infinity');
  assert.equal(formatMilli(NaN), 'NaN');
  assert.equal(formatMilli(1500.7), '1500m');
  assert.equal(formatMilli(-2000), '-2');
});

test('isoTime equals Date.toISOString: exact hours and minutes, century and leap days, and outside 1970..9999', () => {
  const same = (ms: number) => assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  for (const ms of [0, 1, 999, 60000, 3600000, 3660000, 86399999, 86400000]) same(ms);
  // around the ends of 2099-2100 and 2399-2400 (a non-leap and a leap century), day by day
  for (const [from, to] of [[Date.UTC(2099, 11, 1), Date.UTC(2100, 3, 1)], [Date.UTC(2399, 11, 1), Date.UTC(2400, 3, 1)], [Date.UTC(1999, 11, 1), Date.UTC(2000, 3, 1)]]) {
    for (let ms = from; ms <= to; ms += 86400000) { same(ms); same(ms + 3600000 * 13 + 60000 * 7 + 1234); }
  }
  same(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  same(253402300800000); // year 10000: Date's +010000 form
  same(-1); // before 1970
  same(Date.parse('-000001-06-01T00:00:00.000Z')); // before year 0: Date's -000001 form
  assert.equal(isoTime(1.5), new Date(1.5).toISOString()); // not an integer: Date's rounding
  assert.equal(isoTime(Date.UTC(2026, 0, 1, 12, 0, 0)), '2026-01-01T12:00:00.000Z');
});
