// decideKpa: one KPA round = collect (record the new per-second samples) → decide (Scale) → PA
// reconcile (min/max/initial bounds, the scale-to-zero state machine, activator-in-path mode and the
// Active condition), as knative's autoscaler + kpa reconciler do. Pure: no I/O, no timers, explicit
// `now`; the input state is never mutated (copy-on-write: only the parts that change are copied),
// and all state is fully serializable.

import type { Condition, DecisionEvent, LimitRule } from '../../core/decision.ts';
import { ACTIVATION_TIMEOUT_BUFFER_SECONDS, MIN_ACTIVATORS } from './config.ts';
import { newWindows, recordSample, stableAndPanic } from './metrics.ts';
import { goInt32, newScalerState, scale, type ScaleResult } from './scaling.ts';
import type { KpaDecisionRecord, KpaDetails, KpaObservation, KpaPolicy, KpaState } from './types.ts';
import type { MaxTimeWindow, TimedBuckets } from './aggregation.ts';

/** The decider's status right after creation (multiscaler.go): unknown scale, EBC from initial scale. */
export function initialEbc(policy: KpaPolicy): number {
  const tbc = policy.targetBurstCapacity;
  if (tbc === -1 || tbc === 0) return tbc;
  return goInt32(policy.initialScale * policy.totalValue - tbc);
}

/** State of a freshly created revision: PA Activating, SKS in Proxy mode, decider unknown. */
export function initKpaState(policy: KpaPolicy, readyPods: number, now: number): KpaState {
  const w = newWindows(policy);
  const s = newScalerState(policy, readyPods, now);
  return {
    stable: w.stable,
    panic: w.panic,
    panicTime: s.panicTime,
    maxPanicPods: s.maxPanicPods,
    delayWindow: s.delayWindow,
    deciderDesired: -1,
    deciderEbc: initialEbc(policy),
    active: { status: 'Unknown', reason: 'Queued', since: now },
    scaleTargetInitialized: false,
    paDesired: null,
    sks: { mode: 'Proxy', since: now },
  };
}

/** How many replicas a new scale target is created with (deploy.go uses initial-scale). */
export function initialReplicas(policy: KpaPolicy): number {
  return policy.initialScale;
}

function applyBounds(min: number, max: number, x: number): number {
  if (x < min) return min;
  if (max !== 0 && x > max) return max;
  return x;
}

export function scaleBounds(policy: KpaPolicy): { min: number; max: number } {
  return { min: policy.reachable ? policy.minScale : 0, max: policy.maxScale };
}

export function numActivators(policy: KpaPolicy, ready: number): number {
  if (policy.targetBurstCapacity === 0) return MIN_ACTIVATORS;
  let cover = ready * policy.totalValue;
  if (policy.targetBurstCapacity > 0) cover += policy.targetBurstCapacity;
  return Math.max(MIN_ACTIVATORS, Math.ceil(cover / policy.activatorCapacity));
}

interface ReconcileOut {
  want: number;
  apply: boolean;
  stz: string | null;
  bound: LimitRule | null;
}

