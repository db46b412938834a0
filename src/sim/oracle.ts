// The clairvoyant oracle: it knows every future arrival and its service time (it replays the very
// stream the engine will see), computes the capacity each second needs, starts replicas one cold
// start early and keeps a replica through any gap shorter than a cold start. Scaling its per-second
// requirement by a factor f and searching the smallest f that reaches an SLO attainment gives the
// cheapest schedule of that shape for that attainment: the cost lower bound policies are compared to.
import { SlotHeap } from './heap.ts';
import { quantile } from './dist.ts';
import { ArrivalStream, arrivalSeed, traceDurationMs } from './workload.ts';
import { simulate, type SimOptions, type SimResult } from './engine.ts';
import { scheduleController } from './controllers.ts';

/** Peak concurrency of each second with infinitely many servers (no waiting at all). */
export function peakConcurrency(opts: SimOptions): Float64Array {
  const startMs = opts.startMs ?? opts.trace.startMs;
  const endMs = opts.endMs ?? startMs + traceDurationMs(opts.trace);
  const n = Math.ceil((endMs - startMs) / 1000);
  const peak = new Float64Array(n);
  const ends = new SlotHeap(256);
  const arr = new ArrivalStream(opts.trace, opts.service, arrivalSeed(opts.seed), endMs);
  let sec = 0;
  while (arr.next()) {
    const k = Math.min(n - 1, Math.floor((arr.t - startMs) / 1000));
    while (sec <= k) {
      // concurrency at the start of second `sec`
      const t0 = startMs + sec * 1000;
      while (ends.size > 0 && ends.topTime() <= t0) ends.pop();
      if (ends.size > peak[sec]) peak[sec] = ends.size;
      sec++;
    }
    while (ends.size > 0 && ends.topTime() <= arr.t) ends.pop();
    ends.push(arr.t + arr.s, 0);
    if (ends.size > peak[k]) peak[k] = ends.size;
  }
  for (; sec < n; sec++) {
    const t0 = startMs + sec * 1000;
    while (ends.size > 0 && ends.topTime() <= t0) ends.pop();
    if (ends.size > peak[sec]) peak[sec] = ends.size;
  }
  return peak;
}

/** Mean concurrency of each second with infinitely many servers (offered load, in busy slots). */
export function meanConcurrency(opts: SimOptions): Float64Array {
  const startMs = opts.startMs ?? opts.trace.startMs;
  const endMs = opts.endMs ?? startMs + traceDurationMs(opts.trace);
  const n = Math.ceil((endMs - startMs) / 1000);
  const out = new Float64Array(n);
  const arr = new ArrivalStream(opts.trace, opts.service, arrivalSeed(opts.seed), endMs);
  while (arr.next()) {
    let t = arr.t - startMs;
    const e = Math.min(t + arr.s, n * 1000);
    while (t < e) {
      const k = Math.floor(t / 1000);
      const segEnd = Math.min(e, (k + 1) * 1000);
      out[k] += (segEnd - t) / 1000;
      t = segEnd;
    }
  }
  return out;
}

/** Sliding max over [k, k + w] (monotone deque). */
function forwardMax(r: Float64Array | Int32Array, w: number): Float64Array {
  const n = r.length;
  const out = new Float64Array(n);
  const dq = new Int32Array(n + 1);
  let h = 0, t = 0, j = 0;
  for (let k = 0; k < n; k++) {
    const hi = Math.min(n - 1, k + w);
    for (; j <= hi; j++) {
      while (t > h && r[dq[t - 1]] <= r[j]) t--;
      dq[t++] = j;
    }
    while (dq[h] < k) h++;
    out[k] = r[dq[h]];
  }
  return out;
}

/** Mean over [k, k + w) (w >= 1). */
function forwardMean(x: Float64Array, w: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  let s = 0;
  for (let k = n - 1; k >= 0; k--) {
    s += x[k];
    if (k + w < n) s -= x[k + w];
    out[k] = s / Math.min(w, n - k);
  }
  return out;
}

/**
 * Per-second replica schedule: the demand of each second (peak concurrency for window 1, else the
 * mean concurrency over the next `windowS` seconds) x f / slots, rounded up, then started `leadS`
 * early (a window max over [k, k + leadS]) so capacity is ready when needed and kept through gaps
 * shorter than a cold start.
 */
export function oracleSchedule(demand: Float64Array, slots: number, f: number, leadS: number, minReplicas = 0, maxReplicas = Infinity): Int32Array {
  const n = demand.length;
  const r = new Int32Array(n);
  for (let k = 0; k < n; k++) r[k] = Math.max(minReplicas, Math.ceil((f * demand[k]) / slots - 1e-9));
  const out = Int32Array.from(forwardMax(r, leadS));
  if (Number.isFinite(maxReplicas)) for (let k = 0; k < n; k++) if (out[k] > maxReplicas) out[k] = maxReplicas;
  return out;
}

