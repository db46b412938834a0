// The KPA scenario runner of `tide decide` (src/replay/kpa-scenario.ts) called directly with a resolved
// policy: which seconds each step feeds the decider (a whole stable window first, then the seconds
// since the previous step, or one per listed value), ready pods from counts or pod lists, replicas
// carried from decision to decision (or not), the metric (concurrency or rps), `state`, and the
// refusals. No manifest parsing: fast enough for its mutation runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKpaScenarioRunner, isKpaPolicy, kpaScenarioHooks } from '../../../src/replay/kpa-scenario.ts';
import type { ScenarioSetup } from '../../../src/replay/registry.ts';
import type { Scenario, ScenarioStep } from '../../../src/replay/scenario.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import type { KpaDecisionRecord, KpaPolicy } from '../../../src/deciders/kpa/types.ts';
import { UserError } from '../../../src/core/errors.ts';

const T0 = 1_767_225_600_000;
const policy = (ann: Record<string, unknown> = {}): KpaPolicy =>
  makeKpaPolicy({ name: 's', target: 'Deployment/s', annotations: { target: 10, targetUtilizationPercentage: 100, windowSeconds: 6, ...ann } as never });

function run(p: KpaPolicy, sc: Partial<Scenario>): KpaDecisionRecord[] {
  const scenario = { policy: {}, steps: [], ...sc } as unknown as Scenario;
  const r = createKpaScenarioRunner({ scenario, policy: p, bundle: {} as never, originMs: T0 } as ScenarioSetup);
  return scenario.steps.map((s, i) => r.step(s as ScenarioStep, i) as KpaDecisionRecord);
}
const obs = (r: KpaDecisionRecord) => r.inputs.observation;
const times = (r: KpaDecisionRecord) => obs(r).samples.map((s) => (s.time - T0) / 1000);

test('isKpaPolicy: a resolved KPA policy, not a manifest or anything else', () => {
  const p = policy();
  assert.equal(isKpaPolicy(p), true);
  assert.equal(kpaScenarioHooks.isPolicy, isKpaPolicy);
  assert.equal(kpaScenarioHooks.scenario, createKpaScenarioRunner);
  for (const bad of [null, undefined, 0, 'kpa', { ...p, apiVersion: 'v1' }, { ...p, targetValue: '10' }, { ...p, panicThreshold: undefined }, { ...p, stableWindowSeconds: '60' }]) {
    assert.equal(isKpaPolicy(bad), false, JSON.stringify(bad)?.slice(0, 60));
  }
  assert.equal(isKpaPolicy({ targetValue: 1, panicThreshold: 2, stableWindowSeconds: 60 }), true, 'the three numbers make it one');
});

test('the first step fills a whole stable window with its value; later steps the seconds since the previous one', () => {
  const recs = run(policy(), { replicas: 1, steps: [{ at: 10, metrics: [{ value: 5 }] }, { at: 13, metrics: [{ value: 7 }] }, { at: 13.5, metrics: [{ value: 9 }] }, { at: 20 }] as never });
  assert.deepEqual(times(recs[0]!), [5, 6, 7, 8, 9, 10], 'stable window 6 s: 6 seconds ending at the step');
  assert.deepEqual(obs(recs[0]!).samples.map((s) => s.concurrency), [5, 5, 5, 5, 5, 5]);
  assert.deepEqual(times(recs[1]!), [11, 12, 13]);
  assert.deepEqual(obs(recs[1]!).samples.map((s) => [s.concurrency, s.rps]), [[7, 0], [7, 0], [7, 0]]);
  assert.deepEqual(times(recs[2]!), [13.5], 'less than a second later: still one sample');
  assert.deepEqual(times(recs[3]!), [15, 16, 17, 18, 19, 20], 'whole seconds since 13.5 s: 6, the last at the step');
  assert.deepEqual(obs(recs[3]!).samples.map((s) => s.concurrency), [0, 0, 0, 0, 0, 0], 'no metrics: value 0');
  assert.equal(obs(recs[0]!).now, T0 + 10_000);
  // the longest stable window (1 h): exactly 3600 seconds
  const hour = run(policy({ windowSeconds: 3600 }), { replicas: 1, steps: [{ at: 0, metrics: [{ value: 1 }] }] as never });
  assert.equal(obs(hour[0]!).samples.length, 3600);
  assert.equal(times(hour[0]!)[0], -3599);
});

