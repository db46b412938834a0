// Tide's proxy and activator: the Service's port in `tide up`. It owns traffic only; the local
// runtime's controller owns replicas and tells the proxy which exist, which are ready and which drain
// (contract in ./proxy-types.ts).
//
// Two engines with the same behaviour: this file's raw HTTP/1.1 engine (default; heads parsed and
// rewritten by ./proxy-http1.ts, bodies forwarded byte for byte straight from socket to socket, about
// 2-3x the throughput of node:http on the same core, see docs/benchmarks.md), and the node:http one in
// ./proxy-nodehttp.ts (`engine: 'node-http'`).
//
// Behaviour:
// - HTTP/1.1 keep-alive both ways (pipelined client requests are answered in order); one LIFO pool of
//   keep-alive connections per replica, idle ones dropped before the replica's keep-alive timeout.
// - Streaming: request and response bodies (fixed length, chunked, SSE, close-delimited) are written
//   on as they arrive, never buffered whole; back-pressure in both directions.
// - Routing, admission (containerConcurrency, bounded FIFO queue, 503 + Retry-After), timeouts (504),
//   retries of idempotent requests, drain and the activator: engine-agnostic, in ./proxy-router.ts.
// - Timeout: `requestTimeoutMs` runs from arrival until the replica's response headers (queue wait +
//   time to first byte, as Knative's revision timeout); 504 on expiry. Streams are not cut afterwards.
// - Failures: a replica failing before its response headers gives 502, except bodiless GET/HEAD/OPTIONS,
//   retried once on another replica; a reused keep-alive connection found closed is retried once on a
//   fresh connection. A replica dying mid-body cuts the client connection (no silent truncation).
// - Hop-by-hop headers dropped both ways (plus those named in Connection, except the framing headers
//   and Host, which no Connection token can remove); X-Forwarded-For appended.
// - Strict framing (./proxy-http1.ts): whatever Node's own parser (llhttp) rejects is rejected here
//   too, before a byte reaches a replica (test/unit/proxy/differential.test.ts proves it on a corpus).
// - Connection timeouts (head, idle, body, write; docs/proxy.md) are checked by one sweeper per proxy
//   against an injectable clock; a slow reader or a stalled body frees its replica slot.
// - A local answer (503 queue full, 408, 504) keeps the connection when the rest of the request body
//   can be read and discarded within DISCARD_LIMIT; close({ graceMs }) drains gracefully.
// - Activator responses carry `X-Tide-Cold-Start: <ms waited>` and report `coldStart: true`.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { STATUS_CODES } from 'node:http';
import type { CloseOptions, ProxyOptions, ReplicaProxy, RequestObserver } from './proxy-types.ts';
import { PROXY_TIMEOUT_DEFAULTS } from './proxy-types.ts';
import { COLD_START_HEADER, DONE, ProxyRouter, QUEUED, RoutedExchange, RoutedReplica, STREAMING, UPSTREAM } from './proxy-router.ts';
import { ChunkedScanner, HttpError, MAX_HEAD, parseRequestHead, parseResponseHead } from './proxy-http1.ts';
import type { RequestHead, ResponseHead } from './proxy-http1.ts';
import { createNodeHttpProxy } from './proxy-nodehttp.ts';

export type { ProxyOptions, ReplicaProxy, RequestObserver } from './proxy-types.ts';

export { COLD_START_HEADER } from './proxy-router.ts';

/** Which implementation serves the port; both behave the same (the tests run against both). */
export type ProxyEngine = 'raw' | 'node-http';

const UPSTREAM_IDLE_MS = 4_000;
/** Request body buffered while queued before the client is paused (back-pressure). */
export const MAX_PENDING_BODY = 1 << 20;
/** Request body bytes read and thrown away after a local answer so the connection can be kept. */
export const DISCARD_LIMIT = 1 << 20;
/** After close() has answered what it could: how long clients get to read it before being cut. */
const LINGER_MS = 1000;
const CRLF2 = Buffer.from('\r\n\r\n');

/** Index of the first LF not preceded by CR in buf[from..], or -1. */
function bareLF(buf: Buffer, from: number): number {
  let i = buf.indexOf(10, from);
  while (i >= 0) {
    if (i === 0 || buf[i - 1] !== 13) return i;
    i = buf.indexOf(10, i + 1);
  }
  return -1;
}

