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
// - Routing, admission (containerConcurrency, bounded FIFO queue, 503 + Retry-After), timeouts (504),
//   retries of idempotent requests, drain and the activator: engine-agnostic, in ./proxy-router.ts.
// - Failures: a replica that fails before sending headers gives 502, except idempotent requests
//   without a body (GET/HEAD/OPTIONS), which are retried once on another replica. A replica dying
//   after the headers cuts the client connection (the only honest signal at that point).
// - Activator responses carry `X-Tide-Cold-Start: <ms waited>` and report `coldStart: true`.
import http from 'node:http';
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CloseOptions, ProxyOptions, ReplicaProxy, RequestObserver } from './proxy-types.ts';
import { PROXY_TIMEOUT_DEFAULTS } from './proxy-types.ts';
import { COLD_START_HEADER, DONE, ProxyRouter, QUEUED, RoutedExchange, RoutedReplica, STREAMING, UPSTREAM } from './proxy-router.ts';
import { ChunkedScanner, PROTECTED } from './proxy-http1.ts';

// Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones) never forwarded in either direction.
const HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
// Lengths of the names above and of x-forwarded-for: the raw-header filter lowercases only these.
const CHECK_LEN = new Set([...HOP, 'x-forwarded-for'].map((h) => h.length));

/** Responses still owed per client connection. */
const active = new WeakMap<object, number>();
/** Client connections to close once their owed responses are written (a malformed request followed). */
const closeAfter = new WeakSet<object>();

class Replica extends RoutedReplica {
  readonly agent: http.Agent;

  constructor(id: string, host: string, port: number) {
    super(id, host, port);
    this.agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', keepAliveMsecs: 1000 });
  }
}

/** One client request as it moves through the proxy. */
class Exchange extends RoutedExchange<Replica> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  upReq: ClientRequest | null = null;
  headers: string[] | null = null;
  /**
   * The body-read or write-stall timeout (one at a time): which one runs (IO_NONE, IO_BODY,
   * IO_WRITE) and since when (the engine's clock); the engine's sweep checks them.
   */
  ioKind = IO_NONE;
  ioSince = 0;

  constructor(req: IncomingMessage, res: ServerResponse, t0: number) {
    const h = req.headers;
    const cl = h['content-length'];
    super(t0, (cl !== undefined && cl !== '0') || h['transfer-encoding'] !== undefined);
    this.req = req;
    this.res = res;
  }
}

const IO_NONE = 0;
const IO_BODY = 1;
const IO_WRITE = 2;

/** What a client connection is doing, for the head and idle timeouts (see Conn). */
const C_IDLE = 0;
const C_HEAD = 1;
const C_BUSY = 2;
const C_CLOSED = 3;

/**
 * One client connection's head / idle timeout bookkeeping, on the engine's clock (as the raw
 * engine's): idle from accept or from the end of its last exchange, a head from its first byte
 * (empty lines included) until node:http has parsed it, busy while requests are owed answers.
 * Whether bytes of a head follow a complete message in the same read: `framer`.
 */
interface Conn {
  sock: Socket;
  phase: number;
  /** When the current phase started (idle, or the head's first byte). */
  since: number;
  /** The last request read on it (its body may still be arriving after the answer). */
  req: IncomingMessage | null;
  /** Bytes of a head arrived past a complete request while busy: a pipelined head, timed once idle. */
  pending: boolean;
  framer: RequestFramer;
}

/** Framing state of a RequestFramer. */
const F_START = 0;
const F_HEAD = 1;
const F_LENGTH = 2;
const F_CHUNKED = 3;
const F_LOST = 4;
const CR = 13;
const LF = 10;
const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Where a client connection's bytes stand in its requests, as node:http's parser has read them.
 * node:http says when a head is complete (the 'request' event), not whether bytes of another request
 * followed the end of a message in the same read (a GET's head, a body's last bytes). So each read is
 * framed here too, after node:http has parsed it: a head ends at its CRLF CRLF (after any empty lines
 * before it, which llhttp skips), its body by the framing node:http read in that head (`heads`, in
 * order). A read that does not frame as node:http's requests did (a parse error, a request node:http
 * answered itself) leaves the framer lost for the rest of the connection.
 */
