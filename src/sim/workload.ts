// Workloads: a trace (per-step counts or individual requests) or a generator, turned into a
// deterministic stream of arrivals (time, service time) for the engine.
import { Rng } from './rng.ts';
import { sample, type Dist } from './dist.ts';

/** Per-step request counts (e.g. the Twitter per-second trace, or a generator's output). */
export interface CountsTrace {
  kind: 'counts';
  name: string;
  startMs: number;
  stepMs: number;
  counts: Float64Array;
}

/** Individual requests; times are milliseconds since startMs, sorted ascending. */
export interface RequestsTrace {
  kind: 'requests';
  name: string;
  startMs: number;
  times: Float64Array;
  /** Per-request service time (ms) when the trace has it (e.g. Alibaba exec_time_seconds). */
  serviceMs?: Float64Array;
  /** LLM token counts (Azure): service = base + prefill x prompt + decode x output. */
  promptTokens?: Float64Array;
  outputTokens?: Float64Array;
}

export type Trace = CountsTrace | RequestsTrace;

export function traceDurationMs(t: Trace): number {
  if (t.kind === 'counts') return t.counts.length * t.stepMs;
  const n = t.times.length;
  return n ? Math.ceil((t.times[n - 1] + 1) / 1000) * 1000 : 0;
}

export function traceRequestCount(t: Trace): number {
  if (t.kind === 'requests') return t.times.length;
  let s = 0;
  for (let i = 0; i < t.counts.length; i++) s += t.counts[i];
  return s;
}

export interface TokenModel {
  baseMs: number;
  prefillMsPerToken: number;
  decodeMsPerToken: number;
}

export interface ServiceTimeModel {
  /** Used when the trace has no per-request time. */
  dist: Dist;
  /** Used when the trace has token counts. */
  tokens?: TokenModel;
  /** Multiply trace-provided service times (e.g. to model faster hardware). */
  scale?: number;
}

/**
 * Pull-based arrival stream: after next() returns true, `t` (absolute epoch ms) and `s` (service ms)
 * describe the arrival. No allocation per request.
 */
export class ArrivalStream {
  t = 0;
  s = 0;
  private readonly trace: Trace;
  private readonly rng: Rng;
  private readonly svc: ServiceTimeModel;
  private i = 0;
  // counts mode: sorted offsets inside the current step
  private step = -1;
  private buf = new Float64Array(64);
  private bufN = 0;
  private bufI = 0;
  readonly endMs: number;

  constructor(trace: Trace, svc: ServiceTimeModel, seed: number, endMs = Infinity) {
    this.trace = trace;
    this.svc = svc;
    this.rng = new Rng(seed);
    this.endMs = endMs;
  }

  next(): boolean {
    const tr = this.trace;
    if (tr.kind === 'requests') {
      if (this.i >= tr.times.length) return false;
      const i = this.i++;
      this.t = tr.startMs + tr.times[i];
      if (this.t > this.endMs) return false;
      this.s = this.serviceFor(i);
      return true;
    }
    while (this.bufI >= this.bufN) {
      this.step++;
      if (this.step >= tr.counts.length) return false;
      this.fillStep(Math.round(tr.counts[this.step]));
    }
    this.t = tr.startMs + this.step * tr.stepMs + this.buf[this.bufI++];
    if (this.t > this.endMs) return false;
    this.s = this.sampleService();
    return true;
  }

  /** n uniform points in the step, sorted, via normalized exponential spacings (a Poisson process given its count). */
  private fillStep(n: number): void {
    if (this.buf.length < n + 1) this.buf = new Float64Array(Math.max(n + 1, this.buf.length * 2));
    const b = this.buf;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      acc -= Math.log(this.rng.nextOpen());
      b[k] = acc;
    }
    acc -= Math.log(this.rng.nextOpen());
    const scale = this.trace.kind === 'counts' ? this.trace.stepMs / acc : 0;
    for (let k = 0; k < n; k++) b[k] *= scale;
    this.bufN = n;
    this.bufI = 0;
  }

  private serviceFor(i: number): number {
    const tr = this.trace as RequestsTrace;
    const sc = this.svc.scale ?? 1;
    if (tr.serviceMs) return tr.serviceMs[i] * sc;
    if (tr.promptTokens && tr.outputTokens && this.svc.tokens) {
      const m = this.svc.tokens;
      return (m.baseMs + m.prefillMsPerToken * tr.promptTokens[i] + m.decodeMsPerToken * tr.outputTokens[i]) * sc;
    }
    return this.sampleService();
  }

  private sampleService(): number {
    return sample(this.svc.dist, this.rng) * (this.svc.scale ?? 1);
  }

  /**
   * Write up to `max` next arrivals into ts/ss from `at` on; returns how many (fewer: the stream
   * ended). The same as calling next() that often, without a call per arrival (the arrival worker).
   */
  fill(ts: Float64Array, ss: Float64Array, at: number, max: number): number {
    const counts = this.trace.kind === 'counts' ? this.trace.counts : null;
    if (counts === null || this.svc.dist.kind !== 'lognormal' || this.svc.scale !== undefined) {
      let n = 0;
      while (n < max && this.next()) { ts[at + n] = this.t; ss[at + n] = this.s; n++; }
      return n;
    }
    // counts with a lognormal service time: next()'s draws in next()'s order, the step's offsets
    // first (fillStep), then one service time per arrival, as sample() computes it
    const tr = this.trace as CountsTrace;
    const rng = this.rng;
    const median = this.svc.dist.medianMs;
    const sigma = this.svc.dist.sigma;
    const endMs = this.endMs;
    let n = 0;
    while (n < max) {
      if (this.bufI >= this.bufN) {
        this.step++;
        if (this.step >= counts.length) return n;
        this.fillStep(Math.round(counts[this.step]));
        continue;
      }
      const base = tr.startMs + this.step * tr.stepMs;
      const b = this.buf;
      const stop = Math.min(this.bufN, this.bufI + (max - n));
      for (let k = this.bufI; k < stop; k++) {
        const t = base + b[k];
        this.bufI = k + 1;
        if (t > endMs) { this.t = t; return n; }
        ts[at + n] = t;
        ss[at + n] = median * Math.exp(sigma * rng.normal());
        n++;
      }
    }
    return n;
  }

  /** Nothing to release (a worker-fed stream has a worker to stop: arrival-thread.ts). */
  close(): void {}
}

