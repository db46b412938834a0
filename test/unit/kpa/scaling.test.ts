// The decider's scaling step on given stable/panic averages, case by case after knative's
// pkg/autoscaler/scaling/autoscaler_test.go (own numbers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excessBurstCapacity, newScalerState, scale, type ScalerState } from '../../../src/deciders/kpa/scaling.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import type { KpaPolicy } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
function spec(over: Partial<KpaPolicy>): KpaPolicy {
  return { ...makeKpaPolicy({ name: 'r', target: 'Deployment/r' }), ...over };
}
const fresh = (): ScalerState => ({ panicTime: null, maxPanicPods: 0, delayWindow: null });

test('scale-down delay: simple — held for the whole delay, released 2 s after it', () => {
  const p = spec({ targetValue: 10, maxScaleDownRate: 10, maxScaleUpRate: 10, panicThreshold: 100, scaleDownDelaySeconds: 300 });
  const st = newScalerState(p, 0, T0);
  assert.equal(scale(p, st, 0, 50, 50, T0 + 2_000).desired, 5);
  assert.equal(scale(p, st, 0, 0, 0, T0 + 300_000).desired, 5);
  const r = scale(p, st, 0, 0, 0, T0 + 302_000);
  assert.equal(r.desired, 0);
});

test('scale-down delay: gradual — the largest value in the window dominates, then scrolls out', () => {
  const p = spec({ targetValue: 10, maxScaleDownRate: 10, maxScaleUpRate: 10, panicThreshold: 100, scaleDownDelaySeconds: 300 });
  const st = newScalerState(p, 0, T0);
  assert.equal(scale(p, st, 0, 50, 50, T0).desired, 5);
  assert.equal(scale(p, st, 0, 35, 35, T0 + 60_000).desired, 5);
  const held = scale(p, st, 0, 0, 0, T0 + 120_000);
  assert.equal(held.desired, 5);
  assert.ok(held.limitedBy.includes('stabilization'));
  assert.equal(scale(p, st, 0, 0, 0, T0 + 302_000).desired, 4, '5 scrolled out, 4 (from 35) remains');
  assert.equal(scale(p, st, 0, 0, 0, T0 + 362_000).desired, 0);
});

test('scale-down delay is not applied when the revision is unreachable; zero delay = no window', () => {
  const p = spec({ targetValue: 10, maxScaleDownRate: 10, maxScaleUpRate: 10, panicThreshold: 100, scaleDownDelaySeconds: 300, reachable: false });
  const st = newScalerState(p, 0, T0);
  assert.equal(scale(p, st, 0, 50, 50, T0).desired, 5);
  assert.equal(scale(p, st, 0, 0, 0, T0 + 2_000).desired, 0);
  assert.equal(newScalerState(spec({ scaleDownDelaySeconds: 0 }), 0, T0).delayWindow, null);
});

test('stable mode increase / decrease; rps uses the same arithmetic', () => {
  const p = spec({ targetValue: 10, panicThreshold: 100 });
  const st = fresh();
  assert.equal(scale(p, st, 8, 95, 95, T0).desired, 10);
  assert.equal(scale(p, st, 8, 41, 41, T0 + 2000).desired, 5);
  const rps = spec({ metric: 'rps', targetValue: 7, panicThreshold: 100 });
  assert.equal(scale(rps, fresh(), 1, 50, 50, T0).desired, 8);
});

test('no traffic from one pod → 0 (floor(1/2) = 0); from 5 pods only down to floor(5/2) = 2', () => {
  const p = spec({ targetValue: 10 });
  assert.equal(scale(p, fresh(), 1, 0, 0, T0).desired, 0);
  const r = scale(p, fresh(), 5, 0, 0, T0);
  assert.equal(r.desired, 2);
  assert.ok(r.limitedBy.includes('policy'));
});

test('activation scale: 0 demand stays 0, any demand lifts to activation-scale', () => {
  const p = spec({ targetValue: 10, activationScale: 3 });
  assert.equal(scale(p, fresh(), 1, 0, 0, T0).desired, 0);
  const r = scale(p, fresh(), 1, 0.5, 0, T0);
  assert.equal(r.desired, 3);
  assert.deepEqual(r.limitedBy, ['activation']);
});

