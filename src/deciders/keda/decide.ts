// The KEDA decider: one round of KEDA's ScaledObject loop (scale handler + scale executor) followed by
// one sync of the HPA that KEDA generates. Pure: no I/O, no clock; `now` is explicit.
//
// Split exactly as KEDA does it:
// - 0↔1 (and idle/min corrections) is KEDA's own executor: a trigger is active when its value is
//   strictly greater than its activation threshold; any active trigger activates; with no active
//   trigger the target goes to 0/idle only once cooldownPeriod has passed since the last active time
//   (initialCooldownPeriod since creation when never active). Activation beats scaling.
// - 1↔N is the HPA (decideHpa) fed one External metric per trigger (`s<i>-<name>`, AverageValue or
//   Value) or the composite metric of scalingModifiers, plus Resource metrics for cpu/memory.
// - Scaler errors: without fallback the HPA sees an invalid metric (no scale-down); with fallback,
//   after more than failureThreshold consecutive failures the trigger's metric is replaced by
//   target × replicas (÷ ready replicas for Value) which drives the HPA to fallback.replicas.
//
// Tide runs both loops in one decision; a failing trigger's failure count grows by one per decision
// (KEDA counts each poll and each HPA metrics request, so thresholds are reached in fewer wall-clock
// seconds there; this is documented in docs/keda.md).

import type { Condition, DecisionEvent, DecisionRecord, LimitRule, MetricProposal } from '../../core/decision.ts';
import type {
  HpaBehavior, HpaControllerConfig, HpaObservation, HpaPolicy, HpaScalingRules, HpaState,
  MetricObservation, MetricSpec,
} from '../hpa/types.ts';
import { decideHpa, emptyHpaState } from '../hpa/decide.ts';
import { compileFormula, evaluateComposite, FormulaError } from './formula.ts';
import type {
  KedaDetails, KedaObservation, KedaPolicy, KedaState, KedaTrigger, TriggerDetail, TriggerHealth,
} from './types.ts';

export type KedaInputs = {
  policy: KedaPolicy;
  observation: KedaObservation;
  state: KedaState;
  now: number;
  config?: Partial<HpaControllerConfig>;
};
export type KedaDecisionRecord = DecisionRecord<KedaInputs, KedaDetails>;

export const COMPOSITE_METRIC_NAME = 'composite-metric';

export function emptyKedaState(createdAt?: number): KedaState {
  const s: KedaState = { health: {}, hpa: emptyHpaState() };
  if (createdAt !== undefined) s.createdAt = createdAt;
  return s;
}

export function isResourceTrigger(t: { type: string }): boolean {
  return t.type === 'cpu' || t.type === 'memory';
}

