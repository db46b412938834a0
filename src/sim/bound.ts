// A provable lower bound on the replica-seconds of ANY policy that reaches an SLO attainment on a
// trace, under the simulator's model (same arrivals and service times, `concurrency` slots per
// replica, at least `minReplicas` replicas at all times). The proof sketch is in docs/simulator.md
// ("The lower bound"); in short:
//
//   cost = ∫ alive(t) dt ≥ ∫ max(min, ready(t)) dt        (alive ≥ min, alive ≥ ready)
//   capacity(t) ≤ slots × ready(t)                          (only ready replicas serve)
//   a request that meets the SLO has all its work done in [arrival, arrival + SLO]
//
// Relax to a fluid machine: `slots × min` of capacity is free (paid by the min·T term), more costs
// 1 replica-second per `slots` slot-seconds and can be had at any instant (no cold start, no
// integrality). The least extra capacity that finishes every meetable request's work inside its window is
// the work the free machine cannot finish in time: with the same window length for every request,
// first-in-first-out processing with partial credit is optimal for the free machine (earliest
// deadline first), so one pass computes it. A policy may also miss up to (1 − target) × N requests:
// removing a request lowers the least extra capacity by at most its own work, so the bound subtracts the
// work of the largest allowed misses. Requests whose service alone exceeds the SLO can never meet it:
// they set the attainment ceiling, and a target above it is infeasible for every policy.
import { ArrivalStream, arrivalSeed, traceDurationMs } from './workload.ts';
import type { SimOptions } from './engine.ts';

export interface LowerBound {
  /** Replica-seconds no policy at this attainment can go below (undefined when infeasible). */
  replicaSeconds: number | undefined;
  feasible: boolean;
  /** Highest attainment any policy can reach: requests whose service time is within the SLO / all. */
  ceiling: number;
  target: number;
  requests: number;
  /** Requests whose service alone exceeds the SLO. */
  tooLong: number;
  /** The parts: min × duration, and the extra (fluid overflow minus the allowed misses' work), replica-s. */
  floorReplicaSeconds: number;
  extraReplicaSeconds: number;
  /** Total work of the meetable requests (slot-seconds). */
  workSlotSeconds: number;
}

/** log-bucket histogram of service times, to sum the largest k from above (an over-estimate: safe). */
class TopSum {
  private readonly counts = new Map<number, number>();
  private static readonly G = Math.log(1.002);
  add(s: number): void {
    const b = s <= 1 ? 0 : Math.ceil(Math.log(s) / TopSum.G);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
  }
  /** ≥ the sum of the k largest values added. */
  sumTop(k: number): number {
    if (k <= 0) return 0;
    const keys = [...this.counts.keys()].sort((a, b) => b - a);
    let sum = 0;
    for (const b of keys) {
      const n = Math.min(k, this.counts.get(b)!);
      sum += n * (b === 0 ? 1 : Math.exp(b * TopSum.G));
      k -= n;
      if (k <= 0) break;
    }
    return sum;
  }
}

export function lowerBound(opts: SimOptions, target: number, minReplicas: number): LowerBound {
  const startMs = opts.startMs ?? opts.trace.startMs;
  const endMs = opts.endMs ?? startMs + traceDurationMs(opts.trace);
  const slo = opts.sloMs;
  const slots = opts.service.concurrency;
  const rate = Math.max(0, minReplicas) * slots; // free slot-ms per ms
  const arr = new ArrivalStream(opts.trace, opts.service, arrivalSeed(opts.seed), endMs);
  // FIFO of (deadline, remaining work) of the meetable requests; deadlines grow with arrival time
  let qd = new Float64Array(1024);
  let qr = new Float64Array(1024);
  let head = 0, len = 0;
  let u = startMs; // the free machine's clock
  let overflow = 0, work = 0;
  let n = 0, tooLong = 0;
  const top = new TopSum();

  const runUntil = (t: number): void => {
    while (len > 0) {
      const k = head & (qd.length - 1);
      const d = qd[k];
      if (u < d && rate > 0 && u < t) {
        const until = Math.min(d, t);
        const w = Math.min(qr[k], rate * (until - u));
        qr[k] -= w;
        u += w / rate;
      }
      if (qr[k] <= 1e-9) { head++; len--; continue; }
      if (u >= d) { overflow += qr[k]; head++; len--; continue; }
      if (rate === 0 && d <= t) { overflow += qr[k]; head++; len--; continue; }
      break; // reached t with work left
    }
    if (u < t) u = t;
  };

  while (arr.next()) {
    const a = arr.t, s = arr.s;
    n++;
    if (s > slo) { tooLong++; continue; }
    runUntil(a);
    const deadline = Math.min(a + slo, endMs);
    // work that can still happen after the end (one slot, at most until the deadline) is not billed
    const need = Math.max(0, s - Math.max(0, a + slo - endMs));
    top.add(s);
    work += need;
    if (need <= 0) continue;
    if (len === qd.length) {
      const nd = new Float64Array(qd.length * 2), nr = new Float64Array(qd.length * 2);
      for (let i = 0; i < len; i++) { nd[i] = qd[(head + i) & (qd.length - 1)]; nr[i] = qr[(head + i) & (qd.length - 1)]; }
      qd = nd; qr = nr; head = 0;
    }
    const k = (head + len) & (qd.length - 1);
    qd[k] = deadline; qr[k] = need; len++;
  }
  runUntil(Infinity);

  const meetable = n - tooLong;
  const ceiling = n ? meetable / n : 1;
  const needMet = Math.ceil(target * n - 1e-9);
  const feasible = needMet <= meetable;
  const floor = (Math.max(0, minReplicas) * (endMs - startMs)) / 1000;
  const allowedMisses = Math.max(0, meetable - needMet);
  const extra = Math.max(0, overflow - top.sumTop(allowedMisses)) / slots / 1000;
  return {
    replicaSeconds: feasible ? floor + extra : undefined,
    feasible,
    ceiling,
    target,
    requests: n,
    tooLong,
    floorReplicaSeconds: floor,
    extraReplicaSeconds: extra,
    workSlotSeconds: work / 1000,
  };
}
