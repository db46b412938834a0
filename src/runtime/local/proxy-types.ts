// Contract between the local runtime's controller (which owns replicas) and the proxy/activator
// (which owns traffic). The controller tells the proxy which replicas exist and which are ready;
// the proxy reports load and asks for capacity. Both sides are written against this file.

export interface ProxyOptions {
  /** Where the Service listens (the Service's port). */
  host: string;
  port: number;
  /** Per-replica in-flight cap (containerConcurrency); 0 or undefined = unlimited. */
  containerConcurrency?: number;
  /** Requests waiting for a replica slot before the proxy answers 503 + Retry-After. */
  queueLimit: number;
  /** Per-request timeout (ms) covering queue wait + upstream; 504 on expiry. */
  requestTimeoutMs: number;
  /** Retry idempotent requests (GET/HEAD/OPTIONS) once on another replica when a replica dies mid-request. */
  retryIdempotent?: boolean;
  /** Seconds advertised in Retry-After on 503 (queue full, placeholder); default 1. */
  retryAfterSeconds?: number;
  /**
   * Activator placeholder: a request held for a cold start longer than `afterMs` is answered with this
   * response instead of waiting on (default status 503 + Retry-After). Off when undefined.
   */
  coldPlaceholder?: { afterMs: number; status?: number; contentType?: string; body?: string };
  /**
   * Connection timeouts (ms; defaults in PROXY_TIMEOUT_DEFAULTS, documented in docs/proxy.md):
   * - headersTimeoutMs: the whole request head, from its first byte (empty lines included) to the
   *   final CRLF; trickling bytes does not extend it. 408 and close after.
   * - idleTimeoutMs: a keep-alive client connection with no request in progress is closed after this.
   * - bodyTimeoutMs: the longest pause between two reads of a request body (while the proxy is not
   *   itself holding the client back); 408 (or a cut, once the response has started) after.
   * - writeTimeoutMs: the longest a response may wait for a client that reads nothing of it (send
   *   buffer full, no progress); the exchange is aborted, the client connection closed and the
   *   replica's slot freed.
   */
  headersTimeoutMs?: number;
  idleTimeoutMs?: number;
  bodyTimeoutMs?: number;
  writeTimeoutMs?: number;
  /**
   * For tests: the engine's monotonic clock (ms) for the connection timeouts above, and how often
   * it checks them (0 = never by itself: call `sweep()` on the proxy). Defaults: performance.now, 1000.
   */
  clock?: () => number;
  sweepIntervalMs?: number;
}

/** Defaults of the connection timeouts (ms), as nginx's (client_header/body_timeout, send_timeout). */
export const PROXY_TIMEOUT_DEFAULTS = {
  headersTimeoutMs: 60_000,
  idleTimeoutMs: 65_000,
  bodyTimeoutMs: 60_000,
  writeTimeoutMs: 60_000,
} as const;

export interface CloseOptions {
  /**
   * Graceful shutdown: stop accepting at once, let in-flight and queued requests finish for up to
   * graceMs (responses carry `Connection: close`, idle keep-alive connections are closed), then
   * answer what is still queued 503 and cut what is still in flight. Default 0.
   */
  graceMs?: number;
}

export interface ReplicaLoad {
  id: string;
  ready: boolean;
  draining: boolean;
  inFlight: number;
  /** Monotonic counters since the replica was added. */
  requestsTotal: number;
  errorsTotal: number;
}

export interface ProxyStats {
  now: number;
  queued: number;
  inFlight: number;
  requestsTotal: number;
  replicas: ReplicaLoad[];
}

export interface RequestObserver {
  /** Called when a request arrives and no replica is ready (activator poke: scale from zero now). */
  onColdRequest?(): void;
  /** Called for each finished request (status 0 = connection error), for metrics and RPS accounting. */
  onRequestDone?(info: { status: number; latencyMs: number; queuedMs: number; coldStart: boolean; replica?: string; coldStartMs?: number }): void;
  /**
   * The listener failed to accept a connection (EMFILE, ENFILE, ENOBUFS …). The proxy goes on
   * listening and serving its connections. (On EMFILE/ENFILE libuv itself accepts and closes the
   * pending connections with a reserved fd, so that case rarely reaches here.)
   */
  onAcceptError?(err: NodeJS.ErrnoException): void;
}

export interface ReplicaProxy {
  readonly port: number;
  addReplica(id: string, target: { host: string; port: number }): void;
  setReady(id: string, ready: boolean): void;
  /** Stop routing new requests to the replica; resolves when its in-flight count reaches 0 or after graceMs. */
  drain(id: string, graceMs: number): Promise<{ drained: boolean; abandoned: number }>;
  removeReplica(id: string): void;
  stats(): ProxyStats;
  close(opts?: CloseOptions): Promise<void>;
}
