// The metric collection step: which sample field feeds the windows, and when "no data" is an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newWindows, recordSample, stableAndPanic } from '../../../src/deciders/kpa/metrics.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import { kpaConfigFromMap } from '../../../src/deciders/kpa/config.ts';
import type { KpaAnnotations, KpaPolicy } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;
const policy = (ann: KpaAnnotations = {}, over: Partial<KpaPolicy> = {}): KpaPolicy =>
  ({ ...makeKpaPolicy({ name: 'svc', target: 'Deployment/svc', containerConcurrency: 0, annotations: ann }, kpaConfigFromMap({})), ...over });

/** A full stable window of constant samples (concurrency 10, rps 50), read at its last second. */
function steady(p: KpaPolicy) {
  const w = newWindows(p);
  for (let s = 0; s < p.stableWindowSeconds; s++) recordSample(p, w, { time: at(s), concurrency: 10, rps: 50 });
  return stableAndPanic(p, w, at(p.stableWindowSeconds - 1));
}

test('the windows hold the policy metric: requests per second for rps, in-flight requests otherwise', () => {
  assert.deepEqual(steady(policy({ metric: 'rps' })), { stable: 50, panic: 50 });
  assert.deepEqual(steady(policy({ metric: 'concurrency' })), { stable: 10, panic: 10 });
  assert.deepEqual(steady(policy()), { stable: 10, panic: 10 });
});

test('no samples: no data (null) while pods are scraped (TBC >= 0); 0 when only the activator reports (TBC -1)', () => {
  for (const tbc of [-1, 0, 1, 200]) {
    const p = policy({}, { targetBurstCapacity: tbc });
    const got = stableAndPanic(p, newWindows(p), at(0));
    assert.deepEqual(got, tbc === -1 ? { stable: 0, panic: 0 } : null, `TBC ${tbc}`);
  }
});

test('samples older than the stable window are no data too, except with TBC -1', () => {
  for (const tbc of [-1, 200]) {
    const p = policy({}, { targetBurstCapacity: tbc });
    const w = newWindows(p);
    recordSample(p, w, { time: at(0), concurrency: 10, rps: 50 });
    assert.notEqual(stableAndPanic(p, w, at(p.stableWindowSeconds)), null, `TBC ${tbc}, within the window`);
    assert.deepEqual(stableAndPanic(p, w, at(p.stableWindowSeconds + 2)), tbc === -1 ? { stable: 0, panic: 0 } : null, `TBC ${tbc}`);
  }
});