export class RequestFramer {
  /** Framing of a request head node:http has read: its Content-Length, or this (chunked). */
  static readonly CHUNKED = -1;
  private state = F_START;
  /** Bytes of a head (empty lines before one included) are past the last complete message. */
  private open = false;
  /** F_HEAD: bytes of CRLF CRLF matched at the end of the last read. F_LENGTH: body bytes left. */
  private matched = 0;
  private left = 0;
  private chunks: ChunkedScanner | null = null;
  /** Framing (a Content-Length or CHUNKED) of each head node:http read in the current read. */
  readonly heads: number[] = [];

  get lost(): boolean {
    return this.state === F_LOST;
  }

  /**
   * Follow `d`, one read that node:http has just parsed (its heads pushed on `heads`, which this
   * empties); returns whether bytes of a head are left past the last complete message, or null when
   * the read did not frame as node:http's requests (lost from now on).
   */
  read(d: Buffer): boolean | null {
    const heads = this.heads;
    const n = d.length;
    let i = 0;
    let h = 0;
    while (i < n) {
      if (this.state === F_START) {
        // empty lines before a request line (llhttp skips CR and LF there): part of the next head
        this.open = true;
        while (i < n && (d[i] === CR || d[i] === LF)) i++;
        if (i === n) break;
        this.state = F_HEAD;
        this.matched = 0;
      }
      if (this.state === F_HEAD) {
        let m = this.matched;
        // the rest of a CRLF CRLF begun in the last read
        while (m > 0 && m < 4 && i < n) {
          const b = d[i++];
          if (b === (m === 2 ? CR : LF)) m++;
          else m = b === CR ? 1 : 0;
        }
        if (m < 4) {
          if (i === n) {
            this.matched = m;
            break;
          }
          const idx = d.indexOf(CRLF2, i);
          if (idx < 0) {
            // keep what of a CRLF CRLF the read ends with
            m = 0;
            if (d[n - 1] === CR) m = n - 3 >= i && d[n - 3] === CR && d[n - 2] === LF ? 3 : 1;
            else if (d[n - 1] === LF && n - 2 >= i && d[n - 2] === CR) m = 2;
            this.matched = m;
            break;
          }
          i = idx + 4;
        }
        // the head is complete: node:http read it too, and says how its body is framed
        if (h >= heads.length) return this.lose();
        this.open = false;
        const body = heads[h++];
        if (body === RequestFramer.CHUNKED) {
          this.state = F_CHUNKED;
          this.chunks = new ChunkedScanner();
        } else if (body > 0) {
          this.state = F_LENGTH;
          this.left = body;
        } else this.state = F_START;
      } else if (this.state === F_LENGTH) {
        const take = Math.min(this.left, n - i);
        i += take;
        this.left -= take;
        if (this.left === 0) this.state = F_START;
      } else if (this.state === F_CHUNKED) {
        let end: number;
        try {
          end = this.chunks!.feed(d, i);
        } catch {
          return this.lose(); // llhttp's parse error, or past a limit of the raw engine's scanner
        }
        if (end < 0) break;
        i = end;
        this.chunks = null;
        this.state = F_START;
      } else return this.lose(); // lost already
    }
    // node:http read a head that did not end here
    if (h < heads.length) return this.lose();
    heads.length = 0;
    return this.open;
  }

  private lose(): null {
    this.state = F_LOST;
    this.chunks = null;
    this.heads.length = 0;
    return null;
  }
}

class NodeHttpProxy extends ProxyRouter<Replica, Exchange> {
  protected readonly server: http.Server;
  private readonly headersTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  /** Monotonic clock of the connection timeouts (injectable: `clock`), and their sweep. */
  private readonly clock: () => number;
  private readonly timed = new Set<Exchange>();
  private readonly conns = new Map<Socket, Conn>();
  private sweeper: NodeJS.Timeout | null = null;
  private closeDone: Promise<void> | null = null;