/** scaler.go `scale` + `handleScaleToZero` (the PATCH itself is the shell's job). */
function reconcileScale(policy: KpaPolicy, st: KpaState, obs: KpaObservation, desired: number, now: number): ReconcileOut {
  if (desired < 0 && st.active.status !== 'Unknown') return { want: desired, apply: false, stz: null, bound: null };
  let { min } = scaleBounds(policy);
  const { max } = scaleBounds(policy);
  if (policy.initialScale > 1 && !st.scaleTargetInitialized && policy.reachable) min = Math.max(policy.initialScale, min);
  const bounded = applyBounds(min, max, desired);
  let bound: LimitRule | null = null;
  if (bounded !== desired && desired >= 0) bound = bounded < desired ? 'max' : 'min';
  if (bounded !== 0) return { want: bounded, apply: true, stz: null, bound };

  if (!policy.enableScaleToZero) return { want: 1, apply: true, stz: 'scale-to-zero disabled: keeping 1', bound };
  const since = now - st.active.since;
  if (st.active.status === 'Unknown') {
    const timeout = (policy.progressDeadlineSeconds + ACTIVATION_TIMEOUT_BUFFER_SECONDS) * 1000;
    if (since > timeout) return { want: 0, apply: true, stz: 'activation timed out', bound };
    return { want: -1, apply: false, stz: 'activating', bound };
  }
  if (st.active.status === 'True') {
    const sw = policy.stableWindowSeconds * 1000;
    if (since >= sw) return { want: 0, apply: false, stz: 'deactivating: active for a full stable window', bound };
    return { want: 1, apply: true, stz: `active for ${fmtS(since)} < stable window ${policy.stableWindowSeconds}s: holding 1`, bound };
  }
  // Inactive.
  const reachable = policy.targetBurstCapacity === -1 ? true : obs.activatorReachable !== false;
  if (!reachable) return { want: 0, apply: false, stz: 'waiting for the activator to be in path', bound };
  const lastPod = policy.reachable ? policy.scaleToZeroPodRetentionPeriodSeconds * 1000 : 0;
  const grace = policy.scaleToZeroGracePeriodSeconds * 1000;
  if (since >= Math.max(grace, lastPod)) return { want: 0, apply: true, stz: 'inactive past grace/retention: removing the last replica', bound };
  if (lastPod > 0 && since < lastPod) return { want: 0, apply: false, stz: `pod retention: inactive ${fmtS(since)} < ${policy.scaleToZeroPodRetentionPeriodSeconds}s`, bound };
  const proxyFor = st.sks.mode === 'Proxy' ? now - st.sks.since : 0;
  if (grace - proxyFor <= 0) return { want: 0, apply: true, stz: 'activator in path for the grace period: removing the last replica', bound };
  return { want: 0, apply: false, stz: `grace period: activator in path for ${fmtS(proxyFor)} < ${policy.scaleToZeroGracePeriodSeconds}s`, bound };
}

