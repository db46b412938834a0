// HPA status conditions and events, with upstream's reason strings and messages
// (horizontal.go setCondition / setConditionInList and the event recorder calls).

import type { Condition, ConditionStatus, DecisionEvent } from '../../core/decision.ts';

export const AbleToScale = 'AbleToScale';
export const ScalingActive = 'ScalingActive';
export const ScalingLimited = 'ScalingLimited';
/** HPAScaleToZero (v1.37 beta): True when the HPA itself scaled the target to zero. */
export const ScaledToZero = 'ScaledToZero';

/** Reasons upstream uses, for reference by shells and tests. */
export const HpaReasons = {
  // AbleToScale
  SucceededGetScale: 'SucceededGetScale',
  FailedGetScale: 'FailedGetScale',
  SucceededRescale: 'SucceededRescale',
  FailedUpdateScale: 'FailedUpdateScale',
  ReadyForNewScale: 'ReadyForNewScale',
  ScaleUpStabilized: 'ScaleUpStabilized',
  ScaleDownStabilized: 'ScaleDownStabilized',
  // ScalingActive
  ValidMetricFound: 'ValidMetricFound',
  ScalingDisabled: 'ScalingDisabled',
  InvalidSelector: 'InvalidSelector',
  FailedGetResourceMetric: 'FailedGetResourceMetric',
  FailedGetContainerResourceMetric: 'FailedGetContainerResourceMetric',
  FailedGetPodsMetric: 'FailedGetPodsMetric',
  FailedGetObjectMetric: 'FailedGetObjectMetric',
  FailedGetExternalMetric: 'FailedGetExternalMetric',
  // ScalingLimited
  DesiredWithinRange: 'DesiredWithinRange',
  TooFewReplicas: 'TooFewReplicas',
  TooManyReplicas: 'TooManyReplicas',
  ScaleUpLimit: 'ScaleUpLimit',
  ScaleDownLimit: 'ScaleDownLimit',
  // ScaledToZero
  ScaledToZero: 'ScaledToZero',
  NotScaledToZero: 'NotScaledToZero',
  // events only
  SuccessfulRescale: 'SuccessfulRescale',
  FailedComputeMetricsReplicas: 'FailedComputeMetricsReplicas',
  SelectorRequired: 'SelectorRequired',
} as const;

/**
 * A condition list being built for one decision. Starts from the previous decision's conditions;
 * like upstream, an existing condition keeps its place and its lastTransitionTime unless its status
 * changes, and a new condition type is appended.
 */
export class ConditionSet {
  readonly list: Condition[];
  private readonly nowIso: string;

  constructor(previous: Condition[] | undefined, nowIso: string) {
    this.list = previous ? previous.map((c) => ({ ...c })) : [];
    this.nowIso = nowIso;
  }

  set(type: string, status: ConditionStatus, reason: string, message: string): void {
    for (const c of this.list) {
      if (c.type === type) {
        if (c.status !== status || c.lastTransitionTime === undefined) c.lastTransitionTime = this.nowIso;
        c.status = status;
        c.reason = reason;
        c.message = message;
        return;
      }
    }
    this.list.push({ type, status, reason, message, lastTransitionTime: this.nowIso });
  }

  /** Drop a condition type (upstream removeCondition). */
  remove(type: string): void {
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i].type === type) this.list.splice(i, 1);
  }

  get(type: string): Condition | undefined {
    for (const c of this.list) if (c.type === type) return c;
    return undefined;
  }
}

export function warning(reason: string, message: string): DecisionEvent {
  return { type: 'Warning', reason, message };
}

export function normal(reason: string, message: string): DecisionEvent {
  return { type: 'Normal', reason, message };
}

export function unableToComputeMessage(err: string): string {
  return `the HPA was unable to compute the replica count: ${err}`;
}

export function validMetricFoundMessage(metric: string): string {
  return `the HPA was able to successfully calculate a replica count from ${metric}`;
}

export function succeededRescaleMessage(desired: number): string {
  return `the HPA controller was able to update the target scale to ${desired}`;
}

export function successfulRescaleEvent(desired: number, reason: string): DecisionEvent {
  return normal('SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
}

export const SUCCEEDED_GET_SCALE_MESSAGE = "the HPA controller was able to get the target's current scale";
export const SCALING_DISABLED_MESSAGE = 'scaling is disabled since the replica count of the target is zero';
export const MISSING_SELECTOR_MESSAGE = "the HPA target's scale is missing a selector";
export const SCALED_TO_ZERO_MESSAGE = 'the HPA controller scaled the workload to zero';
export const NOT_SCALED_TO_ZERO_MESSAGE = 'the HPA controller did not scale the workload to zero';