  constructor(opts: ProxyOptions, observer: RequestObserver | undefined) {
    super(opts, observer);
    const t = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
    this.headersTimeoutMs = t(opts.headersTimeoutMs, PROXY_TIMEOUT_DEFAULTS.headersTimeoutMs);
    this.idleTimeoutMs = t(opts.idleTimeoutMs, PROXY_TIMEOUT_DEFAULTS.idleTimeoutMs);
    this.bodyTimeoutMs = t(opts.bodyTimeoutMs, PROXY_TIMEOUT_DEFAULTS.bodyTimeoutMs);
    this.writeTimeoutMs = t(opts.writeTimeoutMs, PROXY_TIMEOUT_DEFAULTS.writeTimeoutMs);
    this.clock = opts.clock ?? (() => performance.now());
    // as the raw engine: one sweep per proxy checks all four connection timeouts (0: tests call sweep())
    const every = opts.sweepIntervalMs ?? Math.min(1000, Math.max(10, Math.floor(Math.min(this.headersTimeoutMs, this.idleTimeoutMs, this.bodyTimeoutMs, this.writeTimeoutMs) / 4)));
    if (every > 0) {
      this.sweeper = setInterval(() => this.sweep(), every);
      this.sweeper.unref();
    }
    // node:http's own head timeout (on its own clock, from the connection's accept for its first
    // request) only as a backstop, later than the sweep's could ever fire (idle + head + margin)
    const backstop = 2 * (this.headersTimeoutMs + this.idleTimeoutMs);
    this.server = http.createServer(
      {
        // advertised in Keep-Alive: timeout=N; the idle close itself is the sweep's (see 'timeout' below)
        keepAliveTimeout: this.idleTimeoutMs,
        requestTimeout: 0,
        headersTimeout: backstop,
        // checked in onRequest, so that the requests pipelined behind one without Host are not forwarded
        requireHostHeader: false,
        // node:http checks its head timeout on this period (default 30 s)
        connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(backstop / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.on('connection', (sock: Socket) => this.onConnection(sock));
    // node:http's keep-alive timer: with a 'timeout' listener node does not destroy the socket itself;
    // the sweep closes idle connections on the engine's clock instead
    this.server.on('timeout', () => {});
    // node:http answers a malformed pipelined request at once, ahead of the responses still owed on
    // that connection (the client would take it for the answer to an earlier request): cut such a
    // connection instead, answer the others as node:http would
    // CONNECT is not proxied (405, as the raw engine); node:http would otherwise drop the connection
    // with the responses still owed on it
    this.server.on('connect', (_req: IncomingMessage, socket: import('node:stream').Duplex) => {
      socket.on('error', () => {});
      const conn = this.conns.get(socket as Socket);
      if (conn !== undefined) conn.phase = C_CLOSED;
      if ((active.get(socket) ?? 0) > 0) closeAfter.add(socket);
      else socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      if ((active.get(socket) ?? 0) > 0) {
        // finish the responses owed, then close without answering the malformed request
        closeAfter.add(socket);
        return;
      }
      const conn = this.conns.get(socket as Socket);
      if (conn !== undefined) conn.phase = C_CLOSED;
      // the backstop's 408 reads as the sweep's
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        socket.end(HEAD_TIMEOUT_408);
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    });
  }

  // ---------------------------------------------------------------- controller side

  protected newReplica(id: string, host: string, port: number): Replica {
    return new Replica(id, host, port);
  }

  protected replicaRemoved(r: Replica): void {
    // In-flight exchanges on it see their sockets destroyed and fail (or retry) through the normal path.
    r.agent.destroy();
  }

  close(opts: CloseOptions = {}): Promise<void> {
    return (this.closeDone ??= this.shutdown(opts.graceMs ?? 0));
  }

  /** Check the connection timeouts against the clock (runs by itself unless sweepIntervalMs is 0). */
  sweep(): void {
    const now = this.clock();
    for (const x of [...this.timed]) {
      if (x.ioKind === IO_BODY && now - x.ioSince >= this.bodyTimeoutMs) this.bodyTimeout(x);
      else if (x.ioKind === IO_WRITE && now - x.ioSince >= this.writeTimeoutMs) this.writeTimeout(x);
    }
    for (const c of this.conns.values()) {
      if (c.sock.destroyed) continue;
      if (c.phase === C_HEAD && now - c.since >= this.headersTimeoutMs) {
        // as the raw engine: 408 with its text, then close (node:http's parser never sees an answer)
        c.phase = C_CLOSED;
        c.sock.end(HEAD_TIMEOUT_408);
      } else if (c.phase === C_IDLE) {
        // the rest of an answered request body is thrown away while it keeps coming (body timeout),
        // as the raw engine's discard; a connection with nothing in progress closes after the idle one
        const limit = c.req !== null && !c.req.complete ? this.bodyTimeoutMs : this.idleTimeoutMs;
        if (now - c.since >= limit) {
          c.phase = C_CLOSED;
          c.sock.destroy();
        }
      }
    }
  }

  private onConnection(sock: Socket): void {
    const c: Conn = {
      sock, phase: C_IDLE, since: this.clock(), req: null, pending: false,
      framer: new RequestFramer(),
    };
    this.conns.set(sock, c);
    // after node:http has parsed the bytes (node:http's own listener comes first; a head it completed
    // has moved the connection to busy in onRequest); a 'data' listener makes node:http feed its
    // parser from JS (as on TLS sockets), not natively
    sock.on('data', (d: Buffer) => {
      if (c.phase === C_CLOSED) return;
      // unframed: bytes past a complete request are taken for a head
      const open = (c.framer.lost ? null : c.framer.read(d)) ?? (c.req === null || c.req.complete);
      if (c.phase === C_IDLE) {
        c.since = this.clock(); // the rest of an answered body is activity; a head starts now
        if (open) c.phase = C_HEAD;
      } else if (c.phase === C_BUSY) c.pending = open;
    });
    sock.on('close', () => this.conns.delete(sock));
  }

  /** Owed no answer: the connection is idle (or in a pipelined head). */
  private maybeIdle(c: Conn): void {
    if (c.phase !== C_BUSY || (active.get(c.sock) ?? 0) > 0) return;
    c.phase = c.pending ? C_HEAD : C_IDLE;
    c.pending = false;
    c.since = this.clock();
  }

  private startIo(x: Exchange, kind: number): void {
    x.ioKind = kind;
    x.ioSince = this.clock();
    this.timed.add(x);
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    // stop accepting (node:http also closes the idle keep-alive connections)
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (graceMs > 0) await this.settle(graceMs);
    this.closed = true;
    this.flushQueue();
    // give the answers a moment to be read, then cut whatever is left
    const cut = setTimeout(() => this.server.closeAllConnections(), 1000);
    this.server.closeIdleConnections();
    await closed;
    clearTimeout(cut);
    if (this.sweeper) clearInterval(this.sweeper);
    for (const r of this.list) r.agent.destroy();
  }

  // ---------------------------------------------------------------- traffic side

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const x = new Exchange(req, res, performance.now());
    const sock = req.socket;
    active.set(sock, (active.get(sock) ?? 0) + 1);
    const conn = this.conns.get(sock);
    const timedOut = conn?.phase === C_CLOSED;
    if (conn !== undefined && !timedOut) {
      if (!conn.framer.lost) {
        const h = req.headers;
        conn.framer.heads.push(h['transfer-encoding'] !== undefined ? RequestFramer.CHUNKED : Number(h['content-length'] ?? 0));
      }
      conn.phase = C_BUSY;
      conn.req = req;
      conn.pending = false;
    }
    res.on('close', () => {
      const n = (active.get(sock) ?? 1) - 1;
      active.set(sock, n);
      if (n === 0 && closeAfter.has(sock)) sock.end();
      this.onClientClose(x);
      if (conn !== undefined) this.maybeIdle(conn);
    });
    if (this.closing) res.shouldKeepAlive = false;
    if (closeAfter.has(sock) || timedOut) {
      // pipelined behind a request that was refused: never forwarded, the connection closes
      x.state = DONE;
      res.shouldKeepAlive = false;
      req.resume();
      return;
    }
    if (req.httpVersionMajor === 0) {
      // llhttp reads a request line without a version ("PUT /x") as HTTP/0.9; RFC 9112 has no such
      // request-line, and the raw engine refuses it too
      closeAfter.add(sock);
      res.shouldKeepAlive = false;
      req.resume();
      this.respondLocal(x, 400, 'malformed request line: no HTTP version\n', false);
      return;
    }
    if (req.httpVersionMinor === 1 && req.headers.host === undefined) {
      closeAfter.add(sock);
      res.shouldKeepAlive = false;
      req.resume();
      this.respondLocal(x, 400, 'missing host header\n', false);
      return;
    }
    if (x.hasBody) {
      // body timeout: the longest pause between two reads of the body (not while paused by us)
      this.startIo(x, IO_BODY);
      req.on('data', () => { if (x.ioKind !== IO_NONE) x.ioSince = this.clock(); });
      // a 'data' listener switches the body to flowing mode: pause it again, or the body of a request
      // waiting in the queue (or for a replica) is read and dropped before send() pipes it upstream,
      // and the replica waits forever for the Content-Length it was promised; pipe() resumes it
      req.pause();
      req.on('end', () => this.clearIo(x));
    }
    if (this.closed) {
      this.respondLocal(x, 503, 'proxy shutting down\n', true);
      return;
    }
    this.admit(x);
  }

  clearIo(x: Exchange): void {
    x.ioKind = IO_NONE;
    this.timed.delete(x);
  }

  /** The request body stalled for bodyTimeoutMs. */
  bodyTimeout(x: Exchange): void {
    this.clearIo(x);
    if (x.req.complete) return;
    if (x.req.isPaused() && x.state !== DONE) {
      // held back by the proxy (replica not reading): not the client's fault
      this.startIo(x, IO_BODY);
      return;
    }
    if (x.state === QUEUED) this.unqueue(x);
    if (x.state === QUEUED || x.state === UPSTREAM || x.state === DONE) {
      if (x.holding) this.abortUpstream(x);
      if (!x.res.headersSent) {
        x.res.shouldKeepAlive = false;
        this.respondLocal(x, 408, 'request body timeout\n', false);
        return;
      }
    }
    x.res.destroy();
  }

  /** The client read nothing of the response for writeTimeoutMs: abort, free the slot. */
  writeTimeout(x: Exchange): void {
    this.clearIo(x);
    x.res.destroy();
  }

  protected send(x: Exchange, r: Replica): void {
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
    // 101 Switching Protocols is not proxied: the replica failed to answer this request
    up.on('upgrade', (_res, socket) => {
      socket.destroy();
      if (x.upReq !== up || x.state !== UPSTREAM) return;
      x.upReq = null;
      this.failedBeforeHead(x, r, req.method);
    });
    // interim responses (100 Continue, 103 Early Hints …): passed on to HTTP/1.1 clients as the raw
    // engine does, rebuilt from the parsed head with hop-by-hop fields dropped. _writeRaw is what
    // node:http's own writeContinue / writeEarlyHints use: it queues behind earlier pipelined answers.
    up.on('information', (info) => {
      if (x.upReq !== up || x.state !== UPSTREAM || req.httpVersionMinor !== 1 || x.res.headersSent) return;
      // node:http has already answered the client's own Expect: 100-continue (no checkContinue listener)
      if (info.statusCode === 100 && /(?:^|\W)100-continue(?:$|\W)/i.test(req.headers.expect ?? '')) return;
      const h = responseHeaders(info.rawHeaders);
      let head = `HTTP/1.1 ${info.statusCode} ${info.statusMessage}\r\n`;
      for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
      (x.res as unknown as { _writeRaw(data: string, encoding: BufferEncoding): boolean })._writeRaw(`${head}\r\n`, 'latin1');
    });
    up.on('error', (err) => this.onUpstreamError(x, r, up, err));
    if (x.hasBody) req.pipe(up);
    else up.end();
  }

  protected abortUpstream(x: Exchange): void {
    const r = x.replica!;
    const up = x.upReq;
    x.upReq = null;
    this.release(x, r, false);
    up?.destroy();
  }

  private onUpstreamResponse(x: Exchange, r: Replica, up: ClientRequest, upRes: IncomingMessage): void {
    if (x.state !== UPSTREAM || x.upReq !== up) {
      upRes.resume();
      up.destroy();
      return;
    }
    const res = x.res;
    const status = upRes.statusCode ?? 502;
    this.responseStarted(x, status);
    const headers = responseHeaders(upRes.rawHeaders);
    if (x.cold) headers.push(COLD_START_HEADER, String(Math.round(x.dispatchedAt - x.t0)));
    if (this.closing) res.shouldKeepAlive = false;
    try {
      res.writeHead(status, upRes.statusMessage, headers);
    } catch {
      // a status line or header node:http refuses to write (e.g. a CTL in the reason): 502, never a crash
      upRes.destroy();
      x.upReq = null;
      up.destroy();
      this.release(x, r, true);
      res.statusMessage = '';
      this.respondLocal(x, 502, 'bad gateway: malformed response from the replica\n', false);
      return;
    }
    upRes.on('end', () => {
      this.release(x, r, false);
      res.end();
    });
    upRes.on('close', () => {
      if (!upRes.complete) {
        // The replica died mid-body: count it, free the slot, and cut the client (no silent truncation).
        this.release(x, r, true);
        res.destroy();
      }
    });
    // pipe by hand: on back-pressure the replica is paused and the write timeout runs until the
    // client reads again
    upRes.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        upRes.pause();
        if (x.ioKind === IO_NONE) this.startIo(x, IO_WRITE);
      }
    });
    res.on('drain', () => {
      if (x.ioKind !== IO_NONE && x.req.complete) this.clearIo(x);
      upRes.resume();
    });
  }

  private onUpstreamError(x: Exchange, r: Replica, up: ClientRequest, _err: Error): void {
    if (x.upReq !== up) return;
    if (x.state === STREAMING) {
      this.release(x, r, true);
      x.res.destroy();
      return;
    }
    if (x.state !== UPSTREAM) return;
    x.upReq = null;
    this.failedBeforeHead(x, r, x.req.method);
  }

  protected respondPlaceholder(x: Exchange, status: number, body: string, contentType: string | undefined): void {
    if (x.timer !== null) {
      clearTimeout(x.timer);
      x.timer = null;
    }
    x.state = DONE;
    x.status = status;
    const res = x.res;
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, {
        'content-type': contentType ?? 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'retry-after': this.retryAfter,
        [COLD_START_HEADER]: String(Math.round(performance.now() - x.t0)),
      });
      res.end(body);
    }
  }

  /** Answer from the proxy itself (503/502/504). */
  protected respondLocal(x: Exchange, status: number, body: string, retryAfter: boolean): void {
    this.clearTimers(x);
    x.state = DONE;
    x.status = status;
    const res = x.res;
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (this.closing) res.shouldKeepAlive = false;
    const h: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
    if (retryAfter) h['retry-after'] = this.retryAfter;
    res.writeHead(status, h);
    res.end(body);
    // Unread request bodies are left to node:http, which discards them or closes the connection.
  }

  /** Every exchange ends here exactly once: the client response closed (finished or cut). */
  private onClientClose(x: Exchange): void {
    this.clearIo(x);
    this.clientGone(x, x.res.writableFinished);
  }
}

/** The head timeout's answer, byte for byte the raw engine's (./proxy.ts fatal(408, …)). */
const HEAD_TIMEOUT_BODY = 'request head timeout\n';
const HEAD_TIMEOUT_408 = `HTTP/1.1 408 ${http.STATUS_CODES[408]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(HEAD_TIMEOUT_BODY)}\r\nConnection: close\r\n\r\n${HEAD_TIMEOUT_BODY}`;

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
    // framing headers and Host are never removed by a Connection token (request smuggling)
    if (tok === '' || tok === 'close' || tok === 'keep-alive' || PROTECTED.has(tok)) continue;
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
