// The discrete-event engine: a virtual clock, a binary-heap timer queue for control-plane events
// (scrapes, decider ticks, samples) and an exact FIFO multi-server model for the data plane.
//
// Data plane: the proxy keeps one FIFO queue; every replica has `concurrency` slots. A slot heap
// holds (time the slot becomes free, replica). Completions need no events: before anything happens
// at time T the engine "advances" to T, starting queued requests on every slot free at or before T
// (FIFO, earliest-free slot first). A request's latency is known when it starts. A new replica's
// slots become free at its ready time (cold start); a draining replica's slots are dropped lazily, it
// finishes its in-flight requests and then terminates (drain-aware scale-down).
import { EventQueue, SlotHeap } from './heap.ts';
import { Rng } from './rng.ts';
import { sample, type Dist } from './dist.ts';
import { arrivalSeed, traceDurationMs, type ServiceTimeModel, type Trace } from './workload.ts';
import { openArrivals, type ArrivalSource } from './arrival-thread.ts';
import { LatencyHistogram } from './stats.ts';

export interface ServiceModel extends ServiceTimeModel {
  /** Parallel requests one replica serves (containerConcurrency / batch slots). */
  concurrency: number;
  coldStart: Dist;
  /** Pod CPU request (millicores), the denominator of CPU utilization. */
  cpuRequestMilli: number;
  /** CPU one busy slot uses (millicores): usage = idle + busy slots x this. */
  cpuPerSlotMilli: number;
  idleCpuMilli: number;
  /** CPU used while the replica loads its model (before Ready). */
  coldStartCpuMilli: number;
}

export const defaultService: ServiceModel = {
  concurrency: 4,
  dist: { kind: 'lognormal', medianMs: 200, sigma: 0.5 },
  coldStart: { kind: 'fixed', ms: 30_000 },
  cpuRequestMilli: 1000,
  cpuPerSlotMilli: 250,
  idleCpuMilli: 10,
  coldStartCpuMilli: 500,
};

export interface ReplicaView {
  id: number;
  name: string;
  createdAt: number;
  readyAt: number;
  draining: boolean;
}

/** What a controller sees of, and may do to, the simulated world. */
export interface SimHandle {
  readonly now: number;
  readonly service: ServiceModel;
  readonly startMs: number;
  readonly endMs: number;
  /** Run fn every periodMs starting at firstAt (absolute ms), until the end. */
  every(periodMs: number, firstAt: number, fn: (now: number) => void): void;
  at(t: number, fn: (now: number) => void): void;
  /** Replicas that exist and are not draining. */
  replicas(): ReplicaView[];
  /** How many of them are Ready at `now` (no allocation). */
  readyCount(now: number): number;
  /** Current replica count (spec.replicas). */
  readonly desired: number;
  setDesired(n: number): void;
  /** Busy slot-milliseconds of one replica in [from, to) (whole seconds). */
  replicaBusyMs(id: number, from: number, to: number): number;
  /** CPU usage (millicores) of a replica averaged over [from, to). */
  replicaCpuMilli(id: number, from: number, to: number): number;
  /** Busy slot-ms over all replicas in [from, to) (whole seconds). */
  totalBusyMs(from: number, to: number): number;
  /** Cumulative queued request-milliseconds up to now. */
  queueIntegral(): number;
  readonly queued: number;
  /** Cumulative arrivals so far. */
  readonly arrivals: number;
  /** Cumulative requests started, and the sum of their service times (ms). */
  readonly started: number;
  readonly startedServiceMs: number;
  /** Requests being served right now (all replicas, draining ones included). */
  inFlightNow(): number;
  /**
   * A counter of the requests that miss `sloMs` only because they waited (their service alone fits
   * it), counted when they start; for shells that report late requests to the policy.
   */
  lateCounter(sloMs: number): () => number;
}

export interface MetricPoint { value: number; target: number; label: string }