// ---- generators: rate functions sampled into per-second Poisson counts ----------------------------

export type Generator =
  | { kind: 'poisson'; rps: number }
  /** rate(t) = mean x (1 + amplitude x sin(2 pi t / period)), amplitude in [0, 1]. */
  | { kind: 'diurnal'; meanRps: number; amplitude: number; periodMs: number }
  /** A base rate with periodic bursts of burstRps lasting burstMs every everyMs. */
  | { kind: 'bursts'; baseRps: number; burstRps: number; everyMs: number; burstMs: number; offsetMs?: number }
  /** A step: rps1 until atMs, then rps2. */
  | { kind: 'step'; rps1: number; rps2: number; atMs: number };

export function rateAt(g: Generator, offsetMs: number): number {
  switch (g.kind) {
    case 'poisson': return g.rps;
    case 'diurnal': return Math.max(0, g.meanRps * (1 + g.amplitude * Math.sin((2 * Math.PI * offsetMs) / g.periodMs)));
    case 'bursts': {
      const phase = ((offsetMs - (g.offsetMs ?? g.everyMs / 2)) % g.everyMs + g.everyMs) % g.everyMs;
      return phase < g.burstMs ? g.burstRps : g.baseRps;
    }
    case 'step': return offsetMs < g.atMs ? g.rps1 : g.rps2;
  }
}

/** Sample a generator into a per-second counts trace (Poisson counts for each second). */
export function generate(g: Generator, durationMs: number, seed: number, startMs = 0): CountsTrace {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const n = Math.ceil(durationMs / 1000);
  const counts = new Float64Array(n);
  for (let i = 0; i < n; i++) counts[i] = rng.poisson(rateAt(g, i * 1000 + 500));
  return { kind: 'counts', name: describeGenerator(g), startMs, stepMs: 1000, counts };
}

export function describeGenerator(g: Generator): string {
  switch (g.kind) {
    case 'poisson': return `poisson ${g.rps} rps`;
    case 'diurnal': return `diurnal mean ${g.meanRps} rps ±${Math.round(g.amplitude * 100)}% period ${g.periodMs / 1000}s`;
    case 'bursts': return `bursts ${g.baseRps}->${g.burstRps} rps for ${g.burstMs / 1000}s every ${g.everyMs / 1000}s`;
    case 'step': return `step ${g.rps1}->${g.rps2} rps at ${g.atMs / 1000}s`;
  }
}

/** Parse "poisson:50", "diurnal:50:0.8:86400", "bursts:10:100:600:60", "step:10:50:300" (seconds). */
export function parseGenerator(text: string): Generator {
  const p = text.split(':');
  const n = (i: number, d?: number): number => {
    const v = p[i] === undefined || p[i] === '' ? d : Number(p[i]);
    if (v === undefined || !Number.isFinite(v)) throw new Error(`generator "${text}": argument ${i} must be a number`);
    return v;
  };
  switch (p[0]) {
    case 'poisson': return { kind: 'poisson', rps: n(1) };
    case 'diurnal': return { kind: 'diurnal', meanRps: n(1), amplitude: n(2, 0.8), periodMs: n(3, 86400) * 1000 };
    case 'bursts': return { kind: 'bursts', baseRps: n(1), burstRps: n(2), everyMs: n(3, 600) * 1000, burstMs: n(4, 60) * 1000 };
    case 'step': return { kind: 'step', rps1: n(1), rps2: n(2), atMs: n(3, 300) * 1000 };
    default: throw new Error(`unknown generator "${p[0]}" (poisson, diurnal, bursts, step)`);
  }
}

/** The arrival-stream seed the engine derives from a run's seed (the oracle replays the same stream). */
export function arrivalSeed(seed: number): number {
  return Math.imul(seed >>> 0, 2654435761) >>> 0;
}
