// The dashboard's memory inside the `tide up` daemon: once a second it samples the runtime (replicas,
// each autoscaler's current/desired and metric value vs target, each Service's RPS, p50/p99 latency,
// queue, in-flight and cold starts) into a bounded ring (10 min by default), so a fresh page load
// shows recent history; decisions come from the runtime's own bounded per-autoscaler lists.
import type { DecisionRecord } from '../core/decision.ts';
import type { LocalRuntime } from '../runtime/local/controller.ts';
import { parseShown } from '../runtime/local/metrics.ts';
import type { Replica } from '../runtime/local/supervisor.ts';

export interface DeploymentSample { replicas: number; ready: number; desired: number }
export interface MetricSample { name: string; value: number | null; target: number | null; shown: string }
export interface AutoscalerSample { current: number; desired: number; metrics: MetricSample[] }
export interface ServiceSample {
  /** Requests per second answered by the proxy over the rate window. */
  rps: number;
  /** Latency quantiles (ms, queueing included) over the rate window; null without requests. */
  p50: number | null;
  p99: number | null;
  queue: number;
  inFlight: number;
  /** Cold starts (requests that waited for a replica) since the daemon started, and in the window. */
  coldStartsTotal: number;
  coldStarts: number;
  /** Mean cold-start wait (ms) over the window; null without cold starts. */
  coldStartMs: number | null;
}
export interface Sample {
  t: number;
  deployments: Record<string, DeploymentSample>;
  autoscalers: Record<string, AutoscalerSample>;
  services: Record<string, ServiceSample>;
}

export interface DashboardMeta {
  pid: number;
  startedAt: number;
  dryRun: boolean;
  syncPeriodMs: number;
  sampleMs: number;
  historyMs: number;
  deployments: { name: string; autoscalers: string[]; services: string[] }[];
  autoscalers: { name: string; kind: string; target: string; minReplicas: number; maxReplicas: number; metrics: string[]; units: string[] }[];
  services: { name: string; deployment: string | null; url: string | null; error: string | null }[];
}

export interface PodRow {
  name: string; deployment: string; ready: boolean; status: string; restarts: number;
  created: number; startTime?: number; inFlight: number; terminating: boolean;
}

export interface DecisionRow {
  autoscaler: string; decider: string; now: number; currentReplicas: number; desiredReplicas: number;
  rescale: boolean; drivingMetric: string | null; limitedBy: string[]; explanation: string;
}

export function decisionRow(r: DecisionRecord): DecisionRow {
  return {
    autoscaler: r.autoscaler,
    decider: r.decider,
    now: r.now,
    currentReplicas: r.currentReplicas,
    desiredReplicas: r.desiredReplicas,
    rescale: r.rescale,
    drivingMetric: r.drivingMetric !== null ? (r.proposals[r.drivingMetric]?.metric ?? null) : null,
    limitedBy: [...r.limitedBy],
    explanation: r.explanation,
  };
}

/** Cumulative histogram state: upper bounds ascending (last = +Inf) with cumulative counts. */
export interface HistSnap { les: number[]; cum: number[]; count: number; sum: number }

/**
 * Quantile of the observations between two cumulative snapshots, interpolating linearly inside the
 * bucket as Prometheus' histogram_quantile does (the +Inf bucket answers its lower bound).
 * Returns null when nothing was observed in between.
 */
export function histQuantile(q: number, newer: HistSnap, older?: HistSnap): number | null {
  const delta = newer.cum.map((c, i) => c - (older?.les.length === newer.les.length ? older.cum[i] : 0));
  const total = delta[delta.length - 1] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < delta.length; i++) {
    if (delta[i] >= rank) {
      const hi = newer.les[i];
      const lo = i === 0 ? 0 : newer.les[i - 1];
      if (!Number.isFinite(hi)) return lo;
      const below = i === 0 ? 0 : delta[i - 1];
      const inBucket = delta[i] - below;
      return inBucket > 0 ? lo + (hi - lo) * ((rank - below) / inBucket) : hi;
    }
  }
  return newer.les[newer.les.length - 2] ?? null;
}

/** A fixed-capacity ring that drops the oldest item. */
export class Ring<T> {
  private items: T[] = [];
  readonly capacity: number;
  constructor(capacity: number) { this.capacity = Math.max(1, Math.floor(capacity)); }
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  toArray(): T[] { return this.items.slice(); }
  get length(): number { return this.items.length; }
  last(n = 1): T | undefined { return this.items[this.items.length - n]; }
}

