// KEDA's ScaledObject loop at the edges the first mutation run found unpinned (own numbers, after
// kedacore/keda pkg/scaling/scale_handler.go GetScaledObjectMetrics, pkg/fallback/fallback.go,
// pkg/scaling/executor/scale_scaledobjects.go RequestScale and controllers/keda/hpa.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKeda, emptyKedaState, formatMilli, generatedHpaPolicy, isResourceTrigger } from '../../../src/deciders/keda/decide.ts';
import type { KedaPolicy, KedaState } from '../../../src/deciders/keda/types.ts';
import { err, obs, pods, policy, trigger, v } from './helpers.ts';

const S = 1000;
const cond = (r: { conditions: { type: string; status: string; reason: string }[] }, type: string) =>
  r.conditions.find((c) => c.type === type);
const active0: KedaState = { ...emptyKedaState(0), lastActiveTime: 0 };
const twoTriggers = (over: Partial<KedaPolicy> = {}) => policy({
  triggers: [trigger({ name: 'a', target: 1 }, 0), trigger({ type: 'prometheus', name: 'b', metricName: 's1-prometheus', target: 1 }, 1)],
  ...over,
});

test('scalingModifiers without fallback: a failing trigger makes the composite metric an error for the HPA (no scaling on the rest)', () => {
  const p = twoTriggers({ scalingModifiers: { formula: 'b', target: 2, activationTarget: 0, metricType: 'AverageValue' } });
  // b alone says 40 / 2 = 20 replicas; a fails → GetScaledObjectMetrics answers an error
  const r = decideKeda(p, obs(3, [err(), v(40)], S), active0);
  assert.equal(r.record.desiredReplicas, 3);
  assert.equal(r.record.details.isError, true);
  assert.ok(r.record.details.composite?.error, 'the composite carries the error');
  assert.ok(r.record.limitedBy.includes('invalid-metrics'));
  // and activity is not judged on a composite that had an error: from 0 nothing activates
  const z = decideKeda(p, obs(0, [err(), v(40)], S), emptyKedaState(0));
  assert.equal(z.record.desiredReplicas, 0);
  assert.equal(z.record.details.isActive, false);
});

test('scalingModifiers: "a ?? b" with both triggers healthy uses a', () => {
  const p = twoTriggers({ scalingModifiers: { formula: 'a ?? b', target: 2, activationTarget: 0, metricType: 'AverageValue' } });
  const r = decideKeda(p, obs(3, [v(4), v(6)], S), active0);
  assert.equal(r.record.details.composite?.value, 4);
  assert.equal(r.record.desiredReplicas, 2, 'ceil(4 / 2) = 2 from 3');
});

test('a NaN or infinite trigger value is an error (no scale-down), never a value of 0', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    const r = decideKeda(policy(), obs(4, [v(bad)], 100 * S), active0);
    assert.equal(r.record.details.isError, true, `value ${bad}`);
    assert.equal(r.record.details.triggers[0].value, null);
    assert.match(r.record.details.triggers[0].error ?? '', /invalid value/);
    assert.equal(r.record.desiredReplicas, 4);
    assert.equal(cond(r.record, 'Ready')?.reason, 'TriggerError');
  }
  // a pods observation for an external trigger is an error too
  const r = decideKeda(policy(), obs(4, [{ kind: 'pods', samples: [] }], 100 * S), active0);
  assert.equal(r.record.details.isError, true);
});

test('a Value fallback with 0 ready pods cannot fall back: error performing fallback, nothing moves', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' }, triggers: [trigger({ metricType: 'Value', target: 4 })] });
  const r = decideKeda(p, obs(3, [err()], S, 0), active0);
  assert.equal(r.record.details.fallbackActive, false);
  assert.equal(r.record.details.isError, true);
  assert.match(r.record.details.triggers[0].error ?? '', /error performing fallback/);
  assert.equal(r.record.desiredReplicas, 3);
  // with ready pods that are not Running+Ready (pending) it is the same
  const o = obs(3, [err()], S, 2);
  o.pods = o.pods.map((x) => ({ ...x, ready: { status: 'False' as const, lastTransitionTime: 0 } }));
  assert.equal(decideKeda(p, o, active0).record.details.fallbackActive, false);
  // an AverageValue fallback needs no ready pods: target × replicas
  const q = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' } });
  const ok = decideKeda(q, obs(3, [err()], S, 0), active0);
  assert.equal(ok.record.details.fallbackActive, true);
  assert.equal(ok.record.details.triggers[0].hpaValue, 30);
});

