// Tide's proxy and activator on node:http (the reference engine; `engine: 'node-http'`). The default
// engine is the raw HTTP/1.1 one in ./proxy.ts, which has the same behaviour and is faster; this one is
// kept as a fallback and as the behavioural reference the tests run both against.
// Original notes: Tide's proxy and activator: the Service's port in `tide up`. It owns traffic only; the local
// runtime's controller owns replicas and tells the proxy which exist, which are ready and which drain
// (contract in ./proxy-types.ts).
//
// Behaviour, in one place:
// - HTTP/1.1 keep-alive both ways (node:http server; one keep-alive http.Agent per replica, LIFO
//   socket reuse). Request and response bodies are piped chunk by chunk, never buffered, so chunked
//   bodies and SSE streams pass through as they are produced.
// - Routing: only ready, non-draining replicas; least outstanding requests, ties broken round-robin.
// - Admission: a replica never holds more than `containerConcurrency` in-flight requests when set;
//   requests that find no free slot wait in one FIFO queue of at most `queueLimit` entries; beyond that
//   the answer is 503 + Retry-After.
// - Timeout: `requestTimeoutMs` runs from arrival until the upstream's response headers (queue wait +
//   time to first byte, as Knative's revision timeout); 504 on expiry. Streams are not cut afterwards.
// - Failures: a replica that fails before sending headers gives 502, except idempotent requests
//   without a body (GET/HEAD/OPTIONS), which are retried once on another replica. A replica dying
//   after the headers cuts the client connection (the only honest signal at that point).
// - Activator: with zero ready replicas requests are held in the same queue (same bound and timeout);
//   the first one of each cold episode calls `observer.onColdRequest()` at once; the moment a replica
//   becomes ready the queue is released into it up to its concurrency cap. Such requests carry
//   `X-Tide-Cold-Start: <ms waited>` and report `coldStart: true`. Optional placeholder response.
import http from 'node:http';
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProxyOptions, ProxyStats, ReplicaLoad, ReplicaProxy, RequestObserver } from './proxy-types.ts';

const COLD_START_HEADER = 'X-Tide-Cold-Start';

// Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones) never forwarded in either direction.
const HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
// Lengths of the names above and of x-forwarded-for: the raw-header filter lowercases only these.
const CHECK_LEN = new Set([...HOP, 'x-forwarded-for'].map((h) => h.length));

class Replica {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly agent: http.Agent;
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
    this.agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', keepAliveMsecs: 1000 });
  }
}

const QUEUED = 0;
const UPSTREAM = 1;
const STREAMING = 2;
const DONE = 3;

/** One client request as it moves through the proxy. */
class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly t0: number;
  state = QUEUED;
  cold = false;
  dispatchedAt = 0;
  retried = false;
  exclude: Replica | null = null;
  replica: Replica | null = null;
  upReq: ClientRequest | null = null;
  /** Whether this exchange currently holds a slot on `replica`. */
  holding = false;
  timer: NodeJS.Timeout | null = null;
  placeholderTimer: NodeJS.Timeout | null = null;
  headers: string[] | null = null;
  hasBody: boolean;
  status = 0;

  constructor(req: IncomingMessage, res: ServerResponse, t0: number) {
    this.req = req;
    this.res = res;
    this.t0 = t0;
    const h = req.headers;
    const cl = h['content-length'];
    this.hasBody = (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined;
  }
}

class NodeHttpProxy implements ReplicaProxy {
  private readonly opts: ProxyOptions;
  private readonly observer: RequestObserver | undefined;
  private readonly server: http.Server;
  private readonly replicas = new Map<string, Replica>();
  private list: Replica[] = [];
  private rr = 0;
  private readonly cc: number;
  private readonly retryAfter: string;
  private readyCount = 0;
  private coldEpisode = false;
  // FIFO queue with lazy deletion: entries whose state left QUEUED are skipped.
  private queue: Exchange[] = [];
  private qHead = 0;
  private queuedCount = 0;
  private inFlightTotal = 0;
  private requestsTotal = 0;
  private closed = false;