interface PromValue { value: number; labels: Record<string, string | number>; metricName?: string }

/** Aggregate a prom-client histogram's values per `label` (summing the other labels). */
export function histByLabel(values: PromValue[], label: string): Map<string, HistSnap> {
  const acc = new Map<string, { buckets: Map<number, number>; count: number; sum: number }>();
  for (const v of values) {
    const key = String(v.labels[label] ?? '');
    let a = acc.get(key);
    if (!a) { a = { buckets: new Map(), count: 0, sum: 0 }; acc.set(key, a); }
    const name = v.metricName ?? '';
    if (name.endsWith('_bucket')) {
      const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
      a.buckets.set(le, (a.buckets.get(le) ?? 0) + v.value);
    } else if (name.endsWith('_count')) a.count += v.value;
    else if (name.endsWith('_sum')) a.sum += v.value;
  }
  const out = new Map<string, HistSnap>();
  for (const [k, a] of acc) {
    const les = [...a.buckets.keys()].sort((x, y) => x - y);
    out.set(k, { les, cum: les.map((l) => a.buckets.get(l)!), count: a.count, sum: a.sum });
  }
  return out;
}

interface Cumulative { t: number; latency: Map<string, HistSnap>; cold: Map<string, HistSnap> }

export interface HistoryOptions {
  sampleMs?: number;
  historyMs?: number;
  /** Window for RPS, latency quantiles and cold starts. */
  rateWindowMs?: number;
  podView: (rt: LocalRuntime, r: Replica) => { inFlight: number } & Record<string, unknown>;
}

export class DashboardHistory {
  readonly sampleMs: number;
  readonly historyMs: number;
  readonly rateWindowMs: number;
  readonly samples: Ring<Sample>;
  private readonly rt: LocalRuntime;
  private readonly podView: HistoryOptions['podView'];
  private cumulative: Cumulative[] = [];
  private seen = new WeakSet<DecisionRecord>();
  private timer?: NodeJS.Timeout;
  private listeners = new Set<(update: { sample: Sample; pods: PodRow[]; decisions: DecisionRow[]; meta: DashboardMeta }) => void>();
  private ticking = false;

  constructor(rt: LocalRuntime, opts: HistoryOptions) {
    this.rt = rt;
    this.podView = opts.podView;
    this.sampleMs = opts.sampleMs ?? 1000;
    this.historyMs = opts.historyMs ?? 600_000;
    this.rateWindowMs = opts.rateWindowMs ?? 5000;
    this.samples = new Ring(Math.ceil(this.historyMs / this.sampleMs) + 1);
  }

  start(): void {
    if (this.timer) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.sampleMs);
    this.timer.unref?.();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  subscribe(fn: (update: { sample: Sample; pods: PodRow[]; decisions: DecisionRow[]; meta: DashboardMeta }) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }

  meta(): DashboardMeta {
    const rt = this.rt;
    const autoscalers = [...rt.drivers.values()].map((d) => {
      const st = d.status();
      return {
        name: d.name, kind: d.kind, target: d.target, minReplicas: st.minReplicas, maxReplicas: st.maxReplicas,
        metrics: (st.metrics.length ? st.metrics.map((m) => m.metric) : st.metricSpecs.map((m) => m.name)),
        // the chart's unit: "%" for utilization targets ("50%"), else the metric's own (none)
        units: (st.metrics.length ? st.metrics.map((m) => m.target) : st.metricSpecs.map((m) => m.target)).map((t) => (/%$/.test(String(t)) ? '%' : '')),
      };
    });
    const services = [...rt.services.values()].map((s) => ({
      name: s.spec.name, deployment: s.deployment ?? null, url: s.port ? `http://127.0.0.1:${s.port}` : null, error: s.error ?? null,
    }));
    return {
      pid: process.pid,
      startedAt: rt.startedAt,
      dryRun: !!rt.opts.dryRun,
      syncPeriodMs: rt.opts.syncPeriodMs,
      sampleMs: this.sampleMs,
      historyMs: this.historyMs,
      deployments: [...rt.supervisors.keys()].map((name) => ({
        name,
        autoscalers: autoscalers.filter((a) => a.target === name).map((a) => a.name),
        services: services.filter((s) => s.deployment === name).map((s) => s.name),
      })),
      autoscalers,
      services,
    };
  }