test('fallback value is int64(target × 1000 × replicas) milli-units (a fractional Value target, 3 ready)', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 2, behavior: 'static' }, triggers: [trigger({ metricType: 'Value', target: 0.7 })] });
  const r = decideKeda(p, obs(3, [err()], S), active0);
  // 0.7 × 1000 × (2 / 3) = 466.66… → 466m
  assert.equal(r.record.details.triggers[0].hpaValue, 0.466);
  // 0.29 × 100 × 1000 would truncate to 28999m; KEDA multiplies 0.29 × 1000 × 100 = 29000m
  const q = policy({ fallback: { failureThreshold: 0, replicas: 100, behavior: 'static' }, triggers: [trigger({ target: 0.29 })], maxReplicaCount: 200 });
  assert.equal(decideKeda(q, obs(3, [err()], S), active0).record.details.triggers[0].hpaValue, 29);
});

test('ready replicas for a Value fallback: Running and Ready, terminating pods included (as KEDA counts them)', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' }, triggers: [trigger({ metricType: 'Value', target: 4 })] });
  const o = obs(3, [err()], S, 3);
  o.pods = [
    { ...o.pods[0]!, deletionTimestamp: 0 },
    { ...o.pods[1]!, phase: 'Pending' as const },
    o.pods[2]!,
  ];
  // 2 ready (one terminating): 4 × 6 / 2 = 12
  assert.equal(decideKeda(p, o, active0).record.details.triggers[0].hpaValue, 12);
});

test('fallback thresholds: failures must exceed failureThreshold; a negative threshold or replicas disables fallback', () => {
  const p = policy({ fallback: { failureThreshold: 1, replicas: 6, behavior: 'static' } });
  const r1 = decideKeda(p, obs(2, [err()], S), active0);
  assert.equal(r1.record.details.fallbackActive, false, '1 failure = threshold 1: not yet');
  assert.equal(r1.state.health['s0-redis-jobs'].numberOfFailures, 1);
  const r2 = decideKeda(p, obs(2, [err()], 2 * S), r1.state);
  assert.equal(r2.record.details.fallbackActive, true);
  for (const fb of [{ failureThreshold: -1, replicas: 6 }, { failureThreshold: 0, replicas: -1 }]) {
    const q = policy({ fallback: { ...fb, behavior: 'static' } });
    const r = decideKeda(q, obs(2, [err()], S), active0);
    assert.equal(r.record.details.fallbackActive, false);
    assert.deepEqual(r.state.health, {}, 'no health is tracked without a valid fallback');
  }
  // scalingModifiers with a fallback need a positive integer composite target
  const sm = twoTriggers({
    scalingModifiers: { formula: 'a + b', target: 2.5, activationTarget: 0, metricType: 'AverageValue' },
    fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' },
  });
  assert.equal(decideKeda(sm, obs(2, [err(), v(1)], S), active0).record.details.fallbackActive, false);
  const smOk = twoTriggers({
    scalingModifiers: { formula: 'a + b', target: 2, activationTarget: 0, metricType: 'AverageValue' },
    fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' },
  });
  const f = decideKeda(smOk, obs(2, [err(), v(1)], S), active0);
  assert.equal(f.record.details.fallbackActive, true);
  assert.equal(f.record.details.composite?.value, 12, 'the composite is the fallback value: 2 × 6');
  assert.equal(f.record.desiredReplicas, 6);
});

test('fallback with failing triggers but fallback.replicas 0 and min 0: inactive KEDA may scale to zero', () => {
  const p = policy({ fallback: { failureThreshold: 5, replicas: 0, behavior: 'static' }, cooldownPeriodSeconds: 0 });
  const r = decideKeda(p, obs(2, [err()], 100 * S), active0);
  assert.equal(r.record.desiredReplicas, 0, 'not held for a fallback to 0 replicas');
  const q = policy({ fallback: { failureThreshold: 5, replicas: 3, behavior: 'static' }, cooldownPeriodSeconds: 0 });
  assert.equal(decideKeda(q, obs(2, [err()], 100 * S), active0).record.desiredReplicas, 2, 'held for the HPA to reach fallback.replicas');
});