export interface SimController {
  readonly name: string;
  start(sim: SimHandle): void;
  /** A request arrived while no replica exists (activator poke / KEDA activation). */
  onColdRequest?(now: number): void;
  /** The metric the controller last acted on, for the time series. */
  metric?(): MetricPoint | undefined;
}

export interface SimOptions {
  seed: number;
  trace: Trace;
  service: ServiceModel;
  sloMs: number;
  initialReplicas: number;
  /**
   * A cap on the replica count that binds every controller (a quota: `setDesired` above it gets
   * this many). Undefined: no cap.
   */
  maxReplicas?: number;
  /** Defaults: trace start / trace end. */
  startMs?: number;
  endMs?: number;
  /** Time-series resolution (default: duration/1500 rounded to whole seconds, at least 1 s). */
  sampleMs?: number;
  /** Called now and then with progress in [0, 1]. */
  onProgress?: (fraction: number) => void;
  /**
   * Draw the arrival stream on a worker thread (same stream, so same results; less wall time on a
   * machine with a spare core). Default: for traces of 2 M arrivals and more, unless
   * TIDE_SIM_THREAD=0 (src/sim/arrival-thread.ts).
   */
  arrivalThread?: boolean;
}

export interface Summary {
  policy: string;
  requests: number;
  served: number;
  /** Requests still queued at the end (never started; counted as SLO misses). */
  unserved: number;
  replicaSeconds: number;
  idleReplicaSeconds: number;
  coldStarts: number;
  scalingActions: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  sloMs: number;
  sloAttainment: number;
  maxReplicas: number;
  meanReplicas: number;
  durationS: number;
}

export interface TimeSeries {
  t: number[];           // seconds since start
  replicas: number[];    // spec replicas (not draining)
  ready: number[];
  rps: number[];
  inFlight: number[];    // mean busy slots
  queued: number[];
  latencyMeanMs: number[];
  latencyMaxMs: number[];
  sloMissRate: number[];
  metric: (number | null)[];
  metricTarget: (number | null)[];
  metricLabel: string;
}

export interface SimResult {
  summary: Summary;
  series: TimeSeries;
}

const RING = 1024; // seconds of per-second busy buckets kept per replica
const ALIVE = 0, DRAINING = 1, GONE = 2;

export function simulate(opts: SimOptions, controller: SimController): SimResult {
  return new Engine(opts, controller).run();
}

class Engine implements SimHandle {
  now: number;
  readonly service: ServiceModel;
  readonly startMs: number;
  readonly endMs: number;
  private readonly opts: SimOptions;
  private readonly ctl: SimController;
  private readonly events = new EventQueue();
  private readonly slots = new SlotHeap(256);
  private readonly rng: Rng;
  private readonly arrivalsStream: ArrivalSource;

  // replicas, indexed by id (ids are never reused)
  private createdAt: number[] = [];
  private readyAtArr: number[] = [];
  private state: number[] = [];
  private lastEnd: number[] = [];
  private buckets: (Float64Array | null)[] = [];
  private bucketSec: (Int32Array | null)[] = [];
  private live: number[] = []; // ids alive and not draining, in creation order
  private drainingIds: number[] = [];
  private gBuckets = new Float64Array(RING);
  private gBucketSec = new Int32Array(RING).fill(-1);

  // queue (ring of arrival time + service time)
  private qT = new Float64Array(1024);
  private qS = new Float64Array(1024);
  private qHead = 0;
  private qLen = 0;
  private qAcc = 0;
  private qLast = 0;

  // accounting
  private replicaMs = 0;
  private busyMs = 0;
  private coldStarts = 0;
  private actions = 0;
  private arrivalsN = 0;
  private servedN = 0;
  private serviceSum = 0;
  private latSum = 0;
  private sloHits = 0;
  private readonly lateSlos: number[] = [];
  private readonly lateCounts: number[] = [];
  private readonly hist = new LatencyHistogram();
  private maxReplicas = 0;
  private replicaIntegral = 0;
  private lastReplicaChange: number;

