// Engine-agnostic core of Tide's proxy and activator, shared by the raw HTTP/1.1 engine (./proxy.ts)
// and the node:http one (./proxy-nodehttp.ts). It owns the scheduling; the engines own the wire.
//
// What lives here (the same for both engines):
// - The replica set as the controller describes it (addReplica/setReady/drain/removeReplica), with
//   ready/draining flags, in-flight counts and the counters reported by stats().
// - Routing: only ready, non-draining replicas; least outstanding requests, ties round-robin; a replica
//   never holds more than `containerConcurrency` in-flight requests when set.
// - Admission: requests without a free slot wait in one FIFO queue of at most `queueLimit` (lazy
//   deletion: entries whose state left QUEUED are skipped); beyond that 503 + Retry-After.
// - Timeout: `requestTimeoutMs` from arrival until the replica's response headers; 504 on expiry.
// - Failures before the response headers: 502, except bodiless GET/HEAD/OPTIONS retried once on
//   another replica (at the front of the queue when none is free now but another one is ready).
// - Activator: at zero ready replicas requests are held in the same queue; the first one of each cold
//   episode calls `observer.onColdRequest()` at once; `setReady` releases the queue; optional cold
//   placeholder response after `coldPlaceholder.afterMs`.
// - The per-request report to `observer.onRequestDone`.
//
// An engine extends ProxyRouter with its replica and exchange types and implements the few abstract
// methods: send an exchange to a replica, abort an exchange's upstream, answer an exchange locally.
// Timers are started with module-level callbacks (no per-request closures), as on the hot path.
import type { AddressInfo, Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CloseOptions, ProxyOptions, ProxyStats, ReplicaLoad, ReplicaProxy, RequestObserver } from './proxy-types.ts';

/** Response header telling the client how long its request waited for a cold start (ms). */
export const COLD_START_HEADER = 'X-Tide-Cold-Start';

/** Default body of the cold-start placeholder response. */
export const PLACEHOLDER_BODY = 'warming up: the service is starting from zero, retry shortly\n';

// Exchange states
export const QUEUED = 0;
export const UPSTREAM = 1;
export const STREAMING = 2;
export const DONE = 3;

/** A replica as the router sees it; engines extend it with their connection pools. */
export class RoutedReplica {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  ready = false;
  draining = false;
  removed = false;
  inFlight = 0;
  requestsTotal = 0;
  errorsTotal = 0;
  drainWaiters: Array<() => void> = [];

  constructor(id: string, host: string, port: number) {
    this.id = id;
    this.host = host;
    this.port = port;
  }
}

/** One client request as the router sees it; engines extend it with their wire state. */
export class RoutedExchange<R extends RoutedReplica> {
  readonly t0: number;
  state = QUEUED;
  cold = false;
  dispatchedAt = 0;
  retried = false;
  exclude: R | null = null;
  replica: R | null = null;
  /** Whether this exchange currently holds a slot on `replica`. */
  holding = false;
  timer: NodeJS.Timeout | null = null;
  placeholderTimer: NodeJS.Timeout | null = null;
  status = 0;
  /** The request has a body (so it is never retried). */
  readonly hasBody: boolean;

  constructor(t0: number, hasBody: boolean) {
    this.t0 = t0;
    this.hasBody = hasBody;
  }
}

export abstract class ProxyRouter<R extends RoutedReplica, X extends RoutedExchange<R>> implements ReplicaProxy {
  protected readonly opts: ProxyOptions;
  protected readonly observer: RequestObserver | undefined;
  protected abstract readonly server: Server;
  private readonly replicas = new Map<string, R>();
  protected list: R[] = [];
  private rr = 0;
  private readonly cc: number;
  protected readonly retryAfter: string;
  private readyCount = 0;
  private coldEpisode = false;
  private queue: X[] = [];
  private qHead = 0;
  private queuedCount = 0;
  private inFlightTotal = 0;
  private requestsTotal = 0;
  protected closed = false;
  /** close() was called: responses carry `Connection: close` from now on. */
  protected closing = false;

