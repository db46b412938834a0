import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideKeda, emptyKedaState, generatedHpaPolicy } from '../../../src/deciders/keda/decide.ts';
import type { KedaState } from '../../../src/deciders/keda/types.ts';
import { err, obs, policy, trigger, v } from './helpers.ts';

const S = 1000;
const cond = (r: { conditions: { type: string; status: string; reason: string }[] }, type: string) =>
  r.conditions.find((c) => c.type === type);

test('activation: 0→1 only when the value is strictly greater than the activation threshold', () => {
  const p = policy({ triggers: [trigger({ activationTarget: 3 })] });
  const at = decideKeda(p, obs(0, [v(3)], 1000), emptyKedaState(0));
  assert.equal(at.record.desiredReplicas, 0);
  assert.equal(at.record.rescale, false);
  assert.equal(cond(at.record, 'Active')?.status, 'False');
  const above = decideKeda(p, obs(0, [v(3.5)], 1000), emptyKedaState(0));
  assert.equal(above.record.desiredReplicas, 1);
  assert.equal(above.record.rescale, true);
  assert.deepEqual(above.record.limitedBy, ['activation']);
  assert.equal(above.state.lastActiveTime, 1000);
  assert.equal(above.record.events[0].reason, 'KEDAScaleTargetActivated');
  assert.match(above.record.events[0].message, /from 0 to 1, triggered by s0-redis-jobs/);
});

test('activation goes straight to minReplicaCount when it is > 0 from idle', () => {
  const p = policy({ minReplicaCount: 3, idleReplicaCount: 0 });
  const r = decideKeda(p, obs(0, [v(1)], 1000), emptyKedaState(0));
  assert.equal(r.record.desiredReplicas, 3);
});

test('1↔N goes through the HPA: AverageValue → ceil(value/target)', () => {
  const p = policy();
  const r = decideKeda(p, obs(1, [v(20)], 1000), emptyKedaState(0));
  assert.equal(r.record.desiredReplicas, 4);
  assert.equal(r.record.details.phase, 'hpa');
  assert.equal(r.record.proposals[0].proposedReplicas, 4);
  assert.match(r.record.proposals[0].metric, /s0-redis-jobs/);
  // the generated HPA: min 1, one External metric per trigger
  const hpa = generatedHpaPolicy(p);
  assert.equal(hpa.minReplicas, 1);
  assert.equal(hpa.name, 'keda-hpa-worker');
  assert.deepEqual(hpa.metrics[0], {
    type: 'External',
    external: { metric: { name: 's0-redis-jobs', selector: { matchLabels: { 'scaledobject.keda.sh/name': 'worker' } } }, target: { type: 'AverageValue', averageValue: 5000 } },
  });
});

test('Value metric type scales proportionally to the current replica count', () => {
  const p = policy({ triggers: [trigger({ metricType: 'Value', target: 5 })] });
  const r = decideKeda(p, obs(3, [v(20)], 1000), emptyKedaState(0));
  assert.equal(r.record.desiredReplicas, 12);
  const m = generatedHpaPolicy(p).metrics[0];
  assert.deepEqual(m.type === 'External' ? m.external.target : null, { type: 'Value', value: 5000 });
});

test('several triggers: the highest proposal wins, any active trigger activates', () => {
  const p = policy({ triggers: [trigger({ target: 10 }, 0), trigger({ type: 'prometheus', metricName: 's1-prometheus', target: 2, activationTarget: 100 }, 1)] });
  const r0 = decideKeda(p, obs(0, [v(1), v(50)], 1000), emptyKedaState(0));
  assert.equal(r0.record.desiredReplicas, 1); // trigger 0 active (1 > 0); trigger 1 not (50 ≤ 100)
  const r1 = decideKeda(p, obs(3, [v(1), v(50)], 2000), r0.state);
  assert.equal(r1.record.desiredReplicas, 20); // ceil(50/2)=25 clamped to max 20
  assert.ok(r1.record.limitedBy.includes('max'));
});

