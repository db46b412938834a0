// The local runtime: runs the bundle's Deployments (supervisors), puts each Service's proxy in front,
// samples process stats, and drives every autoscaler on its sync period. The autoscalers come from the
// shared factory (src/autoscalers/factory.ts); this runtime is their port (./port.ts): it answers
// with what it samples and carries out their /scale writes.
// Decisions go to <stateDir>/decisions.jsonl (one DecisionRecord per line, replayable by `tide decide`).
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionEvent, DecisionRecord } from '../../core/decision.ts';
import type { HpaPolicy, LabelSelector } from '../../deciders/hpa/types.ts';
import type { BackoffConfig } from './backoff.ts';
import { loadBundle, serviceTarget, warningLine, type AutoscalerItem, type LocalBundle } from './bundle.ts';
import { createAutoscaler } from '../../autoscalers/factory.ts';
import type { Autoscaler, AutoscalerSpec } from '../../autoscalers/types.ts';
import { LocalClusterPort, type LocalCluster } from './port.ts';
import { RuntimeMetrics } from './metrics.ts';
import { overLimit, resolveReplicaLimits, type ReplicaLimits } from './limits.ts';
import { clearState, loadState, saveState, type RuntimeHpaSpec, type SavedState } from './state.ts';
import { exhaustionCode, describeExhaustion, type ExhaustionOp } from './exhaustion.ts';
import type { ProbeTimeOptions } from './probes.ts';
import { createProxy } from './proxy.ts';
import type { ProxyStats, ReplicaProxy } from './proxy-types.ts';
import { parsePrometheusText, scrapeText, selectMetric } from './scrape.ts';
import { readAllProcStats, sumGroups, UsageTracker } from './stats.ts';
import { HOST, Supervisor, type Replica, type RuntimeEvent } from './supervisor.ts';
import type { LocalDeployment, LocalService } from './workload.ts';

export interface RuntimeOptions {
  files: string[];
  stateDir: string;
  dryRun?: boolean;
  syncPeriodMs?: number;
  /** How often process stats are sampled (metrics-server's resolution); default min(15 s, sync period). */
  metricResolutionMs?: number;
  /** Controller-config overrides per driver kind, e.g. { hpa: { tolerance: 0.1 } }. */
  overrides?: Record<string, Record<string, unknown>>;
  backoff?: BackoffConfig;
  probeTime?: ProbeTimeOptions;
  /** Services listen on ephemeral ports instead of their manifest port (tests). */
  ephemeralPorts?: boolean;
  queueLimit?: number;
  requestTimeoutMs?: number;
  log?: (msg: string) => void;
  /** Pre-loaded bundle (tests); otherwise loaded from files. */
  bundle?: LocalBundle;
  /** Replica caps (per Deployment, total); default derived from the machine (limits.ts). */
  limits?: ReplicaLimits;
  /** Resume from <stateDir>/state.json left by a daemon that crashed (default true). */
  restoreState?: boolean;
}

export interface ServiceEntry {
  spec: LocalService;
  deployment?: string;
  proxy?: ReplicaProxy;
  port?: number;
  error?: string;
}

interface RateSnap { at: number; counts: Map<string, number> }

/** The factory's spec for a bundle item: the target is a Deployment of this machine. */
export function specFromItem(a: AutoscalerItem): AutoscalerSpec {
  return {
    kind: a.kind,
    name: a.name,
    target: { apiVersion: 'apps/v1', kind: 'Deployment', name: a.target },
    policy: a.policy,
    ...(a.source ? { source: a.source } : {}),
    createdAt: Date.now(),
  };
}

export class LocalRuntime implements LocalCluster {
  readonly opts: Required<Pick<RuntimeOptions, 'stateDir' | 'syncPeriodMs' | 'metricResolutionMs' | 'queueLimit' | 'requestTimeoutMs' | 'limits'>> & RuntimeOptions;
  readonly supervisors = new Map<string, Supervisor>();
  readonly services = new Map<string, ServiceEntry>();
  /** Running autoscalers by name (built by the shared factory, src/autoscalers/factory.ts). */
  readonly drivers = new Map<string, Autoscaler>();
  readonly events: RuntimeEvent[] = [];
  readonly decisions = new Map<string, DecisionRecord[]>();
  readonly usage = new UsageTracker();
  readonly metrics = new RuntimeMetrics();
  readonly startedAt = Date.now();
  bundle!: LocalBundle;
  private timers: NodeJS.Timeout[] = [];
  private driverTimers = new Map<string, NodeJS.Timeout>();
  private lastPid = new Map<string, number>();
  private rates = new Map<string, RateSnap[]>();
  private stopped = false;
  /** This runtime as the autoscalers' port (src/autoscalers/port.ts). */
  readonly port: LocalClusterPort;
  /** Per-Deployment listeners of finished requests (DriverContext.onRequestDone). */
  private readonly requestListeners = new Map<string, Set<(info: { status: number; latencyMs: number; queuedMs: number }) => void>>();