  // per-sample-period accumulators
  private pArr = 0;
  private pServed = 0;
  private pLatSum = 0;
  private pLatMax = 0;
  private pMiss = 0;
  private pBusyFrom: number;
  private readonly series: TimeSeries;

  constructor(opts: SimOptions, ctl: SimController) {
    this.opts = opts;
    this.ctl = ctl;
    this.service = opts.service;
    this.startMs = opts.startMs ?? opts.trace.startMs;
    this.endMs = opts.endMs ?? this.startMs + traceDurationMs(opts.trace);
    this.now = this.startMs;
    this.rng = new Rng(opts.seed);
    this.arrivalsStream = openArrivals(opts.trace, opts.service, arrivalSeed(opts.seed), this.endMs, { thread: opts.arrivalThread });
    this.lastReplicaChange = this.startMs;
    this.pBusyFrom = this.startMs;
    this.series = { t: [], replicas: [], ready: [], rps: [], inFlight: [], queued: [], latencyMeanMs: [], latencyMaxMs: [], sloMissRate: [], metric: [], metricTarget: [], metricLabel: '' };
  }

  // ---- SimHandle ----------------------------------------------------------------------------------
  every(periodMs: number, firstAt: number, fn: (now: number) => void): void {
    const tick = (now: number): void => {
      fn(now);
      const nt = now + periodMs;
      if (nt <= this.endMs) this.events.push(nt, tick);
    };
    if (firstAt <= this.endMs) this.events.push(firstAt, tick);
  }

  at(t: number, fn: (now: number) => void): void {
    if (t <= this.endMs) this.events.push(Math.max(t, this.now), fn);
  }

  replicas(): ReplicaView[] {
    return this.live.map((id) => this.view(id));
  }

  readyCount(now: number): number {
    let n = 0;
    for (const id of this.live) if (this.readyAtArr[id] <= now) n++;
    return n;
  }

  private view(id: number): ReplicaView {
    return { id, name: `replica-${id}`, createdAt: this.createdAt[id], readyAt: this.readyAtArr[id], draining: this.state[id] !== ALIVE };
  }

  get desired(): number { return this.live.length; }
  get queued(): number { return this.qLen; }
  get arrivals(): number { return this.arrivalsN; }
  get started(): number { return this.servedN; }
  get startedServiceMs(): number { return this.serviceSum; }

  lateCounter(sloMs: number): () => number {
    let i = this.lateSlos.indexOf(sloMs);
    if (i < 0) { i = this.lateSlos.length; this.lateSlos.push(sloMs); this.lateCounts.push(0); }
    return () => this.lateCounts[i];
  }
  inFlightNow(): number {
    const now = this.now;
    const sl = this.slots;
    let n = 0;
    for (let i = 0; i < sl.size; i++) {
      const id = sl.ids[i];
      if (sl.times[i] > now && this.state[id] !== GONE && this.readyAtArr[id] <= now) {
        // a draining replica keeps its busy slots until they finish
        n++;
      }
    }
    return n;
  }

  queueIntegral(): number {
    return this.qAcc + this.qLen * (this.now - this.qLast);
  }

  setDesired(nRaw: number): void {
    const cap = this.opts.maxReplicas;
    const n = Math.max(0, Math.min(cap ?? Infinity, Math.floor(nRaw)));
    const cur = this.live.length;
    if (n === cur) return;
    const now = this.now;
    this.noteReplicaChange(now);
    this.actions++;
    if (n > cur) {
      for (let k = cur; k < n; k++) this.addReplica(now);
    } else {
      // Remove unready replicas first (newest first), then the newest ready ones.
      let toRemove = cur - n;
      for (let i = this.live.length - 1; i >= 0 && toRemove > 0; i--) {
        const id = this.live[i];
        if (this.readyAtArr[id] > now) { this.removeReplica(id, i, now); toRemove--; }
      }
      for (let i = this.live.length - 1; i >= 0 && toRemove > 0; i--) {
        this.removeReplica(this.live[i], i, now);
        toRemove--;
      }
    }
    if (this.live.length > this.maxReplicas) this.maxReplicas = this.live.length;
  }