// Client connection states
const C_HEAD = 0;
const C_BODY = 1;
const C_WAIT = 2;
const C_CLOSED = 3;

// Response body modes
const M_NONE = 0;
const M_LENGTH = 1;
const M_CHUNKED = 2;
const M_CLOSE = 3;

class Replica extends RoutedReplica {
  idle: UpConn[] = [];
  readonly conns = new Set<UpConn>();

  take(now: number): UpConn {
    const idle = this.idle;
    while (idle.length > 0) {
      const c = idle.pop()!;
      if (now - c.idleSince < c.idleLimit && !c.socket.destroyed) return c;
      c.destroy();
    }
    return new UpConn(this);
  }
}

/** One client request as it moves through the proxy. */
class Exchange extends RoutedExchange<Replica> {
  readonly conn: ClientConn;
  readonly head: RequestHead;
  staleRetried = false;
  up: UpConn | null = null;
  upHead: string | null = null;
  /** Request body fully received from the client. */
  bodyDone: boolean;
  /** Body received before a replica was chosen. */
  pending: Buffer[] | null = null;
  pendingBytes = 0;

  constructor(conn: ClientConn, head: RequestHead, t0: number) {
    const hasBody = head.chunked || head.contentLength > 0;
    super(t0, hasBody);
    this.conn = conn;
    this.head = head;
    this.bodyDone = !hasBody;
  }
}

class ClientConn {
  readonly socket: net.Socket;
  readonly proxy: RawProxy;
  buf: Buffer | null = null;
  state = C_HEAD;
  x: Exchange | null = null;
  bodyLeft = 0;
  scanner: ChunkedScanner | null = null;
  keepAlive = true;
  /** The client closed its side. */
  ended = false;
  lastActive = 0;
  /** When the current head's first byte arrived (0 = none yet): the head timeout runs from here. */
  headSince = 0;
  /** How far buf was already searched for the end of the head / bare LFs. */
  scanned = 0;
  /** Request body bytes thrown away after a local answer. */
  discarded = 0;
  /** Write-timeout bookkeeping: when the client last made progress reading, and the backlog then. */
  stallSince = 0;
  stallPending = 0;
  paused = false;
  scheduled = false;
  readonly remote: string;

