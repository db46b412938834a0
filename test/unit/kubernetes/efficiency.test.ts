// The controller's two efficiency parts: status writes only when the status changed (upstream's
// updateStatusIfNeeded with Semantic.DeepEqual), and sync rounds every period with bounded concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantityValue, statusEqual } from '../../../src/runtime/kubernetes/status.ts';
import { forEachLimit, nextRoundStart, RoundScheduler, type Clock } from '../../../src/runtime/kubernetes/schedule.ts';

// what Tide computes (Dates with milliseconds, its own key order) ...
const computed = () => ({
  currentReplicas: 3,
  desiredReplicas: 3,
  currentMetrics: [
    { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40, averageValue: '40m' } } },
    { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { b: '2', a: '1' } } }, current: { value: '500m' } } },
  ],
  conditions: [
    { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size', lastTransitionTime: new Date('2026-12-01T10:00:05.678Z') },
    { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'ok', lastTransitionTime: new Date('2026-12-01T09:00:00.000Z') },
  ],
  lastScaleTime: new Date('2026-12-01T10:00:05.678Z'),
  observedGeneration: 2,
});

// ... and the same status as the apiserver returns it (JSON, whole seconds, canonical quantities, Go's field order)
const stored = () => JSON.parse(`{
  "conditions": [
    {"lastTransitionTime": "2026-12-01T10:00:05Z", "message": "recommended size matches current size", "reason": "ReadyForNewScale", "status": "True", "type": "AbleToScale"},
    {"lastTransitionTime": "2026-12-01T09:00:00Z", "message": "ok", "reason": "ValidMetricFound", "status": "True", "type": "ScalingActive"}
  ],
  "currentMetrics": [
    {"resource": {"current": {"averageValue": "40m", "averageUtilization": 40}, "name": "cpu"}, "type": "Resource"},
    {"external": {"current": {"value": "0.5"}, "metric": {"name": "queue", "selector": {"matchLabels": {"a": "1", "b": "2"}}}}, "type": "External"}
  ],
  "currentReplicas": 3, "desiredReplicas": 3, "lastScaleTime": "2026-12-01T10:00:05Z", "observedGeneration": 2
}`);

test('quantities compare by value', () => {
  assert.equal(quantityValue('500m'), 0.5);
  assert.equal(quantityValue('0.5'), 0.5);
  assert.equal(quantityValue('1k'), 1000);
  assert.equal(quantityValue('1e3'), 1000);
  assert.equal(quantityValue('1Ki'), 1024);
  assert.equal(quantityValue('1500m'), quantityValue('1.5'));
  assert.equal(quantityValue('abc'), undefined);
});

test('an unchanged status is equal to what the apiserver stored (order, quantities, sub-second times)', () => {
  assert.ok(statusEqual(computed() as any, stored()));
  assert.ok(statusEqual(stored(), computed() as any));
});

test('empty and missing fields are alike, as Go zero values', () => {
  const a = { ...computed(), currentMetrics: [] } as any;
  const b = stored();
  delete b.currentMetrics;
  assert.ok(statusEqual(a, b));
  assert.ok(statusEqual({ desiredReplicas: 0 } as any, { currentReplicas: 0, desiredReplicas: 0 } as any));
});

test('any real change is a change', () => {
  const changes: Array<(s: any) => void> = [
    (s) => { s.desiredReplicas = 4; },
    (s) => { s.currentReplicas = 2; },
    (s) => { s.currentMetrics[1].external.current.value = '501m'; },
    (s) => { s.currentMetrics[0].resource.current.averageUtilization = 41; },
    (s) => { s.conditions[0].reason = 'SucceededRescale'; },
    (s) => { s.conditions[0].message = 'other'; },
    (s) => { s.conditions[1].lastTransitionTime = new Date('2026-12-01T09:00:01.000Z'); },
    (s) => { s.conditions.reverse(); },
    (s) => { s.lastScaleTime = new Date('2026-12-01T10:00:06Z'); },
    (s) => { delete s.lastScaleTime; },
    (s) => { s.observedGeneration = 3; },
    (s) => { s.currentMetrics[1].external.metric.selector.matchLabels.a = '9'; },
    (s) => { s.currentMetrics.pop(); },
  ];
  for (const [i, change] of changes.entries()) {
    const s = computed();
    change(s);
    assert.equal(statusEqual(s as any, stored()), false, `change ${i} must be seen`);
  }
});