  replicaBusyMs(id: number, from: number, to: number): number {
    const b = this.buckets[id];
    const bs = this.bucketSec[id];
    if (!b || !bs) return 0;
    return sumBuckets(b, bs, from, to);
  }

  replicaCpuMilli(id: number, from: number, to: number): number {
    const s = this.service;
    const ready = this.readyAtArr[id];
    const span = Math.max(1, to - from);
    const busy = this.replicaBusyMs(id, from, to);
    const loadingMs = Math.max(0, Math.min(to, ready) - Math.max(from, this.createdAt[id]));
    const aliveMs = Math.max(0, to - Math.max(from, this.createdAt[id]));
    return (s.idleCpuMilli * aliveMs + s.coldStartCpuMilli * loadingMs + s.cpuPerSlotMilli * busy) / span;
  }

  totalBusyMs(from: number, to: number): number {
    return sumBuckets(this.gBuckets, this.gBucketSec, from, to);
  }

  // ---- replicas -----------------------------------------------------------------------------------
  private addReplica(now: number): void {
    const id = this.createdAt.length;
    const cold = Math.max(0, sample(this.service.coldStart, this.rng));
    this.createdAt.push(now);
    this.readyAtArr.push(now + cold);
    this.state.push(ALIVE);
    this.lastEnd.push(now);
    this.buckets.push(new Float64Array(RING));
    this.bucketSec.push(new Int32Array(RING).fill(-1));
    this.live.push(id);
    this.coldStarts++;
    for (let k = 0; k < this.service.concurrency; k++) this.slots.push(now + cold, id);
  }

  private removeReplica(id: number, liveIndex: number, now: number): void {
    this.live.splice(liveIndex, 1);
    this.buckets[id] = null;
    this.bucketSec[id] = null;
    if (this.lastEnd[id] <= now || this.readyAtArr[id] > now) {
      this.state[id] = GONE;
      this.replicaMs += now - this.createdAt[id];
    } else {
      this.state[id] = DRAINING;
      this.drainingIds.push(id);
    }
  }

  private noteReplicaChange(now: number): void {
    this.replicaIntegral += this.live.length * (now - this.lastReplicaChange);
    this.lastReplicaChange = now;
  }

  // ---- data plane ---------------------------------------------------------------------------------
  /** Start queued requests on every slot that is free at or before T. */
  private advance(T: number): void {
    const slots = this.slots;
    while (this.qLen > 0) {
      // drop slots of replicas that are draining or gone
      while (slots.size > 0 && this.state[slots.ids[0]] !== ALIVE) slots.pop();
      if (slots.size === 0) return;
      const f = slots.times[0];
      if (f > T) return;
      const a = this.qT[this.qHead];
      const s = this.qS[this.qHead];
      this.qAcc += this.qLen * (f - this.qLast);
      this.qLast = f;
      this.qHead = (this.qHead + 1) & (this.qT.length - 1);
      this.qLen--;
      this.startOn(a, s, f, slots.ids[0]);
    }
  }

  private startOn(arrival: number, service: number, startAt: number, id: number): void {
    const end = startAt + service;
    this.slots.replaceTop(end, id);
    if (end > this.lastEnd[id]) this.lastEnd[id] = end;
    const lat = end - arrival;
    this.servedN++;
    this.serviceSum += service;
    this.latSum += lat;
    this.hist.add(lat);
    if (lat <= this.opts.sloMs) this.sloHits++; else this.pMiss++;
    for (let i = 0; i < this.lateSlos.length; i++) if (lat > this.lateSlos[i] && service <= this.lateSlos[i]) this.lateCounts[i]++;
    this.pServed++;
    this.pLatSum += lat;
    if (lat > this.pLatMax) this.pLatMax = lat;
    this.addBusy(id, startAt, end);
  }