  constructor(socket: net.Socket, proxy: RawProxy) {
    this.socket = socket;
    this.proxy = proxy;
    this.remote = socket.remoteAddress ?? '';
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEnd());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    this.lastActive = proxy.now();
  }

  onData(d: Buffer): void {
    const now = (this.lastActive = this.proxy.now());
    if (this.state === C_BODY) {
      this.consumeBody(d);
      return;
    }
    if (this.state === C_CLOSED) return;
    if (this.state === C_HEAD && this.headSince === 0) this.headSince = now;
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
    if (this.state === C_HEAD) this.parse();
    else if (this.buf.length > MAX_HEAD && !this.paused) {
      // pipelined requests piling up behind the current one: stop reading
      this.paused = true;
      this.socket.pause();
    }
  }

  parse(): void {
    this.scheduled = false;
    while (this.state === C_HEAD && this.buf !== null) {
      let buf = this.buf;
      // tolerate empty lines before a request line (RFC 9112 §2.2); they count against the head
      // timeout, which started with the first of them
      let s = 0;
      while (s + 1 < buf.length && buf[s] === 13 && buf[s + 1] === 10) s += 2;
      if (s > 0) {
        buf = s < buf.length ? buf.subarray(s) : Buffer.alloc(0);
        this.buf = buf.length ? buf : null;
        this.scanned = 0;
        if (this.buf === null) return;
      }
      const from = this.scanned > 3 ? this.scanned - 3 : 0;
      const idx = buf.indexOf(CRLF2, from);
      if (idx > MAX_HEAD || (idx < 0 && buf.length > MAX_HEAD)) {
        this.fatal(431, 'request head too large');
        return;
      }
      // a bare LF can end no line here: answer at once instead of waiting for a CRLF CRLF
      const lf = bareLF(buf, from > 0 ? from : 0);
      if (lf >= 0 && (idx < 0 || lf < idx)) {
        this.fatal(400, 'bare LF in request head');
        return;
      }
      if (idx < 0) {
        this.scanned = buf.length;
        return;
      }
      this.scanned = 0;
      this.headSince = 0;
      let head: RequestHead;
      try {
        head = parseRequestHead(buf.toString('latin1', 0, idx));
      } catch (err) {
        this.fatal(err instanceof HttpError ? err.status : 400, (err as Error).message);
        return;
      }
      const rest = idx + 4 < buf.length ? buf.subarray(idx + 4) : null;
      this.buf = null;
      this.keepAlive = head.keepAlive && !this.proxy.isClosing;
      this.discarded = 0;
      const x = new Exchange(this, head, performance.now());
      this.x = x;
      if (head.chunked) {
        this.scanner = new ChunkedScanner();
        this.state = C_BODY;
      } else if (head.contentLength > 0) {
        this.bodyLeft = head.contentLength;
        this.state = C_BODY;
      } else this.state = C_WAIT;
      this.proxy.onRequest(x);
      if (rest !== null) {
        if (this.state === C_BODY) this.consumeBody(rest);
        else if (this.state !== C_CLOSED) {
          this.buf = this.buf === null ? rest : Buffer.concat([this.buf, rest]);
        }
      }
    }
  }

  consumeBody(chunk: Buffer): void {
    const x = this.x!;
    let part: Buffer;
    let rest: Buffer | null = null;
    let done = false;
    if (this.scanner !== null) {
      let end: number;
      try {
        end = this.scanner.feed(chunk, 0);
      } catch (err) {
        if (x.state === QUEUED || x.state === UPSTREAM) this.proxy.failClientBody(x, (err as HttpError).status ?? 400);
        else this.socket.destroy();
        return;
      }
      if (end < 0) part = chunk;
      else {
        part = end === chunk.length ? chunk : chunk.subarray(0, end);
        rest = end < chunk.length ? chunk.subarray(end) : null;
        done = true;
      }
    } else {
      const take = Math.min(this.bodyLeft, chunk.length);
      part = take === chunk.length ? chunk : chunk.subarray(0, take);
      rest = take < chunk.length ? chunk.subarray(take) : null;
      this.bodyLeft -= take;
      done = this.bodyLeft === 0;
    }
    if (done) {
      x.bodyDone = true;
      this.scanner = null;
      this.state = C_WAIT;
    }
    if (x.state === QUEUED) {
      (x.pending ??= []).push(part);
      x.pendingBytes += part.length;
      if (x.pendingBytes > MAX_PENDING_BODY && !this.paused && !done) {
        this.paused = true;
        this.socket.pause();
      }
    } else if (x.up !== null && x.state !== DONE) {
      const up = x.up;
      if (!up.socket.write(part) && !this.paused) {
        this.paused = true;
        this.socket.pause();
        up.socket.once('drain', () => this.resume());
      }
    }
    else if (x.state === DONE) {
      // answered locally before the body ended: read and throw away up to DISCARD_LIMIT, then close
      this.discarded += part.length;
      if (this.discarded > DISCARD_LIMIT && !done) {
        this.x = null;
        this.state = C_CLOSED;
        this.buf = null;
        this.socket.end();
        return;
      }
    }
    // what follows the body in this read is the next request: kept before the exchange can end
    if (rest !== null) {
      if (this.state === C_CLOSED) return;
      this.buf = this.buf === null ? rest : Buffer.concat([this.buf, rest]);
    }
    if (done && x.state === DONE) {
      // answered before the body ended, and the body was read within DISCARD_LIMIT: the
      // connection goes on with what was pipelined behind it
      this.afterExchange();
    }
  }

  resume(): void {
    if (this.paused && !this.socket.destroyed) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** The current exchange has been answered completely. */
  finished(x: Exchange, close: boolean): void {
    if (this.x !== x) return;
    if (close || !this.keepAlive || this.ended) {
      this.x = null;
      this.state = C_CLOSED;
      this.buf = null;
      this.socket.end();
      return;
    }
    if (!x.bodyDone) {
      // answered before the request body arrived: the rest is read and discarded (consumeBody), and
      // the connection goes on if that stays within DISCARD_LIMIT; otherwise it closes after this
      if (this.canDiscard()) {
        this.resume();
        return;
      }
      this.x = null;
      this.state = C_CLOSED;
      this.socket.end();
      return;
    }
    this.afterExchange();
  }

  /** The rest of the current request body can be read and thrown away within DISCARD_LIMIT. */
  canDiscard(): boolean {
    if (this.state !== C_BODY || this.ended) return false;
    return this.scanner !== null ? this.discarded <= DISCARD_LIMIT : this.bodyLeft <= DISCARD_LIMIT - this.discarded;
  }

  private afterExchange(): void {
    const x = this.x;
    if (x !== null && x.state !== DONE) return;
    this.x = null;
    if (this.state === C_CLOSED) return;
    this.state = C_HEAD;
    const now = this.proxy.now();
    this.lastActive = now;
    this.headSince = this.buf !== null ? now : 0;
    this.scanned = 0;
    this.resume();
    if (this.buf !== null && !this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => this.parse());
    }
  }

  /** Protocol error before an exchange exists (or on it): answer and close. */
  fatal(status: number, message: string): void {
    const body = `${message}\n`;
    this.state = C_CLOSED;
    this.buf = null;
    this.socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /** Cut the connection now, aborting the current exchange (its replica slot is freed at once). */
  abort(): void {
    const x = this.x;
    this.x = null;
    this.state = C_CLOSED;
    this.buf = null;
    if (x !== null) this.proxy.onClientGone(x);
    this.socket.destroy();
  }

  onEnd(): void {
    // As node:http does by default: a client that closes its side has given up on the exchange.
    this.ended = true;
    if (this.x === null) {
      this.state = C_CLOSED;
      this.socket.end();
    } else this.socket.destroy();
  }

  onClose(): void {
    this.state = C_CLOSED;
    this.proxy.clients.delete(this);
    const x = this.x;
    this.x = null;
    if (x !== null) this.proxy.onClientGone(x);
  }
}

