// One decider evaluation (knative pkg/autoscaler/scaling/autoscaler.go `Scale`): desired pod count
// from the stable/panic averages, rate limits, panic mode, activation scale, scale-down delay and
// excess burst capacity. Pure: mutates only the state object it is given.

import { currentMax, newMaxTimeWindow, recordMax, type MaxTimeWindow } from './aggregation.ts';
import type { KpaPolicy } from './types.ts';
import type { LimitRule } from '../../core/decision.ts';

export interface ScalerState {
  panicTime: number | null;
  maxPanicPods: number;
  delayWindow: MaxTimeWindow | null;
}

export interface ScaleResult {
  desired: number;
  ebc: number;
  dspc: number;
  dppc: number;
  maxScaleUp: number;
  maxScaleDown: number;
  desiredStable: number;
  desiredPanic: number;
  panicking: boolean;
  limitedBy: LimitRule[];
  /** 'enter' | 'extend' | 'exit' | null */
  panicTransition: 'enter' | 'extend' | 'exit' | null;
}

/** A fresh decider starts in panic when more than one pod is ready (restart protection). */
export function newScalerState(policy: KpaPolicy, readyPods: number, now: number): ScalerState {
  return {
    panicTime: readyPods > 1 ? now : null,
    maxPanicPods: readyPods,
    delayWindow: policy.scaleDownDelaySeconds > 0 ? newMaxTimeWindow(policy.scaleDownDelaySeconds) : null,
  };
}

/**
 * Go's int32(f) on amd64, where Knative runs: truncation, and for a value out of int32's range (or
 * NaN) the "integer indefinite" -2147483648. The pod counts and the excess burst capacity are int32
 * there, so a huge burst deficit reads -2147483648, not its exact value.
 */
export function goInt32(x: number): number {
  const t = Math.trunc(x);
  return t >= -2147483648 && t <= 2147483647 ? t : -2147483648;
}

export function excessBurstCapacity(policy: KpaPolicy, readyPods: number, panicAverage: number): number {
  const tbc = policy.targetBurstCapacity;
  if (tbc === 0) return 0;
  if (tbc > 0) return goInt32(Math.floor(readyPods * policy.totalValue - tbc - panicAverage));
  return -1;
}

export function scale(policy: KpaPolicy, st: ScalerState, readyPods: number, stable: number, panic: number, now: number): ScaleResult {
  const limitedBy: LimitRule[] = [];
  const R = Math.max(1, readyPods);
  const maxScaleUp = Math.ceil(policy.maxScaleUpRate * R);
  const maxScaleDown = policy.reachable ? Math.floor(R / policy.maxScaleDownRate) : 0;
  const dspc = Math.ceil(stable / policy.targetValue);
  const dppc = Math.ceil(panic / policy.targetValue);
  let desiredStable = goInt32(Math.min(Math.max(dspc, maxScaleDown), maxScaleUp));
  let desiredPanic = goInt32(Math.min(Math.max(dppc, maxScaleDown), maxScaleUp));
  let act = false;
  if (policy.activationScale > 1) {
    if (dspc > 0 && policy.activationScale > desiredStable) { desiredStable = policy.activationScale; act = true; }
    if (dppc > 0 && policy.activationScale > desiredPanic) desiredPanic = policy.activationScale;
  }

  const over = dppc / R >= policy.panicThreshold;
  let transition: ScaleResult['panicTransition'] = null;
  if (st.panicTime === null && over) { st.panicTime = now; transition = 'enter'; }
  else if (over) { st.panicTime = now; transition = 'extend'; }
  else if (st.panicTime !== null && st.panicTime + policy.stableWindowSeconds * 1000 < now) {
    st.panicTime = null; st.maxPanicPods = 0; transition = 'exit';
  }

  let desired = desiredStable;
  const panicking = st.panicTime !== null;
  const chosenRaw = panicking ? Math.max(dspc, dppc) : dspc;
  if (panicking) {
    desired = Math.max(desired, desiredPanic);
    if (desired > st.maxPanicPods) st.maxPanicPods = desired;
    desired = st.maxPanicPods;
  }
  // Attribute the bounding rules (for the record only; they do not change the arithmetic).
  if (act && !panicking) limitedBy.push('activation');
  else if (chosenRaw > maxScaleUp || (chosenRaw < maxScaleDown && !panicking)) limitedBy.push('policy');
  if (panicking && desired !== desiredStable) limitedBy.push('panic');

  if (policy.reachable && st.delayWindow) {
    recordMax(st.delayWindow, now, desired);
    const held = currentMax(st.delayWindow);
    if (held > desired) limitedBy.push('stabilization');
    desired = held;
  }

  return {
    desired, ebc: excessBurstCapacity(policy, readyPods, panic), dspc, dppc, maxScaleUp, maxScaleDown,
    desiredStable, desiredPanic, panicking, limitedBy, panicTransition: transition,
  };
}
