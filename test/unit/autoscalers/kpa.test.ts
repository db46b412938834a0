// The KPA autoscaler (src/autoscalers/kpa.ts) on the scriptable port: what it feeds the decider
// (ready pods, spec replicas, the stats taken per tick or poke), Knative's poke rule, the record
// filter, the metric point, config-autoscaler overrides, snapshot/restore and close. No cluster, no
// bundle loading: fast enough for its mutation runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKpaAutoscaler, RECORD_HEARTBEAT_MS, resolveKpaPolicy } from '../../../src/autoscalers/kpa.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import type { KpaDecisionRecord, KpaPolicy, KpaSample } from '../../../src/deciders/kpa/types.ts';
import type { KpaItemPolicy } from '../../../src/manifests/knative.ts';
import { fakePort, NOW, type FakePort } from './helpers.ts';

const kpa = makeKpaPolicy({ name: 's', target: 'Deployment/web', annotations: { target: 10, targetUtilizationPercentage: 100, windowSeconds: 6 } as never });
const item: KpaItemPolicy = { kpa, revision: { name: 's', target: 'Deployment/web', annotations: { target: 10, targetUtilizationPercentage: 100, windowSeconds: 6 } as never }, containerConcurrency: 0, timeoutSeconds: 300 } as KpaItemPolicy;
const spec = (policy: KpaPolicy | KpaItemPolicy = item): AutoscalerSpec => ({ kind: 'kpa', name: 's', target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy });

interface Take { now: number; reason: string | undefined }
function statsPort(over: Partial<FakePort> = {}): FakePort & { takes: Take[]; opened: unknown[]; closed: number } {
  const p = fakePort(over) as FakePort & { takes: Take[]; opened: unknown[]; closed: number };
  p.takes = [];
  p.opened = [];
  p.closed = 0;
  p.openConcurrencyStats = (_ref, opts) => {
    p.opened.push(opts);
    return {
      take: (now: number, reason?: 'tick' | 'poke') => { p.takes.push({ now, reason }); return p.concurrency.splice(0); },
      close: () => { p.closed++; },
    };
  };
  return p;
}
const secs = (from: number, n: number, concurrency: number): KpaSample[] => Array.from({ length: n }, (_, i) => ({ time: from + i * 1000, concurrency, rps: 0 }));
const rec = (r: unknown): KpaDecisionRecord => r as KpaDecisionRecord;

test('resolveKpaPolicy: a resolved policy as is; an item policy as is unless config-autoscaler keys (other than the tick and sample period) are given', () => {
  assert.equal(resolveKpaPolicy(kpa), kpa);
  assert.equal(resolveKpaPolicy(kpa, { 'stable-window': '10s' }), kpa, 'a resolved policy is not re-resolved');
  assert.equal(resolveKpaPolicy(item), kpa);
  assert.equal(resolveKpaPolicy(item, { tickIntervalMs: 500, samplePeriodMs: 100 }), kpa);
  const p = resolveKpaPolicy(item, { tickIntervalMs: 500, 'panic-threshold-percentage': 300 });
  assert.notEqual(p, kpa);
  assert.equal(p.panicThreshold, 3, 'numbers are passed as strings to the config parser');
  assert.equal(p.stableWindowSeconds, 6, "the revision's own annotation still wins");
  assert.equal(p.name, 's');
  // something that only looks like an item policy is not one
  const half = { kpa, stableWindowSeconds: 60, targetValue: 1, panicThreshold: 2 } as unknown as KpaPolicy;
  assert.equal(resolveKpaPolicy(half, { 'stable-window': '10s' }), half);
  const half2 = { revision: item.revision, stableWindowSeconds: 60, targetValue: 1, panicThreshold: 2 } as unknown as KpaPolicy;
  assert.equal(resolveKpaPolicy(half2, { 'stable-window': '10s' }), half2);
  assert.equal(resolveKpaPolicy(null as unknown as KpaPolicy), null);
});