class UpConn {
  readonly socket: net.Socket;
  readonly replica: Replica;
  x: Exchange | null = null;
  buf: Buffer | null = null;
  head: ResponseHead | null = null;
  mode = M_NONE;
  left = 0;
  scanner: ChunkedScanner | null = null;
  dechunk = false;
  requests = 0;
  gotBytes = false;
  idleSince = 0;
  idleLimit = UPSTREAM_IDLE_MS;
  dead = false;
  private waitingDrain = false;

  constructor(r: Replica) {
    this.replica = r;
    this.socket = net.connect({ host: r.host, port: r.port, noDelay: true });
    r.conns.add(this);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => {});
    this.socket.on('close', () => this.onClose());
  }

  destroy(): void {
    this.dead = true;
    this.x = null;
    this.socket.destroy();
  }

  send(x: Exchange, head: string): void {
    this.x = x;
    this.requests++;
    this.gotBytes = false;
    this.head = null;
    this.buf = null;
    const s = this.socket;
    const pending = x.pending;
    if (pending === null) {
      s.write(head, 'latin1');
      return;
    }
    s.cork();
    s.write(head, 'latin1');
    for (const b of pending) s.write(b);
    s.uncork();
    x.pending = null;
    x.pendingBytes = 0;
    x.conn.resume();
  }

  onData(d: Buffer): void {
    const x = this.x;
    if (x === null) {
      // bytes on an idle connection: protocol violation
      this.destroy();
      return;
    }
    this.gotBytes = true;
    const client = x.conn.socket;
    client.cork();
    try {
      this.process(x, d);
    } finally {
      client.uncork();
    }
  }

  private process(x: Exchange, d: Buffer): void {
    let start = 0;
    if (this.head === null) {
      let buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
      for (;;) {
        const idx = buf.indexOf(CRLF2);
        if (idx > MAX_HEAD || (idx < 0 && buf.length > MAX_HEAD)) {
          this.fail(x, 'response head too large');
          return;
        }
        const lf = bareLF(buf, 0);
        if (lf >= 0 && (idx < 0 || lf < idx)) {
          this.fail(x, 'bare LF in response head');
          return;
        }
        if (idx < 0) {
          // not even the start of a status line: fail now rather than at the request timeout
          const n = Math.min(buf.length, 7);
          if (buf.toString('latin1', 0, n) !== 'HTTP/1.'.slice(0, n)) {
            this.fail(x, 'not an HTTP/1.x response');
            return;
          }
          this.buf = buf;
          return;
        }
        let head: ResponseHead;
        try {
          head = parseResponseHead(buf.toString('latin1', 0, idx));
        } catch (err) {
          this.fail(x, (err as Error).message);
          return;
        }
        if (head.status >= 100 && head.status < 200) {
          if (head.status === 101) {
            this.fail(x, 'protocol upgrade is not supported');
            return;
          }
          // interim response (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients, rebuilt
          // from its parsed head (hop-by-hop fields dropped as for any response)
          if (x.head.version === 11) {
            let h = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
            for (const l of head.lines) h += `${l}\r\n`;
            x.conn.socket.write(`${h}\r\n`, 'latin1');
          }
          buf = buf.subarray(idx + 4);
          if (buf.length === 0) {
            this.buf = null;
            return;
          }
          continue;
        }
        this.buf = null;
        this.head = head;
        start = idx + 4;
        d = buf;
        break;
      }
      const head = this.head!;
      const s = head.status;
      if (x.head.method === 'HEAD' || s === 204 || s === 304) this.mode = M_NONE;
      else if (head.chunked) {
        this.mode = M_CHUNKED;
        this.scanner = new ChunkedScanner();
        this.dechunk = x.head.version === 10;
      } else if (head.contentLength >= 0) {
        this.mode = M_LENGTH;
        this.left = head.contentLength;
      } else this.mode = M_CLOSE;
      const closeClient = this.mode === M_CLOSE || this.dechunk || !x.conn.keepAlive || x.conn.ended || !x.bodyDone || x.conn.proxy.isClosing;
      x.conn.proxy.onResponseHead(x, this.replica, this, head, closeClient, this.mode === M_CHUNKED && !this.dechunk);
      if (x.state !== STREAMING) return;
      // no body, or an empty one (Content-Length: 0): done with the head
      if (this.mode === M_NONE || (this.mode === M_LENGTH && this.left === 0)) {
        this.complete(x, start < d.length);
        return;
      }
      if (start >= d.length) return;
    }
    this.body(x, start === 0 ? d : d.subarray(start));
  }

  private body(x: Exchange, d: Buffer): void {
    const client = x.conn.socket;
    let ok = true;
    if (this.mode === M_LENGTH) {
      const take = Math.min(this.left, d.length);
      if (take > 0) ok = client.write(take === d.length ? d : d.subarray(0, take));
      this.left -= take;
      if (this.left === 0) {
        this.complete(x, take < d.length);
        return;
      }
    } else if (this.mode === M_CHUNKED) {
      let end: number;
      try {
        if (this.dechunk) {
          end = this.scanner!.feed(d, 0, (p) => {
            ok = client.write(p) && ok;
          });
        } else {
          end = this.scanner!.feed(d, 0);
          ok = client.write(end < 0 || end === d.length ? d : d.subarray(0, end));
        }
      } catch {
        this.cut(x);
        return;
      }
      if (end >= 0) {
        this.complete(x, end < d.length);
        return;
      }
    } else {
      ok = client.write(d);
    }
    if (!ok && !this.waitingDrain) {
      this.waitingDrain = true;
      this.socket.pause();
      client.once('drain', () => {
        this.waitingDrain = false;
        this.socket.resume();
      });
    }
  }

  /** The response ended cleanly: pool or close this connection, free the slot, finish the exchange. */
  private complete(x: Exchange, extraBytes: boolean): void {
    const head = this.head!;
    const reusable = !extraBytes && !head.close && this.mode !== M_CLOSE && x.bodyDone && !this.dead && !this.replica.removed;
    this.x = null;
    this.head = null;
    this.scanner = null;
    if (reusable) {
      if (head.keepAliveTimeoutS > 0) this.idleLimit = Math.max(500, Math.min(UPSTREAM_IDLE_MS, head.keepAliveTimeoutS * 1000 - 1000));
      this.idleSince = x.conn.proxy.now();
      if (this.waitingDrain) this.socket.resume();
      this.replica.idle.push(this);
    } else this.destroy();
    x.up = null;
    x.conn.proxy.onResponseDone(x, this.replica);
  }

  /** Broken response before or after its head. */
  private fail(x: Exchange, _why: string): void {
    this.destroy();
    if (x.state === STREAMING) x.conn.proxy.onResponseCut(x, this.replica);
    else x.conn.proxy.onUpstreamError(x, this.replica, this, false);
  }

  private cut(x: Exchange): void {
    this.destroy();
    x.conn.proxy.onResponseCut(x, this.replica);
  }

  onClose(): void {
    this.replica.conns.delete(this);
    const idx = this.replica.idle.indexOf(this);
    if (idx >= 0) this.replica.idle.splice(idx, 1);
    const x = this.x;
    this.x = null;
    this.dead = true;
    if (x === null) return;
    if (x.state === STREAMING) {
      if (this.mode === M_CLOSE) {
        this.head = null;
        x.up = null;
        x.conn.proxy.onResponseDone(x, this.replica);
      } else x.conn.proxy.onResponseCut(x, this.replica);
    } else if (x.state === UPSTREAM) {
      x.conn.proxy.onUpstreamError(x, this.replica, this, this.requests > 1 && !this.gotBytes);
    }
  }
}