  constructor(opts: RuntimeOptions) {
    const sync = opts.syncPeriodMs ?? 15_000;
    this.opts = {
      ...opts,
      syncPeriodMs: sync,
      metricResolutionMs: opts.metricResolutionMs ?? Math.min(15_000, sync),
      queueLimit: opts.queueLimit ?? 1000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 300_000,
      limits: opts.limits ?? resolveReplicaLimits(),
    };
    this.port = new LocalClusterPort(this);
  }

  get syncPeriodMs(): number { return this.opts.syncPeriodMs; }

  log(msg: string): void { this.opts.log?.(msg); }

  private readonly logged = new Map<string, number>();

  private pushEvent(e: RuntimeEvent): void {
    this.events.push(e);
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
    if (e.type !== 'Warning') return;
    // print each distinct warning at most once a minute (probes and syncs repeat them every period)
    const key = `${e.object}\u0000${e.reason}\u0000${e.message}`;
    const last = this.logged.get(key);
    if (last !== undefined && e.time - last < 60_000) return;
    this.logged.set(key, e.time);
    if (this.logged.size > 5000) this.logged.clear();
    this.log(`${e.object}: ${e.reason}: ${e.message}`);
  }

  private readonly exhaustionSeen = new Map<string, number>();

  /** Tide ran out of a resource: count it, and an event at most every 5 s per operation and object. */
  reportExhaustion(op: ExhaustionOp, code: string, object: string, message: string): void {
    this.metrics.exhaustion.inc({ operation: op, code });
    const key = `${op}\u0000${object}`;
    const now = Date.now();
    const last = this.exhaustionSeen.get(key);
    if (last !== undefined && now - last < 5000) return;
    if (this.exhaustionSeen.size > 5000) this.exhaustionSeen.clear();
    this.exhaustionSeen.set(key, now);
    this.pushEvent({ time: now, type: 'Warning', reason: 'ResourceExhausted', object, message });
  }

  /** HPAs created at runtime (`tide autoscale`), persisted in state.json. */
  readonly runtimeHpas: RuntimeHpaSpec[] = [];
  private saveQueued = false;

  /** Persist scale, runtime HPAs and autoscaler memory (coalesced to one write per tick). */
  scheduleSave(): void {
    if (this.saveQueued || this.stopped) return;
    this.saveQueued = true;
    setImmediate(() => {
      this.saveQueued = false;
      if (this.stopped) return;
      try { saveState(this.opts.stateDir, this.collectState()); } catch (e) {
        // (a full disk: counted too; the next change tries again)
        const code = exhaustionCode(e);
        if (code) this.metrics.exhaustion.inc({ operation: 'state', code });
        this.pushEvent({ time: Date.now(), type: 'Warning', reason: 'FailedToSaveState', object: 'daemon/tide', message: `cannot write state.json: ${(e as Error).message}` });
      }
    });
  }

  collectState(): SavedState {
    const autoscalers: SavedState['autoscalers'] = {};
    for (const [name, a] of this.drivers) { try { autoscalers[name] = a.snapshot(); } catch { /* kind without snapshots */ } }
    const deployments: SavedState['deployments'] = {};
    for (const [name, s] of this.supervisors) deployments[name] = { replicas: s.desired };
    return { v: 1, savedAt: Date.now(), pid: process.pid, deployments, runtimeHpas: [...this.runtimeHpas], autoscalers };
  }

  private restoreSnapshot(saved: SavedState | undefined, name: string): void {
    const snap = saved?.autoscalers[name];
    const a = this.drivers.get(name);
    if (!snap || !a) return;
    try {
      a.restore(snap);
      this.pushEvent({ time: Date.now(), type: 'Normal', reason: 'Restored', object: `${a.kind === 'hpa' ? 'horizontalpodautoscaler' : a.kind}/${name}`, message: `recommendation history and scale events restored from state.json (saved ${new Date(snap.at).toISOString()})` });
    } catch (e) {
      this.log(`warning: ${a.kind}/${name}: saved autoscaler state not restored: ${(e as Error).message}`);
    }
  }

