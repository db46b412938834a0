// The arrival stream of a long simulation, drawn on a second thread. Drawing arrivals (a logarithm
// per arrival for its time, a lognormal service time: exp, and a Box-Muller normal every other
// arrival) is about half of what the engine does per request, and it does not depend on anything
// the engine does: the stream has its own seeded generator. So for a long trace a worker thread runs
// the very same ArrivalStream and hands its (time, service) pairs over in chunks of shared memory
// while the engine simulates the previous chunks. The engine sees the identical sequence, so every
// result is the same; only where the time is spent changes.
//
// The worker fills a ring of chunks; each chunk has a state word: EMPTY (the worker may fill it),
// FULL (the engine may read it) or LAST (full, and the stream ends after it). If the worker cannot
// start or dies, the engine falls back to drawing the stream itself, skipping what it has already
// read (the stream is deterministic), so a missing worker costs time, never a different result.
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { ArrivalStream, traceRequestCount, type ServiceTimeModel, type Trace } from './workload.ts';

/** What the engine reads: after next() returns true, `t` (epoch ms) and `s` (service ms). */
export interface ArrivalSource {
  t: number;
  s: number;
  next(): boolean;
  /** Stop the worker, if any (the engine calls it when the run ends). */
  close(): void;
}

export interface ArrivalThreadOptions {
  /** true: always a worker; false: never; undefined: a worker from THREAD_MIN_ARRIVALS arrivals on, unless TIDE_SIM_THREAD=0. */
  thread?: boolean;
  /** Arrivals per chunk (default 65,536) and chunks in the ring (default 4). */
  chunk?: number;
  chunks?: number;
  /** For tests: the worker gives up (as if it died) after this many chunks. */
  failAfterChunks?: number;
}

/** Below this many arrivals a worker's start (tens of ms) costs more than it saves. */
export const THREAD_MIN_ARRIVALS = 2_000_000;
// How long the engine waits for a chunk before it takes the worker for dead and draws the stream
// itself. Generous: a loaded machine may hold a thread back for a while, and falling back is slow.
const STALL_MS = 60_000;

const EMPTY = 0, FULL = 1, LAST = 2;
// control words: [state, count] per chunk, then one word the worker sets when it failed
const FAILED = 0;

interface WorkerInput {
  kind: 'tide-arrivals';
  trace: Trace;
  svc: ServiceTimeModel;
  seed: number;
  endMs: number;
  chunk: number;
  chunks: number;
  failAfterChunks: number;
  ctrl: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** The arrival stream for a run: a worker-fed one for long traces, else the stream in this thread (buffered). */
export function openArrivals(trace: Trace, svc: ServiceTimeModel, seed: number, endMs: number, o: ArrivalThreadOptions = {}): ArrivalSource {
  const wanted = o.thread ?? (process.env.TIDE_SIM_THREAD !== '0' && arrivalsBefore(trace, endMs) >= THREAD_MIN_ARRIVALS);
  if (wanted) {
    const threaded = ThreadedArrivals.start(trace, svc, seed, endMs, o.chunk ?? 65_536, o.chunks ?? 4, o.failAfterChunks ?? Infinity);
    if (threaded) return threaded;
  }
  return new BufferedArrivals(new ArrivalStream(trace, svc, seed, endMs));
}

/** About how many arrivals the stream yields before endMs (whole steps of a counts trace). */
function arrivalsBefore(trace: Trace, endMs: number): number {
  if (trace.kind === 'requests' || endMs === Infinity) return traceRequestCount(trace);
  const steps = Math.min(trace.counts.length, Math.ceil((endMs - trace.startMs) / trace.stepMs));
  let n = 0;
  for (let i = 0; i < steps; i++) n += trace.counts[i];
  return n;
}

/** The stream in this thread, read through a buffer that ArrivalStream.fill writes (no call per arrival to draw). */
class BufferedArrivals implements ArrivalSource {
  t = 0;
  s = 0;
  private readonly src: ArrivalStream;
  private readonly ts = new Float64Array(4096);
  private readonly ss = new Float64Array(4096);
  private i = 0;
  private n = 0;
  private ended = false;

  constructor(src: ArrivalStream) { this.src = src; }

  next(): boolean {
    if (this.i >= this.n) {
      if (this.ended) return false;
      this.n = this.src.fill(this.ts, this.ss, 0, this.ts.length);
      this.i = 0;
      if (this.n < this.ts.length) this.ended = true;
      if (this.n === 0) return false;
    }
    this.t = this.ts[this.i];
    this.s = this.ss[this.i++];
    return true;
  }

  close(): void {}
}

/** Arrivals a source got from its worker so far (0: drawn in this thread), for tests and benches. */
export function workerArrivals(a: ArrivalSource): number {
  return a instanceof ThreadedArrivals ? a.fromWorker : 0;
}

class ThreadedArrivals implements ArrivalSource {
  t = 0;
  s = 0;
  private readonly worker: Worker;
  private readonly ctrl: Int32Array;
  private readonly ts: Float64Array;
  private readonly ss: Float64Array;
  private readonly chunk: number;
  private readonly chunks: number;
  private readonly args: [Trace, ServiceTimeModel, number, number];
  private c = -1;          // chunk being read (ring index), -1 before the first
  private i = 0;           // next entry in it
  private n = 0;           // entries in it
  private last = false;    // it is the last chunk
  private consumed = 0;    // arrivals handed to the engine so far
  fromWorker = 0;          // ... of which the worker drew
  private fallback: ArrivalStream | null = null;