test('values: one sample per listed value, the last at the step time, numbers or numeric strings', () => {
  const recs = run(policy(), { replicas: 1, steps: [{ at: 4, metrics: [{ values: [1, '2', 3] }] }] as never });
  assert.deepEqual(times(recs[0]!), [2, 3, 4]);
  assert.deepEqual(obs(recs[0]!).samples.map((s) => s.concurrency), [1, 2, 3]);
  const s = run(policy(), { replicas: 1, steps: [{ at: 4, metrics: [{ value: '12' }] }] as never });
  assert.equal(obs(s[0]!).samples[0]!.concurrency, 12);
});

test('bad metric values are refused with the step index: negative, NaN, infinite', () => {
  for (const bad of [-1, 'abc', Infinity, '-2']) {
    for (const m of [{ value: bad }, { values: [1, bad] }]) {
      assert.throws(() => run(policy(), { steps: [{ at: 0 }, { at: 2, metrics: [m] }] as never }),
        (e: Error) => /^steps\[1\]\.metrics\[0\]: expected a non-negative number, got /.test(e.message), JSON.stringify(m));
    }
  }
  assert.doesNotThrow(() => run(policy(), { steps: [{ at: 0, metrics: [{ value: 0 }] }] as never }));
});

test('metric rps: the values are requests per second, concurrency 0', () => {
  const recs = run(policy({ metric: 'rps' }), { replicas: 1, steps: [{ at: 2, metrics: [{ values: [4, 6] }] }] as never });
  assert.deepEqual(obs(recs[0]!).samples.map((s) => [s.concurrency, s.rps]), [[0, 4], [0, 6]]);
});

test('seconds with no ready pod and no traffic are left out; traffic or a ready pod keeps them', () => {
  const recs = run(policy(), { replicas: 0, steps: [{ at: 4, pods: 0, metrics: [{ values: [0, 1, 0.5, 0] }] }, { at: 6, pods: 1, metrics: [{ values: [0, 0] }] }] as never });
  assert.deepEqual(times(recs[0]!), [2, 3]);
  assert.deepEqual(times(recs[1]!), [5, 6]);
});

test('ready pods: a count, a pod list (Running and not unready), else one per replica', () => {
  const pods = [
    {}, { phase: 'Running' }, { ready: true }, { ready: true }, { ready: 'True' },
    { phase: 'Pending' }, { ready: false }, { ready: 'False' }, { ready: 'Unknown' }, { phase: 'Failed', ready: true },
  ];
  const recs = run(policy(), { replicas: 3, steps: [{ at: 0, pods: 2 }, { at: 2, pods }, { at: 4 }, { at: 6, pods: 0 }] as never });
  assert.deepEqual(recs.map((r) => obs(r).readyPods), [2, 5, recs[2]!.inputs.observation.currentReplicas, 0]);
  assert.equal(obs(recs[2]!).readyPods, obs(recs[2]!).currentReplicas, 'default: one ready pod per replica');
});

test('replicas: the scenario value, else max(initialScale, minScale); a step may set them; decisions carry unless actuate is false', () => {
  const a = run(policy({ minScale: 3, initialScale: 1 }), { steps: [{ at: 0 }] as never });
  assert.equal(obs(a[0]!).currentReplicas, 3);
  const b = run(policy({ minScale: 0, initialScale: 2 }), { steps: [{ at: 0 }] as never });
  assert.equal(obs(b[0]!).currentReplicas, 2);
  const c = run(policy(), { replicas: 4, steps: [{ at: 0 }, { at: 2, replicas: 7 }, { at: 4 }] as never });
  assert.deepEqual(c.map((r) => obs(r).currentReplicas).slice(0, 2), [4, 7]);
  // demand for 5 pods: the decision carries to the next step by default
  const steps = [{ at: 0, pods: 1, metrics: [{ value: 50 }] }, { at: 2, pods: 1, metrics: [{ value: 50 }] }];
  const on = run(policy(), { replicas: 1, steps } as never);
  assert.equal(on[0]!.rescale, true);
  assert.equal(on[0]!.desiredReplicas, 5);
  assert.equal(obs(on[1]!).currentReplicas, 5);
  const off = run(policy(), { replicas: 1, actuate: false, steps } as never);
  assert.equal(obs(off[1]!).currentReplicas, 1);
  const yes = run(policy(), { replicas: 1, actuate: true, steps } as never);
  assert.equal(obs(yes[1]!).currentReplicas, 5);
  // no rescale: replicas stay what the scenario said, even when the record's desired differs (not applied)
  const same = run(policy(), { replicas: 2, steps: [{ at: 0, pods: 2, metrics: [{ value: 20 }] }, { at: 2, pods: 2, metrics: [{ value: 20 }] }] } as never);
  assert.equal(same[0]!.rescale, false);
  assert.equal(obs(same[1]!).currentReplicas, 2);
});

