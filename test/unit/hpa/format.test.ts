// kubectl-style formatting and exact integer math.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHpaTargets, formatMilli, formatSelector } from '../../../src/deciders/hpa/format.ts';
import { mulDiv, truncDiv } from '../../../src/deciders/hpa/int-math.ts';
import { getPlainMetricReplicas, getResourceReplicas } from '../../../src/deciders/hpa/replica-calculator.ts';
import { S, T0, pods, sample } from './helpers.ts';

test('formatMilli prints canonical DecimalSI quantities', () => {
  assert.equal(formatMilli(0), '0');
  assert.equal(formatMilli(120), '120m');
  assert.equal(formatMilli(1500), '1500m');
  assert.equal(formatMilli(2000), '2');
  assert.equal(formatMilli(3_000_000), '3k');
  assert.equal(formatMilli(2_500_000), '2500');
  assert.equal(formatMilli(7_000_000_000_000), '7G');
  assert.equal(formatMilli(-4000), '-4');
});

test('formatSelector follows the generated String() of LabelSelector', () => {
  assert.equal(formatSelector(undefined), 'nil');
  assert.equal(
    formatSelector({ matchLabels: { queue: 'jobs', app: 'x' } }),
    '&LabelSelector{MatchLabels:map[string]string{app: x,queue: jobs,},MatchExpressions:[]LabelSelectorRequirement{},}',
  );
  assert.equal(
    formatSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }),
    '&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[a b],},},}',
  );
});

test('formatHpaTargets: kubectl TARGETS column', () => {
  const p = (current: string, target: string) => ({ metric: 'm', current, target, proposedReplicas: null });
  assert.equal(formatHpaTargets({ proposals: [] }), '<none>');
  assert.equal(formatHpaTargets({ proposals: [p('23%', '50%'), p('120m', '500m')] }), '23%/50%, 120m/500m');
  assert.equal(formatHpaTargets({ proposals: [p('1', '2'), p('3', '4'), p('5', '6 (avg)')] }), '1/2, 3/4 + 1 more...');
  assert.equal(formatHpaTargets({ proposals: [p('1', '2'), p('3', '4'), p('5', '6 (avg)')] }, true), '1/2, 3/4, 5/6 (avg)');
});

test('integer division truncates toward zero and stays exact past 2^53', () => {
  assert.equal(truncDiv(7, 2), 3);
  assert.equal(truncDiv(-7, 2), -3);
  assert.equal(truncDiv(2 ** 53 - 1, 3), 3002399751580330);
  assert.equal(mulDiv(9_000_000_000_000_000, 100, 3), Number((9_000_000_000_000_000n * 100n) / 3n));
});

test('memory utilization with large milli-byte values', () => {
  // 10 pods × 64Gi request, 80% used: the milli totals exceed 2^53 once multiplied by 100
  const gi = 1024 ** 3 * 1000;
  const list = pods(10, { requests: { memory: 64 * gi } });
  const env = { now: T0, pods: list, cpuInitializationPeriodMs: 300 * S, delayOfInitialReadinessStatusMs: 30 * S, tolerances: { scaleUp: 0.1, scaleDown: 0.1 } };
  const r = getResourceReplicas(env, 10, 50, 'memory', undefined, list.map((p) => sample(p.name, Math.round(0.8 * 64 * gi))));
  assert.equal(r.ok && r.utilization, 80);
  assert.equal(r.ok && r.replicas, 16);
});

test('superfluous samples: ignored by utilization (no request), averaged by plain metrics', () => {
  const list = pods(4);
  const env = { now: T0, pods: list, cpuInitializationPeriodMs: 300 * S, delayOfInitialReadinessStatusMs: 30 * S, tolerances: { scaleUp: 0.1, scaleDown: 0.1 } };
  const extra = [sample('p0', 4000), sample('p1', 9000), sample('p2', 3000), sample('p3', 7000), sample('ghost-a', 3000), sample('ghost-b', 2000)];
  const r = getResourceReplicas(env, 4, 100, 'cpu', undefined, extra);
  assert.equal(r.ok && r.utilization, 575); // 23000m of 4000m
  assert.equal(r.ok && r.replicas, 23);
  const q = getPlainMetricReplicas(env, 4, 1000, '', [sample('p0', 1000), sample('p1', 1000), sample('p2', 1000), sample('p3', 1000), sample('ghost', 6000)]);
  assert.equal(q.ok && q.usage, 2000); // the unknown pod's value is part of the average, as upstream
  assert.equal(q.ok && q.replicas, 8);
});

test('isoTime equals Date.toISOString', async () => {
  const { isoTime } = await import('../../../src/deciders/hpa/format.ts');
  const fc = (await import('fast-check')).default;
  fc.assert(fc.property(fc.integer({ min: 0, max: 253402300799999 }), (ms) => isoTime(ms) === new Date(ms).toISOString()), { numRuns: 2000 });
  for (const ms of [0, 951782400000, 951868800000, 4107542399999, 253402300799999, -1, 1.5]) assert.equal(isoTime(ms), new Date(ms).toISOString());
});