  pods(): PodRow[] {
    return this.rt.replicas().map((r) => {
      const s = r.status();
      return {
        name: s.name, deployment: s.deployment, ready: s.ready, status: s.status, restarts: s.restartCount,
        created: s.created, startTime: s.startTime, inFlight: this.podView(this.rt, r).inFlight, terminating: r.terminating,
      };
    });
  }

  /** Decisions of the last `historyMs` (oldest first), at most `limit`. */
  decisions(limit = 500): DecisionRow[] {
    const since = Date.now() - this.historyMs;
    const all = [...this.rt.decisions.values()].flat().filter((r) => r.now >= since).sort((a, b) => a.now - b.now);
    return all.slice(-limit).map(decisionRow);
  }

  snapshot(): { meta: DashboardMeta; samples: Sample[]; pods: PodRow[]; decisions: DecisionRow[] } {
    return { meta: this.meta(), samples: this.samples.toArray(), pods: this.pods(), decisions: this.decisions() };
  }

  private newDecisions(): DecisionRow[] {
    const fresh: DecisionRecord[] = [];
    for (const list of this.rt.decisions.values()) for (const r of list) if (!this.seen.has(r)) { this.seen.add(r); fresh.push(r); }
    return fresh.sort((a, b) => a.now - b.now).map(decisionRow);
  }

  /** Take one sample now (also called by the timer). */
  async tick(): Promise<Sample | undefined> {
    if (this.ticking) return undefined;
    this.ticking = true;
    try {
      const rt = this.rt;
      const t = Date.now();
      const [lat, cold] = await Promise.all([rt.metrics.latency.get(), rt.metrics.coldStart.get()]);
      const cur: Cumulative = { t, latency: histByLabel(lat.values as PromValue[], 'service'), cold: histByLabel(cold.values as PromValue[], 'service') };
      this.cumulative.push(cur);
      while (this.cumulative.length > 2 && t - this.cumulative[1].t >= this.rateWindowMs) this.cumulative.shift();
      const base = this.cumulative.length > 1 ? this.cumulative[0] : undefined;
      const dt = base ? (t - base.t) / 1000 : 0;

      const sample: Sample = { t, deployments: {}, autoscalers: {}, services: {} };
      for (const [name, sup] of rt.supervisors) {
        const act = sup.active();
        sample.deployments[name] = { replicas: act.length, ready: act.filter((r) => r.ready).length, desired: sup.desired };
      }
      for (const d of rt.drivers.values()) {
        const st = d.status();
        const metrics: MetricSample[] = st.metrics.length
          ? st.metrics.map((m) => ({ name: m.metric, value: parseShown(m.current), target: parseShown(m.target), shown: `${m.current}/${m.target}` }))
          : st.metricSpecs.map((m) => ({ name: m.name, value: null, target: parseShown(m.target), shown: `<unknown>/${m.target}` }));
        sample.autoscalers[d.name] = { current: st.currentReplicas, desired: st.desiredReplicas, metrics };
      }
      for (const [name, s] of rt.services) {
        const st = s.proxy?.stats();
        const l = cur.latency.get(name);
        const lb = base?.latency.get(name);
        const c = cur.cold.get(name);
        const cb = base?.cold.get(name);
        const reqs = l ? l.count - (lb?.count ?? 0) : 0;
        const colds = c ? c.count - (cb?.count ?? 0) : 0;
        const q = (x: number) => (l && base ? histQuantile(x, l, lb) : null);
        const ms = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e3);
        sample.services[name] = {
          rps: dt > 0 ? Math.round((reqs / dt) * 100) / 100 : 0,
          p50: ms(q(0.5)),
          p99: ms(q(0.99)),
          queue: st?.queued ?? 0,
          inFlight: st?.inFlight ?? 0,
          coldStartsTotal: c?.count ?? 0,
          coldStarts: base ? colds : 0,
          coldStartMs: base && colds > 0 && c ? Math.round(((c.sum - (cb?.sum ?? 0)) / colds) * 1000) : null,
        };
      }
      this.samples.push(sample);
      if (this.listeners.size) {
        const update = { sample, pods: this.pods(), decisions: this.newDecisions(), meta: this.meta() };
        for (const fn of this.listeners) { try { fn(update); } catch { /* a broken client must not stop sampling */ } }
      } else {
        this.newDecisions();
      }
      return sample;
    } finally {
      this.ticking = false;
    }
  }
}