  constructor(opts: ProxyOptions, observer: RequestObserver | undefined) {
    this.opts = opts;
    this.observer = observer;
    this.cc = opts.containerConcurrency && opts.containerConcurrency > 0 ? opts.containerConcurrency : 0;
    this.retryAfter = String(opts.retryAfterSeconds ?? 1);
  }

  // ---------------------------------------------------------------- engine interface

  /** A new replica record (with the engine's connection pool) for `addReplica`. */
  protected abstract newReplica(id: string, host: string, port: number): R;
  /** The replica was removed: close its connections (in-flight exchanges fail through the normal path). */
  protected abstract replicaRemoved(r: R): void;
  /** Send the exchange to the replica; the slot is already taken (state UPSTREAM). */
  protected abstract send(x: X, r: R): void;
  /** Detach the exchange's upstream, `release(x, x.replica!, false)`, then destroy the upstream. */
  protected abstract abortUpstream(x: X): void;
  /** Answer from the proxy itself (503/502/504); must clear the timers and set state DONE and status. */
  protected abstract respondLocal(x: X, status: number, body: string, retryAfter: boolean): void;
  /** Answer with the cold placeholder (Retry-After and the cold-start header); x is already unqueued. */
  protected abstract respondPlaceholder(x: X, status: number, body: string, contentType: string | undefined): void;