/** Default HPA rules per direction (autoscaling/v2 defaults), used to complete a partial behavior. */
export function defaultScaleUpRules(): HpaScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }],
  };
}
export function defaultScaleDownRules(): HpaScalingRules {
  return { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Milli-units the way KEDA builds quantities: int64(value*1000), i.e. truncated toward zero. */
function milli(v: number): number {
  return Math.trunc(v * 1000);
}

/** kubectl-like quantity string from milli-units. */
export function formatMilli(m: number): string {
  if (m % 1000 === 0) return String(m / 1000);
  return `${m}m`;
}

function cloneHealth(h: Record<string, TriggerHealth>): Record<string, TriggerHealth> {
  const out: Record<string, TriggerHealth> = {};
  for (const [k, v] of Object.entries(h)) out[k] = { ...v };
  return out;
}

/** Build the generated HPA (keda-hpa-<name>) for a ScaledObject. */
export function generatedHpaPolicy(policy: KedaPolicy): HpaPolicy {
  const metrics: MetricSpec[] = [];
  for (const t of policy.triggers) {
    if (isResourceTrigger(t)) {
      metrics.push(resourceMetricSpec(t));
    } else if (!policy.scalingModifiers) {
      metrics.push({
        type: 'External',
        external: {
          metric: { name: t.metricName, selector: { matchLabels: { 'scaledobject.keda.sh/name': policy.name } } },
          target: t.metricType === 'Value'
            ? { type: 'Value', value: milli(t.target) }
            : { type: 'AverageValue', averageValue: milli(t.target) },
        },
      });
    }
  }
  if (policy.scalingModifiers) {
    const sm = policy.scalingModifiers;
    metrics.push({
      type: 'External',
      external: {
        metric: { name: COMPOSITE_METRIC_NAME, selector: { matchLabels: { 'scaledobject.keda.sh/name': policy.name } } },
        target: sm.metricType === 'Value' ? { type: 'Value', value: milli(sm.target) } : { type: 'AverageValue', averageValue: milli(sm.target) },
      },
    });
  }
  let behavior: HpaBehavior | undefined = policy.behavior
    ? { scaleUp: { ...policy.behavior.scaleUp }, scaleDown: { ...policy.behavior.scaleDown } }
    : undefined;
  if (policy.annotations.pausedScaleIn || policy.annotations.pausedScaleOut) {
    behavior ??= { scaleUp: defaultScaleUpRules(), scaleDown: defaultScaleDownRules() };
    if (policy.annotations.pausedScaleIn) behavior.scaleDown.selectPolicy = 'Disabled';
    if (policy.annotations.pausedScaleOut) behavior.scaleUp.selectPolicy = 'Disabled';
  }
  const hpa: HpaPolicy = {
    name: `keda-hpa-${policy.name}`,
    scaleTargetRef: policy.scaleTargetRef,
    minReplicas: Math.max(1, policy.minReplicaCount),
    maxReplicas: policy.maxReplicaCount,
    metrics,
    source: { apiVersion: 'autoscaling/v2', ...(policy.source?.file ? { file: policy.source.file } : {}) },
  };
  if (policy.namespace) hpa.namespace = policy.namespace;
  if (behavior) hpa.behavior = behavior;
  if (policy.selectingHpas) hpa.selectingHpas = policy.selectingHpas;
  return hpa;
}

function resourceMetricSpec(t: KedaTrigger): MetricSpec {
  const target = t.metricType === 'Utilization'
    ? { type: 'Utilization' as const, averageUtilization: t.target }
    : { type: 'AverageValue' as const, averageValue: milli(t.target) };
  const container = t.metadata.containerName;
  if (container) return { type: 'ContainerResource', containerResource: { name: t.type, container, target } };
  return { type: 'Resource', resource: { name: t.type, target } };
}

function fallbackConfigured(policy: KedaPolicy): boolean {
  const fb = policy.fallback;
  if (!fb) return false;
  if (fb.failureThreshold < 0 || fb.replicas < 0) return false;
  if (policy.scalingModifiers && !(Number.isInteger(policy.scalingModifiers.target) && policy.scalingModifiers.target > 0)) return false;
  return true;
}

/** fallback.go getReadyReplicasCount: Running pods whose Ready condition is True (terminating ones included). */
function readyReplicaCount(obs: KedaObservation): number {
  return obs.pods.filter((p) => p.phase === 'Running' && p.ready?.status === 'True').length;
}

/** The synthetic metric value (base units) KEDA serves when falling back; null when it cannot. */
function fallbackValue(policy: KedaPolicy, trigger: KedaTrigger | null, current: number, ready: number): number | null {
  const fb = policy.fallback!;
  let replicas: number;
  switch (fb.behavior) {
    case 'currentReplicas': replicas = current; break;
    case 'currentReplicasIfHigher': replicas = Math.max(current, fb.replicas); break;
    case 'currentReplicasIfLower': replicas = Math.min(current, fb.replicas); break;
    case 'scalingModifiers': return null;
    default: replicas = fb.replicas;
  }
  const valueType = policy.scalingModifiers ? policy.scalingModifiers.metricType : trigger?.metricType;
  if (valueType === 'Value') {
    if (ready === 0) return null;
    replicas /= ready;
  }
  const target = policy.scalingModifiers ? policy.scalingModifiers.target : trigger!.target;
  // int64(normalisationValue*1000*replicas), multiplied in KEDA's order (it can differ in the last bit).
  return Math.trunc(target * 1000 * replicas) / 1000;
}

function setCondition(list: Condition[], prev: Condition[] | undefined, c: Condition, nowIso: string): void {
  const old = prev?.find((p) => p.type === c.type);
  const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : nowIso;
  const i = list.findIndex((x) => x.type === c.type);
  const full = { ...c, lastTransitionTime };
  if (i >= 0) list[i] = full; else list.push(full);
}

export function decideKeda(
  policy: KedaPolicy,
  observation: KedaObservation,
  state: KedaState,
  now: number = observation.now,
  config?: Partial<HpaControllerConfig>,
): { record: KedaDecisionRecord; state: KedaState } {
  const inputs: KedaInputs = { policy, observation, state, now };
  if (config) inputs.config = config;
  const nowIso = new Date(now).toISOString();
  const current = observation.target.specReplicas;
  const kind = policy.scaleTargetRef.kind || 'Deployment';
  const targetName = `${kind}/${policy.scaleTargetRef.name}`;
  const nsName = `${policy.namespace ?? 'default'}/${policy.scaleTargetRef.name}`;
  const createdAt = state.createdAt ?? now;
  const conditions: Condition[] = [];
  const events: DecisionEvent[] = [];
  const cond = (type: string, status: Condition['status'], reason: string, message: string) =>
    setCondition(conditions, state.conditions, { type, status, reason, message }, nowIso);

  const base = {
    decider: 'keda' as const,
    autoscaler: policy.name,
    target: targetName,
    time: nowIso,
    now,
    currentReplicas: current,
    inputs,
  };

  // ---- pause annotations: no polling, no HPA ------------------------------------------------------
  if (policy.annotations.pausedReplicas !== undefined || policy.annotations.paused) {
    const desired = policy.annotations.pausedReplicas ?? current;
    cond('Ready', 'True', 'ScaledObjectReady', 'ScaledObject is defined correctly and is ready for scaling');
    cond('Paused', 'True', 'ScaledObjectPaused', 'ScaledObject is paused');
    const explanation = policy.annotations.pausedReplicas !== undefined
      ? (desired === current ? `paused at ${desired} replicas (paused-replicas annotation)` : `scaled ${current}→${desired}: paused-replicas annotation`)
      : `paused at ${current} replicas (paused annotation): triggers are not polled`;
    const record: KedaDecisionRecord = {
      ...base,
      desiredReplicas: desired,
      rescale: desired !== current,
      drivingMetric: null,
      proposals: [],
      limitedBy: ['disabled'],
      explanation,
      conditions,
      events,
      details: { phase: 'paused', isActive: false, isError: false, fallbackActive: false, triggers: [], kedaScaleTo: desired !== current ? desired : null },
    };
    return { record, state: { ...state, createdAt, health: cloneHealth(state.health), conditions } };
  }

  // ---- scale handler: poll every trigger -----------------------------------------------------------
  const fbOn = fallbackConfigured(policy);
  const health = cloneHealth(state.health);
  const ready = readyReplicaCount(observation);
  const details: TriggerDetail[] = [];
  const hpaObs: MetricObservation[] = [];
  let isError = false;
  let isActive = false;
  let fallbackActive = false;
  let firstFallbackValue: number | null = null;
  const activeTriggers: string[] = [];
  const formulaEnv: Record<string, number | null> = {};
  let cpuMemCount = 0;

  policy.triggers.forEach((t, index) => {
    const o = observation.triggers[index] ?? { kind: 'error' as const, message: 'no observation for this trigger' };
    const d: TriggerDetail = { index, type: t.type, metricName: t.metricName, value: null, hpaValue: null, active: false };
    if (t.name) d.name = t.name;
    if (isResourceTrigger(t)) {
      // cpu/memory are HPA Resource metrics read from the runtime; KEDA never polls them.
      cpuMemCount++;
      if (o.kind === 'pods') hpaObs.push({ kind: 'pods', samples: o.samples });
      else if (o.kind === 'error') { hpaObs.push({ kind: 'error', message: o.message }); d.error = o.message; }
      else hpaObs.push({ kind: 'error', message: `${t.type} trigger needs per-pod samples` });
      details.push(d);
      return;
    }
    let value: number | null = null;
    let error: string | undefined;
    if (o.kind === 'value' && Number.isFinite(o.value)) value = o.value;
    else error = o.kind === 'error' ? o.message : o.kind === 'value' ? `invalid value ${o.value}` : 'expected a single value';

    if (error === undefined) {
      if (fbOn) health[t.metricName] = { numberOfFailures: 0, status: 'Happy' };
      d.value = value;
      d.hpaValue = value;
      d.active = value! > t.activationTarget;
      formulaEnv[t.name ?? t.metricName] = value;
      hpaObs.push({ kind: 'external', values: [milli(value!)], timestamp: (o as { timestamp: number }).timestamp });
    } else {
      d.error = error;
      events.push({ type: 'Warning', reason: 'KEDAScalerFailed', message: error });
      if (!fbOn) {
        isError = true;
        formulaEnv[t.name ?? t.metricName] = null;
        hpaObs.push({ kind: 'error', message: error });
      } else {
        const h = health[t.metricName] ?? { numberOfFailures: 0, status: 'Happy' as const };
        const failures = h.numberOfFailures + 1;
        health[t.metricName] = { numberOfFailures: failures, status: 'Failing' };
        d.failures = failures;
        if (failures > policy.fallback!.failureThreshold) {
          if (policy.fallback!.behavior === 'scalingModifiers') {
            // The formula sees nil for this trigger and routes around it with ??.
            formulaEnv[t.name ?? t.metricName] = null;
            hpaObs.push({ kind: 'error', message: error });
          } else {
            const fv = fallbackValue(policy, t, current, ready);
            if (fv === null) {
              isError = true;
              d.error = `${error}; error performing fallback (no ready replicas for a Value metric)`;
              formulaEnv[t.name ?? t.metricName] = null;
              hpaObs.push({ kind: 'error', message: d.error });
            } else {
              fallbackActive = true;
              firstFallbackValue ??= fv;
              d.fallback = true;
              d.hpaValue = fv;
              d.active = true;
              formulaEnv[t.name ?? t.metricName] = fv;
              hpaObs.push({ kind: 'external', values: [milli(fv)], timestamp: now });
            }
          }
        } else {
          isError = true;
          formulaEnv[t.name ?? t.metricName] = null;
          hpaObs.push({ kind: 'error', message: error });
        }
      }
    }
    if (d.active) { isActive = true; activeTriggers.push(t.metricName); }
    details.push(d);
  });

  // ---- scaling modifiers: one composite metric -----------------------------------------------------
  let composite: KedaDetails['composite'];
  let finalObs = hpaObs;
  if (policy.scalingModifiers) {
    const sm = policy.scalingModifiers;
    let value: number | null = null;
    let err: string | undefined;
    if (fallbackActive) {
      value = firstFallbackValue;
    } else {
      try {
        const env: Record<string, number | null> = {};
        for (const t of policy.triggers) if (!isResourceTrigger(t) && t.name) env[t.name] = formulaEnv[t.name] ?? null;
        value = evaluateComposite(compileFormula(sm.formula), env);
        if (value === null) {
          if (!policy.fallback) throw new FormulaError('scalingModifiers formula evaluated to nil but no fallback is configured');
          value = policy.fallback.replicas * sm.target;
        }
      } catch (e) {
        err = (e as Error).message;
        value = null;
      }
    }
    if (isError && !fallbackActive) err ??= 'a trigger of the composite metric failed';
    composite = err ? { value, error: err } : { value };
    const resourceObs = hpaObs.filter((_, i) => isResourceTrigger(policy.triggers[i]));
    const compObs: MetricObservation = err || value === null
      ? { kind: 'error', message: err ?? 'composite metric unavailable' }
      : { kind: 'external', values: [milli(value)], timestamp: now };
    finalObs = [...resourceObs, compObs];
    // Activity is re-evaluated on the composite value (and reset on any error).
    isActive = false;
    activeTriggers.length = 0;
    if (!isError && value !== null && !err) {
      if (value > sm.activationTarget) { isActive = true; activeTriggers.push(COMPOSITE_METRIC_NAME); }
    }
  }
  if (policy.triggers.length <= cpuMemCount && !isError) isActive = true;
  const forced = policy.annotations.forceActivation === true;

  // ---- scale executor ---------------------------------------------------------------------------
  cond('Ready', 'True', 'ScaledObjectReady', 'ScaledObject is defined correctly and is ready for scaling');
  const min = policy.minReplicaCount;
  const idle = policy.idleReplicaCount;
  let lastActiveTime = state.lastActiveTime;
  let kedaScaleTo: number | null = null;
  let coolingDown = false;
  let cooldownUntil: number | undefined;
  let heldAtZeroByPause = false;

  if (isActive || forced) {
    cond('Active', 'True', 'ScalerActive', forced
      ? 'Scaling is performed because activation is being forced by annotation'
      : 'Scaling is performed because triggers are active');
    if ((idle !== undefined && current < min) || current === 0) {
      if (policy.annotations.pausedScaleOut) {
        heldAtZeroByPause = true;
      } else {
        kedaScaleTo = min > 0 ? min : 1;
        lastActiveTime = now;
        events.push({
          type: 'Normal', reason: 'KEDAScaleTargetActivated',
          message: forced
            ? `Scaled ${kind} ${nsName} from ${current} to ${kedaScaleTo}, caused by forced activation annotation`
            : `Scaled ${kind} ${nsName} from ${current} to ${kedaScaleTo}, triggered by ${activeTriggers.join(';')}`,
        });
      }
    } else if (isError) {
      cond('Ready', 'Unknown', 'PartialTriggerError', 'Some triggers defined in ScaledObject are not working correctly');
    } else {
      lastActiveTime = now;
    }
  } else {
    cond('Active', 'False', 'ScalerNotActive', 'Scaling is not performed because triggers are not active');
    if (isError && policy.fallback && policy.fallback.replicas !== 0) {
      // hold: the HPA will reach fallback.replicas once failureThreshold is exceeded
    } else if (isError && !policy.fallback) {
      cond('Ready', 'False', 'TriggerError', 'Triggers defined in ScaledObject are not working correctly');
    } else if ((idle !== undefined && current > idle) || (current > 0 && min === 0)) {
      if (!policy.annotations.pausedScaleIn) {
        const expired = lastActiveTime === undefined
          ? createdAt + policy.initialCooldownPeriodSeconds * 1000 < now
          : lastActiveTime + policy.cooldownPeriodSeconds * 1000 < now;
        if (expired) {
          kedaScaleTo = idle ?? min;
          events.push({ type: 'Normal', reason: 'KEDAScaleTargetDeactivated', message: `Deactivated ${kind} ${nsName} from ${current} to ${kedaScaleTo}` });
        } else {
          coolingDown = true;
          cooldownUntil = lastActiveTime === undefined
            ? createdAt + policy.initialCooldownPeriodSeconds * 1000
            : lastActiveTime + policy.cooldownPeriodSeconds * 1000;
          cond('Active', 'False', 'ScalerCooldown', 'Scaler cooling down because triggers are not active');
        }
      }
    } else if (idle === undefined && current < min) {
      kedaScaleTo = min;
    }
  }

  // Fallback condition and its transition events.
  if (fbOn) {
    const exceeded = Object.values(health).some((h) => h.status === 'Failing' && h.numberOfFailures > policy.fallback!.failureThreshold);
    const wasOn = state.conditions?.find((c) => c.type === 'Fallback')?.status === 'True';
    if (exceeded) cond('Fallback', 'True', 'FallbackExists', 'At least one trigger is falling back on this scaled object');
    else cond('Fallback', 'False', 'NoFallbackFound', 'No fallbacks are active on this scaled object');
    if (exceeded && !wasOn) events.push({ type: 'Normal', reason: 'ScaledObjectFallbackActivated', message: 'Scaled object fallback activated' });
    if (!exceeded && wasOn) events.push({ type: 'Normal', reason: 'ScaledObjectFallbackDeactivated', message: 'Scaled object fallback deactivated' });
  }

  // ---- the generated HPA (1↔N) ----------------------------------------------------------------
  const hpaPolicy = generatedHpaPolicy(policy);
  let desired: number;
  let limitedBy: LimitRule[] = [];
  let phase: KedaDetails['phase'];
  let hpaRecord: DecisionRecord | undefined;
  let hpaState: HpaState = state.hpa;
  let drivingMetric: number | null = null;
  let proposals: MetricProposal[];

  if (kedaScaleTo !== null && kedaScaleTo !== current) {
    desired = kedaScaleTo;
    phase = kedaScaleTo > current ? 'activation' : 'deactivation';
    limitedBy = ['activation'];
    proposals = ownProposals(policy, hpaPolicy, details, composite);
  } else if (current === 0) {
    // The HPA is disabled at zero replicas (ScalingDisabled); only KEDA activates.
    desired = 0;
    phase = 'hold';
    limitedBy = [isActive || forced ? 'disabled' : 'activation'];
    proposals = ownProposals(policy, hpaPolicy, details, composite);
  } else {
    const obs: HpaObservation = { now, target: observation.target, pods: observation.pods, metrics: finalObs };
    const out = decideHpa(hpaPolicy, obs, state.hpa, config);
    hpaRecord = out.record as DecisionRecord;
    hpaState = out.state;
    desired = hpaRecord.desiredReplicas;
    phase = 'hpa';
    limitedBy = [...hpaRecord.limitedBy];
    drivingMetric = hpaRecord.drivingMetric;
    proposals = hpaRecord.proposals.map((p, i) => ({ ...p, metric: metricLabel(policy, hpaPolicy, i) }));
    for (const e of hpaRecord.events) events.push(e);
    if (coolingDown) limitedBy.unshift('cooldown');
  }
  if (fallbackActive) limitedBy.push('fallback');
  limitedBy = limitedBy.filter((r, i) => !(r === 'none' && limitedBy.length > 1) && limitedBy.indexOf(r) === i);
  if (limitedBy.length === 0) limitedBy = ['none'];

  const explanation = explain({
    policy, current, desired, phase, isActive, forced, isError, fallbackActive, coolingDown, cooldownUntil,
    details, composite, hpaRecord, heldAtZeroByPause,
  });

  const nextState: KedaState = { createdAt, health, hpa: hpaState, conditions };
  if (lastActiveTime !== undefined) nextState.lastActiveTime = lastActiveTime;
  const kd: KedaDetails = { phase, isActive: isActive || forced, isError, fallbackActive, triggers: details, kedaScaleTo };
  if (composite) kd.composite = composite;
  if (hpaRecord) kd.hpa = { desiredReplicas: hpaRecord.desiredReplicas, limitedBy: hpaRecord.limitedBy, explanation: hpaRecord.explanation, conditions: hpaRecord.conditions, details: hpaRecord.details };
  if (cooldownUntil !== undefined) kd.cooldownUntil = cooldownUntil;

  const record: KedaDecisionRecord = {
    ...base,
    desiredReplicas: desired,
    rescale: desired !== current,
    drivingMetric,
    proposals,
    limitedBy,
    explanation,
    conditions,
    events,
    details: kd,
  };
  return { record, state: nextState };
}

function metricLabel(policy: KedaPolicy, hpa: HpaPolicy, i: number): string {
  const m = hpa.metrics[i];
  if (!m) return `metric ${i}`;
  if (m.type === 'External') {
    const name = m.external.metric.name;
    if (name === COMPOSITE_METRIC_NAME) return `external/${name} (scalingModifiers)`;
    const t = policy.triggers.find((x) => x.metricName === name);
    return `external/${name}${t ? ` (${t.type}${t.name ? ` "${t.name}"` : ''})` : ''}`;
  }
  if (m.type === 'Resource') return `resource ${m.resource.name} on pods`;
  if (m.type === 'ContainerResource') return `resource ${m.containerResource.name} of container ${m.containerResource.container} on pods`;
  return m.type;
}

function targetString(m: MetricSpec): string {
  const t = m.type === 'External' ? m.external.target : m.type === 'Resource' ? m.resource.target
    : m.type === 'ContainerResource' ? m.containerResource.target : null;
  if (!t) return '';
  if (t.type === 'Utilization') return `${t.averageUtilization}%`;
  if (t.type === 'AverageValue') return `${formatMilli(t.averageValue ?? 0)} (avg)`;
  return formatMilli(t.value ?? 0);
}

/** Proposals when the HPA did not run (KEDA acted, or the target sits at zero). */
function ownProposals(policy: KedaPolicy, hpa: HpaPolicy, details: TriggerDetail[], composite: KedaDetails['composite']): MetricProposal[] {
  return hpa.metrics.map((m, i) => {
    let value: number | null = null;
    let error: string | undefined;
    let detail: Record<string, unknown> | undefined;
    if (m.type === 'External' && m.external.metric.name === COMPOSITE_METRIC_NAME) {
      value = composite?.value ?? null;
      error = composite?.error;
    } else if (m.type === 'External') {
      const d = details.find((x) => x.metricName === m.external.metric.name);
      value = d?.hpaValue ?? null;
      error = d?.error;
      if (d) detail = { active: d.active, ...(d.fallback ? { fallback: true } : {}), ...(d.failures ? { failures: d.failures } : {}) };
    }
    const p: MetricProposal = {
      metric: metricLabel(policy, hpa, i),
      current: value === null ? '<unknown>' : formatMilli(milli(value)),
      target: targetString(m),
      proposedReplicas: null,
    };
    if (error) p.error = error;
    if (detail) p.detail = detail;
    return p;
  });
}

function explain(a: {
  policy: KedaPolicy; current: number; desired: number; phase: KedaDetails['phase']; isActive: boolean; forced: boolean;
  isError: boolean; fallbackActive: boolean; coolingDown: boolean; cooldownUntil?: number; details: TriggerDetail[];
  composite: KedaDetails['composite']; hpaRecord?: DecisionRecord; heldAtZeroByPause: boolean;
}): string {
  const move = a.desired === a.current ? `held at ${a.current}` : `scaled ${a.current}→${a.desired}`;
  const act = a.details.filter((d) => d.active).map((d) => `${d.metricName}=${d.hpaValue}`);
  const errs = a.details.filter((d) => d.error).map((d) => `${d.metricName}: ${d.error}`);
  const parts: string[] = [];
  switch (a.phase) {
    case 'activation':
      parts.push(a.forced ? `${move}: activation forced by annotation` : `${move}: trigger active (${a.composite ? `composite=${a.composite.value}` : act.join(', ')})`);
      break;
    case 'deactivation':
      parts.push(`${move}: no trigger active and the ${a.policy.cooldownPeriodSeconds}s cooldown has passed`);
      break;
    case 'hold':
      if (a.heldAtZeroByPause) parts.push(`${move}: triggers active but scale-out is paused by annotation`);
      else if (a.isActive) parts.push(`${move}: active, waiting for activation`);
      else parts.push(`${move}: no trigger above its activation threshold`);
      break;
    default:
      parts.push(a.hpaRecord ? `HPA keda-hpa-${a.policy.name}: ${a.hpaRecord.explanation}` : move);
      if (a.coolingDown) parts.push(`cooling down until ${new Date(a.cooldownUntil!).toISOString()} before scaling to ${a.policy.idleReplicaCount ?? a.policy.minReplicaCount}`);
  }
  if (a.fallbackActive) parts.push(`fallback to ${a.policy.fallback?.replicas} replicas (${a.policy.fallback?.behavior}) after ${a.policy.fallback?.failureThreshold} failures`);
  if (errs.length) parts.push(`trigger errors: ${errs.join('; ')}`);
  if (a.composite?.error) parts.push(`composite metric: ${a.composite.error}`);
  return parts.join('; ');
}