  static start(trace: Trace, svc: ServiceTimeModel, seed: number, endMs: number, chunk: number, chunks: number, failAfterChunks: number): ThreadedArrivals | null {
    const ctrl = new SharedArrayBuffer(4 * (1 + 2 * chunks));
    const data = new SharedArrayBuffer(8 * 2 * chunk * chunks);
    const input: WorkerInput = { kind: 'tide-arrivals', trace, svc, seed, endMs, chunk, chunks, failAfterChunks, ctrl, data };
    let worker: Worker;
    try {
      worker = new Worker(new URL(import.meta.url), { workerData: input });
    } catch {
      return null; // no worker threads here: the engine draws the stream itself
    }
    worker.unref(); // never keep the process alive
    worker.on('error', () => { /* seen through the shared state (or the stall timeout) */ });
    return new ThreadedArrivals(worker, ctrl, data, chunk, chunks, [trace, svc, seed, endMs]);
  }

  private constructor(worker: Worker, ctrl: SharedArrayBuffer, data: SharedArrayBuffer, chunk: number, chunks: number, args: [Trace, ServiceTimeModel, number, number]) {
    this.worker = worker;
    this.ctrl = new Int32Array(ctrl);
    this.ts = new Float64Array(data, 0, chunk * chunks);
    this.ss = new Float64Array(data, 8 * chunk * chunks, chunk * chunks);
    this.chunk = chunk;
    this.chunks = chunks;
    this.args = args;
  }

  next(): boolean {
    if (this.i < this.n) {
      const k = this.c * this.chunk + this.i++;
      this.t = this.ts[k];
      this.s = this.ss[k];
      this.consumed++;
      this.fromWorker++;
      return true;
    }
    if (this.fallback) return this.fromFallback();
    if (this.last) return false;
    return this.nextChunk() ? this.next() : this.fromFallback();
  }

  /** Hand the chunk just read back to the worker and wait for the next one; false: the worker is gone. */
  private nextChunk(): boolean {
    const ctrl = this.ctrl;
    if (this.c >= 0) {
      Atomics.store(ctrl, 1 + 2 * this.c, EMPTY);
      Atomics.notify(ctrl, 1 + 2 * this.c);
    }
    this.c = (this.c + 1) % this.chunks;
    const at = 1 + 2 * this.c;
    const t0 = Date.now();
    while (Atomics.load(ctrl, at) === EMPTY) {
      if (Atomics.load(ctrl, FAILED) !== 0 || Date.now() - t0 > STALL_MS) return false;
      Atomics.wait(ctrl, at, EMPTY, 1000);
    }
    this.last = Atomics.load(ctrl, at) === LAST;
    this.n = Atomics.load(ctrl, at + 1);
    this.i = 0;
    return true;
  }

  /** The worker failed: draw the stream here, past the arrivals already handed out. */
  private fromFallback(): boolean {
    if (!this.fallback) {
      void this.worker.terminate();
      this.fallback = new ArrivalStream(...this.args);
      for (let k = 0; k < this.consumed; k++) this.fallback.next();
      this.n = 0;
    }
    const f = this.fallback;
    if (!f.next()) return false;
    this.t = f.t;
    this.s = f.s;
    this.consumed++;
    return true;
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** The worker: run the stream and fill chunks until it ends (or the engine stops the worker). */
function produce(w: WorkerInput): void {
  const ctrl = new Int32Array(w.ctrl);
  const ts = new Float64Array(w.data, 0, w.chunk * w.chunks);
  const ss = new Float64Array(w.data, 8 * w.chunk * w.chunks, w.chunk * w.chunks);
  try {
    const a = new ArrivalStream(w.trace, w.svc, w.seed, w.endMs);
    const chunk = w.chunk;
    for (let c = 0, filled = 0; ; c = (c + 1) % w.chunks, filled++) {
      if (filled >= w.failAfterChunks) throw new Error('told to fail');
      const at = 1 + 2 * c;
      // wait with the very value checked: loading it again could read the EMPTY the engine stored
      // (and notified) in between, and then sleep on EMPTY with no notify to come (a lost wake-up)
      for (let v = Atomics.load(ctrl, at); v !== EMPTY; v = Atomics.load(ctrl, at)) Atomics.wait(ctrl, at, v);
      const n = a.fill(ts, ss, c * chunk, chunk);
      const more = n === chunk; // a full chunk: perhaps more (the next one may come out empty)
      Atomics.store(ctrl, at + 1, n);
      Atomics.store(ctrl, at, more ? FULL : LAST);
      Atomics.notify(ctrl, at);
      if (!more) return;
    }
  } catch {
    Atomics.store(ctrl, FAILED, 1);
    for (let c = 0; c < w.chunks; c++) Atomics.notify(ctrl, 1 + 2 * c);
  }
}

if (!isMainThread && (workerData as WorkerInput | null)?.kind === 'tide-arrivals') produce(workerData as WorkerInput);
