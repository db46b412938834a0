// Tide's own policy: predictive pre-warming + SLO-aware sizing + cold-start-aware scale-down.
// A pure decider like the HPA/KPA/KEDA ones: no I/O, no clock; input = policy + observation + state,
// output = DecisionRecord + next state. Shells (simulator, local runtime) feed it one demand sample
// per second from the proxy: arrivals, busy slot-milliseconds and queued request-milliseconds.
//
// 1. Demand D (in busy slots, i.e. concurrency), by Little's law = arrival rate x mean service time
//    (the busy slots observed until a service time is known), plus the backlog spread over one cold
//    start, plus up to three times the demand beyond the ready capacity (the backlog it builds until
//    replicas ordered now are ready, drained within SLO - service, at most a third of a cold start) when there is a latency SLO
//    that a request cannot meet after waiting out a cold start; a surge (the last 2 s of arrivals
//    3 sigma above the smoothed rate) is used at once.
// 2. Forecast over the pre-warm horizon (default: cold start + one tick): the max of
//    - the level (arrival rate, an EWMA over ~3 service times, x mean service time),
//    - level + trend x h (least-squares slope of the last 5 min of 10 s buckets), and
//    - level + seasonal delta: how demand changed from (now - season) to (now - season + h) one season
//      ago (additive seasonality; used once a whole season of history exists).
//    Spike memory (src/policies/spikes.ts): every 30 min, the lag (5 min .. 6 h) at which sudden jumps
//    recur is learned from the last 24 h (autocorrelation of the onsets); one lag after a past onset
//    the same jump is provisioned for (not held by the scale-down window once its time has passed).
// 3. Sizing: with an SLO (tide.dev/slo-latency), the fewest replicas n such that an M/M/c queue with
//    c = n x slots, arrival rate D / meanService and the observed mean service time has
//    P(wait > slo - meanService) <= 1 - sloTarget and utilization <= maxUtilization; without an SLO,
//    ceil(D / (slots x targetUtilization)).
// 4. Scale-down is cold-start aware: the result never drops below the largest requirement seen in the
//    last scale-down window (default: the cold start, at least 60 s — removing a replica that is
//    needed again sooner costs more replica-seconds of loading than it saves, and risks the SLO).
// 5. Reactive mode: when the SLO leaves room for a cold start plus twice the mean service time, no
//    spare capacity is kept and the scale-down window shrinks to one cold start: waiting for a new
//    replica is cheaper than keeping one idle. Sizing (reactiveSizing 'deadline', deadlineSlots):
//    every queued request must start before its deadline; the ready replicas are credited with what
//    they can still start by then, a replica ordered now only with what it starts after its cold
//    start ('outstanding', the older rule: one slot per request in flight or queued).
// 6. Sparse and batched arrivals: the arrival-rate window spans at least rateMinArrivals
//    independent arrivals (requests / the short-scale index of dispersion of the per-second counts), so a few
//    requests close together, or one batch, are not read as sustained demand.
import type { DecisionRecord, LimitRule } from '../core/decision.ts';
import { erlangC } from '../math/queueing.ts';
import { DEFAULT_SPIKE_OPTIONS, detectSpikePeriod, findOnsets, recallSpike, type SpikeOptions } from './spikes.ts';

/** History the spike lag is learned from (24 h of 10 s buckets), and how often it is re-learned. */
const SPIKE_HISTORY_MS = 24 * 3_600_000;
const SPIKE_DETECT_EVERY_MS = 30 * 60_000;
/** Phase jitter tolerated when recalling a past onset (buckets either side). */
const SPIKE_MARGIN = 2;
/** The projected backlog is drained within 1 / SHORTAGE_DRAIN of a cold start. */
const SHORTAGE_DRAIN = 3;
const SPIKE_MAX_ONSETS = 100;
/** Shortest recurrence looked for (buckets): 5 min. */
const SPIKE_MIN_LAG = 30;
/** Longest recurrence looked for (buckets): 6 h. */
const SPIKE_MAX_LAG = 2160;
function spikeOpts(p: PredictivePolicy): SpikeOptions {
  return p.spikeThreshold ? { ...DEFAULT_SPIKE_OPTIONS, threshold: p.spikeThreshold } : DEFAULT_SPIKE_OPTIONS;
}

export interface PredictivePolicy {
  name: string;
  /** "Deployment/name" */
  target: string;
  minReplicas: number;
  maxReplicas: number;
  /** Parallel requests per replica (containerConcurrency or the model server's batch slots). */
  slotsPerReplica: number;
  /** Used without an SLO (fraction, 0.7 = 70 %). */
  targetUtilization: number;
  /** Latency SLO in ms; undefined = size by targetUtilization. */
  sloLatencyMs?: number;
  /** Fraction of requests that must meet the SLO (0.99). */
  sloTarget: number;
  /** Ceiling on utilization even when the SLO would allow more. */
  maxUtilization: number;
  /** Expected cold start (ms): drives the pre-warm horizon and the scale-down window defaults. */
  coldStartMs: number;
  /** How far ahead to provision (ms). */
  prewarmHorizonMs: number;
  /** Seasonality period (ms); 0 disables the seasonal term. */
  seasonMs: number;
  /** Requirement must have been lower for this long before scaling down (ms). */
  scaleDownWindowMs: number;
  /** Extra capacity on top of the requirement (fraction, 0.1 = +10 %). */
  headroom: number;
  /** Cover this quantile of the demand growth observed within one horizon (0 disables). */
  burstQuantile: number;
  /**
   * Learn at which lag sudden demand jumps recur (autocorrelation of the onsets in the last
   * SPIKE_HISTORY_MS of history, re-detected every SPIKE_DETECT_EVERY_MS) and pre-warm for the
   * same jump one lag after a past one. Optional for compatibility: undefined (a policy built before
   * this field existed, e.g. in an old decision record) = off; defaultPredictivePolicy turns it on.
   */
  spikeMemory?: boolean;
  /** An onset is a 10 s bucket at least this many times the level 20-40 s before (default 2). */
  spikeThreshold?: number;
  /**
   * Whether a surge (arrivals far above the smoothed rate) is provisioned for with NEW replicas,
   * which are ready one cold start later: 'auto' (default) learns it online — the surges seen so far,
   * weighted by their excess work, mostly lasted longer than a cold start — 'on' always (the policy
   * before this field existed; undefined reads as 'on' for old decision records), 'off' never (a
   * surge is served by the queue and the replicas that are up until the smoothed rate catches up).
   */
  burstPersistence?: 'auto' | 'on' | 'off';
  /**
   * Sparse arrivals: the arrival-rate window also spans about this many arrivals (up to 5 min), so
   * that a few requests close together are not read as sustained demand. 0 or undefined (a policy
   * built before this field existed) = the window is ~3 service times only; default 20 (±22 %).
   */
  rateMinArrivals?: number;
  /**
   * Reactive mode (the SLO covers a cold start plus two service times): 'deadline' (default) sizes
   * for every queued request to start before its deadline, crediting what the ready replicas can
   * still serve by then (deadlineSlots); 'outstanding' (undefined, the policy before this field
   * existed) keeps one slot per request in flight or queued.
   */
  reactiveSizing?: 'deadline' | 'outstanding';
  /**
   * Scale to zero (minReplicas 0) when a request arriving at zero replicas misses the SLO (the cold
   * start exceeds SLO - service): the share of the error budget (1 - sloTarget) that such wake-ups may
   * use. The last replica goes only after an idle time past which, judging by the wake-ups seen (the
   * arrivals that came within the cold-start excess after each idle gap), waking from zero stays
   * within that share. 0 or undefined (a policy built before this field existed) = go to zero as soon
   * as the requirement and the scale-down window allow; default 0.5.
   */
  wakeBudget?: number;
  /**
   * Scale-down window from the misses observed (an SLO that a cold start breaks, outside reactive
   * mode, with a shell that reports late requests): the share of the error budget that the requests
   * which missed the SLO only by waiting may use. While they stay under it (over about the last
   * hour, once an hour of samples has been seen) the window shrinks, down to WINDOW_MIN_MS; as soon
   * as they exceed it, it grows back, sixty times as fast, up to scaleDownWindowMs. 0 or undefined
   * (a policy built before this field existed) = always scaleDownWindowMs; default 0.5.
   */
  windowBudget?: number;
}