test('paused-scale-out disables only HPA scale-up: the HPA still scales down', () => {
  const p = policy({ annotations: { pausedScaleOut: true }, minReplicaCount: 1 });
  const hpa = generatedHpaPolicy(p);
  assert.equal(hpa.behavior?.scaleUp.selectPolicy, 'Disabled');
  assert.notEqual(hpa.behavior?.scaleDown.selectPolicy, 'Disabled');
  // value 5 with target 5 per pod → 1 replica from 4: scale-down goes through
  const r = decideKeda(p, obs(4, [v(5)], S), active0);
  assert.equal(r.record.desiredReplicas, 1);
  const up = decideKeda(p, obs(2, [v(50)], S), active0);
  assert.equal(up.record.desiredReplicas, 2);
  // paused-scale-in alone leaves scale-up enabled; defaults complete a missing behavior
  const q = policy({ annotations: { pausedScaleIn: true }, behavior: undefined, minReplicaCount: 1 });
  const hq = generatedHpaPolicy(q);
  assert.equal(hq.behavior?.scaleDown.selectPolicy, 'Disabled');
  assert.equal(hq.behavior?.scaleUp.selectPolicy, 'Max');
  assert.equal(hq.behavior?.scaleDown.stabilizationWindowSeconds, 300);
  assert.equal(decideKeda(q, obs(2, [v(50)], S), active0).record.desiredReplicas, 6, 'HPA default scale-up: max(+100 %, +4 pods)');
  assert.equal(generatedHpaPolicy(policy({ behavior: undefined })).behavior, undefined);
});

test('paused-scale-out at zero: active triggers do not activate, and lastActiveTime is not refreshed', () => {
  const p = policy({ annotations: { pausedScaleOut: true } });
  const r = decideKeda(p, obs(0, [v(50)], 9 * S), active0);
  assert.equal(r.record.desiredReplicas, 0);
  assert.equal(r.state.lastActiveTime, 0);
  assert.match(r.record.explanation, /paused/);
});

test('min ≥ 1: an inactive ScaledObject leaves the scale-down to the HPA (its behavior applies), KEDA does not jump to min', () => {
  const p = policy({
    minReplicaCount: 1, cooldownPeriodSeconds: 0,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 1000, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }] },
    },
  });
  const r = decideKeda(p, obs(3, [v(0)], 100 * S), active0);
  assert.equal(r.record.details.phase, 'hpa');
  assert.equal(r.record.details.kedaScaleTo, null);
  assert.equal(r.record.desiredReplicas, 2, 'the HPA removes one pod per period');
  assert.equal(cond(r.record, 'Active')?.status, 'False');
});

test('idle mode: below min while inactive is not corrected by KEDA; at idle nothing happens; active at idle jumps to min', () => {
  const p = policy({ minReplicaCount: 3, idleReplicaCount: 0, cooldownPeriodSeconds: 0 });
  const atIdle = decideKeda(p, obs(0, [v(0)], 100 * S), active0);
  assert.equal(atIdle.record.desiredReplicas, 0);
  const up = decideKeda(p, obs(0, [v(1)], 100 * S), active0);
  assert.equal(up.record.desiredReplicas, 3);
  // current 2 < min 3 with idle mode, active: KEDA scales to min
  const mid = decideKeda(p, obs(2, [v(1)], 100 * S), active0);
  assert.equal(mid.record.desiredReplicas, 3);
  assert.equal(mid.record.details.phase, 'activation');
  // current 4 > idle, inactive, cooldown over → idle
  const down = decideKeda(p, obs(4, [v(0)], 100 * S), active0);
  assert.equal(down.record.desiredReplicas, 0);
  assert.equal(down.record.details.phase, 'deactivation');
});

test('cooldown boundaries: initialCooldownPeriod ends strictly after creation + period; lastActiveTime + cooldown likewise', () => {
  const p = policy({ initialCooldownPeriodSeconds: 60, cooldownPeriodSeconds: 30 });
  const created = emptyKedaState(0);
  // while cooling down the HPA runs (value 0 → its min of 1); only after it KEDA takes the target to 0
  assert.equal(decideKeda(p, obs(2, [v(0)], 60 * S), created).record.desiredReplicas, 1);
  assert.equal(decideKeda(p, obs(2, [v(0)], 60 * S + 1), created).record.desiredReplicas, 0);
  const last: KedaState = { ...emptyKedaState(0), lastActiveTime: 10 * S };
  const held = decideKeda(p, obs(2, [v(0)], 40 * S), last);
  assert.equal(held.record.desiredReplicas, 1);
  assert.equal(held.record.details.phase, 'hpa');
  assert.equal(held.record.details.cooldownUntil, 40 * S);
  assert.ok(held.record.limitedBy.includes('cooldown'));
  assert.equal(cond(held.record, 'Active')?.reason, 'ScalerCooldown');
  assert.equal(decideKeda(p, obs(2, [v(0)], 40 * S + 1), last).record.desiredReplicas, 0);
  // never-active object: cooldownUntil is creation + initial cooldown
  assert.equal(decideKeda(p, obs(2, [v(0)], 30 * S), created).record.details.cooldownUntil, 60 * S);
});