test('activation beats scaling: threshold 10, activation 50, value 40 → 0 after cooldown although the HPA wants 4', () => {
  const p = policy({ cooldownPeriodSeconds: 60, triggers: [trigger({ target: 10, activationTarget: 50 })] });
  let st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  const during = decideKeda(p, obs(3, [v(40)], 30 * S), st);
  assert.equal(during.record.desiredReplicas, 4); // HPA still runs while cooling down
  assert.equal(during.record.limitedBy[0], 'cooldown');
  assert.equal(cond(during.record, 'Active')?.reason, 'ScalerCooldown');
  st = during.state;
  const after = decideKeda(p, obs(4, [v(40)], 61 * S), st);
  assert.equal(after.record.desiredReplicas, 0);
  assert.equal(after.record.details.phase, 'deactivation');
  assert.equal(after.record.events.at(-1)?.reason, 'KEDAScaleTargetDeactivated');
});

test('cooldown is strict: at exactly lastActive+cooldown the target is kept', () => {
  const p = policy({ cooldownPeriodSeconds: 100 });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 10 * S };
  assert.equal(decideKeda(p, obs(2, [v(0)], 110 * S), st).record.desiredReplicas, 1); // HPA: 0 → min 1
  assert.equal(decideKeda(p, obs(2, [v(0)], 110 * S + 1), st).record.desiredReplicas, 0);
});

test('cooldown only applies to →0: N→1 is the HPA with its own behavior', () => {
  const p = policy({ cooldownPeriodSeconds: 300, triggers: [trigger({ target: 5 })] });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  const r = decideKeda(p, obs(8, [v(5)], 10 * S), st);
  assert.equal(r.record.desiredReplicas, 1); // active (5 > 0), HPA says ceil(5/5)=1 at once
  assert.equal(r.state.lastActiveTime, 10 * S);
});

test('initialCooldownPeriod: never-active object keeps its replicas until creation + initial cooldown', () => {
  const p = policy({ initialCooldownPeriodSeconds: 120 });
  const st = emptyKedaState(0);
  assert.equal(decideKeda(p, obs(2, [v(0)], 60 * S), st).record.desiredReplicas, 1);
  const r = decideKeda(p, obs(2, [v(0)], 121 * S), st);
  assert.equal(r.record.desiredReplicas, 0);
});

test('idleReplicaCount: inactive goes to idle after cooldown; active from idle jumps to min', () => {
  const p = policy({ minReplicaCount: 2, idleReplicaCount: 0, cooldownPeriodSeconds: 10 });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  const down = decideKeda(p, obs(2, [v(0)], 11 * S), st);
  assert.equal(down.record.desiredReplicas, 0);
  const up = decideKeda(p, obs(0, [v(1)], 12 * S), down.state);
  assert.equal(up.record.desiredReplicas, 2);
});

test('below minReplicaCount without idle mode: KEDA restores min even when inactive', () => {
  const p = policy({ minReplicaCount: 2 });
  const r = decideKeda(p, obs(1, [v(0)], 1000), emptyKedaState(0));
  assert.equal(r.record.desiredReplicas, 2);
});

test('minReplicaCount ≥ 1 never scales to zero', () => {
  const p = policy({ minReplicaCount: 1, cooldownPeriodSeconds: 0 });
  const r = decideKeda(p, obs(3, [v(0)], 10_000 * S), { ...emptyKedaState(0), lastActiveTime: 0 });
  assert.equal(r.record.desiredReplicas, 1);
});

test('scaler error without fallback: invalid metric, no scale-down, Ready=False TriggerError', () => {
  const p = policy();
  const r = decideKeda(p, obs(4, [err()], 1000), { ...emptyKedaState(0), lastActiveTime: 0 });
  assert.equal(r.record.desiredReplicas, 4);
  assert.equal(cond(r.record, 'Ready')?.status, 'False');
  assert.equal(cond(r.record, 'Ready')?.reason, 'TriggerError');
  assert.ok(r.record.events.some((e) => e.reason === 'KEDAScalerFailed' && e.type === 'Warning'));
  assert.equal(r.record.details.isError, true);
  assert.match(r.record.explanation, /connection refused/);
});

