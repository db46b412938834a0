// The condition list one decision builds (src/deciders/hpa/conditions.ts): upstream's setCondition
// keeps a condition's place and its lastTransitionTime unless the status changes; removeCondition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionSet } from '../../../src/deciders/hpa/conditions.ts';

const before = [
  { type: 'AbleToScale', status: 'True' as const, reason: 'a', message: 'm1', lastTransitionTime: '2026-01-01T10:00:00Z' },
  { type: 'ScaledToZero', status: 'False' as const, reason: 'b', message: 'm2', lastTransitionTime: '2026-01-01T10:00:00Z' },
];

test('set: a changed status is written with a new transition time; an unchanged one keeps its time; reason and message follow', () => {
  const s = new ConditionSet(before, '2026-01-01T12:00:00Z');
  s.set('ScaledToZero', 'True', 'ScaledToZero', 'now zero');
  s.set('AbleToScale', 'True', 'ReadyForNewScale', 'ready');
  assert.deepEqual(s.list, [
    { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'ready', lastTransitionTime: '2026-01-01T10:00:00Z' },
    { type: 'ScaledToZero', status: 'True', reason: 'ScaledToZero', message: 'now zero', lastTransitionTime: '2026-01-01T12:00:00Z' },
  ]);
  s.set('ScalingActive', 'False', 'x', 'y');
  assert.equal(s.list[2].type, 'ScalingActive');
  assert.equal(before[1].status, 'False'); // the previous list is not modified
});

test('remove drops the type wherever it is, the last one included; get finds a type or nothing', () => {
  const s = new ConditionSet(before, '2026-01-01T12:00:00Z');
  assert.equal(s.get('ScaledToZero')?.reason, 'b');
  assert.equal(s.get('AbleToScale')?.reason, 'a');
  assert.equal(s.get('ScalingLimited'), undefined);
  s.remove('ScaledToZero');
  assert.deepEqual(s.list.map((c) => c.type), ['AbleToScale']);
  s.remove('AbleToScale');
  assert.deepEqual(s.list, []);
  // a type in front keeps the ones after it
  const t = new ConditionSet(before, '2026-01-01T12:00:00Z');
  t.remove('AbleToScale');
  assert.deepEqual(t.list.map((c) => c.type), ['ScaledToZero']);
});