  async start(): Promise<void> {
    mkdirSync(join(this.opts.stateDir, 'logs'), { recursive: true });
    this.bundle = this.opts.bundle ?? loadBundle(this.opts.files, { limits: this.opts.limits, featureGates: this.opts.overrides?.hpa?.featureGates as Record<string, boolean> | undefined });
    for (const w of this.bundle.warnings) this.log(warningLine(w));
    // a daemon that crashed left state.json: resume its scale and autoscaler memory
    const { state: saved, problem } = this.opts.restoreState === false ? {} : loadState(this.opts.stateDir);
    if (problem) this.log(`warning: ${problem}`);
    for (const d of this.bundle.deployments) this.addDeployment(d);
    for (const s of this.bundle.services) await this.addService(s);
    for (const d of this.bundle.deployments) {
      const want = saved?.deployments[d.name]?.replicas;
      let n = d.replicas;
      if (typeof want === 'number' && Number.isInteger(want) && want >= 0) {
        n = Math.min(want, this.replicaCap(d.name));
        if (n !== d.replicas) this.pushEvent({ time: Date.now(), type: 'Normal', reason: 'Restored', object: `deployment/${d.name}`, message: `replicas ${n} restored from state.json (the previous daemon stopped without cleaning up; the manifest says ${d.replicas})` });
      }
      void this.supervisors.get(d.name)!.scale(n);
    }
    for (const a of this.bundle.autoscalers) { this.addAutoscaler(a); this.restoreSnapshot(saved, a.name); }
    for (const h of saved?.runtimeHpas ?? []) {
      if (this.drivers.has(h.name) || !this.supervisors.has(h.deployment)) continue;
      try { this.createHpa(h.deployment, h); this.restoreSnapshot(saved, h.name); } catch (e) { this.log(`warning: runtime HPA ${h.name} not restored: ${(e as Error).message}`); }
    }
    if (saved) this.log(`resumed from ${join(this.opts.stateDir, 'state.json')} (saved ${new Date(saved.savedAt).toISOString()} by pid ${saved.pid})`);
    this.scheduleSave();
    // sample every 2 s (or the resolution, if shorter), rate over the resolution: a new replica has a
    // CPU sample taken while ready by the first sync, as metrics-server has one on a healthy start
    this.usage.windowMs = this.opts.metricResolutionMs;
    const sample = setInterval(() => this.sampleStats(), Math.min(this.opts.metricResolutionMs, 2000));
    sample.unref?.();
    this.timers.push(sample);
    this.sampleStats();
  }

  private addDeployment(d: LocalDeployment): Supervisor {
    const sup = new Supervisor(d, {
      stateDir: this.opts.stateDir,
      backoff: this.opts.backoff,
      probeTime: this.opts.probeTime,
      onEvent: (e) => this.pushEvent(e),
      onExhaustion: (op, code, object, message) => this.reportExhaustion(op, code, object, message),
    });
    sup.desired = 0;
    this.supervisors.set(d.name, sup);
    return sup;
  }