// a clock whose time moves only when the test says so
class FakeClock implements Clock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = ++this.ids; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  pending() { return this.timers.length; }
  /** Move to the next timer and fire it; false when there is none. */
  fireNext(): boolean {
    this.timers.sort((a, b) => a.at - b.at);
    const x = this.timers.shift();
    if (!x) return false;
    this.t = Math.max(this.t, x.at);
    x.fn();
    return true;
  }
}
// every pending promise chain has run (a real macrotask turn; the fake clock does not touch setImmediate)
const settle = () => new Promise<void>((r) => setImmediate(r));

test('nextRoundStart: start to start, late rounds delay the next one', () => {
  assert.equal(nextRoundStart(0, 15_000, 9_000), 15_000);
  assert.equal(nextRoundStart(15_000, 15_000, 15_000), 30_000);
  assert.equal(nextRoundStart(0, 15_000, 20_000), 20_000);
});

test('rounds start every period, start to start, and never overlap', async () => {
  const clock = new FakeClock();
  const durations = [4_000, 9_000, 22_000, 1_000, 0];
  let running = 0;
  let maxRunning = 0;
  const overruns: number[][] = [];
  const s = new RoundScheduler({
    periodMs: 10_000,
    clock,
    onOverrun: (a, b) => overruns.push([a, b]),
    run: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      clock.t += durations[s.starts.length - 1] ?? 0; // the round's work takes this long
      await Promise.resolve();
      running--;
    },
  });
  s.start();
  await settle();
  for (let i = 0; i < 4; i++) { assert.ok(clock.fireNext(), `round ${i + 2} scheduled (starts so far: ${s.starts})`); await settle(); }
  assert.deepEqual(s.starts, [0, 10_000, 20_000, 42_000, 52_000]);
  assert.deepEqual(overruns, [[20_000, 42_000]]);
  assert.equal(maxRunning, 1);
  await s.stop();
  assert.equal(clock.pending(), 0, 'stop cancels the next round');
});

test('a failing round does not stop the schedule', async () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const s = new RoundScheduler({ periodMs: 1000, clock, onError: (e) => errors.push(e), run: async () => { throw new Error('boom'); } });
  s.start();
  await settle();
  assert.ok(clock.fireNext());
  await settle();
  assert.equal(s.starts.length, 2);
  assert.equal(errors.length, 2);
  await s.stop();
});

test('forEachLimit: bounded in flight, each item once, started in order', async () => {
  const items = Array.from({ length: 23 }, (_, i) => i);
  let inFlight = 0;
  let max = 0;
  const started: number[] = [];
  const gates: Array<() => void> = [];
  const done = forEachLimit(items, 5, async (i) => {
    started.push(i);
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise<void>((r) => gates.push(r));
    inFlight--;
  });
  // release one at a time, checking the bound each step
  while (started.length < items.length || inFlight > 0) {
    await settle();
    assert.ok(inFlight <= 5);
    gates.shift()?.();
  }
  await done;
  assert.equal(max, 5);
  assert.deepEqual(started, items);
});

test('forEachLimit: stop ends early; an error is rethrown after the rest ran', async () => {
  const seen: number[] = [];
  let stop = false;
  await forEachLimit([1, 2, 3, 4], 1, async (i) => { seen.push(i); if (i === 2) stop = true; }, () => stop);
  assert.deepEqual(seen, [1, 2]);
  const all: number[] = [];
  await assert.rejects(forEachLimit([1, 2, 3], 2, async (i) => { all.push(i); if (i === 1) throw new Error('x'); }), /x/);
  assert.deepEqual(all.sort(), [1, 2, 3]);
  await forEachLimit([], 5, async () => { throw new Error('never'); });
});