test('the autoscaler: kind, names, a 2 s tick unless tickIntervalMs, poke by message; stats opened with the sample period when set', () => {
  const port = statsPort();
  const a = createKpaAutoscaler(spec(), port, {});
  assert.deepEqual([a.kind, a.name, a.target, a.syncPeriodMs, a.firstSyncDelayMs, a.pokeDelivery], ['kpa', 's', 'web', 2000, 2000, 'message']);
  assert.deepEqual(port.opened, [{}]);
  const b = createKpaAutoscaler(spec(), port, { config: { tickIntervalMs: '500', samplePeriodMs: '250' } });
  assert.deepEqual([b.syncPeriodMs, b.firstSyncDelayMs], [500, 500]);
  assert.deepEqual(port.opened[1], { samplePeriodMs: 250 });
  assert.equal(typeof (port.opened[1] as { samplePeriodMs: unknown }).samplePeriodMs, 'number');
  a.close();
  b.close();
  assert.equal(port.closed, 2);
  // a port without stats: decisions on no samples
  const bare = fakePort();
  delete (bare as { openConcurrencyStats?: unknown }).openConcurrencyStats;
  const c = createKpaAutoscaler(spec(), bare, {});
  const r = rec(c.sync(NOW));
  assert.deepEqual(r.inputs.observation.samples, []);
  c.close();
});

test('sync feeds ready pods, spec replicas and the stats of the tick to the decider; the stable average becomes the metric', () => {
  const port = statsPort({ spec: 3 });
  port.pods = port.pods.slice(0, 1);
  const a = createKpaAutoscaler(spec(), port, {});
  assert.equal(a.metric!(), undefined, 'no decision yet');
  port.concurrency = secs(NOW - 5000, 6, 25);
  const r = rec(a.sync(NOW));
  assert.deepEqual(port.takes, [{ now: NOW, reason: 'tick' }]);
  const obs = r.inputs.observation;
  assert.deepEqual([obs.now, obs.readyPods, obs.currentReplicas, obs.samples.length], [NOW, 1, 3, 6]);
  assert.equal('poke' in obs, false, 'a tick is not a poke');
  assert.equal(r.details.stableAverage, 25);
  assert.equal(r.desiredReplicas, 3, '25 / 10 → 3');
  assert.deepEqual(a.metric!(), { value: 25, target: 10, label: 'stable concurrency vs target x ready pods' });
  // the metric target scales with ready pods, and counts at least one
  port.pods = [];
  port.concurrency = secs(NOW + 1000, 2, 25);
  a.sync(NOW + 2000);
  assert.equal(a.metric!()!.target, 10);
  port.pods = fakePort().pods.concat(fakePort().pods);
  port.concurrency = secs(NOW + 3000, 2, 25);
  a.sync(NOW + 4000);
  assert.equal(a.metric!()!.target, 40);
  a.close();
  assert.equal(a.sync(NOW + 6000), null, 'closed');
});

test('sync with no data (an invalid decision) leaves the metric as it was', () => {
  const port = statsPort();
  const a = createKpaAutoscaler(spec(), port, {});
  const r = rec(a.sync(NOW));
  assert.equal(r.details.stableAverage, null);
  assert.equal(a.metric!(), undefined);
  a.close();
});

test('records: the first decision, then only what says something new, or every 30 s; none without a record sink', () => {
  const port = statsPort();
  port.pods = port.pods.slice(0, 1);
  const a = createKpaAutoscaler(spec(), port, {});
  const feed = (t: number) => { port.concurrency = secs(t - 1000, 2, 10); return rec(a.sync(t)); };
  port.concurrency = secs(NOW - 6000, 5, 10);
  feed(NOW);
  assert.equal(port.records.length, 1);
  feed(NOW + 2000);
  assert.equal(port.records.length, 1, 'same decision: not recorded');
  feed(NOW + RECORD_HEARTBEAT_MS - 2000);
  assert.equal(port.records.length, 1);
  feed(NOW + RECORD_HEARTBEAT_MS);
  assert.equal(port.records.length, 2, 'heartbeat');
  // a change of the decider's wish is new
  port.concurrency = secs(NOW + RECORD_HEARTBEAT_MS + 1000, 2, 50);
  a.sync(NOW + RECORD_HEARTBEAT_MS + 2000);
  assert.equal(port.records.length, 3);
  assert.equal(RECORD_HEARTBEAT_MS, 30_000);
  a.close();
  const silent = statsPort();
  delete (silent as { record?: unknown }).record;
  const b = createKpaAutoscaler(spec(), silent, {});
  silent.concurrency = secs(NOW - 1000, 2, 20);
  b.sync(NOW);
  assert.equal(silent.records.length, 0);
  b.close();
});

