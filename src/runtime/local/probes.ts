// Readiness / liveness / startup probes with Kubernetes semantics (kubelet prober):
// - handlers: httpGet (success on 200..399), tcpSocket (connect succeeds), exec (exit code 0);
//   a handler that does not answer within timeoutSeconds fails.
// - defaults: initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1, successThreshold 1,
//   failureThreshold 3; liveness and startup probes always use successThreshold 1.
// - initial results: readiness starts as failure (not ready), liveness as success, startup as failure;
//   while a startup probe has not succeeded the other probes do not run.
// - a result flips only after `successThreshold` consecutive successes / `failureThreshold` failures.
// Tide option: `periodMs`/`timeScale` allow sub-second periods for tests and fast cold starts
// (annotation `tide.dev/probe-period`, see docs/control-api.md).
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { request } from 'node:http';
import { describeExhaustion, exhaustionCode } from './exhaustion.ts';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';

export interface HttpHeader { name: string; value: string }
export interface ProbeHandler {
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: HttpHeader[] };
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command: string[] };
}

export interface ProbeSpec extends ProbeHandler {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ResolvedProbe {
  kind: ProbeKind;
  handler: ProbeHandler;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface ProbeTimeOptions {
  /** Replace periodSeconds of every probe (ms), e.g. 200 for fast tests. */
  periodMs?: number;
  /** Multiply every probe duration (delay, period, timeout) by this factor. */
  timeScale?: number;
}

export function resolveProbe(spec: ProbeSpec, kind: ProbeKind, opts: ProbeTimeOptions = {}): ResolvedProbe {
  const scale = opts.timeScale ?? 1;
  const sec = (v: number | undefined, d: number) => Math.round((v ?? d) * 1000 * scale);
  const handlers = ['httpGet', 'tcpSocket', 'exec'].filter((k) => (spec as Record<string, unknown>)[k] !== undefined);
  if (handlers.length !== 1) throw new Error(`${kind} probe must have exactly one handler (httpGet, tcpSocket or exec), found ${handlers.length}`);
  const successThreshold = kind === 'readiness' ? Math.max(1, spec.successThreshold ?? 1) : 1;
  return {
    kind,
    handler: { httpGet: spec.httpGet, tcpSocket: spec.tcpSocket, exec: spec.exec },
    initialDelayMs: sec(spec.initialDelaySeconds, 0),
    periodMs: opts.periodMs ?? Math.max(1, sec(spec.periodSeconds, 10)),
    timeoutMs: Math.max(1, sec(spec.timeoutSeconds, 1)),
    successThreshold,
    failureThreshold: Math.max(1, spec.failureThreshold ?? 3),
  };
}

/** Consecutive-result bookkeeping: pure. */
export class ProbeTracker {
  value: boolean;
  successes = 0;
  /** Consecutive failures so far (startup probes act on this: they never flip from true). */
  failures = 0;
  readonly probe: Pick<ResolvedProbe, 'kind' | 'successThreshold' | 'failureThreshold'>;
  constructor(probe: Pick<ResolvedProbe, 'kind' | 'successThreshold' | 'failureThreshold'>) {
    this.probe = probe;
    this.value = probe.kind === 'liveness';
  }
  /** Record one result; returns true when the probe's value flipped. */
  record(ok: boolean): boolean {
    if (ok) { this.successes++; this.failures = 0; } else { this.failures++; this.successes = 0; }
    const before = this.value;
    if (ok && !this.value && this.successes >= this.probe.successThreshold) this.value = true;
    if (!ok && this.value && this.failures >= this.probe.failureThreshold) this.value = false;
    return before !== this.value;
  }
}

export interface ProbeContext {
  host: string;
  /** Map a probe port (number or container port name) to the port the replica really listens on. */
  resolvePort(port: number | string): number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * `unknown` is set when the probe could not run because Tide itself ran out of a resource (EMFILE on
 * socket or spawn …): like kubelet's `Unknown` result it says nothing about the container and is not
 * counted towards the thresholds.
 */
export interface ProbeResult { ok: boolean; message: string; unknown?: string }

function localFailure(e: unknown, what: string): ProbeResult | undefined {
  const code = exhaustionCode(e);
  return code ? { ok: false, unknown: code, message: `${what}: probe not run: ${describeExhaustion(code)}` } : undefined;
}

export function runProbe(handler: ProbeHandler, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  if (handler.httpGet) return httpProbe(handler.httpGet, ctx, timeoutMs);
  if (handler.tcpSocket) return tcpProbe(handler.tcpSocket, ctx, timeoutMs);
  if (handler.exec) return execProbe(handler.exec.command, ctx, timeoutMs);
  return Promise.resolve({ ok: false, message: 'probe has no handler' });
}

function httpProbe(h: NonNullable<ProbeHandler['httpGet']>, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let port: number;
    try { port = ctx.resolvePort(h.port); } catch (e) { resolve({ ok: false, message: (e as Error).message }); return; }
    if ((h.scheme ?? 'HTTP').toUpperCase() === 'HTTPS') { resolve({ ok: false, message: 'HTTPS probes are not supported locally' }); return; }
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/tide', accept: '*/*' };
    for (const { name, value } of h.httpHeaders ?? []) headers[name.toLowerCase()] = value;
    let done = false;
    const finish = (r: ProbeResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
    const path = h.path ? (h.path.startsWith('/') ? h.path : `/${h.path}`) : '/';
    const req = request({ host: ctx.host, port, path, method: 'GET', headers, agent: false }, (res) => {
      const code = res.statusCode ?? 0;
      res.resume();
      res.on('error', () => {});
      finish(code >= 200 && code < 400 ? { ok: true, message: `HTTP probe succeeded with statuscode: ${code}` } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    const timer = setTimeout(() => { finish({ ok: false, message: `Get "http://${ctx.host}:${port}${path}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }); req.destroy(); }, timeoutMs);
    req.on('error', (e) => finish(localFailure(e, `Get "http://${ctx.host}:${port}${path}"`) ?? { ok: false, message: `Get "http://${ctx.host}:${port}${path}": ${e.message}` }));
    req.end();
  });
}

function tcpProbe(h: NonNullable<ProbeHandler['tcpSocket']>, ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let port: number;
    try { port = ctx.resolvePort(h.port); } catch (e) { resolve({ ok: false, message: (e as Error).message }); return; }
    const sock = connect({ host: ctx.host, port });
    let done = false;
    const finish = (r: ProbeResult) => { if (!done) { done = true; clearTimeout(timer); sock.destroy(); resolve(r); } };
    const timer = setTimeout(() => finish({ ok: false, message: `dial tcp ${ctx.host}:${port}: i/o timeout` }), timeoutMs);
    sock.on('connect', () => finish({ ok: true, message: 'connected' }));
    sock.on('error', (e) => finish(localFailure(e, `dial tcp ${ctx.host}:${port}`) ?? { ok: false, message: `dial tcp ${ctx.host}:${port}: ${e.message}` }));
  });
}

function execProbe(command: string[], ctx: ProbeContext, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (!command?.length) { resolve({ ok: false, message: 'exec probe has an empty command' }); return; }
    let out = '';
    let done = false;
    const finish = (r: ProbeResult) => { if (!done) { done = true; clearTimeout(timer); resolve(r); } };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command[0], command.slice(1), { cwd: ctx.cwd, env: ctx.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (e) {
      resolve(localFailure(e, `exec ${JSON.stringify(command[0])}`) ?? { ok: false, message: `exec ${JSON.stringify(command[0])}: ${(e as Error).message}` });
      return;
    }
    const timer: NodeJS.Timeout = setTimeout(() => {
      try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      finish({ ok: false, message: `command timed out after ${timeoutMs}ms` });
    }, timeoutMs);
    const collect = (b: Buffer) => { if (out.length < 10_240) out += b.toString(); };
    // on EMFILE/ENFILE Node returns a child without stdio pipes and reports the error on the next tick
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', (e) => finish(localFailure(e, `exec ${JSON.stringify(command[0])}`) ?? { ok: false, message: `exec ${JSON.stringify(command[0])}: ${e.message}` }));
    child.on('close', (code) => finish(code === 0 ? { ok: true, message: out.trim() } : { ok: false, message: `command exited with ${code}: ${out.trim()}`.trim() }));
  });
}

/** Runs one probe periodically against a running container; reports every result and whether it flipped the value. */
export class ProbeWorker {
  readonly probe: ResolvedProbe;
  readonly tracker: ProbeTracker;
  lastResult?: ProbeResult;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly ctx: ProbeContext;
  private readonly onResult: (result: ProbeResult, changed: boolean, value: boolean) => void;
  private readonly runner: typeof runProbe;
  /** Consecutive `unknown` results (Tide out of resources): the next try backs off. */
  private unknowns = 0;

  constructor(probe: ResolvedProbe, ctx: ProbeContext, onResult: (result: ProbeResult, changed: boolean, value: boolean) => void, runner: typeof runProbe = runProbe) {
    this.probe = probe;
    this.tracker = new ProbeTracker(probe);
    this.ctx = ctx;
    this.onResult = onResult;
    this.runner = runner;
  }

  get value(): boolean { return this.tracker.value; }

  /** Start probing; `sinceStartMs` is how long the container has been running already. */
  start(sinceStartMs = 0): void {
    const delay = Math.max(0, this.probe.initialDelayMs - sinceStartMs);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    let result: ProbeResult;
    try {
      result = await this.runner(this.probe.handler, this.ctx, this.probe.timeoutMs);
    } catch (e) {
      result = { ok: false, unknown: exhaustionCode(e) ?? 'error', message: `probe errored: ${(e as Error).message}` };
    }
    if (this.stopped) return;
    let period = this.probe.periodMs;
    if (result.unknown) {
      // not the container's fault: keep the current value, report, and back off (up to 10 periods)
      this.unknowns++;
      period = Math.min(this.probe.periodMs * 2 ** Math.min(this.unknowns, 10), this.probe.periodMs * 10);
      this.onResult(result, false, this.tracker.value);
    } else {
      this.unknowns = 0;
      this.lastResult = result;
      const changed = this.tracker.record(result.ok);
      this.onResult(result, changed, this.tracker.value);
    }
    if (this.stopped) return;
    const wait = Math.max(0, period - (Date.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
