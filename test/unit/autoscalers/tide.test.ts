// The tide autoscaler (src/autoscalers/tide.ts: Tide's predictive policy as an autoscaler) on the
// scriptable port: what it feeds the policy (spec and ready replicas, the demand taken per tick),
// the metric point, the record filter, the activator poke (0 → max(1, min) inline), status,
// snapshot/restore and close. No timers and no runtime: fast enough for its mutation runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTideAutoscaler, TIDE_RECORD_HEARTBEAT_MS, TIDE_TICK_MS } from '../../../src/autoscalers/tide.ts';
import type { AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { defaultPredictivePolicy, type DemandSample, type PredictivePolicy, type PredictiveRecord } from '../../../src/policies/predictive.ts';
import { fakePort, NOW, type FakePort } from './helpers.ts';

const policy = (over: Partial<PredictivePolicy> = {}): PredictivePolicy =>
  defaultPredictivePolicy({ name: 'web', minReplicas: 1, maxReplicas: 9, slotsPerReplica: 2, targetUtilization: 0.8, coldStartMs: 3000, scaleDownWindowMs: 5000, seasonMs: 0, ...over });
const spec = (p: PredictivePolicy = policy()): AutoscalerSpec => ({ kind: 'tide', name: 'web', target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy: p });

type TP = FakePort & { takes: number[]; closed: number; queuedNow: number; inFlightNow: number; opened: unknown[] };
function demandPort(over: Partial<FakePort> = {}): TP {
  const p = fakePort(over) as TP;
  p.takes = [];
  p.closed = 0;
  p.queuedNow = 0;
  p.inFlightNow = 0;
  p.opened = [];
  p.openDemandStats = (_ref, opts) => (p.opened.push(opts), {
    take: (now: number) => { p.takes.push(now); return { samples: p.demand.splice(0), queued: p.queuedNow, inFlight: p.inFlightNow }; },
    close: () => { p.closed++; },
  });
  return p;
}
/** n seconds ending before `end`: `rps` arrivals of `ms` each (busy slot-ms = rps x ms). */
const load = (end: number, n: number, rps: number, ms: number): DemandSample[] =>
  Array.from({ length: n }, (_, i) => ({ t: end - (n - i) * 1000, arrivals: rps, busyMs: rps * ms, queuedMs: 0, started: rps, startedServiceMs: rps * ms }));
const rec = (r: unknown): PredictiveRecord => r as PredictiveRecord;

test('the autoscaler: kind, names, a 2 s tick unless tickIntervalMs, the poke inline', () => {
  const port = demandPort();
  const a = createTideAutoscaler(spec(), port, {});
  assert.deepEqual([a.kind, a.name, a.target, a.syncPeriodMs, a.firstSyncDelayMs, a.pokeDelivery], ['tide', 'web', 'web', TIDE_TICK_MS, TIDE_TICK_MS, 'inline']);
  assert.equal(TIDE_TICK_MS, 2000);
  const b = createTideAutoscaler(spec(), port, { config: { tickIntervalMs: '500' } });
  assert.deepEqual([b.syncPeriodMs, b.firstSyncDelayMs], [500, 500]);
  // the shell is told the policy's SLO (it reports who missed it only by waiting): none here
  assert.deepEqual(port.opened, [{ sloMs: undefined }, { sloMs: undefined }]);
  createTideAutoscaler(spec(policy({ sloLatencyMs: 750 })), port, {}).close();
  assert.deepEqual(port.opened[2], { sloMs: 750 });
  a.close();
  b.close();
  assert.equal(port.closed, 3);
  assert.equal(a.sync(NOW), null, 'closed');
});

test('sync feeds spec and ready replicas and the demand taken now; 30 req/s x 200 ms = 6 busy slots → ceil(6 / 1.6) = 4', () => {
  const port = demandPort({ spec: 3 });
  port.pods = port.pods.slice(0, 1);
  const a = createTideAutoscaler(spec(), port, {});
  assert.equal(a.metric!(), undefined);
  port.demand = load(NOW, 10, 30, 200);
  port.queuedNow = 2;
  port.inFlightNow = 5;
  const r = rec(a.sync(NOW));
  assert.deepEqual(port.takes, [NOW]);
  const obs = r.inputs.observation;
  assert.deepEqual([obs.now, obs.currentReplicas, obs.readyReplicas, obs.samples.length, obs.queued, obs.inFlight], [NOW, 3, 1, 10, 2, 5]);
  assert.equal(r.desiredReplicas >= 4, true);
  assert.deepEqual(a.metric!(), { value: r.details.forecast, target: 2 * 3, label: 'forecast busy slots vs capacity' });
  a.close();
  // at zero replicas the metric target still counts one replica
  const z = demandPort({ spec: 0 });
  const b = createTideAutoscaler(spec(), z, {});
  b.sync(NOW);
  assert.equal(b.metric!()!.target, 2);
  b.close();
  // a port without demand stats: no samples
  const bare = fakePort();
  delete (bare as { openDemandStats?: unknown }).openDemandStats;
  const c = createTideAutoscaler(spec(), bare, {});
  const rc = rec(c.sync(NOW));
  assert.deepEqual([rc.inputs.observation.samples, rc.inputs.observation.queued, rc.inputs.observation.inFlight], [[], 0, 0]);
  c.close();
});

test('state carries from tick to tick (the service time learned stays), and it scales', () => {
  const port = demandPort({ spec: 1 });
  port.pods = port.pods.slice(0, 1);
  const a = createTideAutoscaler(spec(), port, {});
  port.demand = load(NOW, 10, 30, 200);
  a.sync(NOW);
  assert.equal(port.scaled.at(-1), 4);
  port.demand = load(NOW + 2000, 2, 30, 200);
  const r = rec(a.sync(NOW + 2000));
  assert.equal(Math.round(r.details.serviceMs), 200);
  assert.equal(r.inputs.state.serviceMs > 0, true, 'the previous state was given to the policy');
  a.close();
});

test('records: the first decision, then only what says something new, or every 30 s; none without a sink', () => {
  const port = demandPort({ spec: 1 });
  port.pods = port.pods.slice(0, 1);
  const a = createTideAutoscaler(spec(), port, {});
  a.sync(NOW);
  assert.equal(port.records.length, 1);
  a.sync(NOW + 2000);
  assert.equal(port.records.length, 1, 'nothing new');
  a.sync(NOW + 6000); // past the scale-down window: held by min now, not by the window
  assert.equal(port.records.length, 2, 'limitedBy changed');
  a.sync(NOW + 8000);
  a.sync(NOW + 6000 + TIDE_RECORD_HEARTBEAT_MS - 2000);
  assert.equal(port.records.length, 2);
  a.sync(NOW + 6000 + TIDE_RECORD_HEARTBEAT_MS);
  assert.equal(port.records.length, 3, 'heartbeat');
  assert.equal(TIDE_RECORD_HEARTBEAT_MS, 30_000);
  port.demand = load(NOW + TIDE_RECORD_HEARTBEAT_MS + 8000, 2, 30, 200);
  a.sync(NOW + TIDE_RECORD_HEARTBEAT_MS + 8000);
  assert.equal(port.records.length, 4, 'a new requirement');
  a.close();
  const silent = demandPort();
  delete (silent as { record?: unknown }).record;
  const b = createTideAutoscaler(spec(), silent, {});
  b.sync(NOW);
  assert.equal(silent.records.length, 0);
  b.close();
});

test('poke: at zero replicas scale to max(1, min) at once with an event; nothing with replicas, unknown scale, max 0, after close', () => {
  for (const [min, want] of [[0, 1], [1, 1], [3, 3]] as const) {
    const port = demandPort({ spec: 0 });
    const a = createTideAutoscaler(spec(policy({ minReplicas: min })), port, {});
    a.poke!(NOW);
    assert.deepEqual(port.scaled, [want], `min ${min}`);
    assert.equal(port.events.length, 1);
    assert.equal(port.events[0]!.reason, 'SuccessfulRescale');
    assert.equal(port.events[0]!.type, 'Normal');
    assert.match(port.events[0]!.message, new RegExp(`^New size: ${want}; reason: a request arrived with no replica \\(activator\\)$`));
    a.poke!(NOW + 10);
    assert.deepEqual(port.scaled, [want], 'scaled already');
    a.close();
  }
  const warm = demandPort({ spec: 2 });
  createTideAutoscaler(spec(), warm, {}).poke!(NOW);
  assert.deepEqual([warm.scaled, warm.events], [[], []]);
  const pending = demandPort({ spec: 0, async: true });
  createTideAutoscaler(spec(), pending, {}).poke!(NOW);
  assert.deepEqual([pending.scaled, pending.events], [[], []], 'a pending /scale answer: no poke');
  const one = demandPort({ spec: 0 });
  createTideAutoscaler(spec(policy({ minReplicas: 0, maxReplicas: 1 })), one, {}).poke!(NOW);
  assert.deepEqual(one.scaled, [1], 'max 1: to 1');
  const none = demandPort({ spec: 0 });
  createTideAutoscaler(spec(policy({ minReplicas: 0, maxReplicas: 0 })), none, {}).poke!(NOW);
  assert.deepEqual([none.scaled, none.events], [[], []], 'max 0: never');
  const closed = demandPort({ spec: 0 });
  const c = createTideAutoscaler(spec(), closed, {});
  c.close();
  c.poke!(NOW);
  assert.deepEqual([closed.scaled, closed.events], [[], []]);
  // dry run: the event says so, nothing is scaled
  const dry = demandPort({ spec: 0 });
  createTideAutoscaler(spec(), dry, { dryRun: true }).poke!(NOW);
  assert.deepEqual(dry.scaled, []);
  assert.match(dry.events[0]!.message, /\(dry run: not applied\)$/);
});

test('status: the forecast against slots x utilization (maxUtilization with an SLO), the horizon and window', () => {
  const port = demandPort({ spec: 1 });
  const a = createTideAutoscaler(spec(), port, {});
  assert.equal(a.status().targets, '<unknown>/1.6 tide/predicted-concurrency');
  assert.equal(a.status().metricSpecs[0]!.name, 'tide/predicted-concurrency (busy slots; horizon 5s, scale-down window 5s)');
  assert.equal(a.status().metricSpecs[0]!.target, '1.6 per replica');
  assert.deepEqual([a.status().minReplicas, a.status().maxReplicas], [1, 9]);
  port.demand = load(NOW, 10, 30, 200);
  const r = rec(a.sync(NOW));
  assert.match(a.status().targets, new RegExp(`^${String(Math.round(r.details.forecast * 100) / 100).replace('.', '\\.')}[\\d]*/1\\.6 tide/predicted-concurrency$`));
  const slo = createTideAutoscaler(spec(policy({ sloLatencyMs: 500, sloTarget: 0.95, maxUtilization: 0.9 })), port, {});
  assert.equal(slo.status().targets, '<unknown>/1.8 tide/predicted-concurrency');
  assert.equal(slo.status().metricSpecs[0]!.name, 'tide/predicted-concurrency (busy slots; horizon 5s, scale-down window 5s, SLO 500ms @ 95%)');
  a.close();
  slo.close();
});

test('snapshot/restore carries the policy state and the record filter', () => {
  const port = demandPort({ spec: 1 });
  port.pods = port.pods.slice(0, 1);
  const a = createTideAutoscaler(spec(), port, {});
  a.sync(NOW);
  assert.equal(port.records.length, 1);
  const b = createTideAutoscaler(spec(), port, {});
  b.restore(JSON.parse(JSON.stringify(a.snapshot())));
  b.sync(NOW + 2000);
  assert.equal(port.records.length, 1, 'the restored filter knows the last record');
  // the learned service time travels too
  port.demand = load(NOW + 4000, 10, 30, 200);
  a.sync(NOW + 4000);
  const c = createTideAutoscaler(spec(), port, {});
  c.restore(JSON.parse(JSON.stringify(a.snapshot())));
  assert.deepEqual(JSON.parse(JSON.stringify(c.snapshot().state)), JSON.parse(JSON.stringify(a.snapshot().state)));
  const r = rec(c.sync(NOW + 6000));
  assert.equal(Math.round(r.inputs.state.serviceMs), 200, 'the restored state knows the service time');
  for (const x of [a, b, c]) x.close();
});
