// The HPA decider: one reconcile of kube-controller-manager's HorizontalController (v1.37,
// horizontal.go reconcileAutoscaler) as a pure function. Input: the normalized HPA, what was
// observed (scale, pods, metric values) and the controller's memory for this HPA; output: the
// decision record and the next memory. No clock, no I/O, inputs are never modified.
//
// Order, as upstream:
//   1. AbleToScale=True SucceededGetScale; first sync seeds the recommendation history with the
//      current count (so a scale-down is stabilized right after a controller start). Upstream
//      takes that sample's time before it fetches the metrics, so it is slightly older than the
//      decision: Tide stamps it 1 ms before `now` (it falls outside a 0 s window).
//   2. spec replicas 0 → scaling disabled, unless the HPA scaled the target to zero itself
//      (HPAScaleToZero: ScaledToZero=True and an Object/External metric, or minReplicas ≥ 1 to scale
//      back up to); current > max → max; current < min → min (no metrics in these two).
//   3. Otherwise every metric proposes a count; the max wins. If all failed, or some failed and the
//      rest would scale below spec replicas, nothing happens (ScalingActive=False from the first
//      failure, FailedComputeMetricsReplicas event).
//   4. Normalization: legacy (no behavior) or behavior (stabilization windows, rate policies).
//   5. Rescale when the result differs from spec replicas: SucceededRescale, SuccessfulRescale
//      event, scale event stored (behavior only), lastScaleTime, ScaledToZero condition.
//
// Differential test: test/e2e/upstream/hpa-differential.test.ts runs random scenarios through
// this function and through upstream's own controller code and compares every decision.

import type { DecisionEvent, LimitRule, MetricProposal } from '../../core/decision.ts';
import type {
  HpaControllerConfig,
  HpaDecisionPath,
  HpaFeatureGates,
  HpaDecisionRecord,
  HpaDetails,
  HpaObservation,
  HpaPolicy,
  HpaState,
  HpaTolerances,
  MetricSpec,
} from './types.ts';
import {
  AbleToScale,
  ConditionSet,
  MISSING_SELECTOR_MESSAGE,
  NOT_SCALED_TO_ZERO_MESSAGE,
  SCALED_TO_ZERO_MESSAGE,
  SCALING_DISABLED_MESSAGE,
  ScaledToZero,
  SUCCEEDED_GET_SCALE_MESSAGE,
  ScalingActive,
  ScalingLimited,
  succeededRescaleMessage,
  successfulRescaleEvent,
  validMetricFoundMessage,
  warning,
} from './conditions.ts';
import { computeReplicasForMetric, type MetricContext, type MetricOutcome, unevaluatedProposal } from './metrics.ts';
import { type NormalizeResult, normalizeLegacy, normalizeWithBehavior, storeScaleEvent } from './normalize.ts';

import { isoTime } from './format.ts';

export { formatHpaTargets } from './format.ts';

export const defaultHpaControllerConfig: HpaControllerConfig = Object.freeze({
  tolerance: 0.1,
  cpuInitializationPeriodSeconds: 300,
  initialReadinessDelaySeconds: 30,
  downscaleStabilizationSeconds: 300,
  syncPeriodSeconds: 15,
});

/** Feature gates as in Kubernetes v1.37 (kube-controller-manager defaults). */
export const defaultHpaFeatureGates: HpaFeatureGates = Object.freeze({
  HPAScaleToZero: true,
  HPAConfigurableTolerance: true,
});

export function resolveHpaFeatureGates(g: Partial<HpaFeatureGates> | undefined): HpaFeatureGates {
  if (g === undefined) return defaultHpaFeatureGates;
  return {
    HPAScaleToZero: g.HPAScaleToZero ?? defaultHpaFeatureGates.HPAScaleToZero,
    HPAConfigurableTolerance: g.HPAConfigurableTolerance ?? defaultHpaFeatureGates.HPAConfigurableTolerance,
  };
}

export function emptyHpaState(): HpaState {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
}

const EMPTY: never[] = [];