export function defaultPredictivePolicy(p: Partial<PredictivePolicy> & { name: string }): PredictivePolicy {
  const coldStartMs = p.coldStartMs ?? 30_000;
  return {
    target: `Deployment/${p.name}`,
    minReplicas: 1,
    maxReplicas: 100,
    slotsPerReplica: 1,
    targetUtilization: 0.7,
    sloTarget: 0.99,
    maxUtilization: 0.95,
    seasonMs: 86_400_000,
    headroom: 0,
    burstQuantile: 0,
    spikeMemory: true,
    burstPersistence: 'auto',
    rateMinArrivals: 20,
    reactiveSizing: 'deadline',
    wakeBudget: 0.5,
    windowBudget: 0.5,
    ...p,
    coldStartMs,
    prewarmHorizonMs: p.prewarmHorizonMs ?? coldStartMs + 2000,
    scaleDownWindowMs: p.scaleDownWindowMs ?? Math.max(coldStartMs, 60_000),
  };
}

/** One second of proxy observations. */
export interface DemandSample {
  /** Start of the second (epoch ms). */
  t: number;
  arrivals: number;
  /** Busy slot-milliseconds during the second, summed over replicas. */
  busyMs: number;
  /** Request-milliseconds spent queued in the proxy during the second. */
  queuedMs: number;
  /**
   * Requests that started (or, in a shell that only sees completions, finished) service during the
   * second, and the sum of their service times (ms, queueing excluded). Optional: without them the
   * service time is estimated from busy time per arrival in seconds without a queue.
   */
  started?: number;
  startedServiceMs?: number;
  /**
   * Requests that missed the latency SLO lateSloMs only because they waited (their service alone
   * fits it), counted when they start or, in a shell that only sees completions, when they finish.
   * Optional: a shell that cannot tell leaves both out, and the window budget then does nothing.
   */
  late?: number;
  lateSloMs?: number;
}

export interface PredictiveObservation {
  now: number;
  currentReplicas: number;
  readyReplicas: number;
  /** Samples since the previous decision (oldest first). */
  samples: DemandSample[];
  /** Requests waiting right now. */
  queued: number;
  /** Requests being served right now (default: the busy slots of the last sample). */
  inFlight?: number;
}

const BUCKET_MS = 10_000;
/** Past surge episodes fade with this time constant (ms). */
const SURGE_MEMORY_MS = 6 * 3_600_000;
const GROWTH_BINS = 64;
const GROWTH_STEP = 1.03;
const GROWTH_DECAY = 1 - 1 / 1440; // per 10 s bucket: ~4 h half-life
/** Idle-gap bins: bin k holds gaps in [IDLE_BIN0_MS x 2^k, x 2^(k+1)); the last one is open-ended. */
const IDLE_BINS = 14;
const IDLE_BIN0_MS = 10_000;
/** Wake-up statistics fade with this time constant (per second of samples). */
const WAKE_DECAY = 1 - 1 / (24 * 3600);
function idleBin(gapMs: number): number {
  return Math.min(IDLE_BINS - 1, Math.max(0, Math.floor(Math.log2(gapMs / IDLE_BIN0_MS))));
}
/** The window-budget rule: its memory for late requests (s), the shortest window, and how fast the window shrinks and grows (e-folding, s). */
const LATE_MEMORY_S = 3600;
export const WINDOW_MIN_MS = 10_000;
const WINDOW_SHRINK_S = 3600;
const WINDOW_GROW_S = 60;

/**
 * Scale to zero only after an idle time tau such that the wake-ups seen after longer gaps would have
 * missed at most `share` of the error budget: tau = the upper edge of the longest-gap bin whose
 * misses, with those of all longer gaps, exceed it (0: any idle time; Infinity: never).
 */
export function zeroAfterMs(st: PredictiveState, sloTarget: number, share: number): number {
  const miss = st.wakeMiss;
  if (!miss) return 0;
  const budget = share * (1 - sloTarget) * (st.wakeArrivals ?? 0);
  let tail = 0;
  for (let k = IDLE_BINS - 1; k >= 0; k--) {
    tail += miss[k];
    if (tail > budget) return k === IDLE_BINS - 1 ? Infinity : IDLE_BIN0_MS * 2 ** (k + 1);
  }
  return 0;
}

/** Record the growth ratio of the bucket one horizon ago (the newest bucket was just appended). */
function recordGrowth(st: PredictiveState, hb: number): void {
  const n = histLen(st.buckets);
  const j = n - 1 - hb;
  if (j < 0) return;
  const base = histGet(st.buckets, j);
  if (base <= 0.5) return; // too little traffic for a meaningful ratio
  let peak = 0;
  for (let i = j + 1; i < n; i++) peak = Math.max(peak, histGet(st.buckets, i));
  const r = peak / base;
  let k = r <= 1 ? 0 : Math.floor(Math.log(r) / Math.log(GROWTH_STEP));
  if (k >= GROWTH_BINS) k = GROWTH_BINS - 1;
  const g = st.growth;
  for (let i = 0; i < g.length; i++) g[i] *= GROWTH_DECAY;
  g[k] += 1;
}

function growthQuantile(g: number[], q: number): number {
  let total = 0;
  for (const x of g) total += x;
  if (total < 30) return 1;
  let acc = 0;
  for (let k = 0; k < g.length; k++) {
    acc += g[k];
    if (acc >= q * total) return Math.pow(GROWTH_STEP, k + 1);
  }
  return Math.pow(GROWTH_STEP, GROWTH_BINS);
}
const CHUNK = 512;

function histLen(c: number[][]): number {
  return c.length ? (c.length - 1) * CHUNK + c[c.length - 1].length : 0;
}
function histGet(c: number[][], i: number): number {
  return c[Math.floor(i / CHUNK)][i % CHUNK];
}
/** Append to a chunk list whose outer array the caller owns (the changed chunk is copied). */
function histPush(c: number[][], v: number): void {
  const last = c[c.length - 1];
  if (!last || last.length === CHUNK) c.push([v]);
  else c[c.length - 1] = [...last, v];
}

