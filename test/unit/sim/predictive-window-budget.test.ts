// Tide's predictive policy: the scale-down window set by the misses observed (tide.dev/window-budget).
// With an SLO that a cold start breaks (outside reactive mode) and samples that report the requests
// which missed the SLO only by waiting, the window shrinks (e-folding 1 h, down to 10 s) while those
// stay under their share of the error budget over about the last hour (once an hour of such samples
// has been seen), and grows back sixty times as fast (e-folding 60 s, up to scaleDownWindowMs) as
// soon as they do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decidePredictive, defaultPredictivePolicy, emptyPredictiveState, predictiveFromAnnotations, WINDOW_MIN_MS,
  type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../../../src/policies/predictive.ts';
import { second } from './helpers.ts';

// cold start 20 s, SLO 15 s, service 2.5 s: not reactive (20 + 2 x 2.5 > 15), and a cold start breaks
// the SLO (20 > 15 - 2.5); the configured window is max(cold start, 60 s) = 60 s
const SLO = 15_000;
const policy = (over: Partial<PredictivePolicy> = {}): PredictivePolicy => defaultPredictivePolicy({
  name: 'x', slotsPerReplica: 8, minReplicas: 1, sloLatencyMs: SLO, coldStartMs: 20_000, seasonMs: 0, spikeMemory: false, ...over,
});

/** One second of `arrivals` requests of 2.5 s, `late` of them late for `sloMs` (undefined: not reported). */
function sec(t: number, arrivals: number, late?: number, sloMs = SLO): DemandSample {
  return late === undefined ? second(t, arrivals, 2500) : { ...second(t, arrivals, 2500), late, lateSloMs: sloMs };
}

type Rec = ReturnType<typeof decidePredictive>['record'];
/** Feed `seconds` from t0, one decision per 2 s; `at(t)` gives each second's sample. */
function run(p: PredictivePolicy, st: PredictiveState, t0: number, seconds: number, at: (t: number) => DemandSample, replicas = 2) {
  const recs: Rec[] = [];
  for (let k = 0; k < seconds; k += 2) {
    const samples = [0, 1].map((i) => at(t0 + (k + i) * 1000));
    const out = decidePredictive(p, { now: t0 + (k + 2) * 1000, currentReplicas: replicas, readyReplicas: replicas, samples, queued: 0 }, st);
    st = out.state;
    recs.push(out.record);
  }
  return { recs, record: recs[recs.length - 1], state: st };
}

test('no late requests: the window waits for an hour of samples, then shrinks by e per hour, down to 10 s', () => {
  const p = policy();
  assert.equal(p.windowBudget, 0.5);
  assert.equal(p.scaleDownWindowMs, 60_000);
  // 4 req/s, none late: the ratio's memory is an hour; before an hour of samples nothing moves
  const a = run(p, emptyPredictiveState(), 0, 3598, (t) => sec(t, 4, 0));
  assert.equal(a.state.lateAge, 3598);
  assert.equal(a.state.windowScale, 1, 'not an hour yet: the configured window');
  assert.equal(a.record.details.windowMs, undefined);
  const b = run(p, a.state, 3_598_000, 2, (t) => sec(t, 4, 0));
  assert.equal(b.state.windowScale, Math.exp(-2 / 3600), 'one decision of 2 s: exp(-2 s / 1 h)');
  assert.equal(b.record.details.windowMs, 60_000 * Math.exp(-2 / 3600));
  // an hour later: about e times shorter
  const c = run(p, b.state, 3_600_000, 3600, (t) => sec(t, 4, 0));
  assert.ok(Math.abs(c.state.windowScale! - Math.exp(-3602 / 3600)) < 1e-9, `scale ${c.state.windowScale}`);
  // after three hours the floor: 10 s, not less
  const d = run(p, c.state, 7_200_000, 7200, (t) => sec(t, 4, 0));
  assert.equal(d.state.windowScale, WINDOW_MIN_MS / 60_000);
  assert.equal(d.record.details.windowMs, 10_000);
  assert.equal(WINDOW_MIN_MS, 10_000);
});

test('a budget of less than one request says nothing: 0.05 req/s is 180 arrivals an hour, 0.9 of budget', () => {
  const p = policy();
  const { state } = run(p, emptyPredictiveState(), 0, 3 * 3600, (t) => sec(t, (t / 1000) % 20 === 0 ? 1 : 0, 0));
  assert.ok(state.lateArrivals! * 0.005 < 1 && state.lateArrivals! > 110, `${state.lateArrivals}`);
  assert.equal(state.windowScale, 1);
  // the whole error budget (100 %) is 1.8 requests: that moves it
  const whole = run(policy({ windowBudget: 1 }), emptyPredictiveState(), 0, 3 * 3600, (t) => sec(t, (t / 1000) % 20 === 0 ? 1 : 0, 0));
  assert.ok(whole.state.windowScale! < 1);
});