/** What the API server defaults an HPA without metrics to: cpu at 80% of request. */
const DEFAULT_METRICS: MetricSpec[] = [
  { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
];

function resolveConfig(config: Partial<HpaControllerConfig> | undefined): HpaControllerConfig {
  if (config === undefined) return defaultHpaControllerConfig;
  const c: HpaControllerConfig = { ...defaultHpaControllerConfig };
  for (const k of ['tolerance', 'cpuInitializationPeriodSeconds', 'initialReadinessDelaySeconds', 'downscaleStabilizationSeconds', 'syncPeriodSeconds'] as const) {
    const v = config[k];
    if (v !== undefined) c[k] = v;
  }
  if (config.featureGates !== undefined) c.featureGates = config.featureGates;
  return c;
}

export function hpaTolerances(policy: HpaPolicy, config: HpaControllerConfig): HpaTolerances {
  const b = policy.behavior;
  // HPAConfigurableTolerance off: behavior.*.tolerance is ignored (upstream tolerancesForHpa)
  if (b === undefined || !resolveHpaFeatureGates(config.featureGates).HPAConfigurableTolerance) {
    return { scaleUp: config.tolerance, scaleDown: config.tolerance };
  }
  return {
    scaleUp: b?.scaleUp?.tolerance ?? config.tolerance,
    scaleDown: b?.scaleDown?.tolerance ?? config.tolerance,
  };
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

function metricPhrase(o: MetricOutcome | undefined): string {
  if (!o) return 'no metric';
  return `${o.shortName} at ${o.proposal.current} of ${o.proposal.target} target`;
}

export function decideHpa(
  policy: HpaPolicy,
  observation: HpaObservation,
  state: HpaState,
  config?: Partial<HpaControllerConfig>,
): { record: HpaDecisionRecord; state: HpaState } {
  const cfg = resolveConfig(config);
  const now = observation.now;
  const nowIso = isoTime(now);
  const current = observation.target.specReplicas;
  const minReplicas = policy.minReplicas ?? 1;
  const maxReplicas = policy.maxReplicas;
  const specs = policy.metrics.length > 0 ? policy.metrics : DEFAULT_METRICS;
  const tolerances = hpaTolerances(policy, cfg);
  const gates = resolveHpaFeatureGates(cfg.featureGates);
  let hasObjectOrExternal = false;
  for (const m of specs) if (m.type === 'Object' || m.type === 'External') hasObjectOrExternal = true;
  // upstream reads the condition from the HPA's status before this sync
  let scaledToZeroCondition = false;
  if (gates.HPAScaleToZero) {
    for (const c of state.conditions ?? EMPTY) {
      if (c.type === ScaledToZero) {
        scaledToZeroCondition = c.status === 'True';
        break;
      }
    }
  }

  const conds = new ConditionSet(state.conditions, nowIso);
  const events: DecisionEvent[] = [];
  conds.set(AbleToScale, 'True', 'SucceededGetScale', SUCCEEDED_GET_SCALE_MESSAGE);

  // recordInitialRecommendation (a state read from JSON may lack the lists: treat as empty)
  const prevRecommendations = state.recommendations ?? EMPTY;
  let recommendations = prevRecommendations;
  // stamped before the metrics fetch, so it is older than this sync's own recommendation
  if (recommendations.length === 0) recommendations = [{ timestamp: now, recommendation: current, beforeFetch: true }];
  let scaleUpEvents = state.scaleUpEvents ?? EMPTY;
  let scaleDownEvents = state.scaleDownEvents ?? EMPTY;
  const prevUp = scaleUpEvents;
  const prevDown = scaleDownEvents;

  let proposals: MetricProposal[] | undefined;
  let outcomes: MetricOutcome[] | undefined;
  let drivingMetric: number | null = null;
  let limitedBy: LimitRule[] = [];
  let desired = 0;
  let rescale = true;
  let rescaleReason = '';
  let path: HpaDecisionPath;
  let explanation: string;
  let norm: NormalizeResult | undefined;
  const details: HpaDetails = { path: 'legacy', tolerances, metricDesiredReplicas: null, metricName: '', invalidMetrics: 0, rescaleReason: '' };

  // upstream shouldComputeMetricsForZeroReplicas
  const fromZero = current === 0 && ((minReplicas !== 0 && scaledToZeroCondition) || (scaledToZeroCondition && hasObjectOrExternal));
  if (current === 0 && !fromZero) {
    path = 'scaling-disabled';
    desired = 0;
    rescale = false;
    conds.set(ScalingActive, 'False', 'ScalingDisabled', SCALING_DISABLED_MESSAGE);
    if (!gates.HPAScaleToZero) conds.remove(ScaledToZero);
    limitedBy = ['disabled'];
    explanation = 'scaling disabled: the target has 0 replicas and the HPA did not scale it to zero';
  } else if (current !== 0 && current > maxReplicas) {
    path = 'above-max';
    rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
    desired = maxReplicas;
    limitedBy = ['max'];
    explanation = `scaled ${current}→${desired}: current replicas above maxReplicas ${maxReplicas}`;
  } else if (current !== 0 && current < minReplicas) {
    path = 'below-min';
    rescaleReason = 'Current number of replicas below Spec.MinReplicas';
    desired = minReplicas;
    limitedBy = ['min'];
    explanation = `scaled ${current}→${desired}: current replicas below minReplicas ${minReplicas}`;
  } else {
    // ---- computeReplicasForMetrics
    let metricDesired = 0;
    let metricName = '';
    let invalidCount = 0;
    let firstInvalid: MetricOutcome | undefined;
    let failedHard = false;
    let invalidError: string | undefined;

    if (observation.target.selector === '') {
      events.push(warning('SelectorRequired', 'selector is required'));
      conds.set(ScalingActive, 'False', 'InvalidSelector', MISSING_SELECTOR_MESSAGE);
      invalidError = 'selector is required';
      failedHard = true;
      proposals = specs.map(unevaluatedProposal);
    } else if ((policy.selectingHpas?.length ?? 0) > 1) {
      // upstream validateAndParseSelector: pods under this selector are controlled by several HPAs
      // (its selector store stops at the second match, so the message names at most two)
      const msg = `pods by selector ${observation.target.selector ?? ''} are controlled by more than one HPA (e.g. [${policy.selectingHpas!.slice(0, 2).join(' ')}])`;
      events.push(warning('AmbiguousSelector', msg));
      conds.set(ScalingActive, 'False', 'AmbiguousSelector', msg);
      invalidError = msg;
      failedHard = true;
      proposals = specs.map(unevaluatedProposal);
    } else {
      const ctx: MetricContext = {
        env: {
          now,
          pods: observation.pods,
          cpuInitializationPeriodMs: cfg.cpuInitializationPeriodSeconds * 1000,
          delayOfInitialReadinessStatusMs: cfg.initialReadinessDelaySeconds * 1000,
          tolerances,
        },
        specReplicas: current,
        statusReplicas: observation.target.statusReplicas,
        namespace: policy.namespace ?? 'default',
      };
      outcomes = new Array(specs.length);
      proposals = new Array(specs.length);
      for (let i = 0; i < specs.length; i++) {
        const o = computeReplicasForMetric(ctx, specs[i], observation.metrics[i]);
        outcomes[i] = o;
        proposals[i] = o.proposal;
        if (!o.ok) {
          if (o.event) events.push(o.event);
          if (invalidCount === 0) firstInvalid = o;
          invalidCount++;
          continue;
        }
        if (metricDesired === 0 || o.replicas > metricDesired) {
          metricDesired = o.replicas;
          metricName = o.metricName;
          drivingMetric = i;
        }
      }
      if (firstInvalid) invalidError = `invalid metrics (${invalidCount} invalid out of ${specs.length}), first error is: ${firstInvalid.error}`;
      if (invalidCount >= specs.length || (invalidCount > 0 && metricDesired < current)) {
        conds.set(ScalingActive, 'False', firstInvalid!.conditionReason!, firstInvalid!.conditionMessage!);
        failedHard = true;
      } else {
        conds.set(ScalingActive, 'True', 'ValidMetricFound', validMetricFoundMessage(metricName));
      }
    }
    details.invalidMetrics = invalidCount;
    if (invalidError !== undefined) details.invalidMetricsError = invalidError;

    if (failedHard) {
      path = 'invalid-metrics';
      events.push(warning('FailedComputeMetricsReplicas', invalidError!));
      rescale = false;
      desired = current;
      drivingMetric = null;
      limitedBy = ['invalid-metrics'];
      explanation =
        invalidCount > 0 && invalidCount < specs.length
          ? `kept ${current} replicas: ${invalidCount} of ${specs.length} metrics failed and the others would scale down, which is refused while metrics are invalid (${firstInvalid!.error})`
          : `kept ${current} replicas: no metric could be computed (${invalidError})`;
    } else {
      details.metricDesiredReplicas = metricDesired;
      details.metricName = metricName;
      let rescaleMetric = '';
      if (metricDesired > desired) {
        desired = metricDesired;
        rescaleMetric = metricName;
      }
      if (desired > current) rescaleReason = `${rescaleMetric} above target`;
      if (desired < current) rescaleReason = 'All metrics below target';
      details.prenormalizedReplicas = desired;
      const prenormalized = desired;
      if (policy.behavior === undefined) {
        path = 'legacy';
        norm = normalizeLegacy(now, recommendations, cfg.downscaleStabilizationSeconds * 1000, current, prenormalized, minReplicas, maxReplicas);
      } else {
        path = 'behavior';
        norm = normalizeWithBehavior(
          now,
          recommendations,
          scaleUpEvents,
          scaleDownEvents,
          policy.behavior,
          current,
          prenormalized,
          minReplicas,
          maxReplicas,
          cfg.downscaleStabilizationSeconds,
        );
      }
      recommendations = norm.recommendations;
      conds.set(AbleToScale, 'True', norm.ableToScale.reason, norm.ableToScale.message);
      conds.set(ScalingLimited, norm.scalingLimited.status, norm.scalingLimited.reason, norm.scalingLimited.message);
      desired = norm.desired;
      // scaling up from zero with a minReplicas raised in the meantime: at least minReplicas
      let raisedToMin = false;
      if (current === 0 && minReplicas !== 0 && scaledToZeroCondition && desired < minReplicas) {
        desired = minReplicas;
        raisedToMin = true;
        if (rescaleReason === '') rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      }
      details.stabilizedReplicas = norm.stabilized;
      if (norm.scaleUpLimit !== undefined) details.scaleUpLimit = norm.scaleUpLimit;
      if (norm.scaleDownLimit !== undefined) details.scaleDownLimit = norm.scaleDownLimit;
      if (norm.limitingPolicy !== undefined) details.limitingPolicy = norm.limitingPolicy;
      rescale = desired !== current;

      const driving = drivingMetric === null ? undefined : outcomes![drivingMetric];
      limitedBy = norm.limitedBy.slice();
      if (raisedToMin && !limitedBy.includes('min')) limitedBy.push('min');
      const heldByTolerance = driving !== undefined && driving.ok && (driving.proposal.detail?.withinTolerance === true) && prenormalized === current;
      if (heldByTolerance) limitedBy.unshift('tolerance');
      if (limitedBy.length === 0) limitedBy.push('none');

      const limits = describeLimits(norm, policy, cfg, minReplicas, maxReplicas, prenormalized, current);
      const phrase = metricPhrase(driving);
      if (rescale) {
        explanation = `scaled ${current}→${desired}: ${phrase}${limits ? `; limited by ${limits}` : ''}`;
      } else if (heldByTolerance) {
        explanation = `kept ${current} replicas: ${phrase} is within tolerance (-${pct(tolerances.scaleDown)}/+${pct(tolerances.scaleUp)})`;
      } else if (prenormalized === current && driving?.proposal.detail?.directionFlipPrevented === true) {
        explanation = `kept ${current} replicas: ${phrase}, but counting pods without usable metrics conservatively would reverse the direction`;
      } else if (prenormalized === current) {
        explanation = `kept ${current} replicas: ${phrase} proposes ${prenormalized}`;
      } else {
        explanation = `kept ${current} replicas: ${phrase} proposes ${prenormalized}${limits ? `; held by ${limits}` : ''}`;
      }
    }
  }

  let lastScaleTime = state.lastScaleTime;
  if (rescale) {
    conds.set(AbleToScale, 'True', 'SucceededRescale', succeededRescaleMessage(desired));
    events.push(successfulRescaleEvent(desired, rescaleReason));
    const fetchedMetrics = path !== 'above-max' && path !== 'below-min';
    const stored = storeScaleEvent(now, policy.behavior, scaleUpEvents, scaleDownEvents, current, desired, fetchedMetrics);
    scaleUpEvents = stored.scaleUpEvents;
    scaleDownEvents = stored.scaleDownEvents;
    lastScaleTime = now;
    // upstream sets (or removes) ScaledToZero on every rescale so that it is never stale
    if (!gates.HPAScaleToZero) conds.remove(ScaledToZero);
    else if (current > 0 && desired === 0 && minReplicas === 0 && hasObjectOrExternal) conds.set(ScaledToZero, 'True', 'ScaledToZero', SCALED_TO_ZERO_MESSAGE);
    else conds.set(ScaledToZero, 'False', 'NotScaledToZero', NOT_SCALED_TO_ZERO_MESSAGE);
  } else {
    desired = current;
  }
  details.path = path;
  details.rescaleReason = rescaleReason;

  // fresh arrays/objects so that neither the caller's state nor the record can be changed through the next state
  const nextState: HpaState = {
    recommendations: recommendations === prevRecommendations ? recommendations.slice() : recommendations,
    scaleUpEvents: scaleUpEvents === prevUp ? scaleUpEvents.slice() : scaleUpEvents,
    scaleDownEvents: scaleDownEvents === prevDown ? scaleDownEvents.slice() : scaleDownEvents,
    conditions: conds.list.map((c) => ({ ...c })),
  };
  if (lastScaleTime !== undefined) nextState.lastScaleTime = lastScaleTime;

  const record: HpaDecisionRecord = {
    decider: 'hpa',
    autoscaler: policy.name,
    target: `${policy.scaleTargetRef.kind}/${policy.scaleTargetRef.name}`,
    time: nowIso,
    now,
    currentReplicas: current,
    desiredReplicas: desired,
    rescale,
    drivingMetric,
    proposals: proposals ?? specs.map(unevaluatedProposal),
    limitedBy,
    explanation,
    conditions: conds.list,
    events,
    inputs: { policy, observation, state, config: cfg },
    details,
  };
  return { record, state: nextState };
}

function describeLimits(
  norm: NormalizeResult,
  policy: HpaPolicy,
  cfg: HpaControllerConfig,
  minReplicas: number,
  maxReplicas: number,
  prenormalized: number,
  current: number,
): string {
  const parts: string[] = [];
  for (const rule of norm.limitedBy) {
    switch (rule) {
      case 'stabilization': {
        if (policy.behavior === undefined) {
          parts.push(`downscale stabilization window ${cfg.downscaleStabilizationSeconds}s (highest recent recommendation ${norm.stabilized})`);
        } else if (prenormalized >= current) {
          const w = policy.behavior.scaleUp?.stabilizationWindowSeconds ?? 0;
          parts.push(`scaleUp stabilization window ${w}s (lowest recent recommendation ${norm.stabilized})`);
        } else {
          const w = policy.behavior.scaleDown?.stabilizationWindowSeconds ?? cfg.downscaleStabilizationSeconds;
          parts.push(`scaleDown stabilization window ${w}s (highest recent recommendation ${norm.stabilized})`);
        }
        break;
      }
      case 'policy':
      case 'disabled':
        parts.push(norm.limitingPolicy ?? 'scaling policy');
        break;
      case 'legacy-scale-up-limit':
        parts.push(`scale-up limit max(2×current, 4) = ${norm.scaleUpLimit}`);
        break;
      case 'max':
        parts.push(`maxReplicas ${maxReplicas}`);
        break;
      case 'min':
        parts.push(`minReplicas ${minReplicas}`);
        break;
      default:
        break;
    }
  }
  return parts.join(', then ');
}