test('decider state carries from step to step; a given `state` starts from it and the first step adds only its own second', () => {
  const steps = [{ at: 0, metrics: [{ value: 20 }] }, { at: 2, metrics: [{ value: 20 }] }, { at: 4, metrics: [{ values: [60, 60] }] }];
  const full = run(policy(), { replicas: 2, steps } as never);
  assert.notEqual(full[1]!.inputs.state, null, 'the second step starts from the first one\'s state');
  const state = JSON.parse(JSON.stringify(full[2]!.inputs.state));
  assert.deepEqual(times(run(policy(), { replicas: 2, state, steps: [{ at: 4, metrics: [{ value: 60 }] }] } as never)[0]!), [4], 'only its own second');
  const cont = run(policy(), { replicas: 2, state, steps: [steps[2]] } as never);
  assert.deepEqual(JSON.parse(JSON.stringify(cont[0]!.details)), JSON.parse(JSON.stringify(full[2]!.details)));
  assert.deepEqual(cont[0]!.desiredReplicas, full[2]!.desiredReplicas);
  assert.equal(run(policy(), { replicas: 2, steps: [steps[0]] } as never)[0]!.inputs.state, null, 'no state given: an empty memory');
  // the given state is copied, not shared
  run(policy(), { replicas: 2, state, steps: [steps[2], steps[2]] } as never);
  assert.deepEqual(state, JSON.parse(JSON.stringify(full[2]!.inputs.state)));
});

test('a malformed `state` is refused naming what is wrong; `history` anywhere is refused', () => {
  const st = JSON.parse(JSON.stringify(run(policy(), { replicas: 2, steps: [{ at: 0 }, { at: 2 }] } as never)[1]!.inputs.state));
  const missing = { ...st };
  delete missing.sks;
  delete missing.panic;
  assert.throws(() => run(policy(), { state: missing, steps: [{ at: 0 }] } as never), (e: Error) => e instanceof UserError && /^state: not a KPA state: missing panic, sks \(/.test(e.message));
  assert.throws(() => run(policy(), { state: { ...st, extra: 1, more: 2 }, steps: [{ at: 0 }] } as never), (e: Error) => e instanceof UserError && /^state: unknown KPA state field\(s\) extra, more \(allowed: stable, panic,/.test(e.message));
  for (const k of ['stable', 'panic']) {
    for (const v of [null, 5, 'x']) {
      assert.throws(() => run(policy(), { state: { ...st, [k]: v }, steps: [{ at: 0 }] } as never), (e: Error) => e instanceof UserError && e.message.startsWith(`state.${k}: expected the window object`), `${k}=${v}`);
    }
  }
  assert.doesNotThrow(() => run(policy(), { state: st, steps: [{ at: 4 }] } as never));
  const hist = { recommendations: [{ at: 0, replicas: 3 }] };
  assert.throws(() => run(policy(), { history: hist, steps: [{ at: 0 }] } as never), (e: Error) => e instanceof UserError && /^history: is the HPA's memory/.test(e.message));
  assert.throws(() => run(policy(), { steps: [{ at: 0 }, { at: 2, history: hist }] } as never), (e: Error) => e instanceof UserError && /^steps\[1\]\.history: is the HPA's memory/.test(e.message));
});