  private addBusy(id: number, st: number, end: number): void {
    const b = this.buckets[id]!;
    const bs = this.bucketSec[id]!;
    const gb = this.gBuckets;
    const gbs = this.gBucketSec;
    const endClamp = Math.min(end, this.endMs);
    if (endClamp > st) this.busyMs += endClamp - st;
    let sec = Math.floor(st / 1000);
    const limit = Math.floor(this.now / 1000) + RING - 128;
    let t = st;
    while (t < end && sec < limit) {
      const segEnd = Math.min(end, (sec + 1) * 1000);
      const d = segEnd - t;
      const k = sec & (RING - 1);
      if (bs[k] !== sec) { bs[k] = sec; b[k] = 0; }
      b[k] += d;
      if (gbs[k] !== sec) { gbs[k] = sec; gb[k] = 0; }
      gb[k] += d;
      t = segEnd;
      sec++;
    }
  }

  private enqueue(a: number, s: number): void {
    if (this.qLen === this.qT.length) {
      const n = this.qT.length * 2;
      const nt = new Float64Array(n);
      const ns = new Float64Array(n);
      for (let i = 0; i < this.qLen; i++) {
        const k = (this.qHead + i) & (this.qT.length - 1);
        nt[i] = this.qT[k];
        ns[i] = this.qS[k];
      }
      this.qT = nt;
      this.qS = ns;
      this.qHead = 0;
    }
    this.qAcc += this.qLen * (a - this.qLast);
    this.qLast = a;
    const k = (this.qHead + this.qLen) & (this.qT.length - 1);
    this.qT[k] = a;
    this.qS[k] = s;
    this.qLen++;
  }

  private onArrival(t: number, s: number): void {
    this.arrivalsN++;
    this.pArr++;
    if (this.qLen === 0) {
      const slots = this.slots;
      while (slots.size > 0 && this.state[slots.ids[0]] !== ALIVE) slots.pop();
      if (slots.size > 0 && slots.times[0] <= t) {
        this.startOn(t, s, t, slots.ids[0]);
        return;
      }
    }
    this.enqueue(t, s);
    if (this.live.length === 0 && this.ctl.onColdRequest) this.ctl.onColdRequest(t);
  }

  // ---- loop ---------------------------------------------------------------------------------------
  run(): SimResult {
    try {
      return this.runLoop();
    } finally {
      this.arrivalsStream.close();
    }
  }

  private runLoop(): SimResult {
    const dur = this.endMs - this.startMs;
    const sampleMs = this.opts.sampleMs ?? Math.max(1000, Math.round(dur / 1500 / 1000) * 1000);
    const initial = Math.min(this.opts.maxReplicas ?? Infinity, this.opts.initialReplicas);
    if (initial > 0) {
      // initial replicas are warm: created one cold start before the start, ready at the start
      for (let k = 0; k < initial; k++) {
        const id = this.createdAt.length;
        this.createdAt.push(this.startMs);
        this.readyAtArr.push(this.startMs);
        this.state.push(ALIVE);
        this.lastEnd.push(this.startMs);
        this.buckets.push(new Float64Array(RING));
        this.bucketSec.push(new Int32Array(RING).fill(-1));
        this.live.push(id);
        for (let j = 0; j < this.service.concurrency; j++) this.slots.push(this.startMs, id);
      }
      this.maxReplicas = this.live.length;
    }
    this.ctl.start(this);
    this.every(sampleMs, this.startMs + sampleMs, (now) => this.sample(now, sampleMs));
    if (this.opts.onProgress) {
      const step = Math.max(60_000, Math.floor(dur / 100));
      this.every(step, this.startMs + step, (now) => this.opts.onProgress!((now - this.startMs) / dur));
    }

    const arr = this.arrivalsStream;
    let hasArr = arr.next();
    const events = this.events;
    for (;;) {
      const te = events.peekTime();
      const ta = hasArr ? arr.t : Infinity;
      if (te <= ta) {
        if (te === Infinity || te > this.endMs) break;
        const e = events.pop()!;
        this.advance(e.t);
        this.now = e.t;
        e.run(e.t);
        this.reapDraining(e.t);
      } else {
        this.advance(ta);
        this.now = ta;
        this.onArrival(ta, arr.s);
        hasArr = arr.next();
      }
    }
    this.advance(this.endMs);
    this.now = this.endMs;
    return this.finish(dur);
  }