  // ---------------------------------------------------------------- controller side

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', onError);
        // After listening, the server's errors are accept errors: never fatal, never unheard.
        this.server.on('error', (e: NodeJS.ErrnoException) => {
          try { this.observer?.onAcceptError?.(e); } catch { /* observers must not break the proxy */ }
        });
        resolve();
      });
    });
  }

  addReplica(id: string, target: { host: string; port: number }): void {
    if (this.replicas.has(id)) throw new Error(`replica ${id} already added`);
    this.replicas.set(id, this.newReplica(id, target.host, target.port));
    this.list = [...this.replicas.values()];
  }

  setReady(id: string, ready: boolean): void {
    const r = this.replicas.get(id);
    if (!r || r.ready === ready) return;
    r.ready = ready;
    if (!r.draining) this.readyCount += ready ? 1 : -1;
    if (ready) {
      this.coldEpisode = false;
      this.pump();
    }
  }

  drain(id: string, graceMs: number): Promise<{ drained: boolean; abandoned: number }> {
    const r = this.replicas.get(id);
    if (!r) return Promise.resolve({ drained: true, abandoned: 0 });
    if (!r.draining) {
      r.draining = true;
      if (r.ready) this.readyCount--;
    }
    if (r.inFlight === 0) return Promise.resolve({ drained: true, abandoned: 0 });
    return new Promise((resolve) => {
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(t);
        resolve({ drained: r.inFlight === 0, abandoned: r.inFlight });
      };
      const t = setTimeout(finish, Math.max(0, graceMs));
      r.drainWaiters.push(finish);
    });
  }

  removeReplica(id: string): void {
    const r = this.replicas.get(id);
    if (!r) return;
    if (r.ready && !r.draining) this.readyCount--;
    r.removed = true;
    r.ready = false;
    this.replicas.delete(id);
    this.list = [...this.replicas.values()];
    const waiters = r.drainWaiters;
    r.drainWaiters = [];
    for (const w of waiters) w();
    this.replicaRemoved(r);
  }

  stats(): ProxyStats {
    const replicas: ReplicaLoad[] = this.list.map((r) => ({
      id: r.id,
      ready: r.ready,
      draining: r.draining,
      inFlight: r.inFlight,
      requestsTotal: r.requestsTotal,
      errorsTotal: r.errorsTotal,
    }));
    return { now: Date.now(), queued: this.queuedCount, inFlight: this.inFlightTotal, requestsTotal: this.requestsTotal, replicas };
  }

  abstract close(opts?: CloseOptions): Promise<void>;

  /** Requests in the queue or in flight (graceful close waits for 0). */
  protected get busy(): number {
    return this.queuedCount + this.inFlightTotal;
  }

  /** Resolves when nothing is queued or in flight, or after `ms` (polled: shutdown only). */
  protected async settle(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.busy > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, until - performance.now()))));
  }

  /** On close: answer every queued request 503 and empty the queue. */
  protected flushQueue(): void {
    for (let i = this.qHead; i < this.queue.length; i++) {
      const x = this.queue[i];
      if (x.state === QUEUED) this.respondLocal(x, 503, 'proxy shutting down\n', true);
    }
    this.queue = [];
    this.qHead = 0;
    this.queuedCount = 0;
  }

  // ---------------------------------------------------------------- traffic side

  /** A new request: start its timeout, then send it to a free replica or queue it. */
  protected admit(x: X): void {
    this.requestsTotal++;
    const timeout = this.opts.requestTimeoutMs;
    if (timeout > 0) x.timer = setTimeout(onTimeout, timeout, this, x);
    if (this.queuedCount === 0) {
      const r = this.pick(null);
      if (r !== null) {
        this.dispatch(x, r);
        return;
      }
    }
    this.enqueue(x, false);
  }

  /** Least outstanding requests among ready, non-draining replicas with a free slot; ties round-robin. */
  private pick(exclude: R | null): R | null {
    const list = this.list;
    const n = list.length;
    if (n === 0) return null;
    const cc = this.cc;
    let best: R | null = null;
    let bestLoad = Infinity;
    const start = this.rr++ % n;
    if (this.rr > 1e9) this.rr = 0;
    for (let i = 0; i < n; i++) {
      const r = list[(start + i) % n];
      if (!r.ready || r.draining || r === exclude) continue;
      const load = r.inFlight;
      if (cc !== 0 && load >= cc) continue;
      if (load < bestLoad) {
        best = r;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  private enqueue(x: X, front: boolean): void {
    if (this.readyCount === 0 && !x.cold) {
      x.cold = true;
      if (!this.coldEpisode) {
        this.coldEpisode = true;
        try {
          this.observer?.onColdRequest?.();
        } catch {
          // an observer failure must not break the request path
        }
      }
    }
    // retries go to the front, but never past the limit either
    if (this.queuedCount >= this.opts.queueLimit) {
      this.respondLocal(x, 503, 'no capacity: proxy queue is full\n', true);
      return;
    }
    x.state = QUEUED;
    if (front) {
      if (this.qHead > 0) this.queue[--this.qHead] = x;
      else this.queue.unshift(x);
    } else this.queue.push(x);
    this.queuedCount++;
    const ph = this.opts.coldPlaceholder;
    if (x.cold && ph && x.placeholderTimer === null) x.placeholderTimer = setTimeout(onPlaceholder, ph.afterMs, this, x);
  }

  /** Hand queued requests to replicas with free slots, in arrival order. */
  private pump(): void {
    while (this.queuedCount > 0) {
      const q = this.queue;
      let x = q[this.qHead];
      while (x.state !== QUEUED) {
        this.qHead++;
        x = q[this.qHead];
      }
      const r = this.pick(x.exclude);
      if (r === null) break;
      this.qHead++;
      this.queuedCount--;
      if (this.qHead > 1024 && this.qHead * 2 > q.length) {
        this.queue = q.slice(this.qHead);
        this.qHead = 0;
      }
      this.dispatch(x, r);
    }
    if (this.queuedCount === 0 && this.queue.length > 0) {
      this.queue = [];
      this.qHead = 0;
    }
  }

  /** Remove a still-queued exchange (timeout, client gone, placeholder, broken body). */
  protected unqueue(x: X): void {
    if (x.state !== QUEUED) return;
    x.state = DONE;
    if (--this.queuedCount === 0) {
      this.queue = [];
      this.qHead = 0;
    }
  }

  private dispatch(x: X, r: R): void {
    x.state = UPSTREAM;
    x.replica = r;
    x.holding = true;
    if (x.dispatchedAt === 0) x.dispatchedAt = performance.now();
    r.inFlight++;
    r.requestsTotal++;
    this.inFlightTotal++;
    if (x.placeholderTimer !== null) {
      clearTimeout(x.placeholderTimer);
      x.placeholderTimer = null;
    }
    this.send(x, r);
  }

  /** The replica's response headers arrived: the exchange streams from now on (timeout off). */
  protected responseStarted(x: X, status: number): void {
    x.state = STREAMING;
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    x.status = status;
  }

  /**
   * The replica failed before its response headers (upstream already detached from `x`): free the slot
   * as failed, retry an idempotent bodiless request once on another replica, else answer 502.
   */
  protected failedBeforeHead(x: X, r: R, method: string | undefined): void {
    this.release(x, r, true);
    if (
      !x.retried &&
      this.opts.retryIdempotent !== false &&
      !x.hasBody &&
      (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') &&
      !this.closed
    ) {
      x.retried = true;
      x.exclude = r;
      const r2 = this.pick(r);
      if (r2 !== null) {
        this.dispatch(x, r2);
        return;
      }
      if (this.hasOtherReady(r)) {
        this.enqueue(x, true);
        return;
      }
    }
    this.respondLocal(x, 502, 'bad gateway: the replica failed before answering\n', false);
  }

  private hasOtherReady(exclude: R): boolean {
    for (const r of this.list) if (r !== exclude && r.ready && !r.draining) return true;
    return false;
  }

  /** Give back the slot held on `r` (exactly once per dispatch) and let queued requests in. */
  protected release(x: X, r: R, failed: boolean): void {
    if (!x.holding || x.replica !== r) return;
    x.holding = false;
    r.inFlight--;
    this.inFlightTotal--;
    if (failed) r.errorsTotal++;
    if (r.draining) {
      if (r.inFlight === 0 && r.drainWaiters.length > 0) {
        const ws = r.drainWaiters;
        r.drainWaiters = [];
        for (const w of ws) w();
      }
    } else if (this.queuedCount > 0) this.pump();
  }

  /** `requestTimeoutMs` expired before the response headers: 504. */
  timeout(x: X): void {
    x.timer = null;
    if (x.state === QUEUED) {
      this.unqueue(x);
      this.respondLocal(x, 504, 'gateway timeout: no replica answered in time\n', false);
    } else if (x.state === UPSTREAM) {
      this.abortUpstream(x);
      this.respondLocal(x, 504, 'gateway timeout: the replica did not answer in time\n', false);
    }
  }

  /** The cold request waited `coldPlaceholder.afterMs`: answer it with the placeholder. */
  placeholder(x: X): void {
    x.placeholderTimer = null;
    if (x.state !== QUEUED) return;
    const ph = this.opts.coldPlaceholder!;
    this.unqueue(x);
    this.respondPlaceholder(x, ph.status ?? 503, ph.body ?? PLACEHOLDER_BODY, ph.contentType);
  }

  /** The client went away (or its response closed): stop the exchange wherever it is, then report. */
  protected clientGone(x: X, finished: boolean): void {
    if (x.state === QUEUED) this.unqueue(x);
    if (x.holding) this.abortUpstream(x);
    x.state = DONE;
    this.report(x, finished);
  }

  /** Stop the exchange's request timeout and placeholder timers. */
  protected clearTimers(x: X): void {
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    if (x.placeholderTimer !== null) {
      clearTimeout(x.placeholderTimer);
      x.placeholderTimer = null;
    }
  }

  /** Clear the exchange's timers and report it to the observer (status 0 unless `finished`). */
  protected report(x: X, finished: boolean): void {
    this.clearTimers(x);
    const obs = this.observer;
    if (obs === undefined || obs.onRequestDone === undefined) return;
    const now = performance.now();
    const queuedMs = (x.dispatchedAt || now) - x.t0;
    try {
      obs.onRequestDone({
        status: finished ? x.status : 0,
        latencyMs: now - x.t0,
        queuedMs,
        coldStart: x.cold,
        replica: x.replica?.id,
        coldStartMs: x.cold ? queuedMs : undefined,
      });
    } catch {
      // observers must not break the proxy
    }
  }
}

// Timer callbacks: module-level functions with (router, exchange) arguments, so no closure per request.
type AnyRouter = ProxyRouter<RoutedReplica, RoutedExchange<RoutedReplica>>;

function onTimeout(p: AnyRouter, x: RoutedExchange<RoutedReplica>): void {
  p.timeout(x);
}

function onPlaceholder(p: AnyRouter, x: RoutedExchange<RoutedReplica>): void {
  p.placeholder(x);
}