test('poke: decides at once (poke samples) only while the revision is or is being scaled to zero', () => {
  const port = statsPort({ spec: 0 });
  port.pods = [];
  const a = createKpaAutoscaler(spec(), port, {});
  port.concurrency = [{ time: NOW, concurrency: 1, rps: 1 }];
  a.poke!(NOW);
  assert.deepEqual(port.takes, [{ now: NOW, reason: 'poke' }]);
  assert.deepEqual(port.scaled, [1]);
  const r = port.records[0] as KpaDecisionRecord;
  assert.equal(r.inputs.observation.poke, true);
  // the decider wants 1 and the spec is 1: no decision on a poke
  a.poke!(NOW + 100);
  assert.equal(port.takes.length, 1);
  // the spec went back to 0 (someone scaled it down): decide again
  port.spec = 0;
  a.poke!(NOW + 200);
  assert.equal(port.takes.length, 2);
  // a pending getScale answer counts as unknown: no poke decision while the decider wants > 0
  const async = statsPort({ spec: 0 });
  async.pods = [];
  const b = createKpaAutoscaler(spec(), async, {});
  async.concurrency = [{ time: NOW, concurrency: 1, rps: 1 }];
  b.poke!(NOW); // state null: decides (asynchronously below)
  assert.equal(async.takes.length, 1);
  async.async = true;
  b.poke!(NOW + 100);
  assert.equal(async.takes.length, 1, 'decider wants 1, spec unknown now');
  b.close();
  b.poke!(NOW + 200);
  assert.equal(async.takes.length, 1, 'closed');
  a.close();
});

test('poke with a decider that wants 0 (or has no wish yet) decides even with replicas', () => {
  const port = statsPort({ spec: 2 });
  const a = createKpaAutoscaler(spec(), port, {});
  a.poke!(NOW);
  assert.equal(port.takes.length, 1, 'no state yet');
  const snap = JSON.parse(JSON.stringify(a.snapshot())) as { state: { deciderDesired: number } };
  snap.state.deciderDesired = 0;
  const b = createKpaAutoscaler(spec(), port, {});
  b.restore(snap as never);
  b.poke!(NOW + 100);
  assert.equal(port.takes.length, 2, 'wants 0');
  snap.state.deciderDesired = 1;
  const c = createKpaAutoscaler(spec(), port, {});
  c.restore(snap as never);
  c.poke!(NOW + 200);
  assert.equal(port.takes.length, 2, 'wants 1 with 2 replicas: nothing');
  for (const x of [a, b, c]) x.close();
});

test('status: the stable (or panic) average against the target; unknown before data', () => {
  const port = statsPort();
  port.pods = port.pods.slice(0, 1);
  const a = createKpaAutoscaler(spec(), port, {});
  assert.equal(a.status().targets, '<unknown>/10 concurrency');
  assert.equal(a.status().metricSpecs[0]!.name, 'concurrency (revision total; stable 6s, panic 1s)');
  port.concurrency = secs(NOW - 5000, 6, 10);
  a.sync(NOW);
  assert.equal(a.status().targets, '10/10 concurrency');
  port.concurrency = secs(NOW + 1000, 2, 100);
  a.sync(NOW + 2000);
  assert.match(a.status().targets, /^100 \(panic\)\/10 concurrency$/);
  assert.deepEqual([a.status().minReplicas, a.status().maxReplicas], [kpa.minScale, kpa.maxScale]);
  a.close();
});

