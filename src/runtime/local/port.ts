// The local runtime's side of the autoscaler port (src/autoscalers/port.ts): what `tide up` answers
// when an autoscaler asks about the cluster. The "cluster" is this machine: a Deployment is a
// Supervisor of child processes, /scale is its desired count, pods are its replicas, resource metrics
// come from /proc against resources.requests (UsageTracker, metrics-server-like windows), custom pod
// metrics from scraping each ready replica's /metrics, Object/External metrics and KEDA scalers
// from their sources (PromQL mapping, Redis, RabbitMQ, ...), request statistics from the proxy in
// front of the Service. Only sampling lives here; nothing decides.
import type { DecisionEvent, DecisionRecord } from '../../core/decision.ts';
import type { CrossVersionObjectReference, MetricIdentifier, PodInfo } from '../../deciders/hpa/types.ts';
import type { KedaTrigger } from '../../deciders/keda/types.ts';
import type {
  AutoscalerRef, ClusterPort, ConcurrencyStats, ConcurrencyStatsOptions, DemandStats, DemandStatsOptions, ExternalMetricResult, ObjectMetricResult,
  PodMetricsResult, Scale, ScalerMetricResult, ScaleTargetRef,
} from '../../autoscalers/port.ts';
import { selectorString } from '../../autoscalers/port.ts';
import { ProxyDemand } from '../../policies/predictive-shell.ts';
import { createTriggerSource, triggerValue } from '../../sources/index.ts';
import { mappedMetricQuerier } from '../../sources/metric-mapping.ts';
import type { MetricSource } from '../../sources/types.ts';
import type { ProxyStats } from './proxy-types.ts';
import { ProxySampler, SAMPLE_PERIOD_MS } from './sampling.ts';
import type { Replica } from './supervisor.ts';
import type { LabelSelector } from '../../deciders/hpa/types.ts';
import type { PodMetricSample } from '../../deciders/hpa/types.ts';

/** How long one KEDA scaler read may take before it counts as failed. */
const READ_TIMEOUT_MS = 5000;

/** What the port needs of the runtime (LocalRuntime implements it). */
export interface LocalCluster {
  readonly syncPeriodMs: number;
  /** The clock (default Date.now; tests drive a fake one). */
  now?(): number;
  /** Replicas of a Deployment (terminating ones too when asked). */
  replicas(deployment: string, includeTerminating: boolean): Replica[];
  specReplicas(deployment: string): number;
  scaleDeployment(deployment: string, replicas: number): void;
  resourceSample(pod: string, resource: string): PodMetricSample | null;
  scrapePods(deployment: string, metric: string, selector?: LabelSelector): Promise<Map<string, number>>;
  proxyStats(deployment: string): ProxyStats | undefined;
  onRequestDone(deployment: string, fn: (info: { status: number; latencyMs: number; queuedMs: number }) => void): () => void;
  recordDecision(autoscaler: string, record: DecisionRecord): void;
  autoscalerEvent(autoscaler: string, event: DecisionEvent): void;
  log(message: string): void;
}

type ScalerSlot = MetricSource | { error: string };

export class LocalClusterPort implements ClusterPort {
  private readonly rt: LocalCluster;
  private readonly queriers = new Map<string, ReturnType<typeof mappedMetricQuerier>>();
  private readonly scalers = new Map<string, ScalerSlot>();
  private readonly cold = new Map<string, Set<(now: number) => void>>();

  constructor(rt: LocalCluster) { this.rt = rt; }

  now(): number { return this.rt.now ? this.rt.now() : Date.now(); }

  getScale(t: ScaleTargetRef): Scale {
    const active = this.rt.replicas(t.name, false);
    return { specReplicas: this.rt.specReplicas(t.name), statusReplicas: active.length, selector: selectorString(active[0]?.deployment.labels) };
  }

  setScale(t: ScaleTargetRef, replicas: number): void {
    this.rt.scaleDeployment(t.name, replicas);
  }

  listPods(t: ScaleTargetRef): PodInfo[] {
    return this.rt.replicas(t.name, true).map((r) => r.podInfo());
  }

  readyPods(t: ScaleTargetRef): number {
    let n = 0;
    for (const r of this.rt.replicas(t.name, false)) if (r.ready) n++;
    return n;
  }

  resourceMetrics(ref: AutoscalerRef, resource: string, container?: string): PodMetricsResult {
    const dep = ref.target.name;
    const active = this.rt.replicas(dep, false);
    // only the first container runs locally: its usage is the pod's
    if (container !== undefined && active.length && active[0].deployment.container.name !== container) {
      return { kind: 'error', message: `container ${container} not present in the pods of Deployment ${dep}` };
    }
    const samples: PodMetricSample[] = [];
    for (const r of active) { const s = this.rt.resourceSample(r.name, resource); if (s) samples.push(s); }
    if (!samples.length && active.length) return { kind: 'error', message: 'no metrics returned from resource metrics API' };
    return { kind: 'pods', samples };
  }

  async podMetrics(ref: AutoscalerRef, metric: MetricIdentifier): Promise<PodMetricsResult> {
    const now = this.now();
    const values = await this.rt.scrapePods(ref.target.name, metric.name, metric.selector);
    if (!values.size) return { kind: 'error', message: 'no metrics returned from custom metrics API (scraped /metrics of the ready replicas)' };
    const windowSeconds = this.rt.syncPeriodMs / 1000;
    return { kind: 'pods', samples: [...values].map(([pod, v]) => ({ pod, value: Math.round(v * 1000), timestamp: now, windowSeconds })) };
  }