test('panic: enter, hold through a slow increase, exit one stable window after the last over-threshold tick', () => {
  const p = spec({ targetValue: 1, totalValue: 1, targetBurstCapacity: 50 });
  const st = fresh();
  // 8 ready, panic average 20 → 20/8 = 2.5 ≥ 2 → panic, desired max(12, 20)
  const a = scale(p, st, 8, 12, 20, T0);
  assert.equal(a.panicTransition, 'enter');
  assert.equal(a.desired, 20);
  assert.equal(a.ebc, Math.floor(8 * 1 - 50 - 20));
  // 30 s later, 30 ready, panic 33 → 1.1 < 2: no longer over threshold, still panicking (held ≥ 33)
  const b = scale(p, st, 30, 25, 33, T0 + 30_000);
  assert.equal(b.panicking, true);
  assert.equal(st.panicTime, T0, 'panic time did not move');
  assert.equal(b.desired, 33);
  // exactly one stable window after: not yet (strictly after is required)
  assert.equal(scale(p, st, 33, 25, 30, T0 + 60_000).panicking, true);
  const c = scale(p, st, 33, 40, 45, T0 + 62_000);
  assert.equal(c.panicTransition, 'exit');
  assert.equal(c.desired, 40, 'plain stable desire after panic');
});

test('panic: a surge while panicking extends the panic time', () => {
  const p = spec({ targetValue: 1 });
  const st = fresh();
  scale(p, st, 5, 6, 15, T0);
  const r = scale(p, st, 15, 10, 40, T0 + 30_000);
  assert.equal(r.panicTransition, 'extend');
  assert.equal(st.panicTime, T0 + 30_000);
  assert.equal(r.desired, 40);
});

test('panic ratchet: never lower while panicking, even when demand drops', () => {
  const p = spec({ targetValue: 1 });
  const st = fresh();
  assert.equal(scale(p, st, 2, 3, 10, T0).desired, 10);
  const r = scale(p, st, 10, 2, 1, T0 + 4000);
  assert.equal(r.desired, 10);
  assert.ok(r.limitedBy.includes('panic'));
});

test('exponential growth tracked in panic (rate 1000, target 1)', () => {
  const p = spec({ targetValue: 1, targetBurstCapacity: 101 });
  const st = fresh();
  assert.equal(scale(p, st, 1, 6, 6, T0).desired, 6);
  assert.equal(scale(p, st, 6, 36, 36, T0 + 1000).desired, 36);
  assert.equal(scale(p, st, 36, 216, 216, T0 + 2000).desired, 216);
  const r = scale(p, st, 216, 1296, 1296, T0 + 3000);
  assert.equal(r.desired, 1296);
  assert.equal(r.ebc, Math.floor(216 * 100 - 101 - 1296));
});

test('rate limits: up ceil(rate × ready), down floor(ready / rate); panic threshold uses the unclamped count', () => {
  const p = spec({ targetValue: 1, maxScaleUpRate: 1.5, maxScaleDownRate: 4, panicThreshold: 100 });
  const up = scale(p, fresh(), 3, 100, 100, T0);
  assert.equal(up.desired, Math.ceil(1.5 * 3));
  assert.deepEqual(up.limitedBy, ['policy']);
  const down = scale(p, fresh(), 10, 1, 1, T0);
  assert.equal(down.desired, 2);
  // with threshold 2: dppc 100 / R 3 ≥ 2 → panic, even though the count is clamped to 5
  const q = spec({ targetValue: 1, maxScaleUpRate: 1.5 });
  const pr = scale(q, fresh(), 3, 1, 100, T0);
  assert.equal(pr.panicking, true);
  assert.equal(pr.desired, 5);
});

test('zero ready pods count as one for limits and panic; EBC uses the true zero', () => {
  const p = spec({ targetValue: 10 });
  const r = scale(p, fresh(), 0, 5, 5, T0);
  assert.equal(r.maxScaleUp, 1000);
  assert.equal(r.maxScaleDown, 0);
  assert.equal(r.desired, 1);
  assert.equal(r.ebc, Math.floor(0 - 211 - 5));
  assert.equal(excessBurstCapacity(spec({ targetBurstCapacity: 0 }), 3, 9), 0);
  assert.equal(excessBurstCapacity(spec({ targetBurstCapacity: -1 }), 3, 9), -1);
});
