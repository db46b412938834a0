// Runs a Deployment's replicas as local processes, pod-like.
// Each replica = the first container's command+args, in its own process group (so signals reach the
// whole tree), with env + PORT (a free port on 127.0.0.1 chosen per replica, stable across restarts)
// and workingDir relative to the manifest's folder. Crashes restart with CrashLoopBackOff-like
// back-off; stdout/stderr go to a ring buffer and to <stateDir>/logs/<pod>.log; probes drive Ready.
// Scale-down drains the least busy replica through the proxy before SIGTERM, then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { LogFile, type LogFileEvents } from './logfile.ts';
import { createServer } from 'node:net';
import { join, resolve as resolvePath } from 'node:path';
import { DEFAULT_BACKOFF, initialBackoff, nextRestart, started, type BackoffConfig, type BackoffState } from './backoff.ts';
import { ProbeWorker, resolveProbe, type ProbeContext, type ProbeKind, type ProbeSpec, type ProbeTimeOptions } from './probes.ts';
import type { LocalDeployment } from './workload.ts';
import type { PodInfo } from '../../deciders/hpa/types.ts';
import type { ReplicaProxy } from './proxy-types.ts';
import { describeExhaustion, exhaustionCode, type ExhaustionReporter } from './exhaustion.ts';

export const HOST = '127.0.0.1';

export interface RuntimeEvent {
  time: number;
  type: 'Normal' | 'Warning';
  reason: string;
  /** "pod/NAME", "deployment/NAME", "horizontalpodautoscaler/NAME", "service/NAME" */
  object: string;
  message: string;
}

export interface SupervisorOptions {
  stateDir: string;
  backoff?: BackoffConfig;
  probeTime?: ProbeTimeOptions;
  logLines?: number;
  onEvent?: (e: RuntimeEvent) => void;
  /** Called when a replica's readiness flips or it gains/loses its endpoint. */
  onReadyChange?: (replica: Replica, ready: boolean) => void;
  /** Extra env for every replica (tests). */
  extraEnv?: Record<string, string>;
  /** Tide itself ran out of a resource (fds, processes, disk) while working for a replica. */
  onExhaustion?: ExhaustionReporter;
}

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string; until?: number }
  | { kind: 'running'; startedAt: number }
  | { kind: 'terminated'; reason: string; exitCode: number | null; signal: string | null; finishedAt: number; message?: string };

export interface ReplicaStatus {
  name: string;
  deployment: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready: boolean;
  readyTransition: number;
  created: number;
  startTime?: number;
  restartCount: number;
  lastRestart?: number;
  deletionTimestamp?: number;
  state: ContainerState;
  lastState?: ContainerState;
  port: number;
  pid?: number;
  /** kubectl's STATUS column. */
  status: string;
  labels: Record<string, string>;
  probes: { kind: ProbeKind; value: boolean; lastMessage?: string }[];
}

/** A bounded buffer of log lines with followers. */
export class LogBuffer {
  readonly lines: string[] = [];
  private partial: Record<string, string> = {};
  private readonly max: number;
  private readonly followers = new Set<(line: string) => void>();
  readonly file?: LogFile;
  constructor(max: number, filePath?: string, events?: LogFileEvents) {
    this.max = max;
    if (filePath) this.file = new LogFile(filePath, events);
  }
  write(stream: string, chunk: string): void {
    const text = (this.partial[stream] ?? '') + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const l of parts) this.push(l);
  }
  flush(): void {
    for (const k of Object.keys(this.partial)) if (this.partial[k]) { this.push(this.partial[k]); this.partial[k] = ''; }
  }
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    this.file?.write(line);
    for (const f of this.followers) f(line);
  }
  follow(fn: (line: string) => void): () => void {
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
  close(): void { this.flush(); void this.file?.close(); }
}

