import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Histogram } from '../../../src/load/histogram.ts';
import { parseTrace, parseTimeValue } from '../../../src/load/trace.ts';
import { parseDuration } from '../../../src/cli/commands/load.ts';

test('histogram quantiles are within 0.5% of the exact order statistic', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.001, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const h = new Histogram();
      for (const x of xs) h.record(x);
      const sorted = [...xs].sort((a, b) => a - b);
      const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)];
      const got = h.quantile(q);
      assert.ok(Math.abs(got - exact) <= Math.max(0.001, exact * 0.005), `q=${q} exact=${exact} got=${got}`);
      assert.equal(h.max, sorted[sorted.length - 1]);
    }),
  );
});

test('trace parsing: Azure-style dates, epoch seconds, header detection, sorting', () => {
  const azure = 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n';
  const offs = parseTrace(azure, 'csv');
  assert.equal(offs.length, 2);
  assert.ok(Math.abs(offs[1] - 4314.579) < 0.01);
  assert.deepEqual(parseTrace('gmt_create,x\n2024-11-15 18:16:14,1\n2024-11-15 16:57:50,2\n', 'csv'), [0, 4704000]);
  assert.deepEqual(parseTrace('0.5\n0\n1.25\n', 'csv'), [0, 500, 1250]);
  assert.deepEqual(parseTrace('{"ts":1700000000.5}\n{"ts":1700000001}\n', 'jsonl'), [0, 500]);
  assert.equal(parseTimeValue(1700000000123), 1700000000123);
  assert.throws(() => parseTrace('time\nabc\n', 'csv'), /line 2/);
});

test('durations', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5'), 5000);
  assert.throws(() => parseDuration('5x'), /bad duration/);
});