test('partial error: one trigger active, one failing → Ready Unknown PartialTriggerError, no scale-down', () => {
  const p = policy({ triggers: [trigger({}, 0), trigger({ type: 'prometheus', metricName: 's1-prometheus' }, 1)] });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  const r = decideKeda(p, obs(6, [v(5), err('prometheus down')], 1000), st);
  assert.equal(cond(r.record, 'Ready')?.reason, 'PartialTriggerError');
  assert.equal(r.record.desiredReplicas, 6); // HPA would say 1 but a metric is invalid
  assert.ok(r.record.limitedBy.includes('invalid-metrics'));
  assert.equal(r.state.lastActiveTime, 0); // not refreshed while erroring
});

test('fallback: after more than failureThreshold failures the HPA is driven to fallback.replicas, then recovers', () => {
  const p = policy({ fallback: { failureThreshold: 2, replicas: 6, behavior: 'static' } });
  let st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  let r = decideKeda(p, obs(2, [err()], 1 * S), st);
  assert.equal(r.record.desiredReplicas, 2);
  assert.equal(r.state.health['s0-redis-jobs'].numberOfFailures, 1);
  assert.equal(cond(r.record, 'Fallback')?.status, 'False');
  st = r.state;
  r = decideKeda(p, obs(2, [err()], 2 * S), st);
  assert.equal(r.record.desiredReplicas, 2);
  st = r.state;
  r = decideKeda(p, obs(2, [err()], 3 * S), st);
  assert.equal(r.record.desiredReplicas, 6);
  assert.ok(r.record.limitedBy.includes('fallback'));
  assert.equal(cond(r.record, 'Fallback')?.status, 'True');
  assert.equal(cond(r.record, 'Fallback')?.reason, 'FallbackExists');
  assert.ok(r.record.events.some((e) => e.reason === 'ScaledObjectFallbackActivated'));
  assert.equal(r.record.details.fallbackActive, true);
  st = r.state;
  r = decideKeda(p, obs(6, [v(10)], 4 * S), st);
  assert.equal(r.record.desiredReplicas, 2);
  assert.deepEqual(r.state.health['s0-redis-jobs'], { numberOfFailures: 0, status: 'Happy' });
  assert.equal(cond(r.record, 'Fallback')?.status, 'False');
  assert.ok(r.record.events.some((e) => e.reason === 'ScaledObjectFallbackDeactivated'));
});

test('fallback from zero: the fallback trigger counts as active, so KEDA activates and the HPA goes to fallback', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 3, behavior: 'static' } });
  const r0 = decideKeda(p, obs(0, [err()], 1 * S), emptyKedaState(0));
  assert.equal(r0.record.desiredReplicas, 1);
  const r1 = decideKeda(p, obs(1, [err()], 2 * S), r0.state);
  assert.equal(r1.record.desiredReplicas, 3);
});

test('fallback behaviors: currentReplicas, currentReplicasIfHigher, currentReplicasIfLower', () => {
  const mk = (behavior: 'currentReplicas' | 'currentReplicasIfHigher' | 'currentReplicasIfLower') =>
    policy({ fallback: { failureThreshold: 0, replicas: 5, behavior } });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  assert.equal(decideKeda(mk('currentReplicas'), obs(3, [err()], S), st).record.desiredReplicas, 3);
  assert.equal(decideKeda(mk('currentReplicasIfHigher'), obs(3, [err()], S), st).record.desiredReplicas, 5);
  assert.equal(decideKeda(mk('currentReplicasIfHigher'), obs(8, [err()], S), st).record.desiredReplicas, 8);
  assert.equal(decideKeda(mk('currentReplicasIfLower'), obs(3, [err()], S), st).record.desiredReplicas, 3);
  assert.equal(decideKeda(mk('currentReplicasIfLower'), obs(8, [err()], S), st).record.desiredReplicas, 5);
});

