import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tideCell, tideSection, tideSummary } from '../../../src/cli/cluster/tide-info.ts';
import { humanDuration, tabwrite, DESCRIBE_TABLE } from '../../../src/views/kubectl/index.ts';
import type { Event, HorizontalPodAutoscaler } from '../../../src/views/kubectl/index.ts';

const hpa = (desired: number, annotations?: Record<string, string>, conditions = true): HorizontalPodAutoscaler => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'app', namespace: 'ns', uid: 'u1', ...(annotations ? { annotations } : {}) },
  spec: { scaleTargetRef: { kind: 'Deployment', name: 'app' }, maxReplicas: 10 },
  status: { currentReplicas: 2, desiredReplicas: desired, ...(conditions ? { conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }] } : {}) },
});
const ev = (reason: string, message: string, at: string, component = 'tide-controller'): Event => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name: `e-${at}`, namespace: 'ns' },
  involvedObject: { kind: 'HorizontalPodAutoscaler', name: 'app', namespace: 'ns' },
  reason, message, type: 'Normal', count: 1, firstTimestamp: at, lastTimestamp: at, source: { component },
});

test('shadow: the newest recommendation, compared with upstream\'s current desiredReplicas', () => {
  const events = [
    ev('TideRecommendation', 'Tide (shadow) recommends 3 replicas; upstream desired 2: cpu 80% of 50%', '2026-12-01T10:00:00Z'),
    ev('TideRecommendation', 'Tide (shadow) recommends 4 replicas; upstream desired 3: cpu 90% of 50%', '2026-12-01T10:01:00Z'),
    ev('SuccessfulRescale', 'New size: 4; reason: cpu resource utilization (percentage of request) above target', '2026-12-01T10:01:30Z', 'horizontal-pod-autoscaler'),
  ];
  const s = tideSummary(hpa(4), events);
  assert.equal(s.mode, 'shadow');
  assert.equal(s.recommended, 4);
  assert.equal(s.agrees, true);
  assert.equal(tideCell(s), '4 (agrees)');
  assert.equal(tideCell(tideSummary(hpa(5), events)), '4 (upstream 5)');
  const text = tabwrite(tideSection(s, Date.parse('2026-12-01T10:03:00Z'), humanDuration), DESCRIBE_TABLE);
  assert.match(text, /^Tide:\n  Mode: +shadow\n  Recommendation: +4 replicas\n  Upstream: +4 desired \(agrees\)\n  Last decision: +TideRecommendation \(2m ago\)\n  Explanation: +Tide \(shadow\) recommends 4/);
});

test('active: Tide\'s own SuccessfulRescale; no upstream comparison', () => {
  const s = tideSummary(hpa(4), [ev('SuccessfulRescale', 'New size: 4; reason: cpu resource utilization (percentage of request) above target', '2026-12-01T10:00:00Z')]);
  assert.deepEqual([s.mode, s.recommended, s.agrees], ['active', 4, undefined]);
  assert.equal(tideCell(s), '4 (active)');
});

test('no Tide events: <none>; the annotation alone gives the mode', () => {
  assert.equal(tideCell(tideSummary(hpa(2), [ev('SuccessfulRescale', 'New size: 2; reason: x', '2026-12-01T10:00:00Z', 'horizontal-pod-autoscaler')])), '<none>');
  assert.equal(tideCell(tideSummary(hpa(2, { 'tide.dev/mode': 'active' }), [])), 'active');
  assert.match(tideSection(tideSummary(hpa(2), []), 0, humanDuration), /no decision yet/);
});

test('shadow before upstream has written a status: no agreement claimed', () => {
  const s = tideSummary(hpa(0, undefined, false), [ev('TideRecommendation', 'Tide (shadow) recommends 2 replicas: cpu 80% of 50%', '2026-12-01T10:00:00Z')]);
  assert.equal(tideCell(s), '2 (shadow)');
});