test('an active ScaledObject at N refreshes lastActiveTime; with a partial error it does not', () => {
  const p = twoTriggers();
  const ok = decideKeda(p, obs(2, [v(3), v(1)], 50 * S), active0);
  assert.equal(ok.state.lastActiveTime, 50 * S);
  const partial = decideKeda(p, obs(2, [v(3), err()], 50 * S), active0);
  assert.equal(partial.state.lastActiveTime, 0);
  assert.equal(cond(partial.record, 'Ready')?.status, 'Unknown');
  // activation from zero sets it too
  const act = decideKeda(policy(), obs(0, [v(3)], 70 * S), emptyKedaState(0));
  assert.equal(act.state.lastActiveTime, 70 * S);
  assert.equal(act.record.details.phase, 'activation');
  assert.equal(act.record.desiredReplicas, 1);
});

test('activation threshold is strict per trigger; a composite is active only above its own activationTarget', () => {
  const p = policy({ triggers: [trigger({ activationTarget: 5 })] });
  assert.equal(decideKeda(p, obs(0, [v(5)], S), emptyKedaState(0)).record.desiredReplicas, 0);
  assert.equal(decideKeda(p, obs(0, [v(5.001)], S), emptyKedaState(0)).record.desiredReplicas, 1);
  const sm = twoTriggers({ scalingModifiers: { formula: 'a + b', target: 2, activationTarget: 4, metricType: 'AverageValue' } });
  assert.equal(decideKeda(sm, obs(0, [v(2), v(2)], S), emptyKedaState(0)).record.desiredReplicas, 0);
  assert.equal(decideKeda(sm, obs(0, [v(2), v(3)], S), emptyKedaState(0)).record.desiredReplicas, 1);
});

test('at zero the HPA is disabled: an active object waits for KEDA, limitedBy says so', () => {
  const p = policy({ annotations: { pausedScaleOut: true } });
  const r = decideKeda(p, obs(0, [v(50)], S), emptyKedaState(0));
  assert.equal(r.record.details.phase, 'hold');
  assert.deepEqual(r.record.limitedBy, ['disabled']);
  const idle = decideKeda(policy(), obs(0, [v(0)], S), emptyKedaState(0));
  assert.deepEqual(idle.record.limitedBy, ['activation']);
});

