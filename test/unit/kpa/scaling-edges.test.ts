// The decider's Scale step at its boundaries, as knative's pkg/autoscaler/scaling/autoscaler.go
// decides them (own numbers): restart protection, the panic threshold and the strict end of a panic,
// activation scale in both windows, the unreachable revision, the EBC floor and the record of which
// rule bounded the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { excessBurstCapacity, goInt32, newScalerState, scale, type ScalerState } from '../../../src/deciders/kpa/scaling.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import type { KpaPolicy } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
function spec(over: Partial<KpaPolicy>): KpaPolicy {
  return { ...makeKpaPolicy({ name: 'r', target: 'Deployment/r' }), ...over };
}
const fresh = (): ScalerState => ({ panicTime: null, maxPanicPods: 0, delayWindow: null });

test('restart protection: a new decider starts panicking from 2 ready pods, not from 1 or 0', () => {
  const p = spec({});
  assert.equal(newScalerState(p, 2, T0).panicTime, T0);
  assert.equal(newScalerState(p, 2, T0).maxPanicPods, 2);
  assert.equal(newScalerState(p, 1, T0).panicTime, null);
  assert.equal(newScalerState(p, 0, T0).panicTime, null);
});

test('a scale-down delay of 1 s still gets a delay window; 0 s gets none', () => {
  assert.notEqual(newScalerState(spec({ scaleDownDelaySeconds: 1 }), 0, T0).delayWindow, null);
  assert.equal(newScalerState(spec({ scaleDownDelaySeconds: 0 }), 0, T0).delayWindow, null);
});

test('EBC: floor(ready × total − tbc − panic) for any positive tbc, fractional ones too', () => {
  const p = spec({ totalValue: 10, targetBurstCapacity: 0.5 });
  // 3 × 10 − 0.5 − 7.25 = 22.25 → 22 (ceil would say 23)
  assert.equal(excessBurstCapacity(p, 3, 7.25), 22);
  // negative: −3.75 → −4 (floor, not truncation)
  assert.equal(excessBurstCapacity(spec({ totalValue: 1, targetBurstCapacity: 5 }), 2, 0.75), -4);
});

test('an unreachable revision may scale down to 0 at once (no maxScaleDown bound)', () => {
  const p = spec({ targetValue: 10, maxScaleDownRate: 2, reachable: false, panicThreshold: 100 });
  const r = scale(p, fresh(), 10, 0, 0, T0);
  assert.equal(r.maxScaleDown, 0);
  assert.equal(r.desired, 0);
  const reachable = scale(spec({ targetValue: 10, maxScaleDownRate: 2, panicThreshold: 100 }), fresh(), 10, 0, 0, T0);
  assert.equal(reachable.desired, 5, 'reachable: floor(10 / 2)');
});

test('activation scale 2 lifts a demand of 1 pod to 2; an exact match is not recorded as the activation bound', () => {
  const p = spec({ targetValue: 10, activationScale: 2, panicThreshold: 100 });
  const r = scale(p, fresh(), 1, 5, 5, T0);
  assert.equal(r.desired, 2);
  assert.deepEqual(r.limitedBy, ['activation']);
  const exact = scale(p, fresh(), 1, 15, 15, T0);
  assert.equal(exact.desired, 2);
  assert.deepEqual(exact.limitedBy, [], 'demand 2 = activation 2: no bound');
});

test('activation scale applies to the panic window too: stable demand 0, panic demand 1 → activation-scale', () => {
  // 1 ready pod, stable average 0 (dspc 0), panic average 10 (dppc 1 ≥ threshold 1 × 1 ready) → panic.
  const p = spec({ targetValue: 10, activationScale: 3, panicThreshold: 1 });
  const r = scale(p, fresh(), 1, 0, 10, T0);
  assert.equal(r.panicking, true);
  assert.equal(r.desiredStable, 0, 'zero stable demand is not lifted');
  assert.equal(r.desiredPanic, 3);
  assert.equal(r.desired, 3);
  // zero panic demand is not lifted either (dppc 0)
  const q = spec({ targetValue: 10, activationScale: 3, panicThreshold: 0 });
  const z = scale(q, fresh(), 1, 0, 0, T0);
  assert.equal(z.desiredPanic, 0);
  // a panic demand already above the activation scale is kept
  const big = scale(p, fresh(), 1, 0, 50, T0);
  assert.equal(big.desiredPanic, 5);
  // panic demand equal to the activation scale: 3 either way
  const eq = scale(p, fresh(), 1, 0, 30, T0);
  assert.equal(eq.desiredPanic, 3);
});

test('panic threshold is inclusive: dppc / ready exactly at the threshold panics', () => {
  const p = spec({ targetValue: 10, panicThreshold: 2 });
  // 4 ready, panic average 80 → dppc 8 → 8 / 4 = 2 ≥ 2
  const at = scale(p, fresh(), 4, 10, 80, T0);
  assert.equal(at.panicking, true);
  assert.equal(at.panicTransition, 'enter');
  assert.equal(scale(p, fresh(), 4, 10, 79, T0).panicking, true, 'the ratio uses ceil: ceil(7.9) = 8');
  assert.equal(scale(p, fresh(), 4, 10, 70, T0).panicking, false, '7 / 4 < 2');
});