  constructor(opts: ProxyOptions, observer: RequestObserver | undefined) {
    this.opts = opts;
    this.observer = observer;
    this.cc = opts.containerConcurrency && opts.containerConcurrency > 0 ? opts.containerConcurrency : 0;
    this.retryAfter = String(opts.retryAfterSeconds ?? 1);
    this.server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) =>
      this.onRequest(req, res),
    );
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- controller side

  addReplica(id: string, target: { host: string; port: number }): void {
    if (this.replicas.has(id)) throw new Error(`replica ${id} already added`);
    const r = new Replica(id, target.host, target.port);
    this.replicas.set(id, r);
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
    // In-flight exchanges on it see their sockets destroyed and fail (or retry) through the normal path.
    r.agent.destroy();
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let i = this.qHead; i < this.queue.length; i++) {
      const x = this.queue[i];
      if (x.state === QUEUED) this.respondLocal(x, 503, 'proxy shutting down\n', true);
    }
    this.queue = [];
    this.qHead = 0;
    this.queuedCount = 0;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const r of this.list) r.agent.destroy();
  }

  // ---------------------------------------------------------------- traffic side

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.requestsTotal++;
    const x = new Exchange(req, res, performance.now());
    const timeout = this.opts.requestTimeoutMs;
    if (timeout > 0) x.timer = setTimeout(onTimeout, timeout, this, x);
    res.on('close', () => this.onClientClose(x));
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
  private pick(exclude: Replica | null): Replica | null {
    const list = this.list;
    const n = list.length;
    if (n === 0) return null;
    const cc = this.cc;
    let best: Replica | null = null;
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

  private enqueue(x: Exchange, front: boolean): void {
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
    if (!front && this.queuedCount >= this.opts.queueLimit) {
      this.respondLocal(x, 503, 'no capacity: proxy queue is full\n', true);
      return;
    }
    x.state = QUEUED;
    if (front) {
      if (this.qHead > 0) this.queue[--this.qHead] = x;
      else this.queue.unshift(x);
    } else {
      this.queue.push(x);
    }
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

  /** Remove a still-queued exchange (timeout, client gone, placeholder). */
  private unqueue(x: Exchange): void {
    if (x.state !== QUEUED) return;
    x.state = DONE;
    if (--this.queuedCount === 0) {
      this.queue = [];
      this.qHead = 0;
    }
  }

  private dispatch(x: Exchange, r: Replica): void {
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
    const req = x.req;
    let headers = x.headers ?? (x.headers = forwardHeaders(req));
    // HTTP/1.0 clients may omit Host; the replica speaks HTTP/1.1, which requires it
    if (req.headers.host === undefined) headers = [...headers, 'Host', `${r.host}:${r.port}`];
    const up = http.request({
      host: r.host,
      port: r.port,
      method: req.method,
      path: req.url,
      headers,
      agent: r.agent,
      setHost: false,
    });
    x.upReq = up;
    up.on('response', (upRes) => this.onUpstreamResponse(x, r, up, upRes));
    up.on('error', (err) => this.onUpstreamError(x, r, up, err));
    if (x.hasBody) req.pipe(up);
    else up.end();
  }

  private onUpstreamResponse(x: Exchange, r: Replica, up: ClientRequest, upRes: IncomingMessage): void {
    if (x.state !== UPSTREAM || x.upReq !== up) {
      upRes.resume();
      up.destroy();
      return;
    }
    x.state = STREAMING;
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    const res = x.res;
    const status = upRes.statusCode ?? 502;
    x.status = status;
    const headers = responseHeaders(upRes.rawHeaders);
    if (x.cold) headers.push(COLD_START_HEADER, String(Math.round(x.dispatchedAt - x.t0)));
    res.writeHead(status, upRes.statusMessage, headers);
    upRes.on('end', () => this.release(x, r, false));
    upRes.on('close', () => {
      if (!upRes.complete) {
        // The replica died mid-body: count it, free the slot, and cut the client (no silent truncation).
        this.release(x, r, true);
        res.destroy();
      }
    });
    upRes.pipe(res);
  }

  private onUpstreamError(x: Exchange, r: Replica, up: ClientRequest, _err: Error): void {
    if (x.upReq !== up) return;
    if (x.state === STREAMING) {
      this.release(x, r, true);
      x.res.destroy();
      return;
    }
    if (x.state !== UPSTREAM) return;
    this.release(x, r, true);
    x.upReq = null;
    const m = x.req.method;
    if (
      !x.retried &&
      this.opts.retryIdempotent !== false &&
      !x.hasBody &&
      (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') &&
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

  private hasOtherReady(exclude: Replica): boolean {
    for (const r of this.list) if (r !== exclude && r.ready && !r.draining) return true;
    return false;
  }

  /** Give back the slot held on `r` (exactly once per dispatch) and let queued requests in. */
  private release(x: Exchange, r: Replica, failed: boolean): void {
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
    } else if (this.queuedCount > 0) {
      this.pump();
    }
  }

  timeout(x: Exchange): void {
    x.timer = null;
    if (x.state === QUEUED) {
      this.unqueue(x);
      this.respondLocal(x, 504, 'gateway timeout: no replica answered in time\n', false);
    } else if (x.state === UPSTREAM) {
      const r = x.replica!;
      const up = x.upReq;
      x.upReq = null;
      this.release(x, r, false);
      up?.destroy();
      this.respondLocal(x, 504, 'gateway timeout: the replica did not answer in time\n', false);
    }
  }

  placeholder(x: Exchange): void {
    x.placeholderTimer = null;
    if (x.state !== QUEUED) return;
    const ph = this.opts.coldPlaceholder!;
    this.unqueue(x);
    const status = ph.status ?? 503;
    const body = ph.body ?? 'warming up: the service is starting from zero, retry shortly\n';
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    x.state = DONE;
    x.status = status;
    const res = x.res;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, {
        'content-type': ph.contentType ?? 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'retry-after': this.retryAfter,
        [COLD_START_HEADER]: String(Math.round(performance.now() - x.t0)),
      });
      res.end(body);
    }
  }

  /** Answer from the proxy itself (503/502/504). */
  private respondLocal(x: Exchange, status: number, body: string, retryAfter: boolean): void {
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    if (x.placeholderTimer !== null) {
      clearTimeout(x.placeholderTimer);
      x.placeholderTimer = null;
    }
    x.state = DONE;
    x.status = status;
    const res = x.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const h: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
    if (retryAfter) h['retry-after'] = this.retryAfter;
    res.writeHead(status, h);
    res.end(body);
    // Unread request bodies are left to node:http, which discards them or closes the connection.
  }

  /** Every exchange ends here exactly once: the client response closed (finished or cut). */
  private onClientClose(x: Exchange): void {
    const finished = x.res.writableFinished;
    if (x.state === QUEUED) this.unqueue(x);
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    if (x.placeholderTimer !== null) {
      clearTimeout(x.placeholderTimer);
      x.placeholderTimer = null;
    }
    if (x.holding) {
      // Client went away while the replica was still working: stop it and free the slot.
      const r = x.replica!;
      const up = x.upReq;
      x.upReq = null;
      this.release(x, r, false);
      up?.destroy();
    }
    x.state = DONE;
    const obs = this.observer?.onRequestDone;
    if (obs) {
      const now = performance.now();
      const queuedMs = (x.dispatchedAt || now) - x.t0;
      try {
        this.observer!.onRequestDone!({
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
}

function onTimeout(p: NodeHttpProxy, x: Exchange): void {
  p.timeout(x);
}

function onPlaceholder(p: NodeHttpProxy, x: Exchange): void {
  p.placeholder(x);
}

/** Request headers for the upstream: raw order and case kept, hop-by-hop dropped, X-Forwarded-For appended. */
export function forwardHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let xff: string | undefined;
  let extraHop: Set<string> | null = null;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (CHECK_LEN.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-for') {
        xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
        continue;
      }
      if (HOP.has(lower)) {
        if (lower === 'connection') extraHop = connectionTokens(raw[i + 1], extraHop);
        else if (lower === 'transfer-encoding') chunked = true;
        continue;
      }
    }
    out.push(name, raw[i + 1]);
  }
  if (extraHop !== null) filterNamed(out, extraHop);
  const remote = req.socket.remoteAddress ?? '';
  out.push('X-Forwarded-For', xff === undefined ? remote : `${xff}, ${remote}`);
  // A chunked request body is re-framed by node:http on the upstream side; keep it chunked.
  if (chunked) out.push('Transfer-Encoding', 'chunked');
  return out;
}

/** Response headers for the client: hop-by-hop dropped (node:http re-frames the body). */
export function responseHeaders(raw: string[]): string[] {
  const out: string[] = [];
  let extraHop: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (CHECK_LEN.has(name.length)) {
      const lower = name.toLowerCase();
      if (HOP.has(lower)) {
        if (lower === 'connection') extraHop = connectionTokens(raw[i + 1], extraHop);
        continue;
      }
    }
    out.push(name, raw[i + 1]);
  }
  if (extraHop !== null) filterNamed(out, extraHop);
  return out;
}

function connectionTokens(value: string, acc: Set<string> | null): Set<string> | null {
  for (const t of value.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok === '' || tok === 'close' || tok === 'keep-alive') continue;
    (acc ??= new Set()).add(tok);
  }
  return acc;
}

function filterNamed(headers: string[], names: Set<string>): void {
  let w = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (names.has(headers[i].toLowerCase())) continue;
    headers[w++] = headers[i];
    headers[w++] = headers[i + 1];
  }
  headers.length = w;
}

/** Start the node:http proxy engine listening on `options.host:options.port`. */
export async function createNodeHttpProxy(options: ProxyOptions, observer?: RequestObserver): Promise<ReplicaProxy> {
  const p = new NodeHttpProxy(options, observer);
  await p.listen();
  return p;
}
