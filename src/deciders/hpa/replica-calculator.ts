// The replica calculator: per metric type, the replica count one metric proposes, as
// kube-controller-manager's ReplicaCalculator computes it (pkg/controller/podautoscaler/
// replica_calculator.go + metrics/utilization.go, v1.34). Pure: pods, samples and `now` come in.
//
// Pod grouping (upstream groupPods):
//   - deletionTimestamp set, or phase Failed            → ignored (its sample is dropped)
//   - phase Pending                                      → unready
//   - no sample                                          → missing
//   - cpu only: no Ready condition or no startTime       → unready
//     within cpuInitializationPeriod of startTime: unready if Ready=False, or the sample was taken
//       before one full metric window had passed since Ready's last transition
//     after it: unready only if Ready=False and it never became ready (the transition happened
//       within initialReadinessDelay of startTime)
//   - otherwise                                          → ready
// Rebalance: missing pods count as 100% of request (utilization: max(100%, target)) / exactly the
// target (plain values) on a scale-down and 0 on a scale-up; unready pods count as 0 on a scale-up
// only. The recomputed ratio is discarded when it lands within tolerance or flips direction.

import type { PodInfo, PodMetricSample } from './types.ts';
import type { HpaTolerances } from './types.ts';
import { truncDiv, mulDiv } from './int-math.ts';

/** Anything carrying a milli value: a sample, or a value substituted by the rebalance. */
interface Valued { value: number }
const ZERO: Valued = Object.freeze({ value: 0 });

export const MAX_INT32 = 2147483647;

export function isWithinTolerance(t: HpaTolerances, usageRatio: number): boolean {
  return 1.0 - t.scaleDown <= usageRatio && usageRatio <= 1.0 + t.scaleUp;
}

export interface CalcEnv {
  now: number;
  pods: PodInfo[];
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  tolerances: HpaTolerances;
}

/** What happened inside the calculation, for the decision record. */
export interface CalcInfo {
  readyPods: number;
  missingPods: number;
  unreadyPods: number;
  ignoredPods: number;
  /** current/target before any rebalance. */
  usageRatio: number;
  /** Ratio after treating missing/unready pods conservatively, when that was needed. */
  rebalancedUsageRatio?: number;
  /** The proposal is the current count because the ratio is within tolerance. */
  withinTolerance: boolean;
  /** The proposal is the current count because the rebalance would flip the scale direction. */
  directionFlipPrevented: boolean;
}

export type CalcResult =
  | {
      ok: true;
      replicas: number;
      /** Plain metrics: the average (or total / per-pod) value in milli-units; resource: raw average. */
      usage: number;
      /** Resource Utilization only: percentage of request (truncated). */
      utilization?: number;
      info: CalcInfo;
    }
  | { ok: false; error: string };

function fail(error: string): CalcResult {
  return { ok: false, error };
}

function ceilInt32(x: number): number {
  if (x > MAX_INT32) return MAX_INT32;
  return Math.ceil(x);
}

interface PodGroups {
  readyPodCount: number;
  unready: string[];
  missing: string[];
  ignored: string[];
}