test('panic ends strictly after one stable window, to the millisecond', () => {
  const p = spec({ targetValue: 1, stableWindowSeconds: 60, panicThreshold: 2 });
  const st = fresh();
  scale(p, st, 2, 2, 10, T0);
  assert.equal(st.panicTime, T0);
  assert.equal(scale(p, st, 10, 2, 2, T0 + 60_000).panicking, true, 'at exactly one window: still panicking');
  const out = scale(p, st, 10, 2, 2, T0 + 60_001);
  assert.equal(out.panicTransition, 'exit');
  assert.equal(out.panicking, false);
});

test('leaving panic forgets the panic maximum: a later panic starts from its own demand', () => {
  const p = spec({ targetValue: 1, stableWindowSeconds: 60, panicThreshold: 2, maxScaleDownRate: 1000 });
  const st = fresh();
  assert.equal(scale(p, st, 2, 2, 40, T0).desired, 40);
  const out = scale(p, st, 40, 3, 3, T0 + 61_000);
  assert.equal(out.panicTransition, 'exit');
  assert.equal(st.maxPanicPods, 0);
  // a new, smaller surge: 2 ready, panic demand 6 (6 / 2 ≥ 2) → 6, not the old 40
  const again = scale(p, st, 2, 2, 6, T0 + 62_000);
  assert.equal(again.panicTransition, 'enter');
  assert.equal(again.desired, 6);
});

test('panicking: the larger of stable and panic demand counts, and the record says panic only when it raised the result', () => {
  const p = spec({ targetValue: 1, panicThreshold: 2 });
  // stable demand above panic demand while panicking (the edge case knative provisions for)
  const st = fresh();
  scale(p, st, 2, 2, 10, T0);
  const r = scale(p, st, 10, 30, 12, T0 + 2000);
  assert.equal(r.panicking, true);
  assert.equal(r.desired, 30);
  assert.ok(!r.limitedBy.includes('panic'), 'stable demand decided: panic did not bound it');
  // a tick whose demand equals the held maximum does not say "panic" either
  const same = scale(p, st, 30, 30, 30, T0 + 4000);
  assert.equal(same.desired, 30);
  assert.ok(!same.limitedBy.includes('panic'));
});

test('the policy bound is recorded only when the rate limits clipped the demand', () => {
  const p = spec({ targetValue: 1, maxScaleUpRate: 2, maxScaleDownRate: 2, panicThreshold: 100 });
  // exactly at maxScaleUp (2 × 3 = 6) and exactly at maxScaleDown (floor(10 / 2) = 5): not clipped
  assert.deepEqual(scale(p, fresh(), 3, 6, 6, T0).limitedBy, []);
  assert.deepEqual(scale(p, fresh(), 10, 5, 5, T0).limitedBy, []);
  assert.deepEqual(scale(p, fresh(), 10, 4, 4, T0).limitedBy, ['policy']);
  // not panicking, the bound is judged on the stable demand alone (a high panic average does not count)
  assert.deepEqual(scale(p, fresh(), 3, 6, 100, T0).limitedBy, []);
  // while panicking a demand below maxScaleDown is held by panic, not by the policy
  const q = spec({ targetValue: 1, maxScaleUpRate: 2, maxScaleDownRate: 2, panicThreshold: 2 });
  const st = fresh();
  scale(q, st, 2, 2, 4, T0);
  const low = scale(q, st, 10, 1, 1, T0 + 2000);
  assert.equal(low.panicking, true);
  assert.ok(!low.limitedBy.includes('policy'));
  // in panic the bound is judged on max(dspc, dppc): panic demand 30 > maxScaleUp 4
  const st2 = fresh();
  const hi = scale(q, st2, 2, 1, 30, T0);
  assert.equal(hi.desired, 4);
  assert.ok(hi.limitedBy.includes('policy'));
});

test('the scale-down delay records stabilization only when it held the count up', () => {
  const p = spec({ targetValue: 10, maxScaleDownRate: 10, panicThreshold: 100, scaleDownDelaySeconds: 60 });
  const st = newScalerState(p, 0, T0);
  const first = scale(p, st, 0, 50, 50, T0);
  assert.equal(first.desired, 5);
  assert.ok(!first.limitedBy.includes('stabilization'), 'equal to the window maximum: not held');
  const held = scale(p, st, 5, 20, 20, T0 + 2000);
  assert.equal(held.desired, 5);
  assert.ok(held.limitedBy.includes('stabilization'));
});

test("int32 as Knative has it: a deficit beyond int32 reads -2147483648 (Go's out-of-range conversion on amd64), as do huge pod counts", () => {
  assert.equal(goInt32(2147483647.9), 2147483647);
  assert.equal(goInt32(-2147483648.5), -2147483648);
  assert.equal(goInt32(2147483648), -2147483648);
  assert.equal(goInt32(-1e12), -2147483648);
  assert.equal(goInt32(-2147483649), -2147483648); // just below the range, not kept
  assert.equal(goInt32(-2147483648.9), -2147483648); // truncates into the range
  assert.equal(goInt32(Number.NaN), -2147483648);
  assert.equal(goInt32(-7.9), -7);
  // 2 ready pods of total 200, a panic average of 1e10: floor(400 − 200 − 1e10) is far below int32
  assert.equal(excessBurstCapacity(spec({ targetBurstCapacity: 200, totalValue: 200 }), 2, 1e10), -2147483648);
  assert.equal(excessBurstCapacity(spec({ targetBurstCapacity: 200, totalValue: 200 }), 2, 1e9), -999999800);
  // a scale-up rate that lets the stable count pass int32: the count is Go's int32 of it
  const r = scale(spec({ maxScaleUpRate: 1e12, targetValue: 1 }), fresh(), 10, 5e10, 5e10, T0);
  assert.equal(r.desiredStable, -2147483648);
});