test('fallback with a Value metric divides by the ready replicas', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' }, triggers: [trigger({ metricType: 'Value', target: 4 })] });
  const r = decideKeda(p, obs(3, [err()], S), { ...emptyKedaState(0), lastActiveTime: 0 });
  // metric = 4 × 6/3 = 8 → HPA Value: ceil(3 × 8/4) = 6
  assert.equal(r.record.details.triggers[0].hpaValue, 8);
  assert.equal(r.record.desiredReplicas, 6);
});

test('scalingModifiers: the formula makes one composite metric, activation on activationTarget', () => {
  const p = policy({
    triggers: [trigger({ name: 'queue', target: 1 }, 0), trigger({ type: 'prometheus', name: 'rps', metricName: 's1-prometheus', target: 1 }, 1)],
    scalingModifiers: { formula: 'queue + rps / 10', target: 5, activationTarget: 3, metricType: 'AverageValue' },
  });
  const hpa = generatedHpaPolicy(p);
  assert.equal(hpa.metrics.length, 1);
  assert.equal(hpa.metrics[0].type === 'External' && hpa.metrics[0].external.metric.name, 'composite-metric');
  const idle = decideKeda(p, obs(0, [v(1), v(20)], S), emptyKedaState(0)); // 1 + 2 = 3, not > 3
  assert.equal(idle.record.desiredReplicas, 0);
  assert.equal(idle.record.details.composite?.value, 3);
  const act = decideKeda(p, obs(0, [v(2), v(20)], S), emptyKedaState(0)); // 4 > 3
  assert.equal(act.record.desiredReplicas, 1);
  const scale = decideKeda(p, obs(1, [v(12), v(80)], 2 * S), act.state); // 20 / 5 = 4
  assert.equal(scale.record.desiredReplicas, 4);
  assert.match(scale.record.proposals[0].metric, /composite-metric/);
});

test('scalingModifiers with fallback behavior scalingModifiers: a failed trigger is nil and ?? routes around it', () => {
  const p = policy({
    triggers: [trigger({ name: 'a', target: 1 }, 0), trigger({ type: 'prometheus', name: 'b', metricName: 's1-prometheus', target: 1 }, 1)],
    scalingModifiers: { formula: 'a ?? b', target: 2, activationTarget: 0, metricType: 'AverageValue' },
    fallback: { failureThreshold: 0, replicas: 4, behavior: 'scalingModifiers' },
  });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  const r = decideKeda(p, obs(1, [err(), v(10)], S), st);
  assert.equal(r.record.details.composite?.value, 10);
  assert.equal(r.record.desiredReplicas, 5);
  // both failing: the formula is nil → fallback.replicas × target
  const r2 = decideKeda(p, obs(1, [err(), err()], S), st);
  assert.equal(r2.record.details.composite?.value, 8);
  assert.equal(r2.record.desiredReplicas, 4);
});

test("scalingModifiers: KEDA's documented count example, with a trigger in fallback that the early exit never reads", () => {
  const names = ['trig_one', 'trig_two', 'trig_three'];
  const p = policy({
    triggers: names.map((name, i) => trigger({ type: 'prometheus', name, metricName: `s${i}-prometheus`, target: 1 }, i)),
    scalingModifiers: { formula: 'count([trig_one,trig_two,trig_three],{#>1}) > 1 ? 5 : 0', target: 1, activationTarget: 0, metricType: 'AverageValue' },
    fallback: { failureThreshold: 0, replicas: 4, behavior: 'scalingModifiers' },
  });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  // two of three above 1: 5 / 1 = 5 replicas
  assert.equal(decideKeda(p, obs(1, [v(2), v(3), v(0)], S), st).record.desiredReplicas, 5);
  // trig_three failing is nil, but counting stops at the second match (expr-lang's threshold), so it is never compared
  const early = decideKeda(p, obs(1, [v(2), v(3), err()], S), st);
  assert.equal(early.record.details.composite?.value, 5);
  assert.equal(early.record.desiredReplicas, 5);
  // only one match before the nil: `nil > 1` is reached, the formula fails, and the composite metric is an error (no scaling)
  const late = decideKeda(p, obs(3, [v(2), v(0), err()], S), st);
  assert.equal(late.record.details.composite?.value, null);
  assert.match(late.record.details.composite?.error ?? '', /> on nil/);
  assert.equal(late.record.desiredReplicas, 3);
});