class RawProxy extends ProxyRouter<Replica, Exchange> {
  protected readonly server: net.Server;
  private sweeper: NodeJS.Timeout | null = null;
  readonly clients = new Set<ClientConn>();
  /** Monotonic clock (ms) of the connection timeouts (injectable for tests). */
  readonly now: () => number;
  /** Coarse clock (ms) for the upstream pool, refreshed on requests and by the sweeper. */
  clock: number;
  private readonly headersTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private closeDone: Promise<void> | null = null;

  constructor(opts: ProxyOptions, observer: RequestObserver | undefined) {
    super(opts, observer);
    this.now = opts.clock ?? (() => performance.now());
    this.clock = this.now();
    const t = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
    this.headersTimeoutMs = t(opts.headersTimeoutMs, PROXY_TIMEOUT_DEFAULTS.headersTimeoutMs);
    this.idleTimeoutMs = t(opts.idleTimeoutMs, PROXY_TIMEOUT_DEFAULTS.idleTimeoutMs);
    this.bodyTimeoutMs = t(opts.bodyTimeoutMs, PROXY_TIMEOUT_DEFAULTS.bodyTimeoutMs);
    this.writeTimeoutMs = t(opts.writeTimeoutMs, PROXY_TIMEOUT_DEFAULTS.writeTimeoutMs);
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (this.closed) {
        socket.destroy();
        return;
      }
      this.clients.add(new ClientConn(socket, this));
    });
    const every = opts.sweepIntervalMs ?? Math.min(1000, Math.max(10, Math.floor(Math.min(this.headersTimeoutMs, this.idleTimeoutMs, this.bodyTimeoutMs, this.writeTimeoutMs) / 4)));
    if (every > 0) {
      this.sweeper = setInterval(() => this.sweep(), every);
      this.sweeper.unref();
    }
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Check every connection's timeouts against the clock (the sweeper calls this; tests may too). */
  sweep(): void {
    const now = (this.clock = this.now());
    for (const c of this.clients) {
      const sock = c.socket;
      // write timeout: a client that reads nothing of a response while its send buffer is full
      if (sock.writableNeedDrain) {
        const pending = sock.writableLength;
        if (c.stallSince === 0 || pending < c.stallPending) {
          c.stallSince = now;
          c.stallPending = pending;
        } else if (now - c.stallSince >= this.writeTimeoutMs) {
          c.abort();
          continue;
        }
      } else c.stallSince = 0;
      if (c.state === C_HEAD && c.x === null) {
        if (c.headSince !== 0) {
          if (now - c.headSince >= this.headersTimeoutMs) c.fatal(408, 'request head timeout');
        } else if (now - c.lastActive >= this.idleTimeoutMs) c.abort();
      } else if (c.state === C_BODY && !c.paused && now - c.lastActive >= this.bodyTimeoutMs) {
        const x = c.x;
        if (x !== null && (x.state === QUEUED || x.state === UPSTREAM)) this.failClientBody(x, 408, 'request body timeout\n');
        else c.abort();
      }
    }
    for (const r of this.list) {
      const idle = r.idle;
      for (let i = idle.length - 1; i >= 0; i--) if (now - idle[i].idleSince >= idle[i].idleLimit) idle[i].destroy();
    }
  }

  // ---------------------------------------------------------------- controller side

  protected newReplica(id: string, host: string, port: number): Replica {
    return new Replica(id, host, port);
  }

  protected replicaRemoved(r: Replica): void {
    // in-flight exchanges see their connections close and fail (or retry) through the normal path
    for (const c of [...r.conns]) c.socket.destroy();
    r.idle = [];
  }

  close(opts: CloseOptions = {}): Promise<void> {
    return (this.closeDone ??= this.shutdown(opts.graceMs ?? 0));
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    // stop accepting; idle keep-alive connections are closed now, the others after their response
    const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const endIdle = () => {
      for (const c of this.clients) {
        if (c.x === null && c.state === C_HEAD && c.buf === null) {
          c.state = C_CLOSED;
          c.socket.end();
        }
      }
    };
    endIdle();
    if (graceMs > 0) await this.settle(graceMs);
    this.closed = true;
    this.flushQueue();
    for (const c of this.clients) {
      if (c.x !== null && c.x.state !== DONE) c.abort();
    }
    endIdle();
    // what was answered gets LINGER_MS to be read, then everything left is cut
    const until = performance.now() + LINGER_MS;
    while (this.clients.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    for (const c of this.clients) c.socket.destroy();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    for (const r of this.list) for (const c of [...r.conns]) c.socket.destroy();
    await listening;
  }

  // ---------------------------------------------------------------- traffic side

  onRequest(x: Exchange): void {
    this.clock = x.t0;
    if (this.closed) {
      this.respondLocal(x, 503, 'proxy shutting down\n', true);
      return;
    }
    this.admit(x);
  }

  protected send(x: Exchange, r: Replica): void {
    this.sendTo(x, r, r.take(this.clock));
  }

  private sendTo(x: Exchange, r: Replica, up: UpConn): void {
    x.up = up;
    up.send(x, x.upHead ?? (x.upHead = upstreamHead(x, r)));
  }

  protected abortUpstream(x: Exchange): void {
    const up = x.up;
    x.up = null;
    this.release(x, x.replica!, false);
    up?.destroy();
  }

  onResponseHead(x: Exchange, r: Replica, _up: UpConn, head: ResponseHead, close: boolean, chunked: boolean): void {
    if (x.state !== UPSTREAM || x.replica !== r) return;
    this.responseStarted(x, head.status);
    const conn = x.conn;
    if (close) conn.keepAlive = false;
    let h = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    const lines = head.lines;
    for (let i = 0; i < lines.length; i++) h += `${lines[i]}\r\n`;
    if (chunked) h += 'Transfer-Encoding: chunked\r\n';
    if (x.cold) h += `${COLD_START_HEADER}: ${Math.round(x.dispatchedAt - x.t0)}\r\n`;
    if (close) h += 'Connection: close\r\n\r\n';
    else if (x.head.version === 10) h += 'Connection: keep-alive\r\n\r\n';
    else h += '\r\n';
    conn.socket.write(h, 'latin1');
  }

  onResponseDone(x: Exchange, r: Replica): void {
    this.release(x, r, false);
    if (x.state === DONE) return;
    x.state = DONE;
    x.conn.finished(x, !x.conn.keepAlive);
    this.report(x, true);
  }

  /** The replica died mid-body: the client connection is cut (no silent truncation). */
  onResponseCut(x: Exchange, r: Replica): void {
    this.release(x, r, true);
    x.up = null;
    if (x.state === DONE) return;
    x.state = DONE;
    x.conn.socket.destroy();
  }

  onUpstreamError(x: Exchange, r: Replica, up: UpConn, stale: boolean): void {
    if (x.state !== UPSTREAM || x.up !== up) return;
    x.up = null;
    if (stale && !x.staleRetried && !x.hasBody) {
      // a kept-alive connection the replica had closed: same replica, fresh connection, once
      x.staleRetried = true;
      this.sendTo(x, r, new UpConn(r));
      return;
    }
    this.failedBeforeHead(x, r, x.head.method);
  }

  /** The client sent a broken (or stalled) body: answer (nothing was answered yet), stop the exchange, close. */
  failClientBody(x: Exchange, status: number, body = 'bad request body\n'): void {
    if (x.state === QUEUED) this.unqueue(x);
    else if (x.state === UPSTREAM) this.abortUpstream(x);
    x.conn.keepAlive = false;
    x.pending = null;
    this.respondLocal(x, status, body, false);
  }

  protected respondPlaceholder(x: Exchange, status: number, body: string, contentType: string | undefined): void {
    this.respondLocal(x, status, body, true, `${COLD_START_HEADER}: ${Math.round(performance.now() - x.t0)}\r\n`, contentType);
  }

  /** Answer from the proxy itself (503/502/504/placeholder). */
  protected respondLocal(x: Exchange, status: number, body: string, retryAfter: boolean, extra = '', contentType?: string): void {
    this.clearTimers(x);
    const wasStreaming = x.state === STREAMING;
    x.state = DONE;
    x.status = status;
    const conn = x.conn;
    if (wasStreaming || conn.state === C_CLOSED) {
      conn.socket.destroy();
      return;
    }
    x.pending = null;
    x.pendingBytes = 0;
    const close = (!x.bodyDone && !conn.canDiscard()) || !conn.keepAlive || conn.ended || this.closing;
    if (close) conn.keepAlive = false;
    let h = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${contentType ?? 'text/plain; charset=utf-8'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    if (retryAfter) h += `Retry-After: ${this.retryAfter}\r\n`;
    h += extra;
    if (close) h += 'Connection: close\r\n';
    else if (x.head.version === 10) h += 'Connection: keep-alive\r\n';
    conn.socket.write(`${h}\r\n${x.head.method === 'HEAD' ? '' : body}`, 'latin1');
    conn.finished(x, close);
    this.report(x, true);
  }

  /** The client connection closed while this exchange was current. */
  onClientGone(x: Exchange): void {
    if (x.state === DONE) return;
    this.clientGone(x, false);
  }
}

function upstreamHead(x: Exchange, r: Replica): string {
  const h = x.head;
  let s = `${h.method} ${h.target} HTTP/1.1\r\n`;
  const lines = h.lines;
  for (let i = 0; i < lines.length; i++) s += `${lines[i]}\r\n`;
  if (h.host === undefined) s += `Host: ${r.host}:${r.port}\r\n`;
  if (h.chunked) s += 'Transfer-Encoding: chunked\r\n';
  const remote = x.conn.remote;
  s += `X-Forwarded-For: ${h.xff === undefined ? remote : `${h.xff}, ${remote}`}\r\n\r\n`;
  return s;
}

type TimeoutOptions = Pick<ProxyOptions, 'headersTimeoutMs' | 'idleTimeoutMs' | 'bodyTimeoutMs' | 'writeTimeoutMs'>;
let processDefaults: TimeoutOptions = {};

/**
 * Process-wide values for the connection timeouts a createProxy caller leaves unset (the `tide up`
 * --proxy-*-timeout flags); undefined entries keep PROXY_TIMEOUT_DEFAULTS.
 */
export function setProxyDefaults(d: TimeoutOptions): void {
  processDefaults = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as TimeoutOptions;
}

/**
 * Start the proxy listening on `options.host:options.port` (port 0 = ephemeral; read `.port`).
 * `options.engine` picks the implementation: 'raw' (default) or 'node-http'.
 */
export async function createProxy(given: ProxyOptions & { engine?: ProxyEngine }, observer?: RequestObserver): Promise<ReplicaProxy> {
  const options = { ...processDefaults, ...given };
  const engine = options.engine ?? (process.env.TIDE_PROXY_ENGINE as ProxyEngine | undefined) ?? 'raw';
  if (engine === 'node-http') return createNodeHttpProxy(options, observer);
  const p = new RawProxy(options, observer);
  await p.listen();
  return p;
}