  private async addService(s: LocalService): Promise<void> {
    const dep = serviceTarget(s, this.bundle.deployments);
    const entry: ServiceEntry = { spec: s, deployment: dep?.name };
    this.services.set(s.name, entry);
    if (!dep) {
      entry.error = `selector ${JSON.stringify(s.selector)} matches no Deployment's pod labels`;
      this.log(`warning: Service ${s.name}: ${entry.error}`);
      return;
    }
    const port = this.opts.ephemeralPorts ? 0 : s.port;
    try {
      const proxy = await createProxy({
        host: HOST,
        port,
        containerConcurrency: dep.containerConcurrency || undefined,
        queueLimit: this.opts.queueLimit,
        requestTimeoutMs: this.opts.requestTimeoutMs,
        retryIdempotent: true,
      }, {
        onColdRequest: () => this.poke(dep.name),
        onRequestDone: (info) => {
          for (const fn of this.requestListeners.get(dep.name) ?? []) fn(info);
          const code = String(info.status);
          this.metrics.latency.observe({ service: s.name, code }, info.latencyMs / 1000);
          this.metrics.requests.inc({ service: s.name, code });
          if (info.coldStartMs !== undefined) this.metrics.coldStart.observe({ service: s.name }, info.coldStartMs / 1000);
        },
        onAcceptError: (e) => {
          const code = exhaustionCode(e);
          if (code) this.reportExhaustion('accept', code, `service/${s.name}`, `Service proxy cannot accept connections: ${describeExhaustion(code)}`);
          else this.log(`service/${s.name}: accept failed: ${e.message}`);
        },
      });
      entry.proxy = proxy;
      entry.port = proxy.port;
      this.supervisors.get(dep.name)!.attachProxy(proxy);
      this.log(`service/${s.name}: listening on http://${HOST}:${proxy.port} → deployment/${dep.name}`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      entry.error = err.code === 'EADDRINUSE'
        ? `port ${s.port} on ${HOST} is already in use by another process; Service ${s.name} is not served (free the port, change spec.ports[0].port, or run \`tide up --ephemeral-ports\` to serve every Service on a free port)`
        : `cannot listen on ${HOST}:${s.port}: ${err.message}`;
      this.pushEvent({ time: Date.now(), type: 'Warning', reason: 'FailedToListen', object: `service/${s.name}`, message: entry.error });
    }
  }

  addAutoscaler(a: AutoscalerItem): Autoscaler {
    if (this.drivers.has(a.name)) throw new Error(`autoscaler ${JSON.stringify(a.name)} already exists`);
    if (!this.supervisors.has(a.target)) throw new Error(`Deployment ${JSON.stringify(a.target)} not found`);
    const config = this.opts.overrides?.[a.kind] ?? {};
    const scaler = createAutoscaler(specFromItem(a), this.port, { syncPeriodMs: this.opts.syncPeriodMs, dryRun: !!this.opts.dryRun, config });
    this.drivers.set(a.name, scaler);
    const failed = (e: unknown) => this.pushEvent({ time: Date.now(), type: 'Warning', reason: 'FailedSync', object: `${a.kind}/${a.name}`, message: (e as Error).message });
    const run = () => {
      if (this.stopped) return;
      new Promise((resolve) => resolve(scaler.sync(Date.now()))).catch(failed)
        .finally(() => {
          if (this.stopped || this.drivers.get(a.name) !== scaler) return;
          this.scheduleSave();
          const t = setTimeout(run, scaler.syncPeriodMs);
          this.driverTimers.set(a.name, t);
        });
    };
    // like the HPA controller, the first sync happens one period after the object appears
    this.driverTimers.set(a.name, setTimeout(run, scaler.firstSyncDelayMs));
    return scaler;
  }

  /** Activator hook: a request found no ready replica. */
  poke(deployment: string): void {
    const now = Date.now();
    this.port.coldRequest(deployment, now);
    for (const d of this.drivers.values()) if (d.target === deployment) d.poke(now);
  }

  /** Why `replicas` for Deployment `name` is over the replica cap, or undefined. */
  replicaCapProblem(name: string, replicas: number): string | undefined {
    let others = 0;
    for (const [n, s] of this.supervisors) if (n !== name) others += s.desired;
    return overLimit(this.opts.limits, replicas, others);
  }

  /** The most replicas Deployment `name` may have now (per-Deployment cap and what the others leave). */
  replicaCap(name: string): number {
    let others = 0;
    for (const [n, s] of this.supervisors) if (n !== name) others += s.desired;
    return Math.max(0, Math.min(this.opts.limits.perDeployment, this.opts.limits.total - others));
  }

  scaleDeployment(name: string, replicas: number): void {
    const sup = this.supervisors.get(name);
    if (!sup) throw new Error(`deployments.apps ${JSON.stringify(name)} not found`);
    const cap = this.replicaCap(name);
    if (replicas > cap) {
      // autoscalers are clamped (the API refuses with 422 before it gets here)
      this.pushEvent({ time: Date.now(), type: 'Warning', reason: 'ReplicaCapReached', object: `deployment/${name}`, message: `wanted ${replicas} replicas, capped at ${cap}: ${this.replicaCapProblem(name, replicas)}` });
      replicas = cap;
    }
    this.scheduleSave();
    if (sup.desired !== replicas) {
      this.pushEvent({ time: Date.now(), type: 'Normal', reason: 'ScalingReplicaSet', object: `deployment/${name}`, message: `Scaled ${replicas > sup.desired ? 'up' : 'down'} replica set ${name}-${sup.deployment.templateHash} from ${sup.desired} to ${replicas}` });
    }
    void sup.scale(replicas);
  }

  replicas(deployment?: string, includeTerminating = true): Replica[] {
    const sups = deployment ? [this.supervisors.get(deployment)].filter((s) => s !== undefined) : [...this.supervisors.values()];
    return sups.flatMap((s) => [...s.replicas.values()]).filter((r) => includeTerminating || !r.terminating);
  }

  findReplica(name: string): Replica | undefined {
    for (const s of this.supervisors.values()) { const r = s.replicas.get(name); if (r) return r; }
    return undefined;
  }

  serviceFor(deployment: string): ServiceEntry | undefined {
    for (const s of this.services.values()) if (s.deployment === deployment && s.proxy) return s;
    return undefined;
  }

  private sampleStats(): void {
    const now = Date.now();
    const all = this.replicas(undefined, false);
    const groups = all.map((r) => r.proc?.pid).filter((p): p is number => p !== undefined);
    const usage = groups.length ? sumGroups(readAllProcStats(), groups) : new Map();
    for (const r of all) {
      const pid = r.proc?.pid;
      if (pid === undefined || r.state.kind !== 'running') { this.usage.forget(r.name); this.lastPid.delete(r.name); continue; }
      if (this.lastPid.get(r.name) !== pid) { this.usage.forget(r.name); this.lastPid.set(r.name, pid); }
      const u = usage.get(pid);
      if (u) this.usage.record(r.name, { at: now, cpuSeconds: u.cpuSeconds, memoryBytes: u.memoryBytes }, r.ready ? r.readyTransition : undefined);
    }
    for (const name of [...this.lastPid.keys()]) if (!this.findReplica(name)) { this.lastPid.delete(name); this.usage.forget(name); }
    // request-rate snapshots from the proxies
    for (const [dep] of this.supervisors) {
      const st = this.serviceFor(dep)?.proxy?.stats();
      if (!st) continue;
      const snaps = this.rates.get(dep) ?? [];
      snaps.push({ at: now, counts: new Map(st.replicas.map((r) => [r.id, r.requestsTotal])) });
      while (snaps.length > 2 && now - snaps[0].at > 120_000) snaps.shift();
      this.rates.set(dep, snaps);
    }
    this.refreshGauges();
  }

  /** The replica and proxy gauges, from the state now (each scrape calls it too: never a tick stale). */
  refreshGauges(): void {
    for (const [name, sup] of this.supervisors) {
      const act = sup.active();
      this.metrics.replicas.set({ deployment: name }, act.length);
      this.metrics.readyReplicas.set({ deployment: name }, act.filter((r) => r.ready).length);
      this.metrics.restarts.set({ deployment: name }, act.reduce((a, r) => a + r.restartCount, 0));
    }
    for (const [name, s] of this.services) {
      const st = s.proxy?.stats();
      if (!st) continue;
      this.metrics.queue.set({ service: name }, st.queued);
      this.metrics.inFlight.set({ service: name }, st.inFlight);
    }
  }

  specReplicas(dep: string): number { return this.supervisors.get(dep)?.desired ?? 0; }
  resourceSample(pod: string, resource: string) { return this.usage.resourceSample(pod, resource); }
  proxyStats(dep: string): ProxyStats | undefined { return this.serviceFor(dep)?.proxy?.stats(); }
  onRequestDone(dep: string, fn: (info: { status: number; latencyMs: number; queuedMs: number }) => void): () => void {
    let set = this.requestListeners.get(dep);
    if (!set) { set = new Set(); this.requestListeners.set(dep, set); }
    set.add(fn);
    return () => { set.delete(fn); };
  }

  async scrapePods(dep: string, metric: string, selector?: LabelSelector): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const ready = this.replicas(dep, false).filter((r) => r.ready);
    await Promise.all(ready.map(async (r) => {
      try {
        // the usual pod-template annotations say where the metrics are (default: /metrics on the main port)
        const ann = r.deployment.annotations;
        const path = ann['prometheus.io/path'] ?? '/metrics';
        const port = ann['prometheus.io/port'] ? r.resolvePort(ann['prometheus.io/port']) : r.port;
        const v = selectMetric(parsePrometheusText(await scrapeText(HOST, port, path, 2000)), metric, selector);
        if (v !== null && Number.isFinite(v)) out.set(r.name, v);
      } catch (e) {
        // a failed scrape leaves the pod without a sample, as a missing series would
        const code = exhaustionCode(e);
        if (code) this.reportExhaustion('scrape', code, `pod/${r.name}`, `metrics scrape not run: ${describeExhaustion(code)}`);
      }
    }));
    return out;
  }

