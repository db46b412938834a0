// Access control of the control API (and the dashboard mounted on it), see docs/control-api.md:
//  - a random bearer token, created at each start in <stateDir>/api-token (mode 0600): only the local
//    user who can read the state folder can call the API (the CLI reads the file);
//  - `Host` must name the loopback address and port the API listens on (a DNS-rebinding page reaches
//    the port under its own host name and is refused);
//  - requests that change something need `Content-Type: application/json` and an absent or same-origin
//    `Origin` (a cross-site form or `text/plain` fetch cannot produce that);
//  - the dashboard: a one-time login code (from `tide dashboard`, or printed by `tide up`) is exchanged
//    for an HttpOnly, SameSite=Strict session cookie that allows reads only.
// getBuiltinModule, not an ESM import: the ESM wrapper reads every export of node:crypto, which
// loads its lazy parts (webcrypto, keys) into every `tide get` (see client.ts).
const { randomBytes, timingSafeEqual } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';

export const TOKEN_FILE = 'api-token';
export const SESSION_COOKIE = 'tide_session';
const CODE_TTL_MS = 10 * 60_000;
const MAX_CODES = 100;
const MAX_SESSIONS = 1000;

export type AuthFailure = { status: 401 | 403; message: string };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Write `text` to `path` with mode 0600 through a temporary file and a rename (never world-readable). */
export function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // in case the umask or an odd filesystem widened it
  renameSync(tmp, path);
}

export function newToken(): string { return randomBytes(32).toString('base64url'); }

function parseCookies(h: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (h ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiAuth {
  readonly token: string;
  /** The values `Host` may take: the loopback address (and `localhost`) with the API's port. */
  private hosts = new Set<string>();
  private origins = new Set<string>();
  private readonly codes = new Map<string, number>(); // one-time login code → expiry
  private readonly sessions = new Set<string>();

  constructor(token = newToken()) { this.token = token; }

  /** Publish the token in the state folder (mode 0600). */
  writeToken(stateDir: string): string {
    const p = join(stateDir, TOKEN_FILE);
    writePrivateFile(p, this.token + '\n');
    return p;
  }

  /** Called once the server listens: which Host/Origin values are ours. */
  listening(host: string, port: number): void {
    this.hosts = new Set([`${host}:${port}`, `localhost:${port}`]);
    this.origins = new Set([...this.hosts].map((h) => `http://${h}`));
  }

  /** A single-use code that `GET /dashboard/login?code=…` exchanges for a session cookie. */
  loginCode(now = Date.now()): { code: string; expiresAt: number } {
    for (const [c, exp] of this.codes) if (exp <= now) this.codes.delete(c);
    while (this.codes.size >= MAX_CODES) this.codes.delete(this.codes.keys().next().value!);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + CODE_TTL_MS;
    this.codes.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** Redeem a login code: the session id for the cookie, or undefined (unknown, used or expired). */
  redeem(code: string, now = Date.now()): string | undefined {
    const exp = this.codes.get(code);
    if (exp === undefined) return undefined;
    this.codes.delete(code);
    if (exp <= now) return undefined;
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.values().next().value!);
    const sid = randomBytes(32).toString('base64url');
    this.sessions.add(sid);
    return sid;
  }

  sessionCookie(sid: string): string {
    return `${SESSION_COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Host must be one of ours (DNS rebinding); checked for every request, /healthz included. */
  checkHost(req: IncomingMessage): AuthFailure | undefined {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.hosts.has(host)) {
      return { status: 403, message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this API's loopback address (${[...this.hosts][0]}): refused (DNS rebinding protection)` };
    }
    return undefined;
  }

  /** Origin and Content-Type rules for requests that change state. */
  checkMutation(req: IncomingMessage): AuthFailure | undefined {
    const method = req.method ?? 'GET';
    if (!MUTATING.has(method)) return undefined;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      return { status: 403, message: `cross-origin request refused (Origin ${JSON.stringify(origin)})` };
    }
    const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/json') {
      return { status: 403, message: `${method} needs Content-Type: application/json (got ${JSON.stringify(req.headers['content-type'] ?? '')})` };
    }
    return undefined;
  }

  /** Who is calling: 'token' (bearer), 'session' (dashboard cookie, reads only) or undefined. */
  principal(req: IncomingMessage): 'token' | 'session' | undefined {
    const h = req.headers.authorization;
    if (typeof h === 'string' && /^bearer /i.test(h) && sameSecret(h.slice(7).trim(), this.token)) return 'token';
    const sid = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (sid && this.sessions.has(sid)) return 'session';
    return undefined;
  }

  /** Full check for a protected route; undefined = allowed. */
  check(req: IncomingMessage): AuthFailure | undefined {
    const bad = this.checkHost(req) ?? this.checkMutation(req);
    if (bad) return bad;
    const who = this.principal(req);
    if (!who) return { status: 401, message: `missing or wrong API token: send "Authorization: Bearer <token>" with the token from the state folder's ${TOKEN_FILE} (the tide CLI does), or open the dashboard through the URL \`tide dashboard\` prints` };
    if (who === 'session' && MUTATING.has(req.method ?? 'GET')) return { status: 403, message: 'the dashboard session may only read; use the tide CLI (bearer token) to change things' };
    return undefined;
  }
}