export async function freePort(host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function randSuffix(): string {
  const a = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += a[Math.floor(Math.random() * a.length)];
  return s;
}

export class Replica {
  readonly name: string;
  readonly deployment: LocalDeployment;
  readonly port: number;
  readonly created: number;
  readonly logs: LogBuffer;
  startTime?: number;
  restartCount = 0;
  lastRestart?: number;
  deletionTimestamp?: number;
  state: ContainerState = { kind: 'waiting', reason: 'ContainerCreating' };
  lastState?: ContainerState;
  ready = false;
  readyTransition: number;
  proc?: ChildProcess;
  private backoff: BackoffState;
  private probes: ProbeWorker[] = [];
  private restartTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;
  private exitWaiters: (() => void)[] = [];
  private readonly opts: SupervisorOptions;
  private startupDone = false;

  constructor(deployment: LocalDeployment, name: string, port: number, opts: SupervisorOptions) {
    this.deployment = deployment;
    this.name = name;
    this.port = port;
    this.opts = opts;
    this.created = Date.now();
    this.readyTransition = this.created;
    this.backoff = initialBackoff(this.created);
    // a full disk stops the log file (event + metric), never the replica; it resumes by itself
    this.logs = new LogBuffer(opts.logLines ?? 1000, join(opts.stateDir, 'logs', `${name}.log`), {
      onFull: (code, message) => this.opts.onExhaustion?.('log', code, `pod/${name}`, message),
      onResume: (dropped) => this.event('Normal', 'LogResumed', `writing ${name}.log again (${dropped} line(s) were not written while it failed)`),
    });
  }

  get terminating(): boolean { return this.deletionTimestamp !== undefined; }
  get running(): boolean { return this.state.kind === 'running'; }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.opts.onEvent?.({ time: Date.now(), type, reason, object: `pod/${this.name}`, message });
  }

  private setReady(v: boolean): void {
    if (this.ready === v) return;
    this.ready = v;
    this.readyTransition = Date.now();
    this.opts.onReadyChange?.(this, v);
  }

  /** Map a probe port (container port number or name) to the replica's real port. */
  resolvePort(p: number | string): number {
    const c = this.deployment.container;
    if (typeof p === 'string' && !/^\d+$/.test(p)) {
      const named = c.ports.find((x) => x.name === p);
      if (!named) throw new Error(`port ${JSON.stringify(p)} is not a named port of container ${c.name}`);
      p = named.containerPort;
    }
    const n = Number(p);
    if (c.ports.length === 0 || c.ports[0].containerPort === n) return this.port;
    return c.ports.some((x) => x.containerPort === n) ? this.port : n;
  }

  start(): void {
    if (this.terminating) return;
    const c = this.deployment.container;
    // TIDE_REPLICA_OF marks the process tree so a later `tide up` can reap it if this daemon dies hard
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.extraEnv, HOSTNAME: this.name, POD_NAME: this.name, TIDE_REPLICA_OF: resolvePath(this.opts.stateDir) };
    for (const [k, v] of Object.entries(c.env)) env[k] = v.replaceAll('$(POD_NAME)', this.name);
    env.PORT = String(this.port);
    // Kubernetes expands $(VAR) in command/args from the container env: `--port $(PORT)` works locally too.
    const argv = c.command.map((a) => a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n?: string) => (m === '$$' ? '$' : n !== undefined && env[n] !== undefined ? env[n]! : m)));
    const now = Date.now();
    let child: ChildProcess;
    let settled = false;
    this.logs.push(`--- tide: starting ${JSON.stringify(c.command)} in ${c.workingDir} (PORT=${this.port})${this.restartCount ? `, restart #${this.restartCount}` : ''}`);
    try {
      child = spawn(argv[0], argv.slice(1), { cwd: c.workingDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      this.onStartFailure(this.spawnError(e as NodeJS.ErrnoException), now);
      return;
    }
    this.proc = child;
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      this.proc = undefined;
      this.onStartFailure(this.spawnError(e), now);
    });
    // On EMFILE/ENFILE Node hands back a child without stdio pipes (and no process) and emits 'error'
    // on the next tick: nothing may touch the missing pipes.
    if (!child.stdout || !child.stderr) return;
    child.stdout.setEncoding('utf8').on('data', (d: string) => this.logs.write('stdout', d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => this.logs.write('stderr', d));
    child.on('spawn', () => {
      // the first start does not count towards back-off (kubelet consults it only on restarts)
      this.backoff = this.restartCount > 0 ? started(this.backoff, now, this.opts.backoff ?? DEFAULT_BACKOFF) : { currentMs: 0, lastStart: now };
      this.state = { kind: 'running', startedAt: Date.now() };
      this.startTime ??= this.state.startedAt;
      this.event('Normal', 'Started', `Started container ${c.name} (pid ${child.pid}, port ${this.port})`);
      this.startProbes();
    });
    child.on('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      this.logs.flush();
      this.onExit(code, signal);
    });
  }

  private spawnError(e: NodeJS.ErrnoException): string {
    const c = this.deployment.container;
    const code = exhaustionCode(e);
    if (code) {
      const msg = `exec ${JSON.stringify(c.command[0])}: Tide could not start the process: ${describeExhaustion(code)}; retrying with back-off`;
      this.opts.onExhaustion?.('spawn', code, `pod/${this.name}`, msg);
      return msg;
    }
    return e.code === 'ENOENT'
      ? `exec: ${JSON.stringify(c.command[0])}: executable file not found in $PATH (or working directory ${c.workingDir} does not exist)`
      : `exec ${JSON.stringify(c.command[0])}: ${e.message}`;
  }

  private onStartFailure(message: string, at: number): void {
    this.backoff = this.restartCount > 0 ? started(this.backoff, at, this.opts.backoff ?? DEFAULT_BACKOFF) : { currentMs: 0, lastStart: at };
    this.logs.push(`--- tide: ${message}`);
    this.event('Warning', 'Failed', `Error: ${message}`);
    this.lastState = { kind: 'terminated', reason: 'StartError', exitCode: 128, signal: null, finishedAt: Date.now(), message };
    this.state = { kind: 'waiting', reason: 'RunContainerError', message };
    this.scheduleRestart(Date.now());
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.killTimer) { clearTimeout(this.killTimer); this.killTimer = undefined; }
    this.stopProbes();
    this.setReady(false);
    const finishedAt = Date.now();
    const reason = code === 0 ? 'Completed' : 'Error';
    const term: ContainerState = { kind: 'terminated', reason, exitCode: code ?? (signal ? 128 + signalNumber(signal) : null), signal, finishedAt };
    this.proc = undefined;
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.terminating) { this.state = term; return; }
    this.logs.push(`--- tide: container exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    this.lastState = term;
    this.state = term;
    this.scheduleRestart(finishedAt);
  }

  private scheduleRestart(exitedAt: number): void {
    if (this.terminating) return;
    const { at, backoffMs } = nextRestart(this.backoff, exitedAt, this.opts.backoff ?? DEFAULT_BACKOFF);
    const wait = Math.max(0, at - Date.now());
    const doRestart = () => {
      if (this.terminating) return;
      this.restartCount++;
      this.lastRestart = Date.now();
      this.start();
    };
    if (wait <= 0 || backoffMs === 0) {
      // kubelet restarts at once after the first crash; show the terminated state until then
      this.restartTimer = setTimeout(doRestart, 0);
      return;
    }
    const message = `back-off ${formatBackoff(backoffMs)} restarting failed container=${this.deployment.container.name} pod=${this.name}`;
    this.state = { kind: 'waiting', reason: 'CrashLoopBackOff', message, until: at };
    this.event('Warning', 'BackOff', `Back-off restarting failed container ${this.deployment.container.name} in pod ${this.name}`);
    this.restartTimer = setTimeout(() => {
      if (this.state.kind === 'waiting') this.state = { kind: 'waiting', reason: 'ContainerCreating' };
      doRestart();
    }, wait);
  }

  private startProbes(): void {
    const c = this.deployment.container;
    const ctx: ProbeContext = { host: HOST, resolvePort: (p) => this.resolvePort(p), cwd: c.workingDir, env: { ...process.env, ...c.env, PORT: String(this.port) } };
    const time = probeTimeFor(this.deployment, this.opts.probeTime);
    const mk = (spec: ProbeSpec, kind: ProbeKind) => new ProbeWorker(resolveProbe(spec, kind, time), ctx, (r, changed, value) => this.onProbe(kind, r.ok, r.message, changed, value, r.unknown));
    this.startupDone = !c.startupProbe;
    this.probes = [];
    if (c.startupProbe) this.probes.push(mk(c.startupProbe, 'startup'));
    if (c.readinessProbe) this.probes.push(mk(c.readinessProbe, 'readiness'));
    if (c.livenessProbe) this.probes.push(mk(c.livenessProbe, 'liveness'));
    if (c.startupProbe) this.probes.find((p) => p.probe.kind === 'startup')!.start();
    else this.startMainProbes();
  }

  private startMainProbes(): void {
    for (const p of this.probes) if (p.probe.kind !== 'startup') p.start(0);
    // No readiness probe: ready as soon as the container runs (and its startup probe passed).
    if (!this.deployment.container.readinessProbe) this.setReady(true);
  }

  private onProbe(kind: ProbeKind, ok: boolean, message: string, changed: boolean, value: boolean, unknown?: string): void {
    if (this.state.kind !== 'running' || this.terminating) return;
    if (unknown) {
      // Tide could not run the probe (its own fds/processes ran out): no verdict on the container
      this.opts.onExhaustion?.('probe', unknown, `pod/${this.name}`, `${kind} probe not run, result kept (${value ? 'success' : 'failure'}): ${message}`);
      return;
    }
    const worker = this.probes.find((p) => p.probe.kind === kind)!;
    if (!ok) {
      const label = kind === 'readiness' ? 'Readiness' : kind === 'liveness' ? 'Liveness' : 'Startup';
      this.event('Warning', 'Unhealthy', `${label} probe failed: ${message}`);
    }
    if (kind === 'startup') {
      if (ok && !this.startupDone) { this.startupDone = true; worker.stop(); this.startMainProbes(); }
      else if (!ok && worker.tracker.failures >= worker.probe.failureThreshold) {
        this.killForRestart(`Container ${this.deployment.container.name} failed startup probe, will be restarted`);
      }
      return;
    }
    if (kind === 'readiness' && changed) this.setReady(value);
    if (kind === 'liveness' && changed && !value) {
      this.killForRestart(`Container ${this.deployment.container.name} failed liveness probe, will be restarted`);
    }
  }

  private killForRestart(message: string): void {
    this.event('Normal', 'Killing', message);
    this.logs.push(`--- tide: ${message}`);
    this.stopProbes();
    this.setReady(false);
    this.signal('SIGTERM');
    const grace = this.deployment.terminationGracePeriodSeconds * 1000;
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), grace);
    this.killTimer.unref?.();
  }

  private stopProbes(): void {
    for (const p of this.probes) p.stop();
    this.probes = [];
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.proc?.pid;
    if (!pid) return;
    try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } }
  }

  waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.proc) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => { clearTimeout(t); resolve(true); });
    });
  }

  /** Mark terminating and stop restarts/probes (kubectl shows Terminating). */
  markTerminating(): void {
    if (this.terminating) return;
    this.deletionTimestamp = Date.now();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopProbes();
  }

  /** SIGTERM the process group, wait up to graceMs, then SIGKILL. Resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.markTerminating();
    this.setReady(false);
    if (this.proc) {
      this.signal('SIGTERM');
      if (!(await this.waitExit(graceMs))) {
        this.logs.push(`--- tide: still running after ${graceMs}ms: SIGKILL`);
        this.signal('SIGKILL');
        await this.waitExit(5000);
      }
    }
    // make sure nothing of the group survives (children that ignored SIGTERM)
    if (this.killTimer) clearTimeout(this.killTimer);
    this.logs.close();
  }

  /** Kill immediately (daemon shutdown fallback). */
  killNow(): void { this.signal('SIGKILL'); }

  status(): ReplicaStatus {
    return {
      name: this.name,
      deployment: this.deployment.name,
      phase: this.startTime === undefined ? 'Pending' : 'Running',
      ready: this.ready,
      readyTransition: this.readyTransition,
      created: this.created,
      startTime: this.startTime,
      restartCount: this.restartCount,
      lastRestart: this.lastRestart,
      deletionTimestamp: this.deletionTimestamp,
      state: this.state,
      lastState: this.lastState,
      port: this.port,
      pid: this.proc?.pid,
      status: podStatusString(this),
      labels: this.deployment.labels,
      probes: this.probes.map((p) => ({ kind: p.probe.kind, value: p.value, lastMessage: p.lastResult?.message })),
    };
  }

  /** The HPA decider's view of this pod. */
  podInfo(): PodInfo {
    return {
      name: this.name,
      phase: this.startTime === undefined ? 'Pending' : 'Running',
      ready: { status: this.ready ? 'True' : 'False', lastTransitionTime: this.readyTransition },
      startTime: this.startTime,
      deletionTimestamp: this.deletionTimestamp,
      labels: this.deployment.labels,
      containers: [{ name: this.deployment.container.name, requests: this.deployment.container.requests }],
    };
  }
}

function signalNumber(sig: string): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 } as Record<string, number>)[sig] ?? 0;
}

function formatBackoff(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m0s` : ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${(ms % 60_000) / 1000}s` : `${ms / 1000}s`;
}

/** kubectl get pods' STATUS column. */
export function podStatusString(r: { terminating: boolean; state: ContainerState }): string {
  if (r.terminating) return 'Terminating';
  if (r.state.kind === 'waiting') return r.state.reason;
  if (r.state.kind === 'terminated') return r.state.reason;
  return 'Running';
}

/** The Tide probe-time option, from flags or the `tide.dev/probe-period` annotation. */
export function probeTimeFor(d: LocalDeployment, base: ProbeTimeOptions = {}): ProbeTimeOptions {
  const ann = d.annotations['tide.dev/probe-period'];
  if (ann === undefined) return base;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(ann.trim());
  if (!m) return base;
  return { ...base, periodMs: Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) };
}

export interface VictimCandidate {
  name: string;
  ready: boolean;
  running: boolean;
  inFlight: number;
  restartCount: number;
  created: number;
}

/**
 * Which replicas to remove on scale-down: not running first, then not ready, then the fewest in-flight
 * requests (idle first), then the most restarts, then the newest (as ReplicaSet's ranking, with the
 * proxy's in-flight count inserted so draining costs the least).
 */
export function chooseVictims(cands: VictimCandidate[], count: number): string[] {
  const sorted = [...cands].sort((a, b) =>
    Number(a.running) - Number(b.running) ||
    Number(a.ready) - Number(b.ready) ||
    a.inFlight - b.inFlight ||
    b.restartCount - a.restartCount ||
    b.created - a.created ||
    (a.name < b.name ? -1 : 1));
  return sorted.slice(0, Math.max(0, count)).map((c) => c.name);
}

/** Replicas of one Deployment. */
export class Supervisor {
  readonly deployment: LocalDeployment;
  readonly replicas = new Map<string, Replica>();
  desired: number;
  proxy?: ReplicaProxy;
  private readonly opts: SupervisorOptions;
  private readonly terminations = new Set<Promise<void>>();
  private closed = false;
  private reconciling: Promise<void> = Promise.resolve();

  constructor(deployment: LocalDeployment, opts: SupervisorOptions) {
    this.deployment = deployment;
    this.opts = { ...opts, onReadyChange: (r, ready) => { this.proxy?.setReady(r.name, ready); opts.onReadyChange?.(r, ready); } };
    this.desired = deployment.replicas;
    mkdirSync(join(opts.stateDir, 'logs'), { recursive: true });
  }

  attachProxy(proxy: ReplicaProxy): void {
    this.proxy = proxy;
    for (const r of this.active()) {
      proxy.addReplica(r.name, { host: HOST, port: r.port });
      if (r.ready) proxy.setReady(r.name, true);
    }
  }

  active(): Replica[] { return [...this.replicas.values()].filter((r) => !r.terminating); }

  /** Set spec.replicas and converge. */
  scale(n: number): Promise<void> {
    this.desired = Math.max(0, Math.floor(n));
    this.reconciling = this.reconciling.then(() => this.reconcile()).catch(() => {});
    return this.reconciling;
  }

  private async reconcile(): Promise<void> {
    if (this.closed) return;
    const active = this.active();
    const diff = this.desired - active.length;
    if (diff > 0) {
      for (let i = 0; i < diff; i++) {
        // a free port, and not one a replica of ours holds while it is down (restarting)
        const taken = new Set([...this.replicas.values()].map((r) => r.port));
        let port = await freePort();
        for (let tries = 0; taken.has(port) && tries < 20; tries++) port = await freePort();
        if (this.closed) return;
        const name = `${this.deployment.name}-${this.deployment.templateHash}-${randSuffix()}`;
        const r = new Replica(this.deployment, name, port, this.opts);
        this.replicas.set(name, r);
        this.proxy?.addReplica(name, { host: HOST, port });
        this.opts.onEvent?.({ time: Date.now(), type: 'Normal', reason: 'SuccessfulCreate', object: `replicaset/${this.deployment.name}-${this.deployment.templateHash}`, message: `Created pod: ${name}` });
        r.start();
      }
    } else if (diff < 0) {
      const loads = new Map((this.proxy?.stats().replicas ?? []).map((l) => [l.id, l.inFlight]));
      const victims = chooseVictims(active.map((r) => ({ name: r.name, ready: r.ready, running: r.running, inFlight: loads.get(r.name) ?? 0, restartCount: r.restartCount, created: r.created })), -diff);
      for (const v of victims) this.terminate(this.replicas.get(v)!);
    }
  }

  /** Drain through the proxy, then SIGTERM/SIGKILL within terminationGracePeriodSeconds. */
  terminate(r: Replica): Promise<void> {
    r.markTerminating();
    this.opts.onEvent?.({ time: Date.now(), type: 'Normal', reason: 'SuccessfulDelete', object: `replicaset/${this.deployment.name}-${this.deployment.templateHash}`, message: `Deleted pod: ${r.name}` });
    const graceMs = this.deployment.terminationGracePeriodSeconds * 1000;
    const p = (async () => {
      const t0 = Date.now();
      if (this.proxy) {
        try { await this.proxy.drain(r.name, graceMs); } catch { /* proxy closing */ }
      }
      const left = Math.max(graceMs - (Date.now() - t0), Math.min(graceMs, 2000));
      await r.stop(left);
      this.proxy?.removeReplica(r.name);
      this.replicas.delete(r.name);
    })();
    this.terminations.add(p);
    void p.finally(() => this.terminations.delete(p));
    return p;
  }

  /** Stop everything (daemon shutdown): drain all, stop all, wait. */
  async close(graceMs?: number): Promise<void> {
    this.closed = true;
    const all = [...this.replicas.values()];
    await Promise.all(all.map(async (r) => {
      if (!r.terminating) {
        r.markTerminating();
        if (this.proxy) { try { await this.proxy.drain(r.name, Math.min(graceMs ?? 5000, this.deployment.terminationGracePeriodSeconds * 1000)); } catch { /* */ } }
        await r.stop(Math.min(graceMs ?? 5000, this.deployment.terminationGracePeriodSeconds * 1000));
      }
    }));
    await Promise.all([...this.terminations]);
    for (const r of all) r.killNow();
    this.replicas.clear();
  }
}

/**
 * Kill the process groups left by a daemon of this state folder that died without cleaning up
 * (SIGKILL, OOM): every live process whose environment says TIDE_REPLICA_OF=<stateDir>. Returns how
 * many processes were signalled.
 */
export function reapLeftovers(stateDir: string): number {
  const marker = `TIDE_REPLICA_OF=${resolvePath(stateDir)}`;
  const groups = new Set<number>();
  let n = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(marker)) continue;
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      n++;
      if (pgrp > 1) groups.add(pgrp);
      try { process.kill(Number(e), 'SIGKILL'); } catch { /* gone */ }
    } catch { /* gone, or not ours to read */ }
  }
  for (const g of groups) { try { process.kill(-g, 'SIGKILL'); } catch { /* gone */ } }
  return n;
}