test('paused annotation freezes the count; paused-replicas sets it', () => {
  const paused = decideKeda(policy({ annotations: { paused: true } }), obs(3, [v(100)], S), emptyKedaState(0));
  assert.equal(paused.record.desiredReplicas, 3);
  assert.deepEqual(paused.record.limitedBy, ['disabled']);
  assert.equal(cond(paused.record, 'Paused')?.status, 'True');
  const pr = decideKeda(policy({ annotations: { pausedReplicas: 7 } }), obs(3, [v(0)], S), emptyKedaState(0));
  assert.equal(pr.record.desiredReplicas, 7);
  assert.equal(pr.record.rescale, true);
});

test('paused-scale-out blocks 0→1 and HPA scale-up; paused-scale-in blocks →0 and HPA scale-down', () => {
  const out = policy({ annotations: { pausedScaleOut: true } });
  assert.equal(decideKeda(out, obs(0, [v(50)], S), emptyKedaState(0)).record.desiredReplicas, 0);
  assert.equal(decideKeda(out, obs(2, [v(50)], S), emptyKedaState(0)).record.desiredReplicas, 2);
  assert.equal(generatedHpaPolicy(out).behavior?.scaleUp.selectPolicy, 'Disabled');
  const inn = policy({ annotations: { pausedScaleIn: true }, cooldownPeriodSeconds: 0 });
  const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
  assert.equal(decideKeda(inn, obs(4, [v(0)], 100 * S), st).record.desiredReplicas, 4);
  assert.equal(generatedHpaPolicy(inn).behavior?.scaleDown.selectPolicy, 'Disabled');
});

test('force-activation annotation activates without any active trigger', () => {
  const r = decideKeda(policy({ annotations: { forceActivation: true } }), obs(0, [v(0)], S), emptyKedaState(0));
  assert.equal(r.record.desiredReplicas, 1);
  assert.match(r.record.events[0].message, /forced activation/);
});