  requestRate(dep: string, windowMs: number): { total: number; perReplica: Map<string, number> } {
    const snaps = this.rates.get(dep) ?? [];
    const perReplica = new Map<string, number>();
    if (snaps.length < 2) return { total: 0, perReplica };
    const last = snaps[snaps.length - 1];
    const first = snaps.find((s) => last.at - s.at <= windowMs) ?? snaps[0];
    const dt = (last.at - first.at) / 1000;
    if (dt <= 0) return { total: 0, perReplica };
    let total = 0;
    for (const [id, n] of last.counts) {
      const r = Math.max(0, n - (first.counts.get(id) ?? 0)) / dt;
      perReplica.set(id, r);
      total += r;
    }
    return { total, perReplica };
  }

  recordDecision(name: string, rec: DecisionRecord): void {
    const list = this.decisions.get(name) ?? [];
    list.push(rec);
    if (list.length > 200) list.splice(0, list.length - 200);
    this.decisions.set(name, list);
    try { appendFileSync(join(this.opts.stateDir, 'decisions.jsonl'), JSON.stringify(rec) + '\n'); } catch (e) { this.log(`warning: cannot append to decisions.jsonl: ${(e as Error).message}`); }
    this.metrics.onDecision(rec.decider, rec);
    for (const e of rec.events) this.autoscalerEvent(name, e);
    if (rec.rescale) this.log(`${rec.decider}/${name}: ${this.opts.dryRun ? '[dry-run, not applied] ' : ''}${rec.currentReplicas} → ${rec.desiredReplicas}: ${rec.explanation}`);
  }