  private querier(ref: AutoscalerRef): ReturnType<typeof mappedMetricQuerier> {
    let q = this.queriers.get(ref.name);
    if (!q) {
      // Object/External: PromQL per metric name from tide-metrics.yaml next to the manifest (docs/custom-metrics.md)
      q = mappedMetricQuerier({ manifestFile: ref.source?.file });
      this.queriers.set(ref.name, q);
    }
    return q;
  }

  objectMetric(ref: AutoscalerRef, _obj: CrossVersionObjectReference, metric: MetricIdentifier): Promise<ObjectMetricResult> {
    return this.querier(ref).object(metric, this.now()) as Promise<ObjectMetricResult>;
  }

  externalMetric(ref: AutoscalerRef, metric: MetricIdentifier): Promise<ExternalMetricResult> {
    return this.querier(ref).external(metric, this.now()) as Promise<ExternalMetricResult>;
  }

  async scalerMetric(ref: AutoscalerRef, trigger: KedaTrigger, index: number): Promise<ScalerMetricResult> {
    const key = `${ref.name}\u0000${index}`;
    let src = this.scalers.get(key);
    if (!src) {
      try { src = createTriggerSource(trigger.type, trigger.metadata, { env: process.env }); } catch (e) { src = { error: (e as Error).message }; }
      this.scalers.set(key, src);
    }
    if ('error' in src) return { kind: 'error', message: src.error };
    const now = this.now();
    try {
      const samples = await src.read(now, AbortSignal.timeout(READ_TIMEOUT_MS));
      return { kind: 'value', value: triggerValue(trigger.type, samples), timestamp: now };
    } catch (e) {
      return { kind: 'error', message: (e as Error).message };
    }
  }

  openConcurrencyStats(ref: AutoscalerRef, opts: ConcurrencyStatsOptions = {}): ConcurrencyStats {
    const dep = ref.target.name;
    const rt = this.rt;
    const sampler = new ProxySampler();
    const snapshot = (now: number) => {
      const st = rt.proxyStats(dep);
      sampler.observe(now, st ? st.inFlight + st.queued : 0, st?.requestsTotal ?? 0);
    };
    const sampleTimer = setInterval(() => snapshot(this.now()), opts.samplePeriodMs ?? SAMPLE_PERIOD_MS);
    sampleTimer.unref?.();
    // One report per second. Each tick re-anchors the reporting phase on itself (closing the second
    // just before deciding, unless a report happened < 0.5 s ago), so the decision always reads a
    // bucket written in its own second — a 1-bucket panic window (window 6-10 s) is never read stale.
    let lastReportAt = -Infinity;
    const readyPods = () => this.readyPods(ref.target);
    const reportNow = (now: number) => {
      snapshot(now);
      sampler.report(now, rt.proxyStats(dep)?.requestsTotal ?? 0, readyPods());
      lastReportAt = now;
    };
    let reportTimer: NodeJS.Timeout | undefined;
    const armReports = () => {
      if (reportTimer) clearInterval(reportTimer);
      reportTimer = setInterval(() => reportNow(this.now()), 1000);
      reportTimer.unref?.();
    };
    armReports();
    // the activator's immediate stat on a cold request
    const onCold = (now: number) => { snapshot(now); sampler.coldRequest(now); };
    this.coldListeners(dep).add(onCold);
    return {
      take(now, reason = 'tick') {
        if (reason === 'tick' && now - lastReportAt >= 500) { reportNow(now); armReports(); }
        return sampler.drain();
      },
      close: () => {
        clearInterval(sampleTimer);
        if (reportTimer) clearInterval(reportTimer);
        this.coldListeners(dep).delete(onCold);
      },
    };
  }

  openDemandStats(ref: AutoscalerRef, opts?: DemandStatsOptions): DemandStats {
    const dep = ref.target.name;
    const demand = new ProxyDemand(opts?.sloMs);
    const unsubscribe = this.rt.onRequestDone(dep, (info) => demand.requestDone(info));
    const snapshot = () => {
      const st = this.rt.proxyStats(dep);
      if (st) demand.snapshot(st);
    };
    snapshot();
    const timer = setInterval(snapshot, 1000);
    timer.unref?.();
    return {
      take: () => demand.take(),
      close: () => { clearInterval(timer); unsubscribe(); },
    };
  }

  /** The activator saw a request with no ready replica of `deployment`: feed the cold stat to its pipelines. */
  coldRequest(deployment: string, now: number): void {
    for (const fn of this.cold.get(deployment) ?? []) fn(now);
  }

  private coldListeners(dep: string): Set<(now: number) => void> {
    let s = this.cold.get(dep);
    if (!s) { s = new Set(); this.cold.set(dep, s); }
    return s;
  }

  record(ref: AutoscalerRef, record: DecisionRecord): void { this.rt.recordDecision(ref.name, record); }
  event(ref: AutoscalerRef, e: DecisionEvent): void { this.rt.autoscalerEvent(ref.name, e); }
  log(message: string): void { this.rt.log(message); }

  /** The autoscaler went away: close what was opened for it (scaler connections). */
  release(name: string): void {
    for (const [k, s] of this.scalers) {
      if (!k.startsWith(`${name}\u0000`)) continue;
      if (!('error' in s)) void s.close().catch(() => {});
      this.scalers.delete(k);
    }
    this.queriers.delete(name);
  }

  close(): void {
    for (const s of this.scalers.values()) if (!('error' in s)) void s.close().catch(() => {});
    this.scalers.clear();
  }
}
