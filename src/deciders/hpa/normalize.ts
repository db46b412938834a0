// From the metrics' recommendation to the replica count the controller applies (upstream
// horizontal.go: stabilizeRecommendation / normalizeDesiredReplicas for HPAs without behavior,
// stabilizeRecommendationWithBehaviors / convertDesiredReplicasWithBehaviorRate with behavior,
// storeScaleEvent / markScaleEventsOutdated for the scale-event history). Pure: every history
// list comes in and a fresh one goes out; nothing passed in is modified.

import type { LimitRule } from '../../core/decision.ts';
import type {
  HpaBehavior,
  HpaScalingPolicy,
  HpaScalingRules,
  ScaleEvent,
  TimestampedRecommendation,
} from './types.ts';

const MAX_INT32 = 2147483647;
const MIN_INT32 = -2147483648;

/** Legacy (no behavior) scale-up limit factor and floor: max(2 × current, 4). */
export const SCALE_UP_LIMIT_FACTOR = 2.0;
export const SCALE_UP_LIMIT_MINIMUM = 4.0;

/** autoscaling/v2 defaults for behavior.scaleUp (defaults.go). */
export function defaultScaleUpRules(): HpaScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/**
 * autoscaling/v2 defaults for behavior.scaleDown. Upstream leaves the window unset so that the
 * controller's --horizontal-pod-autoscaler-downscale-stabilization applies at decision time; pass a
 * value only to pin one.
 */
export function defaultScaleDownRules(downscaleStabilizationSeconds?: number): HpaScalingRules {
  const r: HpaScalingRules = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
  if (downscaleStabilizationSeconds !== undefined) r.stabilizationWindowSeconds = downscaleStabilizationSeconds;
  return r;
}

export interface NormalizeResult {
  desired: number;
  stabilized: number;
  recommendations: TimestampedRecommendation[];
  ableToScale: { reason: string; message: string };
  scalingLimited: { status: 'True' | 'False'; reason: string; message: string };
  limitedBy: LimitRule[];
  scaleUpLimit?: number;
  scaleDownLimit?: number;
  limitingPolicy?: string;
}

const READY_FOR_NEW_SCALE = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const SCALE_DOWN_STABILIZED = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const SCALE_UP_STABILIZED = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};
const DESIRED_WITHIN_RANGE = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const SCALE_UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const SCALE_DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };

// ---------------------------------------------------------------- time ties

/**
 * Whether an entry is strictly older than a cutoff computed in this sync. An entry stamped before a
 * fetch at exactly the cutoff's millisecond is older when this sync fetched metrics (as every
 * stabilization and policy-period count does): upstream's clock moved on during the fetch. A sync
 * without a fetch has no later clock than such an entry. "Newer than the cutoff" needs no tie rule:
 * at the same millisecond no entry is newer than a post-fetch cutoff.
 */
function olderThanCutoff(e: { timestamp: number; beforeFetch?: boolean }, cutoff: number, fetchedMetrics = true): boolean {
  return e.timestamp < cutoff || (fetchedMetrics && e.timestamp === cutoff && e.beforeFetch === true);
}

// ---------------------------------------------------------------- legacy path (no behavior)

/**
 * Legacy stabilization: the highest recommendation not older than the window (samples exactly at
 * the cutoff still count); the newest unstabilized recommendation replaces the last sample older
 * than the window, or is appended.
 */
export function stabilizeRecommendationLegacy(
  now: number,
  recs: TimestampedRecommendation[],
  windowMs: number,
  prenormalized: number,
): { stabilized: number; recommendations: TimestampedRecommendation[] } {
  let max = prenormalized;
  let oldIndex = -1;
  const cutoff = now - windowMs;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    if (olderThanCutoff(r, cutoff)) oldIndex = i;
    else if (r.recommendation > max) max = r.recommendation;
  }
  const next = recs.slice();
  const entry = { timestamp: now, recommendation: prenormalized };
  if (oldIndex >= 0) next[oldIndex] = entry;
  else next.push(entry);
  return { stabilized: max, recommendations: next };
}