test('late requests over the budget share: the window grows back by e per minute, up to the configured one', () => {
  const p = policy();
  const low = run(p, emptyPredictiveState(), 0, 5 * 3600, (t) => sec(t, 4, 0)).state;
  assert.equal(low.windowScale, 1 / 6);
  // every request late from now on: the late share passes 0.5 % of the decayed arrivals within seconds
  const t1 = 5 * 3600 * 1000;
  const g = run(p, low, t1, 60, (t) => sec(t, 4, 4));
  const grown = g.recs.map((r) => r.details.windowMs ?? 60_000);
  for (let i = 1; i < grown.length; i++) assert.ok(grown[i] >= grown[i - 1], 'it only grows while over the budget');
  const firstUp = g.recs.findIndex((r) => (r.details.windowMs ?? 60_000) > 10_000);
  assert.ok(firstUp >= 0 && firstUp <= 10, `grows within 20 s, at decision ${firstUp}`);
  // by exactly e per minute: exp(2 s / 60 s) per decision of 2 s
  assert.ok(Math.abs(grown[firstUp] / 10_000 - Math.exp(2 / 60)) < 1e-12, `first step ${grown[firstUp]}`);
  assert.ok(Math.abs(grown[firstUp + 1] / grown[firstUp] - Math.exp(2 / 60)) < 1e-12);
  // ln 6 minutes (~107 s) of growth reach the cap; the cap holds
  const h = run(p, g.state, t1 + 60_000, 120, (t) => sec(t, 4, 4));
  assert.equal(h.state.windowScale, 1);
  assert.equal(h.record.details.windowMs, undefined, 'back at the configured window');
  // late at about the share itself (2 of every 400, 0.5 %): over budget right after each pair, under
  // it between them, and over the hour it shrinks more than it grows
  const q = emptyPredictiveState();
  const e = run(p, q, 0, 4000, (t) => sec(t, 4, (t / 1000) % 100 === 0 ? 2 : 0));
  assert.ok(e.state.windowScale! < 1, `scale ${e.state.windowScale}`);
});

test('a shorter window releases held replicas sooner: 10 s instead of 60 s after a drop', () => {
  const drop = (p: PredictivePolicy) => {
    const st = run(p, emptyPredictiveState(), 0, 5 * 3600, (t) => sec(t, 4, 0)).state;
    const t1 = 5 * 3600 * 1000;
    // 40 req/s x 2.5 s = 100 busy slots for a minute, then back to 4 req/s
    const busy = run(p, st, t1, 60, (t) => sec(t, 40, 0), 15);
    const peak = busy.record.desiredReplicas;
    const after = run(p, busy.state, t1 + 60_000, 30, (t) => sec(t, 4, 0), peak);
    return { peak, at20s: after.recs[9].desiredReplicas, rec: after.recs[9], first: after.recs[0] };
  };
  const learned = drop(policy());
  const fixed = drop(policy({ windowBudget: 0 }));
  assert.ok(learned.peak > 5 && fixed.peak === learned.peak, `${learned.peak} / ${fixed.peak}`);
  assert.equal(fixed.at20s, learned.peak, 'the fixed 60 s window still holds the peak 20 s after the drop');
  assert.ok(learned.at20s < learned.peak, `the learned window let ${learned.peak} → ${learned.at20s} go`);
  assert.equal(learned.rec.details.windowMs, 10_000);
  // right after the drop both hold the peak; the explanation says which window and why it is shorter
  assert.match(learned.first.explanation, /held at \d+ by the 10s cold-start-aware scale-down window \(shortened from 60s: the requests that missed the SLO only by waiting stayed within 50 % of the error budget\)$/);
  assert.match(fixed.first.explanation, /held at \d+ by the 60s cold-start-aware scale-down window$/);
});