  private reapDraining(now: number): void {
    if (this.drainingIds.length === 0) return;
    const keep: number[] = [];
    for (const id of this.drainingIds) {
      if (this.lastEnd[id] <= now) {
        this.state[id] = GONE;
        this.replicaMs += this.lastEnd[id] - this.createdAt[id];
      } else keep.push(id);
    }
    this.drainingIds = keep;
  }

  private sample(now: number, periodMs: number): void {
    const s = this.series;
    s.t.push((now - this.startMs) / 1000);
    s.replicas.push(this.live.length);
    let ready = 0;
    for (const id of this.live) if (this.readyAtArr[id] <= now) ready++;
    s.ready.push(ready);
    s.rps.push(this.pArr / (periodMs / 1000));
    const from = Math.ceil(this.pBusyFrom / 1000) * 1000;
    const to = Math.floor(now / 1000) * 1000;
    s.inFlight.push(to > from ? this.totalBusyMs(from, to) / (to - from) : 0);
    this.pBusyFrom = now;
    s.queued.push(this.qLen);
    s.latencyMeanMs.push(this.pServed ? this.pLatSum / this.pServed : 0);
    s.latencyMaxMs.push(this.pLatMax);
    s.sloMissRate.push(this.pServed ? this.pMiss / this.pServed : 0);
    const m = this.ctl.metric?.();
    s.metric.push(m ? m.value : null);
    s.metricTarget.push(m ? m.target : null);
    if (m && !s.metricLabel) s.metricLabel = m.label;
    this.pArr = 0; this.pServed = 0; this.pLatSum = 0; this.pLatMax = 0; this.pMiss = 0;
  }

  private finish(durMs: number): SimResult {
    const end = this.endMs;
    this.noteReplicaChange(end);
    for (const id of this.live) this.replicaMs += end - Math.max(this.createdAt[id], this.startMs);
    for (const id of this.drainingIds) this.replicaMs += Math.min(end, this.lastEnd[id]) - this.createdAt[id];
    const unserved = this.qLen; // still waiting at the end: SLO misses
    const requests = this.servedN + unserved;
    const replicaSeconds = this.replicaMs / 1000;
    const summary: Summary = {
      policy: this.ctl.name,
      requests,
      served: this.servedN,
      unserved,
      replicaSeconds,
      idleReplicaSeconds: Math.max(0, replicaSeconds - this.busyMs / 1000 / this.service.concurrency),
      coldStarts: this.coldStarts,
      scalingActions: this.actions,
      p50Ms: unservedAware(this.hist, 0.5, requests),
      p95Ms: unservedAware(this.hist, 0.95, requests),
      p99Ms: unservedAware(this.hist, 0.99, requests),
      meanMs: this.servedN ? this.latSum / this.servedN : 0,
      sloMs: this.opts.sloMs,
      sloAttainment: requests ? this.sloHits / requests : 1,
      maxReplicas: this.maxReplicas,
      meanReplicas: durMs > 0 ? this.replicaIntegral / durMs : 0,
      durationS: durMs / 1000,
    };
    return { summary, series: this.series };
  }
}

function unservedAware(h: LatencyHistogram, q: number, total: number): number {
  // requests never served count as infinitely slow
  if (total === 0) return 0;
  const rank = Math.ceil(q * total);
  return rank > h.count ? Infinity : h.quantileRank(rank);
}

function sumBuckets(b: Float64Array, bs: Int32Array, from: number, to: number): number {
  let s = 0;
  const a = Math.floor(from / 1000);
  const z = Math.floor(to / 1000);
  for (let sec = a; sec < z; sec++) {
    const k = sec & (RING - 1);
    if (bs[k] === sec) s += b[k];
  }
  return s;
}