test('snapshot/restore carries the decider state and the record filter', () => {
  const port = statsPort();
  const a = createKpaAutoscaler(spec(), port, {});
  port.concurrency = secs(NOW - 5000, 6, 20);
  a.sync(NOW);
  assert.equal(port.records.length, 1);
  const snap = JSON.parse(JSON.stringify(a.snapshot()));
  const b = createKpaAutoscaler(spec(), port, {});
  b.restore(snap);
  assert.deepEqual(b.snapshot().state, a.snapshot().state);
  port.concurrency = secs(NOW + 1000, 2, 20);
  b.sync(NOW + 2000);
  assert.equal(port.records.length, 1, 'the restored filter knows the last record');
  a.close();
  b.close();
});

test('poke: nothing after close; a failing pending getScale is ignored (no unhandled rejection)', async () => {
  const port = statsPort({ spec: 0 });
  const a = createKpaAutoscaler(spec(), port, {});
  a.close();
  a.poke!(NOW);
  assert.equal(port.takes.length, 0);
  // a decider that wants 1, and a /scale read that fails later
  const seed = createKpaAutoscaler(spec(), statsPort(), {});
  seed.poke!(NOW);
  const snap = JSON.parse(JSON.stringify(seed.snapshot())) as { state: { deciderDesired: number } };
  snap.state.deciderDesired = 1;
  const failing = statsPort();
  failing.getScale = () => Promise.reject(new Error('apiserver down'));
  const b = createKpaAutoscaler(spec(), failing, {});
  b.restore(snap as never);
  const seen: unknown[] = [];
  const onRejection = (e: unknown) => { seen.push(e); };
  process.on('unhandledRejection', onRejection);
  try {
    b.poke!(NOW + 100);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(seen, []);
  assert.equal(failing.takes.length, 0);
  seed.close();
  b.close();
});

test('status shows the stable average when not panicking, the panic average when panicking', () => {
  const port = statsPort();
  port.pods = port.pods.slice(0, 1);
  const a = createKpaAutoscaler(spec(), port, {});
  port.concurrency = [...secs(NOW - 5000, 5, 12), { time: NOW, concurrency: 6, rps: 0 }];
  const r = rec(a.sync(NOW));
  assert.equal(r.details.panicking, false);
  assert.deepEqual([r.details.stableAverage, r.details.panicAverage], [11, 6]);
  assert.equal(a.status().targets, '11/10 concurrency');
  a.close();
});

test('no decider data (−1) on an Active or Inactive PA: the autoscaler writes nothing, though min-scale 2 is above the 1 replica', () => {
  const p = makeKpaPolicy({ name: 's', target: 'Deployment/web', annotations: { target: 10, targetUtilizationPercentage: 100, windowSeconds: 6, minScale: 2 } as never });
  for (const status of ['True', 'False'] as const) {
    const port = statsPort({ spec: 1, pods: fakePort().pods.slice(0, 1) });
    // a first round gives a real decider state; then the PA is made Active (or Inactive) with no wish
    const first = createKpaAutoscaler(spec(p), port, {});
    first.sync(NOW - 10_000);
    const snap = JSON.parse(JSON.stringify(first.snapshot())) as { state: Record<string, unknown> };
    first.close();
    port.scaled.length = 0;
    port.spec = 1;
    snap.state = { ...snap.state, deciderDesired: -1, scaleTargetInitialized: true, active: { status, reason: status === 'True' ? 'Active' : 'NoTraffic', since: NOW - 600_000 } };
    const a = createKpaAutoscaler(spec(p), port, {});
    a.restore(snap as never);
    const r = rec(a.sync(NOW));
    assert.equal(r.details.valid, false, 'no samples: no data');
    assert.equal(r.details.want, -1);
    assert.deepEqual(port.scaled, [], `Active=${status}: /scale is not written`);
    a.close();
  }
});