  autoscalerEvent(name: string, e: DecisionEvent): void {
    const kind = this.drivers.get(name)?.kind ?? 'hpa';
    const object = `${kind === 'hpa' ? 'horizontalpodautoscaler' : kind}/${name}`;
    this.pushEvent({ time: Date.now(), type: e.type, reason: e.reason, object, message: e.message });
  }

  /** `tide autoscale deployment NAME --cpu-percent --min --max`: an autoscaling/v1 HPA created at runtime. */
  createHpa(deployment: string, opts: { name?: string; min?: number; max: number; cpuPercent?: number }): Autoscaler {
    if (!this.supervisors.has(deployment)) throw new Error(`deployments.apps ${JSON.stringify(deployment)} not found`);
    const name = opts.name ?? deployment;
    if (this.drivers.has(name)) throw new Error(`horizontalpodautoscalers.autoscaling ${JSON.stringify(name)} already exists`);
    if (!Number.isInteger(opts.max) || opts.max < 1) throw new Error('--max is required and must be >= 1');
    const min = opts.min ?? 1;
    if (min > opts.max) throw new Error(`--max=${opts.max} must be larger or equal to --min=${min}`);
    if (opts.max > this.opts.limits.perDeployment) throw new Error(`--max=${opts.max} is above the replica cap of ${this.opts.limits.perDeployment} per Deployment (${this.opts.limits.basis}; raise it with --max-replicas)`);
    const policy: HpaPolicy = {
      name,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
      minReplicas: min,
      maxReplicas: opts.max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: opts.cpuPercent ?? 80 } } }],
      source: { apiVersion: 'autoscaling/v1' },
    };
    const d = this.addAutoscaler({ kind: 'hpa', name, target: deployment, policy });
    this.bundle.autoscalers.push({ kind: 'hpa', name, target: deployment, policy });
    this.runtimeHpas.push({ deployment, name, min, max: opts.max, ...(opts.cpuPercent !== undefined ? { cpuPercent: opts.cpuPercent } : {}) });
    this.scheduleSave();
    return d;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.driverTimers.values()) clearTimeout(t);
    for (const d of this.drivers.values()) d.close();
    this.port.close();
    await Promise.all([...this.supervisors.values()].map((s) => s.close(5000)));
    await Promise.all([...this.services.values()].map((s) => s.proxy?.close().catch(() => {})));
    // a clean stop: the next `tide up` starts from the manifests again
    try { clearState(this.opts.stateDir); } catch { /* already gone */ }
  }

  /** Synchronous last resort (process 'exit'): SIGKILL every replica's process group. */
  killAll(): void {
    for (const r of this.replicas()) r.killNow();
  }
}