function groupPods(env: CalcEnv, samples: Map<string, Valued>, resource: string): PodGroups {
  const unready: string[] = [];
  const missing: string[] = [];
  const ignored: string[] = [];
  let readyPodCount = 0;
  const isCpu = resource === 'cpu';
  for (const pod of env.pods) {
    if (pod.deletionTimestamp !== undefined || pod.phase === 'Failed') {
      ignored.push(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      unready.push(pod.name);
      continue;
    }
    const sample = samples.get(pod.name) as PodMetricSample | undefined;
    if (sample === undefined) {
      missing.push(pod.name);
      continue;
    }
    if (isCpu) {
      let isUnready: boolean;
      const cond = pod.ready;
      if (cond === undefined || pod.startTime === undefined) {
        isUnready = true;
      } else if (pod.startTime + env.cpuInitializationPeriodMs > env.now) {
        // still within the initialization period: ignore the sample unless the pod is ready and
        // a whole metric window was collected since the last readiness transition
        isUnready = cond.status === 'False' || sample.timestamp < cond.lastTransitionTime + sample.windowSeconds * 1000;
      } else {
        // ignore only pods that are unready and have never been ready
        isUnready = cond.status === 'False' && pod.startTime + env.delayOfInitialReadinessStatusMs > cond.lastTransitionTime;
      }
      if (isUnready) {
        unready.push(pod.name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/** name → sample map (last sample per pod wins, as a Go map fill would). A private copy we may edit. */
function sampleMap(samples: PodMetricSample[]): Map<string, Valued> {
  const m = new Map<string, Valued>();
  for (const s of samples) m.set(s.pod, s);
  return m;
}

/** Drop the samples of ignored and unready pods (upstream removeMetricsForPods). */
function removeGrouped(metrics: Map<string, Valued>, g: PodGroups): void {
  for (const n of g.ignored) metrics.delete(n);
  for (const n of g.unready) metrics.delete(n);
}

/**
 * The first steps both per-pod calculations share (upstream GetResourceReplicas and
 * GetMetricReplicas): group the pods, keep the samples of the ready ones, fail when none is left.
 */
function usablePodMetrics(
  env: CalcEnv,
  samples: PodMetricSample[],
  resource: string,
): { ok: true; metrics: Map<string, Valued>; g: PodGroups } | { ok: false; error: string } {
  if (env.pods.length === 0) return { ok: false, error: 'no pods returned by selector while calculating replica count' };
  const metrics = sampleMap(samples);
  const g = groupPods(env, metrics, resource);
  removeGrouped(metrics, g);
  if (metrics.size === 0) return { ok: false, error: 'did not receive metrics for targeted pods (pods might be unready)' };
  return { ok: true, metrics, g };
}

/** Per-pod request of `resource` in milli-units (upstream calculateRequests, container-level requests). */
export function calculateRequests(
  pods: PodInfo[],
  container: string | undefined,
  resource: string,
): { ok: true; requests: Map<string, number> } | { ok: false; error: string } {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let request = 0;
    let found = false;
    for (const c of pod.containers) {
      if (container === undefined || container === '' || container === c.name) {
        const r = c.requests[resource];
        if (r === undefined) return { ok: false, error: `missing request for ${resource} in container ${c.name} of Pod ${pod.name}` };
        request += r;
      }
      if (container !== undefined && container !== '' && container === c.name) {
        found = true;
        break;
      }
    }
    if (container !== undefined && container !== '' && !found) {
      return { ok: false, error: `container ${container} not found in Pod ${pod.name}` };
    }
    requests.set(pod.name, request);
  }
  return { ok: true, requests };
}

/** metrics/utilization.go GetResourceUtilizationRatio: sums over pods that have a request. */
export function resourceUtilizationRatio(
  metrics: Map<string, Valued>,
  requests: Map<string, number>,
  targetUtilization: number,
): { ok: true; ratio: number; utilization: number; raw: number } | { ok: false; error: string } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  let exact = true;
  for (const [pod, m] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += r;
    n++;
  }
  if (!Number.isSafeInteger(metricsTotal) || !Number.isSafeInteger(requestsTotal)) exact = false;
  if (exact && requestsTotal === 0) return { ok: false, error: 'no metrics returned matched known pods' };
  let utilization: number;
  let raw: number;
  if (exact) {
    utilization = mulDiv(metricsTotal, 100, requestsTotal);
    raw = truncDiv(metricsTotal, n);
  } else {
    // upstream's int64 arithmetic, wrap-around included: int64 sums, (total × 100) / requests
    let mt = 0n;
    let rt = 0n;
    for (const [pod, m] of metrics) {
      const r = requests.get(pod);
      if (r === undefined) continue;
      mt = BigInt.asIntN(64, mt + BigInt(Math.trunc(m.value)));
      rt = BigInt.asIntN(64, rt + BigInt(Math.trunc(r)));
    }
    if (rt === 0n) return { ok: false, error: 'no metrics returned matched known pods' };
    utilization = Number(BigInt.asIntN(64, mt * 100n) / rt);
    raw = Number(mt / BigInt(n));
  }
  // int32(...) in upstream: a utilization beyond int32 wraps around (two's complement), no error
  if (utilization < -MAX_INT32 - 1 || utilization > MAX_INT32) utilization = Number(BigInt.asIntN(32, BigInt(utilization)));
  return { ok: true, ratio: utilization / targetUtilization, utilization, raw };
}

/** metrics/utilization.go GetMetricUsageRatio: truncated average over every sample left. */
export function metricUsageRatio(metrics: Map<string, Valued>, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  let usage: number;
  if (Number.isSafeInteger(total)) usage = truncDiv(total, metrics.size);
  else {
    let b = 0n;
    for (const m of metrics.values()) b += BigInt(m.value);
    usage = Number(b / BigInt(metrics.size));
  }
  return { ratio: usage / targetUsage, usage };
}

function info(g: PodGroups, usageRatio: number): CalcInfo {
  return {
    readyPods: g.readyPodCount,
    missingPods: g.missing.length,
    unreadyPods: g.unready.length,
    ignoredPods: g.ignored.length,
    usageRatio,
    withinTolerance: false,
    directionFlipPrevented: false,
  };
}

/** Resource / ContainerResource with a Utilization target (upstream GetResourceReplicas). */
export function getResourceReplicas(
  env: CalcEnv,
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  container: string | undefined,
  samples: PodMetricSample[],
): CalcResult {
  const usable = usablePodMetrics(env, samples, resource);
  if (!usable.ok) return usable;
  const { metrics, g } = usable;
  const req = calculateRequests(env.pods, container, resource);
  if (!req.ok) return fail(req.error);
  const requests = req.requests;
  const first = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if (!first.ok) return fail(first.error);
  const { ratio: usageRatio, utilization, raw } = first;
  const inf = info(g, usageRatio);
  const tol = env.tolerances;

  const scaleUpWithUnready = g.unready.length > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && g.missing.length === 0) {
    if (isWithinTolerance(tol, usageRatio)) {
      inf.withinTolerance = true;
      return { ok: true, replicas: currentReplicas, usage: raw, utilization, info: inf };
    }
    return { ok: true, replicas: ceilInt32(usageRatio * g.readyPodCount), usage: raw, utilization, info: inf };
  }

  if (g.missing.length > 0) {
    if (usageRatio < 1.0) {
      const fallback = Math.max(100, targetUtilization);
      for (const p of g.missing) metrics.set(p, { value: mulDiv(requests.get(p) ?? 0, fallback, 100) });
    } else if (usageRatio > 1.0) {
      for (const p of g.missing) metrics.set(p, ZERO);
    }
  }
  if (scaleUpWithUnready) {
    for (const p of g.unready) metrics.set(p, ZERO);
  }

  const second = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if (!second.ok) return fail(second.error);
  const newUsageRatio = second.ratio;
  inf.rebalancedUsageRatio = newUsageRatio;

  if (isWithinTolerance(tol, newUsageRatio)) {
    inf.withinTolerance = true;
    return { ok: true, replicas: currentReplicas, usage: raw, utilization, info: inf };
  }
  if ((usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
    inf.directionFlipPrevented = true;
    return { ok: true, replicas: currentReplicas, usage: raw, utilization, info: inf };
  }
  const newReplicas = ceilInt32(newUsageRatio * metrics.size);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    inf.directionFlipPrevented = true;
    return { ok: true, replicas: currentReplicas, usage: raw, utilization, info: inf };
  }
  return { ok: true, replicas: newReplicas, usage: raw, utilization, info: inf };
}

/**
 * Plain per-pod values (upstream calcPlainMetricReplicas): Resource/ContainerResource with an
 * AverageValue target (resource = its name, so cpu readiness rules apply) and Pods metrics
 * (resource = '').
 */
export function getPlainMetricReplicas(
  env: CalcEnv,
  currentReplicas: number,
  targetUsage: number,
  resource: string,
  samples: PodMetricSample[],
): CalcResult {
  const usable = usablePodMetrics(env, samples, resource);
  if (!usable.ok) return usable;
  const { metrics, g } = usable;
  const { ratio: usageRatio, usage } = metricUsageRatio(metrics, targetUsage);
  const inf = info(g, usageRatio);
  const tol = env.tolerances;

  const scaleUpWithUnready = g.unready.length > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && g.missing.length === 0) {
    if (isWithinTolerance(tol, usageRatio)) {
      inf.withinTolerance = true;
      return { ok: true, replicas: currentReplicas, usage, info: inf };
    }
    return { ok: true, replicas: ceilInt32(usageRatio * g.readyPodCount), usage, info: inf };
  }

  if (g.missing.length > 0) {
    if (usageRatio < 1.0) {
      for (const p of g.missing) metrics.set(p, { value: targetUsage });
    } else if (usageRatio > 1.0) {
      for (const p of g.missing) metrics.set(p, ZERO);
    }
  }
  if (scaleUpWithUnready) {
    for (const p of g.unready) metrics.set(p, ZERO);
  }

  const newUsageRatio = metricUsageRatio(metrics, targetUsage).ratio;
  inf.rebalancedUsageRatio = newUsageRatio;
  if (isWithinTolerance(tol, newUsageRatio)) {
    inf.withinTolerance = true;
    return { ok: true, replicas: currentReplicas, usage, info: inf };
  }
  if ((usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) {
    inf.directionFlipPrevented = true;
    return { ok: true, replicas: currentReplicas, usage, info: inf };
  }
  const newReplicas = ceilInt32(newUsageRatio * metrics.size);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) {
    inf.directionFlipPrevented = true;
    return { ok: true, replicas: currentReplicas, usage, info: inf };
  }
  return { ok: true, replicas: newReplicas, usage, info: inf };
}

function readyPodsCount(pods: PodInfo[]): number {
  let n = 0;
  for (const p of pods) if (p.phase === 'Running' && p.ready?.status === 'True') n++;
  return n;
}

function emptyInfo(usageRatio: number, readyPods: number): CalcInfo {
  return { readyPods, missingPods: 0, unreadyPods: 0, ignoredPods: 0, usageRatio, withinTolerance: false, directionFlipPrevented: false };
}

/**
 * Object/External with a Value target (upstream getUsageRatioReplicaCount): ratio × ready pods,
 * or ceil(ratio) when the target is at zero replicas (tolerance not applied then).
 */
export function getUsageRatioReplicaCount(env: CalcEnv, currentReplicas: number, usageRatio: number): CalcResult {
  if (currentReplicas !== 0) {
    if (isWithinTolerance(env.tolerances, usageRatio)) {
      const inf = emptyInfo(usageRatio, readyPodsCount(env.pods));
      inf.withinTolerance = true;
      return { ok: true, replicas: currentReplicas, usage: 0, info: inf };
    }
    if (env.pods.length === 0) {
      return fail('unable to calculate ready pods: no pods returned by selector while calculating replica count');
    }
    const ready = readyPodsCount(env.pods);
    return { ok: true, replicas: ceilInt32(usageRatio * ready), usage: 0, info: emptyInfo(usageRatio, ready) };
  }
  return { ok: true, replicas: ceilInt32(usageRatio), usage: 0, info: emptyInfo(usageRatio, readyPodsCount(env.pods)) };
}

/** Object metric, Value target (upstream GetObjectMetricReplicas). `usage` is the object's value. */
export function getObjectMetricReplicas(env: CalcEnv, currentReplicas: number, targetUsage: number, usage: number): CalcResult {
  const r = getUsageRatioReplicaCount(env, currentReplicas, usage / targetUsage);
  if (!r.ok) return r;
  return { ...r, usage };
}

/** Per-pod average of a total over statusReplicas: ratio, proposal and the reported average. */
function perPod(env: CalcEnv, statusReplicas: number, targetPerPod: number, total: number): CalcResult {
  const usageRatio = total / (targetPerPod * statusReplicas);
  const inf = emptyInfo(usageRatio, statusReplicas);
  let replicas = statusReplicas;
  if (!isWithinTolerance(env.tolerances, usageRatio)) replicas = ceilInt32(total / targetPerPod);
  else inf.withinTolerance = true;
  const usage = statusReplicas === 0 ? total : Math.ceil(total / statusReplicas);
  return { ok: true, replicas, usage, info: inf };
}

/** Object metric, AverageValue target (upstream GetObjectPerPodMetricReplicas). */
export function getObjectPerPodMetricReplicas(env: CalcEnv, statusReplicas: number, targetAverageUsage: number, usage: number): CalcResult {
  return perPod(env, statusReplicas, targetAverageUsage, usage);
}

const MAX_INT64 = 9223372036854775807n;
const MIN_INT64 = -9223372036854775808n;
/** float64(math.MaxInt64): 2^63. */
const INT64_MAX_AS_FLOAT = Number(MAX_INT64);

/**
 * Sum of the external series as int64, with upstream's overflow handling: the Value path
 * (GetExternalMetricReplicas) stops at int64 max before a positive overflow (a negative one wraps
 * around, as int64 addition does); the AverageValue path
 * (GetExternalPerPodMetricReplicas) adds with wrap-around and answers int64 max once the running
 * sum turns negative. Exact (BigInt) once a partial sum leaves the safe-integer range.
 */
export function externalTotal(values: number[], mode: 'cap' | 'wrap'): number {
  let s = 0;
  let i = 0;
  for (; i < values.length; i++) {
    const next = s + values[i];
    if (!Number.isSafeInteger(next)) break;
    s = next;
    if (mode === 'wrap' && s < 0) return Number(MAX_INT64);
  }
  if (i === values.length) return s;
  let b = BigInt(s);
  for (; i < values.length; i++) {
    const v = BigInt(Math.trunc(values[i]));
    if (mode === 'cap') {
      if (v > 0n && b > MAX_INT64 - v) return Number(MAX_INT64);
      b += v;
      if (b < MIN_INT64) b += 1n << 64n; // a negative int64 overflow still wraps (only positive ones are capped)
    } else {
      b += v;
      if (b > MAX_INT64) b -= 1n << 64n; // int64 wrap-around
      else if (b < MIN_INT64) b += 1n << 64n;
      if (b < 0n) return Number(MAX_INT64);
    }
  }
  return Number(b);
}

/** External metric, Value target (upstream GetExternalMetricReplicas). */
export function getExternalMetricReplicas(env: CalcEnv, currentReplicas: number, targetUsage: number, values: number[]): CalcResult {
  const usage = externalTotal(values, 'cap');
  const r = getUsageRatioReplicaCount(env, currentReplicas, usage / targetUsage);
  if (!r.ok) return r;
  return { ...r, usage };
}

/**
 * External metric, AverageValue target (upstream GetExternalPerPodMetricReplicas). A total at int64
 * max (as a float64: 2^63) is reported as it is, not divided by the status replicas, as upstream does.
 */
export function getExternalPerPodMetricReplicas(env: CalcEnv, statusReplicas: number, targetUsagePerPod: number, values: number[]): CalcResult {
  const total = externalTotal(values, 'wrap');
  const r = perPod(env, statusReplicas, targetUsagePerPod, total);
  if (r.ok && total >= INT64_MAX_AS_FLOAT) return { ...r, usage: total };
  return r;
}