function fmtS(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

function setActive(st: KpaState, status: 'Unknown' | 'True' | 'False', reason: string, now: number): void {
  if (st.active.status !== status || st.active.reason !== reason) st.active = { status, reason, since: now };
}

/** kpa.go `computeActiveCondition`. */
function computeActive(policy: KpaPolicy, st: KpaState, want: number, ready: number, now: number): void {
  const { min } = scaleBounds(policy);
  const minReady = st.scaleTargetInitialized ? Math.max(min, 1) : Math.max(min, policy.initialScale);
  if (ready >= minReady) st.scaleTargetInitialized = true;
  if (want === 0 || minReady === 0) {
    if (st.active.status === 'Unknown' && minReady > 0) setActive(st, 'False', 'TimedOut', now);
    else setActive(st, 'False', 'NoTraffic', now);
  } else if (ready < minReady) {
    if (want > 0 || st.active.status !== 'False') setActive(st, 'Unknown', 'Queued', now);
    else setActive(st, 'False', 'NoTraffic', now);
  } else if (want > 0 || st.active.status !== 'False') {
    setActive(st, 'True', 'Active', now);
  }
}

/**
 * Copy-on-write: a shallow copy of the state. Its scalars are reassigned freely; `active` and `sks`
 * are only ever replaced, never changed in place; the two parts that are mutated in place — the
 * window buckets (recordSample) and the scale-down-delay window (recordMax) — are copied by
 * decideKpa just before they change (copyBuckets, copyMaxWindow). Unchanged parts stay shared
 * between the previous and the next state, which is safe because no one mutates them afterwards.
 */
function cloneState(s: KpaState): KpaState {
  return { ...s };
}

function copyBuckets(b: TimedBuckets): TimedBuckets {
  return { window: b.window, buckets: b.buckets.slice(), windowTotal: b.windowTotal, firstWrite: b.firstWrite, lastWrite: b.lastWrite };
}

function copyMaxWindow(w: MaxTimeWindow | null): MaxTimeWindow | null {
  return w && { size: w.size, granularity: w.granularity, entries: w.entries.map((e) => ({ index: e.index, value: e.value })) };
}

export function decideKpa(policy: KpaPolicy, observation: KpaObservation, state: KpaState | null, now: number = observation.now): { record: KpaDecisionRecord; state: KpaState } {
  const st = state ? cloneState(state) : initKpaState(policy, observation.readyPods, now);
  const ready = observation.readyPods;

  // 1. Collect (into copies of the windows: the previous state's stay untouched).
  if (state && observation.samples.length > 0) { st.stable = copyBuckets(st.stable); st.panic = copyBuckets(st.panic); }
  const windows = { stable: st.stable, panic: st.panic };
  for (const s of observation.samples) recordSample(policy, windows, s);

  // 2. Decide.
  const avgs = stableAndPanic(policy, windows, now);
  let sr: ScaleResult | null = null;
  if (avgs) {
    const scalerState = { panicTime: st.panicTime, maxPanicPods: st.maxPanicPods, delayWindow: state ? copyMaxWindow(st.delayWindow) : st.delayWindow };
    sr = scale(policy, scalerState, ready, avgs.stable, avgs.panic, now);
    st.panicTime = scalerState.panicTime;
    st.maxPanicPods = scalerState.maxPanicPods;
    st.delayWindow = scalerState.delayWindow;
    st.deciderDesired = sr.desired;
    st.deciderEbc = sr.ebc;
  }

  // 3. PA reconcile.
  const activeBefore = st.active.status;
  const rc = reconcileScale(policy, st, observation, st.deciderDesired, now);
  let mode: 'Proxy' | 'Serve' = 'Proxy';
  if (rc.want === -1 && st.active.status === 'False') mode = 'Proxy';
  else if (rc.want > 0 && st.deciderEbc >= 0) mode = 'Serve';
  if (mode !== st.sks.mode) st.sks = { mode, since: now };
  if (!(rc.want === -1 && st.paDesired !== null && st.paDesired >= 0)) st.paDesired = rc.want;
  computeActive(policy, st, rc.want, ready, now);

  const current = observation.currentReplicas;
  const desiredReplicas = rc.apply ? rc.want : current;
  const rescale = rc.apply && rc.want !== current;

  const limitedBy: LimitRule[] = [...(sr?.limitedBy ?? [])];
  if (rc.bound) limitedBy.push(rc.bound);
  // The decider asked for zero but the scale-to-zero machine holds the last replica (for now).
  if (rc.stz !== null && rc.stz !== 'activating' && !(rc.apply && rc.want === 0) && current > 0) {
    limitedBy.push('scale-to-zero-grace');
  }
  if (limitedBy.length === 0) limitedBy.push('none');

  const details: KpaDetails = {
    metric: policy.metric,
    stableWindowSeconds: policy.stableWindowSeconds,
    panicWindowSeconds: policy.panicWindowSeconds,
    stableAverage: avgs ? avgs.stable : null,
    panicAverage: avgs ? avgs.panic : null,
    targetValue: policy.targetValue,
    totalValue: policy.totalValue,
    desiredStablePodCount: sr ? sr.dspc : null,
    desiredPanicPodCount: sr ? sr.dppc : null,
    maxScaleUp: sr ? sr.maxScaleUp : null,
    maxScaleDown: sr ? sr.maxScaleDown : null,
    panicking: st.panicTime !== null,
    panicTime: st.panicTime,
    maxPanicPods: st.maxPanicPods,
    deciderDesired: st.deciderDesired,
    excessBurstCapacity: st.deciderEbc,
    activatorInPath: st.sks.mode === 'Proxy',
    numActivators: numActivators(policy, ready),
    want: rc.want,
    apply: rc.apply,
    scaleToZero: rc.stz,
    valid: sr !== null,
  };

  const events: DecisionEvent[] = [];
  if (rescale) {
    events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desiredReplicas}; reason: ${reasonOf(policy, details)}` });
  }
  if (sr?.panicTransition === 'enter') events.push({ type: 'Normal', reason: 'Panicking', message: `entered panic mode: panic-window demand ${details.desiredPanicPodCount} pods ≥ ${policy.panicThreshold * 100}% of ${Math.max(1, ready)} ready` });
  if (sr?.panicTransition === 'exit') events.push({ type: 'Normal', reason: 'UnPanicking', message: `left panic mode after a stable window (${policy.stableWindowSeconds}s) without panic conditions` });
  if (activeBefore !== st.active.status) {
    events.push({ type: 'Normal', reason: st.active.status === 'True' ? 'Active' : st.active.status === 'False' ? 'Inactive' : 'Activating', message: `PodAutoscaler ${st.active.reason}` });
  }

  const conditions: Condition[] = [
    { type: 'Active', status: st.active.status, reason: st.active.reason, message: activeMessage(st.active.reason), lastTransitionTime: new Date(st.active.since).toISOString() },
    { type: 'ScaleTargetInitialized', status: st.scaleTargetInitialized ? 'True' : 'Unknown', reason: st.scaleTargetInitialized ? 'Initialized' : 'Initializing', message: '' },
    { type: 'SKSReady', status: 'True', reason: st.sks.mode, message: st.sks.mode === 'Proxy' ? 'activator in the request path' : 'requests go straight to replicas' },
  ];

  const unit = policy.metric === 'rps' ? 'rps' : 'concurrent requests';
  const record: KpaDecisionRecord = {
    decider: 'kpa',
    autoscaler: policy.name,
    target: policy.target,
    time: new Date(now).toISOString(),
    now,
    currentReplicas: current,
    desiredReplicas,
    rescale,
    drivingMetric: 0,
    proposals: [{
      metric: policy.metric,
      current: avgs ? `${fmtNum(details.panicking ? avgs.panic : avgs.stable)} (${details.panicking ? 'panic' : 'stable'} window)` : '<unknown>',
      target: `${fmtNum(policy.targetValue)} per pod`,
      proposedReplicas: sr ? (details.panicking ? Math.max(sr.dspc, sr.dppc) : sr.dspc) : null,
      ...(avgs ? { ratio: avgs.stable / policy.targetValue } : {}),
      ...(avgs ? {} : { error: 'no data: nothing observed for a whole stable window' }),
      detail: { stable: avgs?.stable ?? null, panic: avgs?.panic ?? null, unit },
    }],
    limitedBy,
    explanation: explain(policy, details, current, desiredReplicas, rescale, limitedBy),
    conditions,
    events,
    inputs: { policy, observation, state },
    details,
  };
  return { record, state: st };
}

function activeMessage(reason: string): string {
  switch (reason) {
    case 'NoTraffic': return 'The target is not receiving traffic.';
    case 'TimedOut': return 'The target could not be activated.';
    case 'Queued': return 'Requests to the target are being buffered as resources are provisioned.';
    default: return '';
  }
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 1000) / 1000);
}

function reasonOf(policy: KpaPolicy, d: KpaDetails): string {
  if (d.stableAverage === null) return 'no metrics';
  const which = d.panicking ? `panic-window ${policy.metric} ${fmtNum(d.panicAverage!)}` : `stable-window ${policy.metric} ${fmtNum(d.stableAverage)}`;
  return `${which} / target ${fmtNum(policy.targetValue)}`;
}

function explain(policy: KpaPolicy, d: KpaDetails, current: number, desired: number, rescale: boolean, limitedBy: LimitRule[]): string {
  const parts: string[] = [];
  if (!d.valid) parts.push(`no metric data for a whole ${policy.stableWindowSeconds}s window; keeping the previous decision (${d.deciderDesired})`);
  else {
    parts.push(`${policy.metric} stable ${fmtNum(d.stableAverage!)} over ${policy.stableWindowSeconds}s, panic ${fmtNum(d.panicAverage!)} over ${policy.panicWindowSeconds}s, target ${fmtNum(policy.targetValue)}/pod`);
    parts.push(d.panicking ? `PANIC mode (holding ≥ ${d.maxPanicPods})` : 'stable mode');
    parts.push(`decider wants ${d.deciderDesired}`);
  }
  if (d.scaleToZero) parts.push(d.scaleToZero);
  const bound = limitedBy.filter((r) => r !== 'none');
  if (bound.length) parts.push(`limited by ${bound.join(', ')}`);
  parts.push(rescale ? `scale ${current} → ${desired}` : `stay at ${current}`);
  parts.push(d.activatorInPath ? `activator in path (EBC ${d.excessBurstCapacity})` : `activator out of path (EBC ${d.excessBurstCapacity})`);
  return parts.join('; ') + '.';
}