test('resource triggers: cpu/memory are Resource (or ContainerResource) metrics; their errors reach the HPA', () => {
  assert.equal(isResourceTrigger({ type: 'cpu' }), true);
  assert.equal(isResourceTrigger({ type: 'memory' }), true);
  assert.equal(isResourceTrigger({ type: 'redis' }), false);
  const p = policy({ triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu' }), trigger({}, 1)] });
  const hpa = generatedHpaPolicy(p);
  assert.equal(hpa.metrics[0].type, 'Resource');
  const c = generatedHpaPolicy(policy({ triggers: [trigger({ type: 'memory', metricType: 'AverageValue', target: 1.5, metricName: 'memory', metadata: { containerName: 'main' } })] }));
  assert.deepEqual(c.metrics[0], { type: 'ContainerResource', containerResource: { name: 'memory', container: 'main', target: { type: 'AverageValue', averageValue: 1500 } } });
  assert.equal(hpa.minReplicas, 1, 'the generated HPA has min ≥ 1');
  assert.equal(generatedHpaPolicy(policy({ minReplicaCount: 4 })).minReplicas, 4);
});

test('quantities: int64(value × 1000) milli-units, printed like kubectl', () => {
  assert.equal(formatMilli(5000), '5');
  assert.equal(formatMilli(1500), '1500m');
  const hpa = generatedHpaPolicy(policy({ triggers: [trigger({ target: 0.0019 })] }));
  assert.deepEqual(hpa.metrics[0].type === 'External' && hpa.metrics[0].external.target, { type: 'AverageValue', averageValue: 1 });
  const val = generatedHpaPolicy(policy({ triggers: [trigger({ metricType: 'Value', target: 2 })] }));
  assert.deepEqual(val.metrics[0].type === 'External' && val.metrics[0].external.target, { type: 'Value', value: 2000 });
  void pods;
});

test('partial failure: the healthy trigger keeps its own metric slot and target (no shift of observations)', () => {
  const p = policy({ triggers: [trigger({ target: 5 }, 0), trigger({ type: 'prometheus', metricName: 's1-prometheus', target: 10 }, 1)] });
  // trigger 0 fails, trigger 1 says 40 / 10 per pod → 4 replicas; a shifted slot would read 40 / 5 → 8
  const r = decideKeda(p, obs(2, [err(), v(40)], S), active0);
  assert.equal(r.record.desiredReplicas, 4);
  // the same while a fallback is configured but its threshold is not reached yet
  const q = policy({ triggers: p.triggers, fallback: { failureThreshold: 3, replicas: 6, behavior: 'static' } });
  const r2 = decideKeda(q, obs(2, [err(), v(40)], S), active0);
  assert.equal(r2.record.desiredReplicas, 4);
  assert.equal(r2.record.details.isError, true);
  assert.equal(r2.record.details.triggers[0].failures, 1);
  assert.deepEqual(r2.state.health['s0-redis-jobs'], { numberOfFailures: 1, status: 'Failing' });
  assert.deepEqual(r2.state.health['s1-prometheus'], { numberOfFailures: 0, status: 'Happy' });
  // without a fallback no health is kept, even for healthy triggers
  assert.deepEqual(decideKeda(policy(), obs(2, [v(3)], S), active0).state.health, {});
});

test('fallback with 1 ready pod and a Value metric works; fallback.replicas 1 still holds an inactive object', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' }, triggers: [trigger({ metricType: 'Value', target: 4 })] });
  const r = decideKeda(p, obs(3, [err()], S, 1), active0);
  assert.equal(r.record.details.fallbackActive, true);
  assert.equal(r.record.details.triggers[0].hpaValue, 24);
  assert.equal(r.record.details.triggers[0].fallback, true);
  const q = policy({ fallback: { failureThreshold: 5, replicas: 1, behavior: 'static' }, cooldownPeriodSeconds: 0 });
  const held = decideKeda(q, obs(2, [err()], 100 * S), active0);
  assert.equal(held.record.desiredReplicas, 2);
  assert.equal(held.state.health['s0-redis-jobs'].numberOfFailures, 1, 'fallback.replicas 0 is still a valid fallback that counts failures');
  const z = policy({ fallback: { failureThreshold: 5, replicas: 0, behavior: 'static' }, cooldownPeriodSeconds: 0 });
  assert.equal(decideKeda(z, obs(2, [err()], 100 * S), active0).state.health['s0-redis-jobs'].numberOfFailures, 1);
});

test('scalingModifiers: Value composite target, Value fallback per ready pod, positive integer targets only', () => {
  const mk = (target: number, metricType: 'Value' | 'AverageValue' = 'Value') => twoTriggers({
    scalingModifiers: { formula: 'a + b', target, activationTarget: 0, metricType },
    fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' },
  });
  const hpa = generatedHpaPolicy(mk(2));
  assert.deepEqual(hpa.metrics[0].type === 'External' && hpa.metrics[0].external.target, { type: 'Value', value: 2000 });
  // composite Value fallback: 2 × 6 / 3 ready = 4
  const r = decideKeda(mk(2), obs(3, [err(), v(1)], S), active0);
  assert.equal(r.record.details.composite?.value, 4);
  assert.equal(decideKeda(mk(0), obs(3, [err(), v(1)], S), active0).record.details.fallbackActive, false, 'target 0 is not a valid fallback target');
  assert.equal(decideKeda(mk(1), obs(3, [err(), v(1)], S), active0).record.details.fallbackActive, true, 'target 1 is');
  const good = decideKeda(mk(2), obs(3, [v(1), v(1)], S), active0);
  assert.equal('error' in (good.record.details.composite ?? {}), false);
});

test('conditions keep their lastTransitionTime while the status stays, and move when it changes', () => {
  const p = policy();
  const a = decideKeda(p, obs(2, [v(10)], 10 * S), active0);
  const b = decideKeda(p, obs(4, [v(10)], 20 * S), a.state);
  const at = (r: typeof a, type: string) => r.record.conditions.find((c) => c.type === type)?.lastTransitionTime;
  assert.equal(at(b, 'Ready'), new Date(10 * S).toISOString());
  assert.equal(at(b, 'Active'), new Date(10 * S).toISOString());
  const c = decideKeda(policy({ cooldownPeriodSeconds: 1000 }), obs(4, [v(0)], 30 * S), b.state);
  assert.equal(c.record.conditions.find((x) => x.type === 'Active')?.status, 'False');
  assert.equal(at(c, 'Active'), new Date(30 * S).toISOString());
  assert.equal(at(c, 'Ready'), new Date(10 * S).toISOString());
});

test('record plumbing: config in the inputs only when given, createdAt defaults to the first decision, names in details', () => {
  const p = twoTriggers();
  const r = decideKeda(p, obs(2, [v(1), v(1)], 7 * S), emptyKedaState(), 7 * S, { tolerance: 0.2 } as never);
  assert.deepEqual(r.record.inputs.config, { tolerance: 0.2 });
  assert.equal(r.state.createdAt, 7 * S);
  assert.equal(r.record.details.triggers[0].name, 'a');
  assert.equal(r.record.details.triggers[0].value, 1);
  assert.equal(r.record.details.triggers[0].hpaValue, 1);
  const plain = decideKeda(policy(), obs(2, [v(1)], S), active0);
  assert.equal('config' in plain.record.inputs, false);
  assert.equal('name' in plain.record.details.triggers[0], false);
  assert.equal('createdAt' in emptyKedaState(), false);
  assert.ok(plain.record.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));
  // a missing observation is an error for that trigger
  const missing = decideKeda(p, obs(2, [v(1)], S), active0);
  assert.match(missing.record.details.triggers[1].error ?? '', /no observation/);
  // a cpu trigger given a single value is an error (it needs per-pod samples); its detail is kept
  const cpu = policy({ triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu' })] });
  const rc = decideKeda(cpu, obs(2, [v(3)], S), active0);
  assert.equal(rc.record.details.triggers.length, 1);
  assert.equal(rc.record.desiredReplicas, 2);
});

test('paused: Ready and Paused conditions, explanation per annotation, kedaScaleTo only when it moves', () => {
  const same = decideKeda(policy({ annotations: { pausedReplicas: 3 } }), obs(3, [v(0)], S), emptyKedaState(0));
  assert.equal(same.record.details.kedaScaleTo, null);
  assert.match(same.record.explanation, /paused at 3 replicas \(paused-replicas annotation\)/);
  const moved = decideKeda(policy({ annotations: { pausedReplicas: 5 } }), obs(3, [v(0)], S), emptyKedaState(0));
  assert.equal(moved.record.details.kedaScaleTo, 5);
  assert.match(moved.record.explanation, /scaled 3→5: paused-replicas annotation/);
  const frozen = decideKeda(policy({ annotations: { paused: true } }), obs(3, [v(0)], S), emptyKedaState(0));
  assert.match(frozen.record.explanation, /triggers are not polled/);
  const d = frozen.record.details;
  assert.deepEqual([d.phase, d.isActive, d.isError, d.fallbackActive, d.triggers.length], ['paused', false, false, false, 0]);
  assert.deepEqual(frozen.record.conditions.map((c) => [c.type, c.status]), [['Ready', 'True'], ['Paused', 'True']]);
});

test('no spurious KEDA moves: at idle, at zero with min 0, and at min with idle mode', () => {
  const idle = policy({ minReplicaCount: 3, idleReplicaCount: 0, cooldownPeriodSeconds: 0 });
  assert.deepEqual(decideKeda(idle, obs(0, [v(0)], 100 * S), active0).record.events, []);
  assert.deepEqual(decideKeda(policy({ cooldownPeriodSeconds: 0 }), obs(0, [v(0)], 100 * S), active0).record.events, []);
  const atMin = decideKeda(idle, obs(3, [v(1)], 100 * S), active0);
  assert.ok(!atMin.record.events.some((e) => e.reason === 'KEDAScaleTargetActivated'));
  assert.equal(atMin.record.details.phase, 'hpa');
  // without idle mode, active below min is the HPA's job (KEDA only activates from 0)
  const noIdle = decideKeda(policy({ minReplicaCount: 3 }), obs(2, [v(1)], 100 * S), active0);
  assert.equal(noIdle.record.details.phase, 'hpa');
  assert.equal(noIdle.record.details.kedaScaleTo, null);
  // inactive below min without idle mode: KEDA restores min itself
  const restore = decideKeda(policy({ minReplicaCount: 2 }), obs(1, [v(0)], S), emptyKedaState(0));
  assert.equal(restore.record.details.kedaScaleTo, 2);
  assert.equal(restore.record.details.phase, 'activation');
  // one replica, inactive, cooldown over, min 0: KEDA takes it to 0
  const one = decideKeda(policy({ cooldownPeriodSeconds: 0 }), obs(1, [v(0)], 100 * S), active0);
  assert.equal(one.record.desiredReplicas, 0);
  assert.equal(one.record.details.phase, 'deactivation');
  assert.ok(one.record.events.some((e) => e.reason === 'KEDAScaleTargetDeactivated' && /from 1 to 0/.test(e.message)));
});

test('composite activation: the event names the composite metric only', () => {
  const sm = twoTriggers({ scalingModifiers: { formula: 'a + b', target: 2, activationTarget: 1, metricType: 'AverageValue' } });
  const r = decideKeda(sm, obs(0, [v(2), v(3)], S), emptyKedaState(0));
  const e = r.record.events.find((x) => x.reason === 'KEDAScaleTargetActivated');
  assert.ok(e);
  assert.match(e!.message, /triggered by composite-metric$/);
  const idle = decideKeda(policy(), obs(0, [v(0)], S), emptyKedaState(0));
  assert.match(idle.record.explanation, /no trigger above its activation threshold/);
});

test('HPA defaults that complete a paused behavior are autoscaling/v2 defaults', async () => {
  const { defaultScaleUpRules, defaultScaleDownRules } = await import('../../../src/deciders/keda/decide.ts');
  assert.deepEqual(defaultScaleUpRules(), { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] });
  assert.deepEqual(defaultScaleDownRules(), { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
});

test('generated HPA carries namespace, source file and selecting HPAs only when given', () => {
  const h = generatedHpaPolicy(policy({ namespace: 'ns', source: { file: 'so.yaml' }, selectingHpas: ['other'] } as Partial<KedaPolicy>));
  assert.equal(h.namespace, 'ns');
  assert.deepEqual(h.source, { apiVersion: 'autoscaling/v2', file: 'so.yaml' });
  assert.deepEqual(h.selectingHpas, ['other']);
  const bare = generatedHpaPolicy(policy({ namespace: undefined, behavior: undefined }));
  assert.equal('namespace' in bare, false);
  assert.equal('behavior' in bare, false);
  assert.equal('selectingHpas' in bare, false);
  assert.deepEqual(bare.source, { apiVersion: 'autoscaling/v2' });
});

test('a failing cpu trigger is an invalid Resource metric for the HPA (no scale-down) and its error is kept', () => {
  const p = policy({ minReplicaCount: 1, triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu' }), trigger({}, 1)] });
  const r = decideKeda(p, obs(4, [err('metrics-server down'), v(0)], S), active0);
  assert.equal(r.record.details.triggers[0].error, 'metrics-server down');
  assert.equal(r.record.desiredReplicas, 4, 'the redis trigger says 0, but an invalid metric blocks the scale-down');
});

test('a failed Value fallback (0 ready pods) keeps the other trigger in its own slot', () => {
  const p = policy({
    fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' },
    triggers: [trigger({ metricType: 'Value', target: 4 }, 0), trigger({ type: 'prometheus', metricName: 's1-prometheus', target: 10 }, 1)],
  });
  // trigger 1: AverageValue 40 / 10 → 4 replicas (external AverageValue needs no pods)
  const r = decideKeda(p, obs(3, [err(), v(40)], S, 0), active0);
  assert.equal(r.record.details.fallbackActive, false);
  assert.equal(r.record.desiredReplicas, 4);
});

test('the generated HPA keeps its own memory across rounds: its downscale stabilization holds the count', () => {
  const p = policy({
    minReplicaCount: 1,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 1000, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
  });
  const up = decideKeda(p, obs(2, [v(50)], 10 * S), active0);
  assert.equal(up.record.desiredReplicas, 10);
  assert.ok(up.record.events.some((e) => e.reason === 'SuccessfulRescale'), "the HPA's own events are passed on");
  assert.equal(up.record.drivingMetric, 0);
  const later = decideKeda(p, obs(10, [v(5)], 40 * S), up.state);
  assert.equal(later.record.desiredReplicas, 10, 'held by the 300 s stabilization window');
  // stabilization never scales up: scaled to 4 from outside, a low value keeps 4 (window max 10, current 4)
  assert.equal(decideKeda(p, obs(4, [v(5)], 40 * S), up.state).record.desiredReplicas, 4);
});

test('limitedBy: fallback replaces none, duplicates go, cooldown only while cooling down', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' } });
  const r = decideKeda(p, obs(2, [err()], S), active0);
  assert.equal(r.record.desiredReplicas, 6);
  assert.deepEqual(r.record.limitedBy, ['fallback'], "the HPA's 'none' gives way");
  const at = decideKeda(policy({ fallback: { failureThreshold: 0, replicas: 2, behavior: 'static' } }), obs(2, [err()], S), active0);
  assert.deepEqual(at.record.limitedBy, ['tolerance', 'fallback']);
  const plain = decideKeda(policy(), obs(2, [v(20)], S), active0);
  assert.deepEqual(plain.record.limitedBy, ['none']);
  assert.ok(!plain.record.limitedBy.includes('cooldown'));
  assert.equal('cooldownUntil' in plain.record.details, false);
  assert.equal('composite' in plain.record.details, false);
  assert.ok(plain.record.details.hpa, 'the HPA part of the record');
  const zero = decideKeda(policy(), obs(0, [v(0)], S), emptyKedaState(0));
  assert.equal('hpa' in zero.record.details, false);
  assert.equal('lastActiveTime' in zero.state, false);
});

test('fallback events only on the transitions', () => {
  const p = policy({ fallback: { failureThreshold: 0, replicas: 6, behavior: 'static' } });
  const a = decideKeda(p, obs(2, [err()], S), active0);
  assert.ok(a.record.events.some((e) => e.reason === 'ScaledObjectFallbackActivated'));
  const b = decideKeda(p, obs(6, [err()], 2 * S), a.state);
  assert.ok(!b.record.events.some((e) => e.reason === 'ScaledObjectFallbackActivated'), 'still in fallback: no new event');
  const c = decideKeda(p, obs(6, [v(10)], 3 * S), b.state);
  assert.ok(c.record.events.some((e) => e.reason === 'ScaledObjectFallbackDeactivated'));
  const d = decideKeda(p, obs(2, [v(10)], 4 * S), c.state);
  assert.ok(!d.record.events.some((e) => /ScaledObjectFallback/.test(e.reason)));
});

test('a cpu trigger that fails or answers a single value keeps its own HPA slot: the redis trigger still scales 2 → 8', () => {
  const p = policy({ minReplicaCount: 1, triggers: [trigger({ type: 'cpu', metricType: 'Utilization', target: 50, metricName: 'cpu' }), trigger({}, 1)] });
  // redis: 40 / 5 per pod → 8; the cpu slot is invalid, which blocks only a scale-down (a shifted
  // observation would leave both slots invalid and keep 2)
  for (const cpu of [err('metrics-server down'), v(3)]) {
    const r = decideKeda(p, obs(2, [cpu, v(40)], S), active0);
    assert.equal(r.record.desiredReplicas, 8, `cpu observation ${cpu.kind}`);
    assert.deepEqual(r.record.limitedBy, ['none']);
  }
});

test('the generated HPA keeps its scale events across rounds: a Pods 2 / 60 s scale-up policy holds the second step', () => {
  const p = policy({
    minReplicaCount: 1,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
  });
  const first = decideKeda(p, obs(2, [v(50)], 10 * S), active0);
  assert.equal(first.record.desiredReplicas, 4, '2 + 2 pods per 60 s');
  // 15 s later the +2 is still inside the period: no more room; a fresh HPA memory would allow 6
  const second = decideKeda(p, obs(4, [v(50)], 25 * S), first.state);
  assert.equal(second.record.desiredReplicas, 4);
  assert.deepEqual(second.record.limitedBy, ['policy']);
  assert.equal(decideKeda(p, obs(4, [v(50)], 25 * S), active0).record.desiredReplicas, 6, 'without the memory the step is allowed');
});

test('scalingModifiers activity: a formula error is never active (even below a negative activationTarget); nor is a fallback value next to a failing trigger', () => {
  // healthy triggers, formula nil without fallback (an error upstream: no composite metric, so no activity)
  const nil = twoTriggers({ scalingModifiers: { formula: 'a > 5 ? a : nil', target: 2, activationTarget: -1, metricType: 'AverageValue' } });
  const z = decideKeda(nil, obs(0, [v(1), v(1)], S), emptyKedaState(0));
  assert.equal(z.record.details.isError, false);
  assert.ok(z.record.details.composite?.error);
  assert.equal(z.record.details.isActive, false);
  assert.equal(z.record.desiredReplicas, 0);
  // a falls back (its 2nd failure > threshold 1), b fails for the first time: the object is in error,
  // so activity is not judged on the composite (the fallback value 2 × 6 = 12 > 0 would activate)
  const fb = twoTriggers({
    scalingModifiers: { formula: 'a + b', target: 2, activationTarget: 0, metricType: 'AverageValue' },
    fallback: { failureThreshold: 1, replicas: 6, behavior: 'static' },
  });
  const st: KedaState = { ...emptyKedaState(0), health: { 's0-redis-jobs': { numberOfFailures: 1, status: 'Failing' } } };
  const r = decideKeda(fb, obs(0, [err(), err()], S), st);
  assert.equal(r.record.details.fallbackActive, true);
  assert.equal(r.record.details.isError, true);
  assert.equal(r.record.details.composite?.value, 12);
  assert.equal(r.record.details.isActive, false);
  assert.equal(r.record.desiredReplicas, 0, 'not activated from 0');
});