export function legacyScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(SCALE_UP_LIMIT_FACTOR * currentReplicas, SCALE_UP_LIMIT_MINIMUM));
}

export function normalizeLegacy(
  now: number,
  recs: TimestampedRecommendation[],
  windowMs: number,
  current: number,
  prenormalized: number,
  minReplicas: number,
  maxReplicas: number,
): NormalizeResult {
  const { stabilized, recommendations } = stabilizeRecommendationLegacy(now, recs, windowMs, prenormalized);
  const limitedBy: LimitRule[] = [];
  const ableToScale = stabilized !== prenormalized ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE;
  if (stabilized !== prenormalized) limitedBy.push('stabilization');

  const scaleUpLimit = legacyScaleUpLimit(current);
  let maxAllowed: number;
  let limiting: { reason: string; message: string };
  if (maxReplicas > scaleUpLimit) {
    maxAllowed = scaleUpLimit;
    limiting = SCALE_UP_LIMIT;
  } else {
    maxAllowed = maxReplicas;
    limiting = TOO_MANY;
  }
  let desired = stabilized;
  let cond = DESIRED_WITHIN_RANGE;
  if (stabilized < minReplicas) {
    desired = minReplicas;
    cond = TOO_FEW;
    limitedBy.push('min');
  } else if (stabilized > maxAllowed) {
    desired = maxAllowed;
    cond = limiting;
    limitedBy.push(limiting === SCALE_UP_LIMIT ? 'legacy-scale-up-limit' : 'max');
  }
  return {
    desired,
    stabilized,
    recommendations,
    ableToScale,
    scalingLimited: { status: desired === stabilized ? 'False' : 'True', ...cond },
    limitedBy,
    scaleUpLimit,
  };
}

// ---------------------------------------------------------------- behavior path

/**
 * Stabilization with behavior: the lowest recommendation within the scale-up window and the
 * highest within the scale-down window (strictly newer than the cutoffs) bound the result around
 * the current count. The newest recommendation replaces the last sample older than both windows,
 * or is appended.
 */
export function stabilizeRecommendationWithBehaviors(
  now: number,
  recs: TimestampedRecommendation[],
  upWindowSeconds: number,
  downWindowSeconds: number,
  current: number,
  desired: number,
): { stabilized: number; recommendations: TimestampedRecommendation[]; upRecommendation: number; downRecommendation: number } {
  let up = desired;
  let down = desired;
  const upCutoff = now - upWindowSeconds * 1000;
  const downCutoff = now - downWindowSeconds * 1000;
  let oldIndex = -1;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    if (r.timestamp > upCutoff && r.recommendation < up) up = r.recommendation;
    if (r.timestamp > downCutoff && r.recommendation > down) down = r.recommendation;
    if (olderThanCutoff(r, upCutoff) && olderThanCutoff(r, downCutoff)) oldIndex = i;
  }
  let stabilized = current;
  if (stabilized < up) stabilized = up;
  if (stabilized > down) stabilized = down;
  const next = recs.slice();
  const entry = { timestamp: now, recommendation: desired };
  if (oldIndex >= 0) next[oldIndex] = entry;
  else next.push(entry);
  return { stabilized, recommendations: next, upRecommendation: up, downRecommendation: down };
}

/** Sum of replica changes strictly newer than now − period. */
export function replicasChangePerPeriod(now: number, periodSeconds: number, events: ScaleEvent[]): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.timestamp > cutoff) sum += e.replicaChange;
  return sum;
}

function describePolicy(direction: 'scaleUp' | 'scaleDown', p: HpaScalingPolicy): string {
  return p.type === 'Pods'
    ? `${direction} policy Pods ${p.value}/${p.periodSeconds}s`
    : `${direction} policy Percent ${p.value}%/${p.periodSeconds}s`;
}

