import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_BACKOFF, initialBackoff, nextRestart, started } from '../../../src/runtime/local/backoff.ts';

test('first crash restarts at once, then 10s, 20s, 40s … capped at 5 min, measured from the last start', () => {
  let s = initialBackoff(0);
  let t = 1000; // crashes 1 s after each start
  const waits: number[] = [];
  for (let i = 0; i < 9; i++) {
    const { at } = nextRestart(s, t);
    waits.push(at - s.lastStart);
    s = started(s, at);
    t = at + 1000;
  }
  assert.deepEqual(waits.map((w) => w / 1000), [1, 10, 20, 40, 80, 160, 300, 300, 300]);
});

test('a container that ran for 10 minutes restarts at once and starts again from 10s', () => {
  let s = initialBackoff(0);
  for (let i = 0; i < 6; i++) s = started(s, nextRestart(s, s.lastStart + 10).at);
  assert.ok(s.currentMs >= 300_000);
  const exit = s.lastStart + 600_000;
  assert.equal(nextRestart(s, exit).at, exit);
  s = started(s, exit);
  assert.equal(s.currentMs, 10_000);
});

test('property: restarts never come before the exit, and waits never exceed the cap', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 700_000 }), { minLength: 1, maxLength: 30 }), (uptimes) => {
    let s = initialBackoff(0);
    for (const up of uptimes) {
      const exit = s.lastStart + up;
      const { at } = nextRestart(s, exit);
      assert.ok(at >= exit);
      assert.ok(at - exit <= DEFAULT_BACKOFF.maxMs);
      s = started(s, at);
      assert.ok(s.currentMs <= DEFAULT_BACKOFF.maxMs);
    }
  }));
});

test('a configurable base (for tests) scales the whole sequence', () => {
  const cfg = { baseMs: 100, maxMs: 400, resetAfterMs: 800 };
  let s = initialBackoff(0);
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const exit = s.lastStart + 1;
    const { at } = nextRestart(s, exit, cfg);
    waits.push(at - s.lastStart);
    s = started(s, at, cfg);
  }
  assert.deepEqual(waits, [1, 100, 200, 400, 400]);
});
