// The plumbing every autoscaler kind shares (src/autoscalers/common.ts): sync-or-async helpers, the
// sync guard, actuation and its failure event, record-after-actuate, status counts, snapshot checks,
// the record filter of the fast tickers and kubectl's TARGETS column.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  activePods, all, Core, fmtNum, isPromise, kubectlTargets, peek, RecordFilter, referenceOf, refOf, SyncGuard, then,
} from '../../../src/autoscalers/common.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import type { DecisionRecord } from '../../../src/core/decision.ts';
import { fakePort, NOW, pod } from './helpers.ts';

const spec: AutoscalerSpec = { kind: 'hpa', name: 'web', target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy: {} };
const rec = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  decider: 'hpa', autoscaler: 'web', target: 'Deployment/web', time: '', now: NOW, currentReplicas: 2, desiredReplicas: 3, rescale: true,
  drivingMetric: 0, proposals: [], limitedBy: ['none'], explanation: 'why', conditions: [], events: [], inputs: {}, details: {}, ...over,
} as DecisionRecord);

test('then / all / peek: synchronous values stay synchronous, promises stay promises', async () => {
  assert.equal(then(2, (x) => x * 3), 6);
  const p = then(Promise.resolve(2), (x) => x * 3);
  assert.ok(isPromise(p));
  assert.equal(await p, 6);
  assert.deepEqual(all([1, 2]), [1, 2]);
  const q = all([1, Promise.resolve(2)]);
  assert.ok(isPromise(q));
  assert.deepEqual(await q, [1, 2]);
  assert.equal(peek(5), 5);
  assert.equal(peek(Promise.reject(new Error('x'))), undefined, 'a pending answer, its rejection swallowed');
  assert.equal(isPromise(null as unknown as number), false);
  assert.equal(isPromise({ then: 1 } as unknown as number), false);
});

test('sync guard: no second run while an async one is in flight; freed after it settles or throws', async () => {
  const g = new SyncGuard();
  let release!: () => void;
  const first = g.run(() => new Promise<string>((r) => { release = () => r('a'); }));
  assert.ok(isPromise(first));
  assert.equal(g.run(() => 'b'), null);
  release();
  assert.equal(await first, 'a');
  assert.equal(g.run(() => 'c'), 'c', 'free again; synchronous runs free at once');
  assert.equal(g.run(() => 'd'), 'd');
  assert.throws(() => g.run(() => { throw new Error('boom'); }), /boom/);
  assert.equal(g.run(() => 'e'), 'e', 'a throwing body frees the guard');
});

test('refOf carries namespace, annotations and source only when given; referenceOf and activePods', () => {
  assert.deepEqual(refOf(spec), { kind: 'hpa', name: 'web', target: spec.target });
  const full = refOf({ ...spec, namespace: 'ns', annotations: { a: 'b' }, source: { file: 'f.yaml', line: 3 } });
  assert.equal(full.namespace, 'ns');
  assert.deepEqual(full.annotations, { a: 'b' });
  assert.deepEqual(full.source, { file: 'f.yaml', line: 3 });
  assert.equal(referenceOf(spec), 'Deployment/web');
  assert.deepEqual(activePods([pod('a'), pod('b', { deletionTimestamp: NOW })]).map((p) => p.name), ['a']);
});

test('actuation: only a rescale, never in dry-run; a failed write (thrown or rejected) is a FailedRescale event', async () => {
  const port = fakePort();
  const core = new Core(spec, port, false);
  core.actuate(rec({ rescale: false }), NOW);
  assert.deepEqual(port.scaled, []);
  assert.equal(core.lastScaleTime, undefined);
  core.actuate(rec(), NOW);
  assert.deepEqual(port.scaled, [3]);
  assert.equal(core.lastScaleTime, NOW);
  const dry = new Core(spec, port, true);
  dry.actuate(rec(), NOW);
  assert.deepEqual(port.scaled, [3]);
  const rejecting = fakePort({ failScale: 'forbidden' });
  await new Core(spec, rejecting, false).actuate(rec(), NOW);
  assert.equal(rejecting.events[0]?.reason, 'FailedRescale');
  assert.match(rejecting.events[0]!.message, /New size: 3; reason: why; error: forbidden/);
  const throwing = fakePort();
  throwing.setScale = () => { throw new Error('no scale subresource'); };
  assert.equal(new Core(spec, throwing, false).actuate(rec(), NOW), undefined);
  assert.equal(throwing.events[0]?.type, 'Warning');
});

test('finish: remembers, actuates, then records (after an async write completes); recording can be skipped', async () => {
  const port = fakePort({ async: true });
  const order: string[] = [];
  port.setScale = () => new Promise<void>((r) => setImmediate(() => { order.push('scaled'); r(); }));
  port.record = () => { order.push('recorded'); };
  const core = new Core(spec, port, false);
  const out = core.finish(rec(), NOW);
  assert.ok(isPromise(out));
  assert.equal(core.last?.desiredReplicas, 3);
  await out;
  assert.deepEqual(order, ['scaled', 'recorded']);
  const p2 = fakePort();
  const c2 = new Core(spec, p2, false);
  assert.equal((c2.finish(rec({ rescale: false }), NOW, false) as DecisionRecord).desiredReplicas, 3);
  assert.equal(p2.records.length, 0);
  c2.finish(rec({ rescale: false }), NOW);
  assert.equal(p2.records.length, 1);
});