test('cpu-only ScaledObject is always active (cannot scale to zero) and maps to a Resource metric', () => {
  const p = policy({ minReplicaCount: 1, triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu', metadata: {} })] });
  const hpa = generatedHpaPolicy(p);
  assert.deepEqual(hpa.metrics[0], { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } });
  const samples = [0, 1].map((i) => ({ pod: `worker-${i}`, value: 100, timestamp: 0, windowSeconds: 30 })); // 100% of 100m
  const r = decideKeda(p, { ...obs(2, [], 400 * S), triggers: [{ kind: 'pods', samples }] }, emptyKedaState(0));
  assert.equal(r.record.details.isActive, true);
  assert.equal(r.record.desiredReplicas, 4);
});

test('state is plain JSON and records replay', () => {
  const p = policy({ fallback: { failureThreshold: 1, replicas: 3, behavior: 'static' } });
  let st = emptyKedaState(0);
  const seq = [v(10), v(30), err(), err(), err(), v(0), v(0)];
  let current = 0;
  for (let i = 0; i < seq.length; i++) {
    const o = obs(current, [seq[i]], (i + 1) * 15 * S);
    const { record, state } = decideKeda(p, o, JSON.parse(JSON.stringify(st)));
    const again = decideKeda(record.inputs.policy, record.inputs.observation, record.inputs.state, record.inputs.now);
    assert.deepEqual(again.record, record);
    assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
    st = state;
    current = record.desiredReplicas;
  }
});

test('property: desired stays within [0, max]; the decider is deterministic; inputs are not mutated', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 30 }),
    fc.array(fc.oneof(fc.double({ min: 0, max: 500, noNaN: true }), fc.constant(-1)), { minLength: 1, maxLength: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 1, max: 25 }),
    fc.boolean(),
    (current, values, min, max, withFallback) => {
      fc.pre(min <= max);
      const triggers = values.map((_, i) => trigger({ metricName: `s${i}-redis-q${i}`, activationTarget: i }, i));
      const p = policy({ minReplicaCount: min, maxReplicaCount: max, triggers, ...(withFallback ? { fallback: { failureThreshold: 1, replicas: 2, behavior: 'static' as const } } : {}) });
      const o = obs(current, values.map((x) => (x < 0 ? err() : v(x))), 1_000_000);
      const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 500_000, health: { 's0-redis-q0': { numberOfFailures: 5, status: 'Failing' } } };
      const frozen = JSON.stringify([p, o, st]);
      const a = decideKeda(p, o, st);
      const b = decideKeda(p, o, st);
      assert.equal(JSON.stringify([p, o, st]), frozen);
      assert.deepEqual(a, b);
      const d = a.record.desiredReplicas;
      assert.ok(d >= 0 && d <= Math.max(max, current), `desired ${d}`);
      if (current > 0 && d > 0) assert.ok(d >= Math.min(Math.max(1, min), current));
    },
  ), { numRuns: 200 });
});

test('property: never reaches zero before lastActive + cooldown; never leaves zero at or below the activation threshold', () => {
  // coverage: each side of both rules must be generated (inactive inside / past the cooldown, a
  // value at or below / above the threshold at zero), else the property would hold vacuously
  const hits = { heldInCooldown: 0, zeroAfterCooldown: 0, staysAtZero: 0, activated: 0 };
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 0, max: 600 }),
    fc.integer({ min: 0, max: 900_000 }),
    fc.double({ min: 0, max: 100, noNaN: true }),
    fc.double({ min: 0, max: 100, noNaN: true }),
    fc.boolean(),
    (current, cooldown, elapsed0, value0, activation, edge) => {
      // half the runs sit on the boundaries: a value equal to the threshold, exactly the cooldown
      const value = edge ? activation : value0;
      const elapsed = edge && elapsed0 % 2 === 0 ? cooldown * 1000 : elapsed0;
      const p = policy({ cooldownPeriodSeconds: cooldown, triggers: [trigger({ activationTarget: activation })] });
      const st: KedaState = { ...emptyKedaState(0), lastActiveTime: 1_000_000 };
      const r = decideKeda(p, obs(current, [v(value)], 1_000_000 + elapsed), st);
      const inactive = !(value > activation);
      const expired = elapsed > cooldown * 1000;
      // min 0: an inactive object goes to 0 exactly when the cooldown has passed (strictly)
      assert.equal(r.record.desiredReplicas === 0, inactive && expired, `${current} at +${elapsed}ms, cooldown ${cooldown}s, value ${value}/${activation}`);
      if (inactive && !expired) hits.heldInCooldown++;
      if (inactive && expired) hits.zeroAfterCooldown++;
      const z = decideKeda(p, obs(0, [v(value)], 1_000_000 + elapsed), st);
      assert.equal(z.record.desiredReplicas, inactive ? 0 : 1);
      if (inactive) hits.staysAtZero++; else hits.activated++;
    },
  // a fixed seed: the coverage counts below are then the same on every run (not a chance of flaking)
  ), { numRuns: 300, seed: 0x7a1de });
  for (const [k, n] of Object.entries(hits)) assert.ok(n >= 20, `${k} reached only ${n} times (${JSON.stringify(hits)})`);
});