/** Serializable state. */
export interface PredictiveState {
  /** Arrivals of the last 10 s, per second, oldest first. */
  recentArrivals: number[];
  /** Per-second demand (busy slots) of the last 30 s, oldest first. */
  recent: number[];
  /**
   * 10 s demand buckets for the trend and seasonal terms, oldest first, in chunks of 512 (only the
   * last chunk ever changes, so a decision copies little). bucketStart = start of the open bucket.
   */
  buckets: number[][];
  bucketStart: number;
  partialSum: number;
  partialN: number;
  /** End of the last second with any arrival, busy slot or queued request (epoch ms). */
  lastActive: number;
  /** Arrival rate (per second), an EWMA over ~3 mean service times. */
  rate: number;
  /** EWMA of busy ms per arrival (mean service time). */
  serviceMs: number;
  arrivalsWindow: number;
  busyWindow: number;
  /**
   * Burst statistics: an exponentially decaying histogram (half-life ~4 h) of the growth ratio
   * max(demand over the next horizon) / demand, observed on 10 s buckets. Bin k covers ratios
   * [GROWTH_STEP^k, GROWTH_STEP^(k+1)).
   */
  growth: number[];
  /** Requirements of recent decisions, for the scale-down window. */
  required: { t: number; n: number }[];
  /** Learned lag (10 s buckets) at which demand spikes recur; 0 or undefined = none. */
  spikeLag?: number;
  /** Share of recent onsets that recurred at spikeLag (the autocorrelation peak). */
  spikeScore?: number;
  /** When spikeLag was last (re)detected (epoch ms). */
  spikeDetectedAt?: number;
  /**
   * Surge episodes (burstPersistence 'auto'): the one under way (start, the arrival rate before it,
   * its excess work so far in slot-seconds), and the decayed excess work of past episodes that
   * outlasted a cold start (long) or did not (short). Optional: undefined = none yet.
   */
  surgeSince?: number;
  surgeBaseRate?: number;
  surgeExcess?: number;
  surgeLong?: number;
  surgeShort?: number;
  /** Seconds of samples the rate estimate has seen since it was last reset (bounds its window while young). */
  rateAge?: number;
  /** Mean of the per-second arrival counts and half the mean square of their successive differences (EWMAs over ~5 min): their short-scale index of dispersion. */
  countMean?: number;
  countDiffSq?: number;
  /**
   * Wake-ups from idle (scale to zero allowed): for each idle-gap bin (log-spaced, IDLE_BINS), the
   * decayed count of arrivals that came within the cold-start excess (cold start - SLO + service)
   * after a gap of that length, i.e. what a wake-up from zero replicas would have missed; the decayed
   * count of all arrivals; the wake-up being counted (its end, ms; 0 = none) and its gap bin.
   */
  wakeMiss?: number[];
  wakeArrivals?: number;
  wakeUntil?: number;
  wakeBin?: number;
  /** Observed late requests and arrivals (decayed over LATE_MEMORY_S), seconds of such samples seen, and the window as a fraction of scaleDownWindowMs. */
  lateSum?: number;
  lateArrivals?: number;
  lateAge?: number;
  windowScale?: number;
}

export function emptyPredictiveState(): PredictiveState {
  return { recent: [], recentArrivals: [], buckets: [], bucketStart: -1, partialSum: 0, partialN: 0, lastActive: 0, rate: 0, serviceMs: 0, arrivalsWindow: 0, busyWindow: 0, growth: new Array(GROWTH_BINS).fill(0), required: [], spikeLag: 0, spikeScore: 0, spikeDetectedAt: 0 };
}

export interface PredictiveDetails {
  level: number;
  trendPerS: number;
  seasonalDelta: number | null;
  forecast: number;
  serviceMs: number;
  requiredNow: number;
  requiredForecast: number;
  heldByWindow: number;
  /** Jump recalled from one learned spike lag ago (1 = none). */
  spikeRatio?: number;
  /** The learned spike lag (ms), 0 = none. */
  spikeLagMs?: number;
  /** The smoothed demand (busy slots), without the surge fast path. */
  levelSmooth?: number;
  /** Share of past surge work that outlasted a cold start (auto), or 1 / 0 for on / off. */
  surgePersistence?: number;
  /** The surge was provisioned for with new replicas (it is expected to outlast a cold start). */
  surgeProvisioned?: boolean;
  /** Queued work now (slot-s), and what of it the ready replicas have not drained by the time a replica ordered now is ready. */
  backlogSlotS?: number;
  backlogLeftAtReadySlotS?: number;
  /** Reactive deadline sizing (reactiveSizing 'deadline'): its inputs and result (slots). */
  deadline?: { slots: number; deadlineMs: number; perReady: number; perNew: number; servableByReady: number; newSlots: number };
  /** Demand beyond the ready capacity (busy slots), and how many times it is provisioned again for the backlog it builds during a cold start. */
  shortageSlots?: number;
  shortageDrain?: number;
  /** Window of the arrival-rate estimate (s), and the index of dispersion of the per-second counts it used. */
  rateWindowS?: number;
  rateDispersion?: number;
  /** The scale-down window used (ms), when it is not scaleDownWindowMs (reactive mode, window budget). */
  windowMs?: number;
  /** Scale to zero only after this much idle time (ms; Infinity = not at all), learned from past wake-ups; set when the wake budget applies. */
  zeroAfterMs?: number;
  /** Which term asked for how many replicas. */
  terms?: { demand: number; backlog: number; forecast: number; spike: number; keepForSurge: number; held: number };
}

export type PredictiveRecord = DecisionRecord<{ policy: PredictivePolicy; observation: PredictiveObservation; state: PredictiveState }, PredictiveDetails>;

/** Replicas needed for demand d (busy slots) with mean service time s (ms). */
export function replicasFor(p: PredictivePolicy, d: number, s: number): number {
  if (d <= 0) return 0;
  const util = p.sloLatencyMs === undefined ? p.targetUtilization : p.maxUtilization;
  let n = Math.max(1, Math.ceil(d / (p.slotsPerReplica * util)));
  if (p.sloLatencyMs !== undefined && s > 0) {
    // the fewest replicas meeting P(wait > slack) <= 1 - target (M/M/c, Erlang C)
    const slack = Math.max(0, p.sloLatencyMs - s);
    const allowed = 1 - p.sloTarget;
    let k = Math.max(1, Math.floor(d / p.slotsPerReplica));
    for (let guard = 0; guard < 10_000; guard++, k++) {
      const c = k * p.slotsPerReplica;
      if (c <= d) continue;
      const tail = erlangC(c, d) * Math.exp(-((c - d) / s) * slack);
      if (tail <= allowed) break;
    }
    n = Math.max(n, k);
  }
  return Math.ceil(n * (1 + p.headroom) - 1e-9);
}

/**
 * Reactive-mode sizing by deadlines (reactiveSizing 'deadline'): the SLO lets a request wait out a
 * cold start, so what matters is whether every queued request can START before its deadline,
 * T = slo - 2 x mean service from now (>= one cold start in reactive mode). A slot starts a request
 * every mean service time: a ready one floor(T / s) of them before T (counting a busy one as free
 * after one mean service), a slot ordered now only from one cold start on, floor((T - C) / s) + 1.
 * The sustained flow (levelSlots = arrival rate x mean service) keeps levelSlots busy. So:
 * - if the ready slots not needed by the flow can start the queue in time, the slots needed are
 *   levelSlots + queued / perReady (and may be fewer than the ready ones: a batch that the replicas
 *   up now serve before its deadline is not sustained demand);
 * - else every ready slot is kept and the rest of the queue needs new slots, perNew requests each
 *   (at least levelSlots in all).
 */