function policies(rules: HpaScalingRules): HpaScalingPolicy[] {
  return rules.policies ?? [];
}

/** The highest count a scale-up may reach now (upstream calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimitWithRules(
  now: number,
  current: number,
  upEvents: ScaleEvent[],
  downEvents: ScaleEvent[],
  rules: HpaScalingRules,
): { limit: number; policy?: string } {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return { limit: current, policy: 'scaleUp selectPolicy Disabled' };
  const isMin = select === 'Min';
  let result = isMin ? MAX_INT32 : MIN_INT32;
  let chosen: HpaScalingPolicy | undefined;
  for (const p of policies(rules)) {
    const added = replicasChangePerPeriod(now, p.periodSeconds, upEvents);
    const deleted = replicasChangePerPeriod(now, p.periodSeconds, downEvents);
    const start = current - added + deleted;
    let proposed = 0;
    if (p.type === 'Pods') proposed = start + p.value;
    else if (p.type === 'Percent') proposed = Math.ceil(start * (1 + p.value / 100));
    if (isMin ? proposed < result : proposed > result) {
      result = proposed;
      chosen = p;
    }
  }
  return { limit: result, policy: chosen ? describePolicy('scaleUp', chosen) : undefined };
}

/** The lowest count a scale-down may reach now (upstream calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimitWithRules(
  now: number,
  current: number,
  upEvents: ScaleEvent[],
  downEvents: ScaleEvent[],
  rules: HpaScalingRules,
): { limit: number; policy?: string } {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return { limit: current, policy: 'scaleDown selectPolicy Disabled' };
  const isMin = select === 'Min';
  let result = isMin ? MIN_INT32 : MAX_INT32;
  let chosen: HpaScalingPolicy | undefined;
  for (const p of policies(rules)) {
    const added = replicasChangePerPeriod(now, p.periodSeconds, upEvents);
    const deleted = replicasChangePerPeriod(now, p.periodSeconds, downEvents);
    const start = current - added + deleted;
    let proposed = 0;
    if (p.type === 'Pods') proposed = start - p.value;
    else if (p.type === 'Percent') proposed = Math.trunc(start * (1 - p.value / 100));
    if (isMin ? proposed > result : proposed < result) {
      result = proposed;
      chosen = p;
    }
  }
  return { limit: result, policy: chosen ? describePolicy('scaleDown', chosen) : undefined };
}

export function normalizeWithBehavior(
  now: number,
  recs: TimestampedRecommendation[],
  upEvents: ScaleEvent[],
  downEvents: ScaleEvent[],
  behavior: HpaBehavior,
  current: number,
  prenormalized: number,
  minReplicas: number,
  maxReplicas: number,
  defaultDownWindowSeconds: number,
): NormalizeResult {
  const upRules = behavior.scaleUp ?? defaultScaleUpRules();
  const downRules = behavior.scaleDown ?? defaultScaleDownRules(defaultDownWindowSeconds);
  const upWindow = upRules.stabilizationWindowSeconds ?? 0;
  const downWindow = downRules.stabilizationWindowSeconds ?? defaultDownWindowSeconds;
  const st = stabilizeRecommendationWithBehaviors(now, recs, upWindow, downWindow, current, prenormalized);
  const stabilized = st.stabilized;
  const limitedBy: LimitRule[] = [];
  let ableToScale = READY_FOR_NEW_SCALE;
  if (stabilized !== prenormalized) {
    ableToScale = prenormalized >= current ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED;
    limitedBy.push('stabilization');
  }

  let desired = stabilized;
  let cond = DESIRED_WITHIN_RANGE;
  let scaleUpLimit: number | undefined;
  let scaleDownLimit: number | undefined;
  let limitingPolicy: string | undefined;
  if (stabilized > current) {
    const l = scaleUpLimitWithRules(now, current, upEvents, downEvents, upRules);
    let limit = l.limit;
    if (limit < current) limit = current; // no further scale-up until old events leave the period
    scaleUpLimit = limit;
    let maxAllowed: number;
    let limiting: { reason: string; message: string };
    if (maxReplicas > limit) {
      maxAllowed = limit;
      limiting = SCALE_UP_LIMIT;
    } else {
      maxAllowed = maxReplicas;
      limiting = TOO_MANY;
    }
    if (stabilized > maxAllowed) {
      desired = maxAllowed;
      cond = limiting;
      if (limiting === SCALE_UP_LIMIT) {
        limitingPolicy = l.policy;
        limitedBy.push((upRules.selectPolicy ?? 'Max') === 'Disabled' ? 'disabled' : 'policy');
      } else limitedBy.push('max');
    }
  } else if (stabilized < current) {
    const l = scaleDownLimitWithRules(now, current, upEvents, downEvents, downRules);
    let limit = l.limit;
    if (limit > current) limit = current; // no further scale-down until old events leave the period
    scaleDownLimit = limit;
    let minAllowed: number;
    let limiting: { reason: string; message: string };
    if (minReplicas < limit) {
      minAllowed = limit;
      limiting = SCALE_DOWN_LIMIT;
    } else {
      minAllowed = minReplicas;
      limiting = TOO_FEW;
    }
    if (stabilized < minAllowed) {
      desired = minAllowed;
      cond = limiting;
      if (limiting === SCALE_DOWN_LIMIT) {
        limitingPolicy = l.policy;
        limitedBy.push((downRules.selectPolicy ?? 'Max') === 'Disabled' ? 'disabled' : 'policy');
      } else limitedBy.push('min');
    }
  }
  return {
    desired,
    stabilized,
    recommendations: st.recommendations,
    ableToScale,
    scalingLimited: { status: desired === stabilized ? 'False' : 'True', ...cond },
    limitedBy,
    scaleUpLimit,
    scaleDownLimit,
    limitingPolicy,
  };
}

// ---------------------------------------------------------------- scale-event history

function longestPolicyPeriod(rules: HpaScalingRules | undefined): number {
  let longest = 0;
  for (const p of rules?.policies ?? []) if (p.periodSeconds > longest) longest = p.periodSeconds;
  return longest;
}

/**
 * Record a rescale in the history of its direction (behavior path only): events older than the
 * direction's longest policy period are marked outdated, the last outdated one is replaced by the
 * new event (or the event is appended). Returns fresh lists.
 */