export interface OracleResult extends SimResult {
  factor: number;
  windowS: number;
  evaluations: number;
  /** The attainment searched for; `reached` false: no schedule tried reached it (see runOracle). */
  target: number;
  reached: boolean;
}

export interface OracleOptions {
  /** Bisection steps per window (each is one simulation). */
  iterations?: number;
  /** Demand windows tried, seconds (1 = per-second peak concurrency). */
  windowsS?: number[];
  /** The same bounds as the policies it is compared to (default 0 and no cap). */
  minReplicas?: number;
  maxReplicas?: number;
}

/**
 * The cheapest oracle schedule with SLO attainment >= target: for each demand window, the smallest
 * factor f reaching the target (bisection), keeping the cheapest over windows. The schedule is held
 * within [minReplicas, maxReplicas], and a request that finds no replica gets one at once (the
 * activator's poke), so every request is served (a schedule cannot reach its attainment by leaving
 * requests queued forever). When no schedule tried reaches the target (a target above what these
 * schedules can do, e.g. above the attainment ceiling of requests whose service alone exceeds the
 * SLO), it searches instead for the cheapest schedule within 0.05 points of the best attainment the
 * most generous one reached, and says so: `reached` false, and the label names the attainment.
 */
export function runOracle(opts: SimOptions, target: number, o: OracleOptions | number = {}): OracleResult {
  const oo: OracleOptions = typeof o === 'number' ? { iterations: o } : o;
  const iterations = oo.iterations ?? 7;
  const windows = oo.windowsS ?? [1, 10, 60];
  const startMs = opts.startMs ?? opts.trace.startMs;
  const peak = peakConcurrency(opts);
  const mean = windows.some((w) => w > 1) ? meanConcurrency(opts) : peak;
  const leadS = Math.ceil(quantile(opts.service.coldStart, 0.99) / 1000) + 1;
  const slots = opts.service.concurrency;
  const minR = oo.minReplicas ?? 0;
  const maxR = Math.min(oo.maxReplicas ?? Infinity, opts.maxReplicas ?? Infinity);
  let evaluations = 0;
  const runSched = (demand: Float64Array, f: number, w: number): OracleResult => {
    evaluations++;
    const sched = oracleSchedule(demand, slots, f, leadS, minR, maxR);
    const res = simulate({ ...opts, onProgress: undefined, initialReplicas: sched.length ? sched[0] : 0 }, scheduleController('oracle', startMs, sched, true));
    res.summary.policy = 'oracle (clairvoyant)';
    return { ...res, factor: f, windowS: w, evaluations, target, reached: true };
  };
  const search = (goal: number): OracleResult | undefined => {
    let best: OracleResult | undefined;
    for (const w of windows) {
      const demand = w <= 1 ? peak : forwardMax(forwardMean(mean, w), 0);
      let hi = w <= 1 ? 1 : 1.25;
      let ok = runSched(demand, hi, w);
      while (ok.summary.sloAttainment < goal && hi < 8) {
        hi *= 1.5;
        ok = runSched(demand, hi, w);
      }
      if (ok.summary.sloAttainment < goal) continue;
      let lo = w <= 1 ? 0.05 : 0.5;
      for (let i = 0; i < iterations; i++) {
        const mid = (lo + hi) / 2;
        const r = runSched(demand, mid, w);
        if (r.summary.sloAttainment >= goal) { hi = mid; ok = r; } else lo = mid;
      }
      if (!best || ok.summary.replicaSeconds < best.summary.replicaSeconds) best = ok;
    }
    return best;
  };
  let best = search(target);
  if (!best) {
    // unreachable: the best this shape of schedule does is the most generous one's attainment
    const top = runSched(peak, 8, 1).summary.sloAttainment;
    best = search(Math.max(0, top - 0.0005)) ?? runSched(peak, 8, 1);
    best.reached = false;
    best.summary.policy = `oracle (${(target * 100).toFixed(2)}% unreachable; at ${(best.summary.sloAttainment * 100).toFixed(2)}%)`;
  }
  best.evaluations = evaluations;
  return best;
}

/** Warm replicas for a fair start: enough for the peak concurrency of the first minute. */
export function warmStartReplicas(opts: SimOptions): number {
  const peak = peakConcurrency({ ...opts, endMs: (opts.startMs ?? opts.trace.startMs) + 60_000 });
  let m = 0;
  for (const p of peak) m = Math.max(m, p);
  return Math.max(1, Math.ceil(m / opts.service.concurrency));
}