export function deadlineSlots(
  p: PredictivePolicy,
  o: { queued: number; levelSlots: number; readySlots: number; serviceMs: number },
): { slots: number; deadlineMs: number; perReady: number; perNew: number; servableByReady: number; newSlots: number } {
  const s = Math.max(1, o.serviceMs);
  const deadlineMs = Math.max(p.coldStartMs, (p.sloLatencyMs ?? 0) - 2 * s);
  const perReady = Math.max(1, Math.floor(deadlineMs / s));
  const perNew = Math.floor(Math.max(0, deadlineMs - p.coldStartMs) / s) + 1;
  const spare = Math.max(0, o.readySlots - o.levelSlots);
  const servableByReady = spare * perReady;
  if (o.queued <= servableByReady) {
    return { slots: o.levelSlots + o.queued / perReady, deadlineMs, perReady, perNew, servableByReady, newSlots: 0 };
  }
  const newSlots = Math.ceil((o.queued - servableByReady) / perNew - 1e-9);
  // (the queue is the flow's excess so far: the flow and the queue are not added up)
  return { slots: Math.max(o.readySlots + newSlots, o.levelSlots), deadlineMs, perReady, perNew, servableByReady, newSlots };
}

export function decidePredictive(
  policy: PredictivePolicy,
  obs: PredictiveObservation,
  prev: PredictiveState,
): { record: PredictiveRecord; state: PredictiveState } {
  const st: PredictiveState = {
    recent: prev.recent.slice(),
    recentArrivals: prev.recentArrivals.slice(),
    buckets: prev.buckets.slice(), // chunks are shared; histPush copies the one it changes
    bucketStart: prev.bucketStart,
    partialSum: prev.partialSum,
    partialN: prev.partialN,
    serviceMs: prev.serviceMs,
    rate: prev.rate,
    lastActive: prev.lastActive,
    arrivalsWindow: prev.arrivalsWindow,
    busyWindow: prev.busyWindow,
    growth: prev.growth.slice(),
    required: prev.required.filter((r) => r.t > obs.now - policy.scaleDownWindowMs),
    spikeLag: prev.spikeLag ?? 0,
    spikeScore: prev.spikeScore ?? 0,
    spikeDetectedAt: prev.spikeDetectedAt ?? 0,
    surgeSince: prev.surgeSince ?? 0,
    surgeBaseRate: prev.surgeBaseRate ?? 0,
    surgeExcess: prev.surgeExcess ?? 0,
    surgeLong: prev.surgeLong ?? 0,
    surgeShort: prev.surgeShort ?? 0,
    rateAge: prev.rateAge ?? 0,
    countMean: prev.countMean ?? 0,
    countDiffSq: prev.countDiffSq ?? 0,
    wakeMiss: prev.wakeMiss?.slice(),
    wakeArrivals: prev.wakeArrivals ?? 0,
    wakeUntil: prev.wakeUntil ?? 0,
    wakeBin: prev.wakeBin ?? 0,
    lateSum: prev.lateSum ?? 0,
    lateArrivals: prev.lateArrivals ?? 0,
    windowScale: prev.windowScale ?? 1,
    lateAge: prev.lateAge ?? 0,
  };
  // the part of a cold start a request arriving at zero replicas cannot absorb within its SLO
  // (none without a budget, above zero replicas, or when the SLO absorbs a cold start)
  const wakeExcessMs = (policy.wakeBudget ?? 0) > 0 && policy.minReplicas === 0 && policy.sloLatencyMs !== undefined
    ? policy.coldStartMs - (policy.sloLatencyMs - prev.serviceMs) : 0;
  const seasonBuckets = Math.max(policy.seasonMs > 0 ? Math.ceil((policy.seasonMs + policy.prewarmHorizonMs) / BUCKET_MS) + 4 : 0, policy.spikeMemory ? SPIKE_HISTORY_MS / BUCKET_MS : 0);
  let rateWindowS = 0;
  let rateDispersion = 1;
  for (const s of obs.samples) {
    // mean service time over a decaying window (~10 min): from the service times the proxy saw
    // when it has them; else busy ms per arrival, skipping seconds with a queue once an estimate
    // exists (saturated replicas hide the true service demand)
    if (s.started !== undefined && s.startedServiceMs !== undefined) {
      st.arrivalsWindow = st.arrivalsWindow * (599 / 600) + s.started;
      st.busyWindow = st.busyWindow * (599 / 600) + s.startedServiceMs;
      if (st.arrivalsWindow > 0.5) st.serviceMs = st.busyWindow / st.arrivalsWindow;
    } else if (s.queuedMs === 0 || st.serviceMs === 0) {
      st.arrivalsWindow = st.arrivalsWindow * (599 / 600) + s.arrivals;
      st.busyWindow = st.busyWindow * (599 / 600) + s.busyMs;
      if (st.arrivalsWindow > 1) st.serviceMs = st.busyWindow / st.arrivalsWindow;
    }
    // arrival rate over a window of ~3 mean service times (10 s .. 5 min): Little's law needs a
    // window longer than a request, or one long request reads as many busy slots
    // Sparse arrivals: a rate estimated from a handful of arrivals is mostly noise (relative error
    // 1/sqrt(N) for N arrivals), and the scale-down window keeps its peaks. The window also spans
    // about rateMinArrivals arrivals (at most 5 min, and no more than the samples seen since the
    // estimate was last reset, so that it does not start out sluggish).
    // Batched arrivals: requests that arrive together are not independent, so they count as fewer
    // arrivals: N requests with per-second counts of short-scale index of dispersion D weigh like
    // N / D independent ones. D = half the mean square of successive differences of the per-second
    // counts over their mean (the Allan variance at 1 s): 1 for Poisson arrivals, about the batch
    // size for batches, and still about 1 when the rate itself moves over minutes (a burst that lasts
    // is demand, not clustering: the plain variance would count it as dispersion).
    st.rateAge = (st.rateAge ?? 0) + 1;
    const w0 = Math.min(300, Math.max(10, (3 * st.serviceMs) / 1000));
    const minArrivals = policy.rateMinArrivals ?? 0;
    let w = w0;
    if (minArrivals > 0) {
      const wd = Math.min(st.rateAge, 300);
      st.countMean = (st.countMean ?? 0) + (s.arrivals - (st.countMean ?? 0)) / wd;
      const prevCount = st.recentArrivals.length ? st.recentArrivals[st.recentArrivals.length - 1] : s.arrivals;
      st.countDiffSq = (st.countDiffSq ?? 0) + ((s.arrivals - prevCount) ** 2 / 2 - (st.countDiffSq ?? 0)) / wd;
      const m = st.countMean ?? 0;
      const dispersion = m > 0 ? Math.max(1, (st.countDiffSq ?? 0) / m) : 1;
      w = Math.max(w0, Math.min(st.rateAge, 300, (minArrivals * dispersion) / Math.max(st.rate, 1e-9)));
      rateDispersion = dispersion;
    }
    st.rate += (s.arrivals - st.rate) / w;
    rateWindowS = w;
    // offered load in busy slots (Little's law): rate x mean service, what the replicas are busy
    // with when nothing queues. Before a service time is known, what they were busy with.
    const busy = s.busyMs / 1000;
    if (wakeExcessMs > 0) {
      // wake-ups: an arrival after an idle gap opens a window of the cold-start excess; its arrivals
      // are what a wake-up from zero would have missed, booked under the gap's length
      st.wakeMiss ??= new Array(IDLE_BINS).fill(0);
      st.wakeArrivals = (st.wakeArrivals ?? 0) * WAKE_DECAY + s.arrivals;
      for (let k = 0; k < IDLE_BINS; k++) st.wakeMiss[k] *= WAKE_DECAY;
      if (s.arrivals > 0 && st.lastActive > 0 && !st.wakeUntil && s.t - st.lastActive >= IDLE_BIN0_MS) {
        st.wakeUntil = s.t + wakeExcessMs; st.wakeBin = idleBin(s.t - st.lastActive);
      }
      if (st.wakeUntil) {
        if (s.t < st.wakeUntil) st.wakeMiss[st.wakeBin ?? 0] += s.arrivals;
        else st.wakeUntil = 0;
      }
    }
    if (s.arrivals > 0 || s.busyMs > 0 || s.queuedMs > 0) st.lastActive = s.t + 1000;
    // idle for a whole scale-down window: the rate is zero (an EWMA never gets there by itself)
    if (s.t + 1000 - st.lastActive >= policy.scaleDownWindowMs) { st.rate = 0; st.rateAge = 0; }
    const d = st.serviceMs > 0 ? (st.rate * st.serviceMs) / 1000 : busy;
    st.recent.push(d);
    if (st.recent.length > 30) st.recent.shift();
    st.recentArrivals.push(s.arrivals);
    if (st.recentArrivals.length > 10) st.recentArrivals.shift();
    // 10 s buckets
    const b = Math.floor(s.t / BUCKET_MS) * BUCKET_MS;
    if (st.bucketStart < 0) st.bucketStart = b;
    if (b > st.bucketStart) {
      histPush(st.buckets, st.partialN ? st.partialSum / st.partialN : 0);
      for (let k = st.bucketStart + BUCKET_MS; k < b; k += BUCKET_MS) histPush(st.buckets, 0);
      st.bucketStart = b;
      st.partialSum = 0;
      st.partialN = 0;
      while (histLen(st.buckets) - CHUNK > seasonBuckets + 40) st.buckets.shift();
      if (policy.burstQuantile > 0) recordGrowth(st, Math.ceil(policy.prewarmHorizonMs / BUCKET_MS));
    }
    st.partialSum += d;
    st.partialN++;
  }

  if (policy.spikeMemory && st.bucketStart >= 0 && st.bucketStart - (st.spikeDetectedAt ?? 0) >= SPIKE_DETECT_EVERY_MS) {
    const n = histLen(st.buckets);
    const keep = SPIKE_HISTORY_MS / BUCKET_MS;
    const from = Math.max(0, n - keep);
    const hist = { n, get: (i: number) => histGet(st.buckets, i) };
    const onsets = findOnsets(hist, from + 4, spikeOpts(policy)).slice(-SPIKE_MAX_ONSETS);
    // an onset counts toward a lag's score only when one lag before it was searched too
    const searchedFrom = onsets.length === SPIKE_MAX_ONSETS ? onsets[0] : from + 4;
    const found = detectSpikePeriod(onsets, searchedFrom, SPIKE_MIN_LAG, SPIKE_MAX_LAG);
    st.spikeLag = found.lag;
    st.spikeScore = found.score;
    st.spikeDetectedAt = st.bucketStart;
  }
  const r = st.recent;
  const last = r.slice(-10);
  let level = last.length ? last[last.length - 1] : 0;
  // fast path for sudden surges (like the KPA's panic window): when the arrivals of the last 2 s are
  // far above what the smoothed rate predicts (a 3-sigma Poisson excess), use their rate at once
  const levelSmooth = level;
  const a2 = st.recentArrivals.slice(-2);
  let surging = false;
  if (a2.length === 2 && st.serviceMs > 0) {
    const n2 = a2[0] + a2[1];
    const expect = 2 * st.rate;
    if (n2 > expect + 3 * Math.sqrt(expect) + 2) { level = Math.max(level, ((n2 / 2) * st.serviceMs) / 1000); surging = true; }
    // surge episodes: one lasts while arrivals stay 3 sigma above the rate before it began
    const dtS = obs.samples.length;
    const decay = Math.exp(-(dtS * 1000) / SURGE_MEMORY_MS);
    st.surgeLong = (st.surgeLong ?? 0) * decay;
    st.surgeShort = (st.surgeShort ?? 0) * decay;
    if (surging && !st.surgeSince) { st.surgeSince = obs.now; st.surgeBaseRate = st.rate; st.surgeExcess = 0; }
    if (st.surgeSince) {
      const base = 2 * (st.surgeBaseRate ?? 0);
      if (n2 > base + 3 * Math.sqrt(base) + 2) {
        st.surgeExcess = (st.surgeExcess ?? 0) + Math.max(0, (n2 / 2 - (st.surgeBaseRate ?? 0)) * st.serviceMs / 1000) * dtS;
      } else {
        if (obs.now - st.surgeSince >= policy.coldStartMs) st.surgeLong += st.surgeExcess ?? 0;
        else st.surgeShort += st.surgeExcess ?? 0;
        st.surgeSince = 0; st.surgeExcess = 0;
      }
    }
  }
  // Is this surge worth replicas ordered now (ready one cold start later)? 'auto': when the surge
  // work seen so far mostly came in episodes longer than a cold start (prior: half), or when this
  // one has already outlasted a cold start. Otherwise the queue and the replicas that are up serve it.
  const mode = policy.burstPersistence ?? 'on';
  const persistence = mode === 'on' ? 1 : mode === 'off' ? 0 : ((st.surgeLong ?? 0) + 1) / ((st.surgeLong ?? 0) + (st.surgeShort ?? 0) + 2);
  const ongoingLong = !!st.surgeSince && obs.now - st.surgeSince >= policy.coldStartMs;
  const surgeProvisioned = surging && (persistence >= 0.5 || ongoingLong);
  const levelKeep = level;
  if (surging && !surgeProvisioned) level = levelSmooth;
  // a backlog is drained over one cold start (replicas ordered now are not ready sooner)
  // Demand beyond the ready capacity keeps queueing until replicas ordered now are ready, one cold
  // start from now: that future backlog (shortage x cold start) is provisioned for too, to be drained
  // within a third of a cold start of their arrival (+3 x shortage). Only with a latency SLO that a
  // request cannot meet after waiting out a cold start (else the backlog costs no SLO miss).
  const sloAtRisk = policy.sloLatencyMs !== undefined && policy.coldStartMs > policy.sloLatencyMs - st.serviceMs;
  // What the new replicas can still save of that backlog: its newest requests meet the SLO only if
  // it is drained within SLO - service of their arrival, so draining it faster than that buys
  // nothing: cold start / (SLO - service) x the shortage, at most SHORTAGE_DRAIN (a third of a cold
  // start, which bounds the cost when the SLO is short: 1 s against a 30 s cold start would ask 40x).
  const shortageDrain = sloAtRisk ? Math.min(SHORTAGE_DRAIN, policy.coldStartMs / Math.max(1, (policy.sloLatencyMs ?? 0) - st.serviceMs)) : SHORTAGE_DRAIN;
  const shortage = st.serviceMs > 0 && sloAtRisk ? Math.max(0, level - obs.readyReplicas * policy.slotsPerReplica) : 0;
  // The queued work, less what the ready replicas drain (beyond the smoothed demand) before a
  // replica ordered now is ready, is what new replicas can still serve: spread over one cold start.
  // ('on' keeps the older rule: all of the queue, as if nothing drained it meanwhile.)
  const backlogSlotS = st.serviceMs > 0 ? (obs.queued * st.serviceMs) / 1000 : 0;
  const drainSlots = mode === 'on' ? 0 : Math.max(0, obs.readyReplicas * policy.slotsPerReplica * policy.maxUtilization - levelSmooth);
  const backlogLeft = Math.max(0, backlogSlotS - drainSlots * (policy.coldStartMs / 1000));
  const queueNow = (st.serviceMs > 0 ? (backlogLeft * 1000) / Math.max(policy.coldStartMs, st.serviceMs) : 0) + shortageDrain * shortage;

  // trend over the last 5 min of 10 s means (least squares), per second
  let trend = 0;
  const hl = histLen(st.buckets);
  const nb = Math.min(30, hl);
  if (nb >= 6) {
    const ys: number[] = [];
    for (let i = hl - nb; i < hl; i++) ys.push(histGet(st.buckets, i));
    const xm = (nb - 1) / 2;
    const ym = ys.reduce((a, b) => a + b, 0) / nb;
    let num = 0, den = 0;
    for (let i = 0; i < nb; i++) { num += (i - xm) * (ys[i] - ym); den += (i - xm) * (i - xm); }
    trend = num / den / (BUCKET_MS / 1000);
  }
  const h = policy.prewarmHorizonMs / 1000;
  let forecast = Math.max(level, level + trend * h);

  // seasonal delta: demand one season ago at (now + horizon) minus one season ago at now
  let seasonalDelta: number | null = null;
  if (policy.seasonMs > 0) {
    const hb = Math.ceil(policy.prewarmHorizonMs / BUCKET_MS);
    const back = Math.round(policy.seasonMs / BUCKET_MS); // buckets between now and one season ago
    const nowIdx = hl - 1; // most recent complete bucket
    const baseIdx = nowIdx - back;
    if (baseIdx - 1 >= 0 && baseIdx + hb < hl) {
      const base = (histGet(st.buckets, baseIdx) + histGet(st.buckets, baseIdx - 1)) / 2;
      let peak = -Infinity;
      for (let k = 1; k <= hb + 1 && baseIdx + k < hl; k++) peak = Math.max(peak, histGet(st.buckets, baseIdx + k));
      seasonalDelta = peak - base;
      forecast = Math.max(forecast, level + seasonalDelta);
    }
  }

  // recurring spikes: one learned lag after a past onset, expect the same jump again (x level)
  let spikeRatio = 1;
  if (policy.spikeMemory && (st.spikeLag ?? 0) > 0) {
    const hist = { n: hl, get: (i: number) => histGet(st.buckets, i) };
    const hb = Math.ceil(policy.prewarmHorizonMs / BUCKET_MS);
    spikeRatio = recallSpike(hist, st.spikeLag ?? 0, hb + 1, SPIKE_MARGIN, spikeOpts(policy));
  }
  // bursts: grow the level by the burstQuantile of the growth seen within one horizon
  const growth = policy.burstQuantile > 0 ? growthQuantile(st.growth, policy.burstQuantile) : 1;
  forecast = Math.max(forecast, level * growth);

  const svc = st.serviceMs > 0 ? st.serviceMs : 1;
  let requiredNow = replicasFor(policy, level + queueNow, svc);
  const requiredDemand = replicasFor(policy, level, svc);
  // an unprovisioned surge keeps the replicas that are up busy: none of them is removed during it
  // (not remembered by the scale-down window: once it is over they may go)
  const requiredKeep = surging && !surgeProvisioned ? Math.min(obs.currentReplicas, replicasFor(policy, levelKeep, svc)) : 0;
  let requiredForecast = replicasFor(policy, forecast, svc);
  // Cold-start-aware sizing: when the SLO leaves room for a cold start plus twice the mean service
  // time, a request can afford to wait for a replica started for it, so no spare capacity is kept
  // for future arrivals: one slot per outstanding request (in flight + queued) is enough.
  const reactive = policy.sloLatencyMs !== undefined && st.serviceMs > 0 && policy.coldStartMs + 2 * st.serviceMs <= policy.sloLatencyMs;
  let deadline: PredictiveDetails['deadline'];
  if (reactive) {
    const lastBusy = obs.samples.length ? obs.samples[obs.samples.length - 1].busyMs / 1000 : 0;
    const inFlight = obs.inFlight ?? Math.ceil(lastBusy);
    const outstanding = inFlight + obs.queued;
    if ((policy.reactiveSizing ?? 'outstanding') === 'deadline') {
      deadline = deadlineSlots(policy, { queued: obs.queued, levelSlots: levelSmooth, readySlots: obs.readyReplicas * policy.slotsPerReplica, serviceMs: st.serviceMs });
      requiredNow = outstanding > 0 ? Math.max(1, Math.ceil(deadline.slots / policy.slotsPerReplica - 1e-9)) : 0;
    } else {
      requiredNow = Math.ceil(outstanding / policy.slotsPerReplica);
    }
    requiredForecast = Math.min(requiredForecast, requiredNow);
  }
  // a recalled spike is provisioned for while it is expected, but not held by the scale-down window
  // afterwards: if it does not come, its replicas go as soon as the expected onset has passed
  // The jump applies to the level before it (the lowest of the last minute's buckets and the level
  // now), so a spike that has begun is not multiplied a second time.
  let spikeBase = level;
  for (let i = Math.max(0, hl - 6); i < hl; i++) spikeBase = Math.min(spikeBase, histGet(st.buckets, i));
  const requiredSpike = !reactive && spikeRatio > 1 ? replicasFor(policy, spikeBase * spikeRatio, svc) : 0;
  const required = Math.max(requiredNow, requiredForecast);
  // first decision: remember the current size as a requirement, so that nothing is scaled down
  // before one scale-down window of observations exists (as the HPA seeds its recommendations)
  if (prev.required.length === 0 && prev.recent.length === 0) st.required.push({ t: obs.now, n: obs.currentReplicas });
  st.required.push({ t: obs.now, n: required });
  // in reactive mode a scale-down that proves premature only costs a cold start the SLO absorbs,
  // so the window shrinks to the break-even point: one cold start
  // Otherwise the misses observed set it (windowBudget): the window shrinks while the requests that
  // missed the SLO only by waiting stay under their share of the error budget, and grows back as soon
  // as they do not. Only once the ratio has an hour of samples behind it (its memory) and the budget
  // amounts to a request: before, it says little.
  let windowMs = policy.scaleDownWindowMs;
  const windowShare = policy.windowBudget ?? 0;
  if (reactive) windowMs = Math.min(policy.scaleDownWindowMs, Math.max(policy.coldStartMs, 10_000));
  else if (windowShare > 0 && sloAtRisk) {
    const dec = Math.exp(-1 / LATE_MEMORY_S);
    let lateSum = st.lateSum ?? 0;
    let arrivals = st.lateArrivals ?? 0;
    let seen = 0;
    for (const s of obs.samples) {
      if (s.late === undefined || s.lateSloMs !== policy.sloLatencyMs) continue;
      seen++;
      lateSum = lateSum * dec + s.late;
      arrivals = arrivals * dec + s.arrivals;
    }
    const age = (st.lateAge ?? 0) + seen;
    st.lateSum = lateSum;
    st.lateArrivals = arrivals;
    st.lateAge = age;
    const budget = windowShare * (1 - policy.sloTarget);
    let scale = st.windowScale ?? 1;
    if (seen > 0 && arrivals * budget >= 1 && age >= LATE_MEMORY_S) {
      scale = lateSum <= budget * arrivals
        ? Math.max(Math.min(1, WINDOW_MIN_MS / policy.scaleDownWindowMs), scale * Math.exp(-seen / WINDOW_SHRINK_S))
        : Math.min(1, scale * Math.exp(seen / WINDOW_GROW_S));
      st.windowScale = scale;
    }
    windowMs = policy.scaleDownWindowMs * scale;
  }
  let held = 0;
  for (const x of st.required) if (x.t > obs.now - windowMs) held = Math.max(held, x.n);

  const limitedBy: LimitRule[] = [];
  let desired = Math.max(required, requiredSpike, requiredKeep);
  if (held > desired) { desired = held; limitedBy.push('stabilization'); }
  if (desired < policy.minReplicas) { desired = policy.minReplicas; limitedBy.push('min'); }
  // scale to zero only once idle for longer than past wake-ups say the error budget allows
  const zeroAfter = wakeExcessMs > 0 ? zeroAfterMs(st, policy.sloTarget, policy.wakeBudget ?? 0) : 0;
  const keepWarm = desired === 0 && obs.currentReplicas > 0 && zeroAfter > 0 && obs.now - st.lastActive < zeroAfter;
  if (keepWarm) { desired = 1; limitedBy.push('stabilization'); }
  if (desired > policy.maxReplicas) { desired = policy.maxReplicas; limitedBy.push('max'); }
  if (limitedBy.length === 0) limitedBy.push('none');

  const cur = obs.currentReplicas;
  const surgeNote = surging && !surgeProvisioned
    ? `; a surge (${levelKeep.toFixed(1)} busy slots) that past surges say is over within the ${(policy.coldStartMs / 1000).toFixed(0)}s cold start is left to the queue and the ${obs.readyReplicas} ready replicas`
    : '';
  const backlogNote = backlogSlotS > 0 && mode !== 'on'
    ? `; queued work ${backlogSlotS.toFixed(1)} slot-s, ${backlogLeft.toFixed(1)} left when a new replica would be ready`
    : '';
  const why0 = requiredSpike > required
    ? `a spike like the one ${((st.spikeLag ?? 0) * BUCKET_MS / 60_000).toFixed(0)} min ago (x${spikeRatio.toFixed(1)}) is due within ${h.toFixed(0)}s: needs ${requiredSpike}`
    : required > requiredNow
    ? `forecast demand ${forecast.toFixed(1)} busy slots within ${h.toFixed(0)}s needs ${requiredForecast}`
    : deadline
    ? deadline.newSlots > 0
      ? `${obs.queued} queued requests must start within ${(deadline.deadlineMs / 1000).toFixed(0)}s; the ${obs.readyReplicas} ready replicas can start ${deadline.servableByReady.toFixed(0)} of them besides the ${levelSmooth.toFixed(1)} busy slots of demand, and a replica ordered now ${deadline.perNew} per slot after its ${(policy.coldStartMs / 1000).toFixed(0)}s cold start: needs ${requiredNow}`
      : `demand ${levelSmooth.toFixed(1)} busy slots plus ${obs.queued} queued requests that the ready replicas start within their ${(deadline.deadlineMs / 1000).toFixed(0)}s deadline (${deadline.perReady} per slot) needs ${requiredNow}`
    : `demand ${(level + queueNow).toFixed(1)} busy slots needs ${requiredNow}`;
  const why = why0 + surgeNote + backlogNote;
  const tail = desired !== required
    ? keepWarm ? `; the last replica is kept: idle ${((obs.now - st.lastActive) / 1000).toFixed(0)}s, and waking from zero after gaps shorter than ${Number.isFinite(zeroAfter) ? `${(zeroAfter / 1000).toFixed(0)}s` : 'any seen'} would have missed more than ${((policy.wakeBudget ?? 0) * 100).toFixed(0)} % of the error budget`
    : limitedBy.includes('stabilization') ? `; held at ${desired} by the ${(windowMs / 1000).toFixed(0)}s cold-start-aware scale-down window${!reactive && windowMs < policy.scaleDownWindowMs ? ` (shortened from ${(policy.scaleDownWindowMs / 1000).toFixed(0)}s: the requests that missed the SLO only by waiting stayed within ${(windowShare * 100).toFixed(0)} % of the error budget)` : ''}` : `; clamped to ${desired}`
    : '';
  const record: PredictiveRecord = {
    decider: 'tide',
    autoscaler: policy.name,
    target: policy.target,
    time: new Date(obs.now).toISOString(),
    now: obs.now,
    currentReplicas: cur,
    desiredReplicas: desired,
    rescale: desired !== cur,
    drivingMetric: 0,
    proposals: [{
      metric: 'tide/predicted-concurrency',
      current: level.toFixed(2),
      target: `${(policy.slotsPerReplica * (policy.sloLatencyMs === undefined ? policy.targetUtilization : policy.maxUtilization)).toFixed(2)} per replica`,
      proposedReplicas: required,
      ratio: cur > 0 ? forecast / (cur * policy.slotsPerReplica) : undefined,
    }],
    limitedBy,
    explanation: `${desired === cur ? `kept ${cur}` : `scaled ${cur}→${desired}`}: ${why}${tail}`,
    conditions: [],
    events: desired !== cur ? [{ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${why}` }] : [],
    inputs: { policy, observation: obs, state: prev },
    details: { level, trendPerS: trend, seasonalDelta, forecast, serviceMs: st.serviceMs, requiredNow, requiredForecast, heldByWindow: held, spikeRatio, spikeLagMs: (st.spikeLag ?? 0) * BUCKET_MS,
      levelSmooth, rateWindowS, rateDispersion, windowMs: windowMs !== policy.scaleDownWindowMs ? windowMs : undefined, zeroAfterMs: wakeExcessMs > 0 ? zeroAfter : undefined, deadline, shortageSlots: shortage, shortageDrain, surgePersistence: persistence, surgeProvisioned: surging ? surgeProvisioned : undefined, backlogSlotS, backlogLeftAtReadySlotS: backlogLeft,
      terms: { demand: reactive ? (deadline ? Math.min(requiredNow, Math.ceil(levelSmooth / policy.slotsPerReplica - 1e-9)) : requiredNow) : requiredDemand,
        backlog: reactive ? (deadline ? requiredNow - Math.min(requiredNow, Math.ceil(levelSmooth / policy.slotsPerReplica - 1e-9)) : 0) : Math.max(0, replicasFor(policy, level + queueNow, svc) - requiredDemand), forecast: requiredForecast, spike: requiredSpike, keepForSurge: requiredKeep, held } },
  };
  return { record, state: st };
}

// ---- manifests: tide.dev/* annotations ------------------------------------------------------------

export const ANNOTATIONS = {
  policy: 'tide.dev/policy',
  prewarmHorizon: 'tide.dev/prewarm-horizon',
  sloLatency: 'tide.dev/slo-latency',
  sloTarget: 'tide.dev/slo-target',
  coldStart: 'tide.dev/cold-start',
  season: 'tide.dev/season',
  scaleDownWindow: 'tide.dev/scale-down-window',
  slots: 'tide.dev/slots-per-replica',
  targetUtilization: 'tide.dev/target-utilization',
  headroom: 'tide.dev/headroom',
  burstQuantile: 'tide.dev/burst-quantile',
  spikeMemory: 'tide.dev/spike-memory',
  spikeThreshold: 'tide.dev/spike-threshold',
  burstPersistence: 'tide.dev/burst-persistence',
  rateMinArrivals: 'tide.dev/rate-min-arrivals',
  reactiveSizing: 'tide.dev/reactive-sizing',
  wakeBudget: 'tide.dev/wake-budget',
  windowBudget: 'tide.dev/window-budget',
} as const;

export function parseDurationMs(v: string, what: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new Error(`${what}: "${v}" is not a duration (e.g. 500ms, 30s, 5m, 24h)`);
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
  return n * mult;
}

function percent(v: string, what: string): number {
  const n = Number(v.replace(/%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 100) throw new Error(`${what}: "${v}" must be a percentage in (0, 100]`);
  return n / 100;
}

/** True when the annotations ask for Tide's predictive policy. */
export function wantsPredictive(annotations: Record<string, string> | undefined): boolean {
  return annotations?.[ANNOTATIONS.policy] === 'predictive';
}

/** Build the policy from tide.dev/* annotations plus what the host manifest (HPA/InferenceService) gives. */
export function predictiveFromAnnotations(
  annotations: Record<string, string>,
  base: { name: string; target?: string; minReplicas: number; maxReplicas: number; slotsPerReplica?: number; targetUtilization?: number },
): PredictivePolicy {
  const a = annotations;
  const p: Partial<PredictivePolicy> & { name: string } = {
    name: base.name,
    minReplicas: base.minReplicas,
    maxReplicas: base.maxReplicas,
  };
  if (base.target) p.target = base.target;
  if (base.slotsPerReplica) p.slotsPerReplica = base.slotsPerReplica;
  if (base.targetUtilization) p.targetUtilization = base.targetUtilization;
  if (a[ANNOTATIONS.coldStart]) p.coldStartMs = parseDurationMs(a[ANNOTATIONS.coldStart], ANNOTATIONS.coldStart);
  if (a[ANNOTATIONS.prewarmHorizon]) p.prewarmHorizonMs = parseDurationMs(a[ANNOTATIONS.prewarmHorizon], ANNOTATIONS.prewarmHorizon);
  if (a[ANNOTATIONS.sloLatency]) p.sloLatencyMs = parseDurationMs(a[ANNOTATIONS.sloLatency], ANNOTATIONS.sloLatency);
  if (a[ANNOTATIONS.sloTarget]) p.sloTarget = percent(a[ANNOTATIONS.sloTarget], ANNOTATIONS.sloTarget);
  if (a[ANNOTATIONS.season]) p.seasonMs = a[ANNOTATIONS.season] === 'none' ? 0 : parseDurationMs(a[ANNOTATIONS.season], ANNOTATIONS.season);
  if (a[ANNOTATIONS.scaleDownWindow]) p.scaleDownWindowMs = parseDurationMs(a[ANNOTATIONS.scaleDownWindow], ANNOTATIONS.scaleDownWindow);
  if (a[ANNOTATIONS.slots]) {
    const n = Number(a[ANNOTATIONS.slots]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${ANNOTATIONS.slots}: "${a[ANNOTATIONS.slots]}" must be a positive integer`);
    p.slotsPerReplica = n;
  }
  if (a[ANNOTATIONS.targetUtilization]) p.targetUtilization = percent(a[ANNOTATIONS.targetUtilization], ANNOTATIONS.targetUtilization);
  if (a[ANNOTATIONS.headroom]) {
    const n = Number(a[ANNOTATIONS.headroom].replace(/%$/, '')) / 100;
    if (!Number.isFinite(n) || n < 0) throw new Error(`${ANNOTATIONS.headroom}: must be a non-negative percentage`);
    p.headroom = n;
  }
  if (a[ANNOTATIONS.burstQuantile]) {
    const v = a[ANNOTATIONS.burstQuantile].trim();
    p.burstQuantile = v === '0' || v === 'none' ? 0 : percent(v, ANNOTATIONS.burstQuantile);
  }
  if (a[ANNOTATIONS.spikeMemory]) {
    const v = a[ANNOTATIONS.spikeMemory].trim().toLowerCase();
    if (!['on', 'off', 'true', 'false'].includes(v)) throw new Error(`${ANNOTATIONS.spikeMemory}: "${a[ANNOTATIONS.spikeMemory]}" must be on or off`);
    p.spikeMemory = v === 'on' || v === 'true';
  }
  if (a[ANNOTATIONS.spikeThreshold]) {
    const n = Number(a[ANNOTATIONS.spikeThreshold].replace(/x$/, ''));
    if (!Number.isFinite(n) || n <= 1) throw new Error(`${ANNOTATIONS.spikeThreshold}: "${a[ANNOTATIONS.spikeThreshold]}" must be a ratio above 1 (e.g. 2)`);
    p.spikeThreshold = n;
  }
  if (a[ANNOTATIONS.burstPersistence]) {
    const v = a[ANNOTATIONS.burstPersistence].trim().toLowerCase();
    if (v !== 'auto' && v !== 'on' && v !== 'off') throw new Error(`${ANNOTATIONS.burstPersistence}: "${a[ANNOTATIONS.burstPersistence]}" must be auto, on or off`);
    p.burstPersistence = v;
  }
  if (a[ANNOTATIONS.rateMinArrivals]) {
    const v = a[ANNOTATIONS.rateMinArrivals].trim();
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < 0 || n > 10_000) throw new Error(`${ANNOTATIONS.rateMinArrivals}: "${a[ANNOTATIONS.rateMinArrivals]}" must be a whole number of arrivals from 0 (off) to 10000`);
    p.rateMinArrivals = n;
  }
  if (a[ANNOTATIONS.reactiveSizing]) {
    const v = a[ANNOTATIONS.reactiveSizing].trim().toLowerCase();
    if (v !== 'deadline' && v !== 'outstanding') throw new Error(`${ANNOTATIONS.reactiveSizing}: "${a[ANNOTATIONS.reactiveSizing]}" must be deadline or outstanding`);
    p.reactiveSizing = v;
  }
  for (const field of ['wakeBudget', 'windowBudget'] as const) {
    const key = ANNOTATIONS[field];
    if (!a[key]) continue;
    const v = a[key].trim();
    const n = Number(v.replace(/%$/, '')) / 100;
    if (v === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${key}: "${a[key]}" must be a percentage of the error budget from 0 (off) to 100`);
    p[field] = n;
  }
  return defaultPredictivePolicy(p);
}