export function storeScaleEvent(
  now: number,
  behavior: HpaBehavior | undefined,
  upEvents: ScaleEvent[],
  downEvents: ScaleEvent[],
  prevReplicas: number,
  newReplicas: number,
  fetchedMetrics = true,
): { scaleUpEvents: ScaleEvent[]; scaleDownEvents: ScaleEvent[] } {
  if (behavior === undefined) return { scaleUpEvents: upEvents, scaleDownEvents: downEvents };
  const up = newReplicas > prevReplicas;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const events = up ? upEvents : downEvents;
  const cutoff = now - longestPolicyPeriod(rules) * 1000;
  let oldIndex = -1;
  const next: ScaleEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const outdated = e.outdated === true || olderThanCutoff(e, cutoff, fetchedMetrics);
    next[i] = outdated && e.outdated !== true ? { ...e, outdated: true } : e;
    if (outdated) oldIndex = i;
  }
  const entry: ScaleEvent = { timestamp: now, replicaChange: up ? newReplicas - prevReplicas : prevReplicas - newReplicas, outdated: false };
  if (!fetchedMetrics) entry.beforeFetch = true;
  if (oldIndex >= 0) next[oldIndex] = entry;
  else next.push(entry);
  return up ? { scaleUpEvents: next, scaleDownEvents: downEvents } : { scaleUpEvents: upEvents, scaleDownEvents: next };
}