test('status counts: from the port when it answers at once (terminating pods not counted), else from the last decision', () => {
  const port = fakePort({ spec: 5, pods: [pod('a'), pod('b'), pod('c', { deletionTimestamp: NOW })] });
  const core = new Core({ ...spec, createdAt: NOW - 5 }, port, false);
  assert.deepEqual(core.counts(), { current: 2, spec: 5 });
  const st = core.status({ kind: 'hpa', name: 'web', reference: 'Deployment/web', targets: '', minReplicas: 1, maxReplicas: 3, metricSpecs: [] });
  assert.equal(st.created, NOW - 5);
  assert.equal(st.desiredReplicas, 5, 'no decision yet: spec');
  assert.equal(st.lastScaleTime, undefined);
  assert.equal('lastDecision' in st, false);
  const asyncPort = fakePort({ async: true });
  const a = new Core(spec, asyncPort, true);
  assert.equal(a.created, NOW, 'no creation time: now');
  assert.deepEqual(a.counts(), { current: 0, spec: 0 });
  a.last = rec({ currentReplicas: 4, desiredReplicas: 6 });
  assert.deepEqual(a.counts(), { current: 4, spec: 6 });
  const s2 = a.status({ kind: 'hpa', name: 'web', reference: 'Deployment/web', targets: '', minReplicas: 1, maxReplicas: 3, metricSpecs: [], lastScaleTime: 7 });
  assert.equal(s2.lastScaleTime, 7);
  assert.equal(s2.desiredReplicas, 6);
  assert.equal(s2.dryRun, true);
  assert.ok(s2.lastDecision);
});

test('snapshot/restore: version, kind and name are checked; lastScaleTime comes back; states are private copies', () => {
  const port = fakePort();
  const core = new Core(spec, port, false);
  const state = { n: 1 };
  const snap = core.snapshot('hpa', state, { x: 1 });
  state.n = 2;
  assert.deepEqual(snap.state, { n: 1 });
  assert.equal(snap.v, 1);
  assert.equal(snap.at, NOW);
  assert.deepEqual(snap.extra, { x: 1 });
  assert.equal('lastScaleTime' in snap, false);
  core.lastScaleTime = 9;
  const other = new Core(spec, port, false);
  const s2 = core.snapshot('hpa', state);
  assert.equal('extra' in s2, false);
  const restored = other.restore<{ n: number }>('hpa', s2);
  assert.equal(other.lastScaleTime, 9);
  restored.n = 99;
  assert.deepEqual(s2.state, { n: 2 });
  assert.throws(() => other.restore('hpa', { ...s2, v: 2 } as never), /unsupported snapshot version 2/);
  assert.throws(() => other.restore('kpa', s2), /belongs to hpa\/web/);
  assert.throws(() => other.restore('hpa', { ...s2, name: 'api' }), /belongs to hpa\/api/);
  assert.throws(() => other.restore('hpa', null as never), /unsupported snapshot version/);
});

test('record filter: a rescale, an event, a new key or a heartbeat is recorded; the same quiet tick is not', () => {
  const f = new RecordFilter(10_000);
  const quiet = rec({ rescale: false });
  assert.equal(f.wants(quiet, NOW, () => 'k'), true, 'first');
  assert.equal(f.wants(quiet, NOW + 2000, () => 'k'), false);
  assert.equal(f.wants(rec(), NOW + 4000, () => 'k'), true, 'rescale');
  assert.equal(f.wants(rec({ rescale: false, events: [{ type: 'Normal', reason: 'x', message: '' }] }), NOW + 6000, () => 'k'), true, 'event');
  assert.equal(f.wants(quiet, NOW + 8000, () => 'k2'), true, 'new key');
  assert.equal(f.wants(quiet, NOW + 17_999, () => 'k2'), false);
  assert.equal(f.wants(quiet, NOW + 18_000, () => 'k2'), true, 'heartbeat after exactly heartbeatMs');
  assert.deepEqual(f.toJSON(), { lastKey: 'k2', lastAt: NOW + 18_000 });
  assert.deepEqual(new RecordFilter(1).toJSON(), { lastKey: '', lastAt: null });
  const g = new RecordFilter(10_000);
  g.load({ lastKey: 'k2', lastAt: NOW });
  assert.equal(g.wants(quiet, NOW + 1000, () => 'k2'), false, 'loaded');
  g.load(undefined);
  g.load({ lastKey: 3, lastAt: 'x' });
  assert.deepEqual(g.toJSON(), { lastKey: 'k2', lastAt: NOW });
});

test('kubectl TARGETS: cur/target per metric, <unknown> before a decision, two shown then "+ N more..."', () => {
  const m = (c: string, t: string) => ({ metric: 'm', current: c, target: t, proposedReplicas: null });
  assert.equal(kubectlTargets([m('1', '2')], []), '1/2');
  assert.equal(kubectlTargets([m('1', '2'), m('3', '4')], []), '1/2, 3/4');
  assert.equal(kubectlTargets([m('1', '2'), m('3', '4'), m('5', '6')], []), '1/2, 3/4 + 1 more...');
  assert.equal(kubectlTargets([], [{ target: '50%' }]), '<unknown>/50%');
  assert.equal(kubectlTargets([], []), '<none>');
  assert.equal(fmtNum(3), '3');
  assert.equal(fmtNum(2.5), '2.5');
  assert.equal(fmtNum(2.004), '2');
  assert.equal(fmtNum(1.255), '1.25');
});
