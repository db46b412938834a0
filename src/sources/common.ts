// Helpers shared by the metric-source plug-ins: secrets from env, errors naming the backend, HTTP
// GET with a timeout (undici), number parsing and Kubernetes-quantity parsing.

import { request } from 'undici';

/** An error from a metric source; `source` names the backend (e.g. "redis 127.0.0.1:6379"). */
export class SourceError extends Error {
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceError';
    this.source = source;
  }
}

export type Env = Record<string, string | undefined>;

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is it running?)',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection lost',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'host not found (DNS lookup failed, temporary)',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
};

/** Client-library texts that all mean "the connection went away under us" (ioredis, pg, amqplib, undici). */
const LOST = /stream isn't writeable|connection is closed|connection terminated|socket hang up|channel (?:closed|ended)|connection closed|other side closed|socket closed|closed before/i;

function codeOf(e: unknown): string | undefined {
  const err = e as { code?: unknown; errors?: unknown[]; cause?: unknown } | null;
  if (!err) return undefined;
  if (typeof err.code === 'string' && NET_REASONS[err.code]) return err.code;
  // Node's happy-eyeballs connect (localhost → ::1 and 127.0.0.1) rejects with an AggregateError
  for (const x of err.errors ?? []) { const c = codeOf(x); if (c) return c; }
  return err.cause && err.cause !== e ? codeOf(err.cause) : undefined;
}

/**
 * One clear reason for a connection-level failure of any client library ("connection refused (is it
 * running?)", "connection lost" …), or undefined when `e` is not about the connection (a query error,
 * a missing key …) and its own message should be shown.
 */
export function connectionFailure(e: unknown): string | undefined {
  const code = codeOf(e);
  if (code) return NET_REASONS[code];
  const msg = e instanceof Error ? e.message : String(e);
  return LOST.test(msg) ? 'connection lost' : undefined;
}

/** True when the failure is a dropped connection (worth one reconnect before reporting). */
export function isConnectionLoss(e: unknown): boolean {
  const r = connectionFailure(e);
  return r === 'connection lost' || r === NET_REASONS.ECONNRESET;
}

/**
 * KEDA's way of giving a parameter: inline (`password`) or through an environment variable named by
 * `passwordFromEnv`. Secrets must come from env: pass `secret: true` to refuse inline values.
 */
export function param(meta: Record<string, string>, key: string, env: Env, opts: { secret?: boolean } = {}): string | undefined {
  const fromEnv = meta[`${key}FromEnv`];
  if (fromEnv !== undefined && fromEnv !== '') {
    const v = env[fromEnv];
    if (v === undefined) throw new Error(`${key}FromEnv names ${fromEnv}, which is not set in the environment`);
    return v;
  }
  const v = meta[key];
  if (v !== undefined && opts.secret) {
    throw new Error(`${key} must not be given inline; put it in an environment variable and use ${key}FromEnv`);
  }
  return v === '' ? undefined : v;
}

export function requireParam(meta: Record<string, string>, key: string, env: Env, type: string): string {
  const v = param(meta, key, env);
  if (v === undefined) throw new Error(`${type} trigger: metadata.${key} is required`);
  return v;
}

export function parseNumber(s: string | undefined, what: string, dflt?: number): number {
  if (s === undefined || s === '') {
    if (dflt === undefined) throw new Error(`${what} is required`);
    return dflt;
  }
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number, got ${JSON.stringify(s)}`);
  return n;
}

export function parseBool(s: string | undefined, dflt: boolean): boolean {
  if (s === undefined || s === '') return dflt;
  const v = s.toLowerCase();
  if (['true', '1', 't', 'yes'].includes(v)) return true;
  if (['false', '0', 'f', 'no'].includes(v)) return false;
  throw new Error(`expected true or false, got ${JSON.stringify(s)}`);
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** Parse a Kubernetes quantity ("250m", "1.5Gi", "3e2") or a plain number into a float. */
export function parseQuantity(s: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(s.trim());
  if (!m) throw new Error(`not a number or quantity: ${JSON.stringify(s)}`);
  return Number(m[1]) * SUFFIX[m[2] ?? ''];
}

/** Describe a URL without credentials or query secrets. */
export function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.username || url.password) { url.username = url.username ? '***' : ''; url.password = url.password ? '***' : ''; }
    return url.toString();
  } catch {
    return '<invalid url>';
  }
}

export interface HttpResult { status: number; body: string }

/** GET with a deadline; network errors and timeouts reject with a SourceError naming `who`. */
export async function httpGet(who: string, url: string, opts: { headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<HttpResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 3000);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  try {
    const res = await request(url, { method: 'GET', headers: opts.headers, signal });
    const body = await res.body.text();
    return { status: res.statusCode, body };
  } catch (e) {
    const err = e as Error & { code?: string };
    const why = timeout.aborted ? `timed out after ${opts.timeoutMs ?? 3000}ms`
      : connectionFailure(e) ?? (err.message || String(e));
    throw new SourceError(who, `unreachable: ${why}`, { cause: e });
  }
}

/** Reject after `ms` with a SourceError (for clients without their own deadline). */
export async function withDeadline<T>(who: string, ms: number, p: Promise<T>, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SourceError(who, `timed out after ${ms}ms`)), ms);
    signal?.addEventListener('abort', () => reject(new SourceError(who, 'aborted')), { once: true });
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