test('no rule without reports, for another SLO, in reactive mode, without an SLO at risk, or with a budget of 0', () => {
  const cases: Array<[string, PredictivePolicy, (t: number) => DemandSample]> = [
    ['samples without late counts', policy(), (t) => sec(t, 4)],
    ['late counts for another SLO', policy(), (t) => sec(t, 4, 0, 20_000)],
    ['reactive mode (SLO 60 s: a cold start plus two services fit)', policy({ sloLatencyMs: 60_000 }), (t) => sec(t, 4, 0, 60_000)],
    ['a cold start within the SLO less the service time (SLO 24 s)', policy({ sloLatencyMs: 24_000 }), (t) => sec(t, 4, 0, 24_000)],
    ['window budget 0', policy({ windowBudget: 0 }), (t) => sec(t, 4, 0)],
  ];
  for (const [what, p, at] of cases) {
    const { state, record } = run(p, emptyPredictiveState(), 0, 4000, at);
    assert.equal(state.windowScale, 1, what);
    assert.equal(state.lateArrivals, 0, what);
    assert.equal(state.lateAge, 0, what);
    assert.equal(state.lateSum, 0, what);
    const reactiveWindow = p.sloLatencyMs === 60_000 ? 20_000 : undefined;
    assert.equal(record.details.windowMs, reactiveWindow, what);
  }
});

test('tide.dev/wake-budget and tide.dev/window-budget: a percentage of the error budget each, 0 = off (one parser)', () => {
  const base = { name: 'x', minReplicas: 0, maxReplicas: 5 };
  for (const [key, field] of [['tide.dev/wake-budget', 'wakeBudget'], ['tide.dev/window-budget', 'windowBudget']] as const) {
    assert.equal(predictiveFromAnnotations({}, base)[field], 0.5, key);
    assert.equal(predictiveFromAnnotations({ [key]: '25%' }, base)[field], 0.25, key);
    assert.equal(predictiveFromAnnotations({ [key]: '0' }, base)[field], 0, key);
    assert.equal(predictiveFromAnnotations({ [key]: '100' }, base)[field], 1, key);
    for (const bad of ['half', '101%', '150%', '-1', ' ']) {
      const msg = `${key}: "${bad}" must be a percentage of the error budget from 0 (off) to 100`;
      assert.throws(() => predictiveFromAnnotations({ [key]: bad }, base), (e: Error) => e.message === msg, `${key}: ${bad}`);
    }
  }
});

test('the boundaries: a budget of exactly one request, late requests exactly at it, one sample per decision, a window under 10 s', () => {
  // a 50 % target and the whole of its budget: 0.5 of the arrivals; one sample of 2 arrivals from an
  // empty ratio is exactly 1 request of budget (0 x decay + 2), after an hour of samples already seen
  const p = policy({ sloTarget: 0.5, windowBudget: 1 });
  const warm: PredictiveState = { ...emptyPredictiveState(), lateAge: 3599, windowScale: 1 };
  const one = (late: number, st = warm) => decidePredictive(p, { now: 10_000, currentReplicas: 2, readyReplicas: 2, samples: [sec(9000, 2, late)], queued: 0 }, st);
  const met = one(0);
  assert.equal(met.state.lateAge, 3600);
  assert.equal(met.state.windowScale, Math.exp(-1 / 3600), 'budget of exactly one request, one sample: shrinks by exp(-1 s / 1 h)');
  const atBudget = one(1);
  assert.equal(atBudget.state.lateSum, 1);
  assert.equal(atBudget.state.windowScale, Math.exp(-1 / 3600), 'late exactly at the budget (1 of 2 at 50 %) is within it');
  const over = one(2, { ...warm, windowScale: 0.5 });
  assert.equal(over.state.windowScale, 0.5 * Math.exp(1 / 60), 'over it (2 of 2): grows by exp(1 s / 1 min)');
  const below = decidePredictive(p, { now: 10_000, currentReplicas: 2, readyReplicas: 2, samples: [sec(9000, 1, 0)], queued: 0 }, warm);
  assert.equal(below.state.windowScale, 1, 'half a request of budget: nothing yet');
  // a configured window under 10 s is never lengthened: the floor is the window itself
  const short = policy({ scaleDownWindowMs: 5000 });
  const r = run(short, emptyPredictiveState(), 0, 2 * 3600, (t) => sec(t, 4, 0));
  assert.equal(r.state.windowScale, 1);
  assert.equal(r.record.details.windowMs, undefined);
});

test('a policy without the field (a decision record from before it) keeps the configured window', () => {
  const { windowBudget: _, ...old } = policy();
  const { state, record } = run(old as PredictivePolicy, emptyPredictiveState(), 0, 2 * 3600, (t) => sec(t, 4, 0));
  assert.equal(state.windowScale, 1);
  assert.equal(state.lateAge, 0);
  assert.equal(record.details.windowMs, undefined);
});
