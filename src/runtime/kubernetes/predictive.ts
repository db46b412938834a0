// `tide.dev/policy: predictive` on a cluster: an HPA so annotated is decided by Tide's own policy
// (src/autoscalers/tide.ts, the module `tide up` and the simulator run) instead of the HPA decider.
//
// Inputs. The policy wants per-second demand of the target's Service: arrivals, busy slot-ms, queued
// request-ms (and the service time of finished requests). On one machine `tide up`'s proxy counts
// them; a cluster has no Tide proxy in the request path, so they come from Prometheus, through the
// same PromQL mapping (tide-metrics.yaml / ConfigMap / metrics.tide.dev/* annotations) that serves
// Pods/Object/External metrics without an adapter, under five reserved names:
//
//   tide-arrival-rate     requests arriving per second (required), e.g. sum(rate(http_requests_total{<<.LabelMatchers>>}[30s]))
//   tide-in-flight        requests being served now (gauge), e.g. sum(vllm:num_requests_running{<<.LabelMatchers>>})
//   tide-queued           requests waiting now (gauge, optional: 0 when not mapped)
//   tide-service-seconds  mean service time of finished requests (optional), e.g. rate(..._sum[1m]) / rate(..._count[1m])
//   tide-late-rate        requests per second that missed the policy's latency SLO (optional; what the
//                         window budget learns from; only read when the policy has tide.dev/slo-latency)
//
// One of tide-in-flight / tide-service-seconds is required (busy slots = in-flight, else Little's law
// arrival rate x service time). `<<.LabelMatchers>>` is the target's pod selector (its /scale
// status.selector) as PromQL matchers, `<<.Namespace>>` the HPA's namespace. Every sync the series
// since the previous sync are read with one query_range per name at a 1 s step (the resolution the
// policy's samples have; between two scrapes Prometheus repeats the last value), summed over series,
// and handed to the policy as one DemandSample per second. A failed or empty query is an error, as
// a missing External metric is for the HPA: no decision, no scaling, ScalingActive=False
// FailedGetExternalMetric (active mode) and a Warning event.
//
// The decision (decider 'tide') is recorded like every other (`tide decide --verify` replays it).
// Active mode writes /scale and the HPA status as kube-controller-manager would for a decision it
// made (currentReplicas, desiredReplicas, conditions, lastScaleTime, observedGeneration;
// currentMetrics stays empty: the spec's metrics are not what decided), emits SuccessfulRescale with
// the policy's reason; shadow mode compares the recommendation with upstream's desiredReplicas.
import type { DecisionEvent, DecisionRecord } from '../../core/decision.ts';
import type { HpaPolicy, LabelSelector, MetricIdentifier, CrossVersionObjectReference, PodInfo } from '../../deciders/hpa/types.ts';
import { createAutoscaler } from '../../autoscalers/factory.ts';
import type { AutoscalerRef, ClusterPort, DemandStats, DemandStatsOptions, ScaleTargetRef } from '../../autoscalers/port.ts';
import type { Autoscaler, AutoscalerSpec } from '../../autoscalers/types.ts';
import { predictiveFromAnnotations, wantsPredictive, type DemandSample, type PredictivePolicy, type PredictiveRecord } from '../../policies/predictive.ts';
import { queryFor, type MetricMapping } from '../../sources/metric-mapping.ts';
import { httpGet, redactUrl } from '../../sources/common.ts';
import { parseSelector } from './client.ts';
import type { KubernetesClusterPort } from './port.ts';
import type { ScaleInfo } from './scale.ts';
import { conditionsToK8s, setCondition, type HpaObject, type HpaStatus } from './status.ts';

export const DEMAND_METRICS = {
  arrivalRate: 'tide-arrival-rate',
  inFlight: 'tide-in-flight',
  queued: 'tide-queued',
  serviceSeconds: 'tide-service-seconds',
  lateRate: 'tide-late-rate',
} as const;

/** How far back the first sync of a predictive HPA reads (the policy's windows start filled). */
export const DEMAND_BACKFILL_MS = 60_000;
/** Longest span one sync reads (after a long outage only the latest part matters). */
const DEMAND_MAX_SPAN_MS = 10 * 60_000;

export type PredictiveSpec = { ok: true; spec: AutoscalerSpec; key: string } | { ok: false; problem: string };

/** The predictive autoscaler spec of an annotated HPA; undefined for an HPA that keeps the HPA decider. */
export function predictiveSpecFor(hpa: HpaObject, policy: HpaPolicy, namespace: string): PredictiveSpec | undefined {
  const ann = hpa.metadata?.annotations ?? {};
  if (!wantsPredictive(ann)) return undefined;
  const ref = policy.scaleTargetRef;
  let p: PredictivePolicy;
  try {
    p = predictiveFromAnnotations(ann, { name: hpa.metadata?.name ?? '', target: `${ref.kind}/${ref.name}`, minReplicas: policy.minReplicas, maxReplicas: policy.maxReplicas });
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  const tideAnn = Object.fromEntries(Object.entries(ann).filter(([k]) => k.startsWith('tide.dev/') && k !== 'tide.dev/mode'));
  return {
    ok: true,
    key: JSON.stringify([hpa.metadata?.generation ?? 0, tideAnn]),
    spec: { kind: 'tide', name: hpa.metadata?.name ?? '', namespace, target: { ...ref, namespace }, policy: p, annotations: ann },
  };
}

/** A scale's string selector ("app=x,tier in (a,b)") as a LabelSelector, for <<.LabelMatchers>>. */
export function selectorFromString(s: string): LabelSelector {
  const sel: LabelSelector = {};
  for (const r of parseSelector(s)) {
    if (r.op === '=') (sel.matchLabels ??= {})[r.key] = r.values[0] ?? '';
    else {
      const operator = r.op === 'in' ? 'In' : r.op === 'notin' || r.op === '!=' ? 'NotIn' : r.op === 'exists' ? 'Exists' : 'DoesNotExist';
      (sel.matchExpressions ??= []).push({ key: r.key, operator, ...(r.values.length ? { values: r.values } : {}) } as NonNullable<LabelSelector['matchExpressions']>[number]);
    }
  }
  return sel;
}

interface RangeResult { [t: number]: number }

/** GET /api/v1/query_range, summed over the result's series: second (epoch ms) -> value. */
async function queryRange(server: string, query: string, startMs: number, endMs: number): Promise<{ values: RangeResult; series: number }> {
  const u = new URL(`${server.replace(/\/+$/, '')}/api/v1/query_range`);
  u.searchParams.set('query', query);
  u.searchParams.set('start', String(startMs / 1000));
  u.searchParams.set('end', String(endMs / 1000));
  u.searchParams.set('step', '1');
  const who = `prometheus ${redactUrl(server)}`;
  const res = await httpGet(who, u.toString(), { timeoutMs: 5000 });
  if (res.status < 200 || res.status > 299) throw new Error(`${who}: query_range ${JSON.stringify(query)} answered HTTP ${res.status}`);
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: { values?: [number, string][] }[] } };
  try { body = JSON.parse(res.body); } catch { throw new Error(`${who}: query_range answered invalid JSON`); }
  if (body.status !== 'success' || body.data?.resultType !== 'matrix') throw new Error(`${who}: query ${JSON.stringify(query)} failed: ${body.error ?? body.data?.resultType ?? body.status}`);
  const values: RangeResult = {};
  const result = body.data.result ?? [];
  for (const s of result) {
    for (const [t, v] of s.values ?? []) {
      const x = Number(v);
      if (!Number.isFinite(x)) continue;
      const k = Math.round(t * 1000);
      values[k] = (values[k] ?? 0) + x;
    }
  }
  return { values, series: result.length };
}

/**
 * The policy's DemandStats from Prometheus. `fetch` (async, before each sync) reads the seconds since
 * the previous fetch; `take` (what the autoscaler calls during the sync) hands them over.
 */
export class PrometheusDemand implements DemandStats {
  /**
   * The policy's latency SLO (ms), from openDemandStats: the late-request rate is reported as counted
   * for it (the query is the user's statement of who missed it). Without an SLO nothing is late.
   */
  sloMs: number | undefined;
  private pending: DemandSample[] = [];
  private queued = 0;
  private inFlight: number | undefined;
  /** Start of the last second already handed over. */
  private lastSecond: number | undefined;
  /** What the last fetch read (for logs and the decision's explanation). */
  lastRead: { queries: Record<string, string>; seconds: number } | undefined;

  async fetch(now: number, mapping: MetricMapping, selector: string, namespace: string): Promise<void> {
    const sel = selectorFromString(selector);
    const q = (name: string, required: boolean): { server: string; query: string } | undefined => {
      if (!required && !mapping.metrics[name]) return undefined;
      const r = queryFor(mapping, name, sel);
      return { server: r.server, query: r.query.replaceAll('<<.Namespace>>', namespace) };
    };
    const arrivals = q(DEMAND_METRICS.arrivalRate, true)!;
    const inFlight = q(DEMAND_METRICS.inFlight, false);
    const service = q(DEMAND_METRICS.serviceSeconds, false);
    const queued = q(DEMAND_METRICS.queued, false);
    const late = this.sloMs !== undefined ? q(DEMAND_METRICS.lateRate, false) : undefined;
    if (!inFlight && !service) {
      throw new Error(`the predictive policy needs ${DEMAND_METRICS.inFlight} or ${DEMAND_METRICS.serviceSeconds} in the metrics mapping (busy slots = requests in flight, or arrival rate x service time)`);
    }
    // whole seconds that are over; Prometheus' last scrape may lag a little, which the 1 s step absorbs
    const end = Math.floor(now / 1000) * 1000 - 1000;
    let start = this.lastSecond === undefined ? end - DEMAND_BACKFILL_MS : this.lastSecond + 1000;
    if (end - start > DEMAND_MAX_SPAN_MS) start = end - DEMAND_MAX_SPAN_MS;
    if (start > end) return;
    const [a, f, s, w, l] = await Promise.all([arrivals, inFlight, service, queued, late].map((x) => (x ? queryRange(x.server, x.query, start, end) : Promise.resolve(undefined))));
    if (!a || a.series === 0) throw new Error(`${DEMAND_METRICS.arrivalRate}: query ${arrivals.query} returned no series`);
    if (inFlight && f!.series === 0) throw new Error(`${DEMAND_METRICS.inFlight}: query ${inFlight.query} returned no series`);
    // a late count read as 0 from a mistyped query would shrink the window on misses it cannot see
    if (late && l!.series === 0) throw new Error(`${DEMAND_METRICS.lateRate}: query ${late.query} returned no series`);
    const samples: DemandSample[] = [];
    for (let t = start; t <= end; t += 1000) {
      const rate = a.values[t] ?? 0;
      const svc = s?.values[t];
      const busy = f ? (f.values[t] ?? 0) : rate * (svc ?? 0);
      const smp: DemandSample = { t, arrivals: rate, busyMs: busy * 1000, queuedMs: (w?.values[t] ?? 0) * 1000 };
      if (svc !== undefined && rate > 0) { smp.started = rate; smp.startedServiceMs = rate * svc * 1000; }
      if (l) { smp.late = Math.max(0, l.values[t] ?? 0); smp.lateSloMs = this.sloMs; }
      samples.push(smp);
    }
    const lastT = samples.length ? samples[samples.length - 1].t : end;
    this.queued = w?.values[lastT] ?? 0;
    this.inFlight = f ? (f.values[lastT] ?? 0) : undefined;
    this.pending.push(...samples);
    this.lastSecond = end;
    this.lastRead = { queries: Object.fromEntries([[DEMAND_METRICS.arrivalRate, arrivals.query], ...[[DEMAND_METRICS.inFlight, inFlight], [DEMAND_METRICS.serviceSeconds, service], [DEMAND_METRICS.queued, queued], [DEMAND_METRICS.lateRate, late]].filter(([, x]) => x).map(([k, x]) => [k, (x as { query: string }).query])]), seconds: samples.length };
  }

  take(_now: number): { samples: DemandSample[]; queued: number; inFlight: number } {
    const samples = this.pending;
    this.pending = [];
    return { samples, queued: this.queued, inFlight: this.inFlight ?? Math.round(samples.length ? samples[samples.length - 1].busyMs / 1000 : 0) };
  }

  close(): void { this.pending = []; }
}

/** The cluster port of one HPA, plus the demand stats the predictive policy reads. */
class PredictivePort implements ClusterPort {
  private readonly base: KubernetesClusterPort;
  private readonly demand: PrometheusDemand;
  constructor(base: KubernetesClusterPort, demand: PrometheusDemand) {
    this.base = base;
    this.demand = demand;
  }
  now(): number { return this.base.now(); }
  getScale(t: ScaleTargetRef) { return this.base.getScale(t); }
  setScale(t: ScaleTargetRef, n: number) { return this.base.setScale(t, n); }
  listPods(t: ScaleTargetRef): PodInfo[] { return this.base.listPods(t); }
  readyPods(t: ScaleTargetRef): number { return this.base.readyPods(t); }
  resourceMetrics(ref: AutoscalerRef, resource: string, container?: string) { return this.base.resourceMetrics(ref, resource, container); }
  podMetrics(ref: AutoscalerRef, m: MetricIdentifier) { return this.base.podMetrics(ref, m); }
  objectMetric(ref: AutoscalerRef, o: CrossVersionObjectReference, m: MetricIdentifier) { return this.base.objectMetric(ref, o, m); }
  externalMetric(ref: AutoscalerRef, m: MetricIdentifier) { return this.base.externalMetric(ref, m); }
  openDemandStats(_ref: AutoscalerRef, opts?: DemandStatsOptions): DemandStats {
    this.demand.sloMs = opts?.sloMs;
    return this.demand;
  }
  record(ref: AutoscalerRef, r: DecisionRecord): void { this.base.record(ref, r); }
  event(ref: AutoscalerRef, e: DecisionEvent): void { this.base.event(ref, e); }
}

interface PredictiveState { key: string; active: boolean; autoscaler: Autoscaler; demand: PrometheusDemand }
const states = new WeakMap<object, PredictiveState>();

/** What the controller lends the predictive path (its own writers, so status and events look alike). */
export interface PredictiveHost {
  emit(hpa: HpaObject, e: { type: 'Normal' | 'Warning'; reason: string; message: string }): Promise<void>;
  writeStatus(hpa: HpaObject, status: HpaStatus): Promise<void>;
  appendRecord(r: DecisionRecord): void;
  shadow(hpa: HpaObject, r: PredictiveRecord): Promise<void>;
  /** A rescale through /scale happened (bookkeeping of the never-fight check and metrics). */
  rescaled(r: PredictiveRecord): void;
  log(level: 'info' | 'warn', msg: string): void;
  tickMs?: number;
}

export interface PredictiveSync {
  /** The per-HPA entry (the module keeps its autoscaler and demand stats keyed by it). */
  entry: { port: KubernetesClusterPort; lastError?: string; last?: unknown };
  hpa: HpaObject;
  spec: PredictiveSpec;
  scale: ScaleInfo;
  pods: PodInfo[];
  mapping: MetricMapping;
  namespace: string;
  active: boolean;
  now: number;
}

/** Forget a predictive HPA's memory (it was deleted, or lost the annotation). */
export function closePredictive(entry: object): void {
  states.get(entry)?.autoscaler.close();
  states.delete(entry);
}

/** One reconcile of a predictive HPA; the result label for tide_k8s_syncs_total. */
export async function syncPredictive(host: PredictiveHost, s: PredictiveSync): Promise<string> {
  const { hpa, entry, active, now } = s;
  const nowDate = new Date(now);
  if (!s.spec.ok) {
    const msg = `the HPA spec cannot be used: ${s.spec.problem}`;
    if (entry.lastError !== msg) {
      entry.lastError = msg;
      host.log('warn', msg);
      if (active) {
        await host.emit(hpa, { type: 'Warning', reason: 'InvalidSpec', message: msg });
        await host.writeStatus(hpa, setCondition(hpa.status ?? { currentReplicas: s.scale.specReplicas, desiredReplicas: s.scale.specReplicas }, { type: 'ScalingActive', status: 'False', reason: 'InvalidSpec', message: msg }, nowDate));
      }
    }
    return 'invalid';
  }
  let st = states.get(entry);
  if (!st || st.key !== s.spec.key || st.active !== active) {
    const demand = new PrometheusDemand();
    const port = new PredictivePort(entry.port, demand);
    const autoscaler = createAutoscaler(s.spec.spec, port, { dryRun: !active, config: { tickIntervalMs: host.tickMs ?? 2000 } });
    if (st) {
      // a changed annotation or mode: the policy's memory carries over
      try { autoscaler.restore(st.autoscaler.snapshot()); } catch { /* another policy shape: start fresh */ }
      st.autoscaler.close();
    }
    st = { key: s.spec.key, active, autoscaler, demand };
    states.set(entry, st);
  }
  entry.port.begin({ now, namespace: s.namespace, scale: s.scale, pods: s.pods, mapping: s.mapping });

  // 1. the demand inputs, from Prometheus
  try {
    await st.demand.fetch(now, s.mapping, s.scale.selector ?? '', s.namespace);
  } catch (e) {
    const msg = `unable to get the predictive policy's demand inputs: ${(e as Error).message}`;
    entry.lastError = msg;
    host.log('warn', msg);
    if (active) {
      await host.emit(hpa, { type: 'Warning', reason: 'FailedGetExternalMetric', message: msg });
      let status: HpaStatus = { ...(hpa.status ?? { desiredReplicas: s.scale.specReplicas }), currentReplicas: s.scale.specReplicas };
      status = setCondition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' }, nowDate);
      status = setCondition(status, { type: 'ScalingActive', status: 'False', reason: 'FailedGetExternalMetric', message: `the HPA was unable to compute the replica count: ${msg}` }, nowDate);
      await host.writeStatus(hpa, status);
    }
    return 'failed-get-metrics';
  }

  // 2. the shared autoscaler decides (and, active, writes /scale)
  const record = (await st.autoscaler.sync(now)) as PredictiveRecord | null;
  if (!record) return 'none';
  entry.last = record;
  entry.lastError = undefined;
  for (const r of entry.port.records) host.appendRecord(r);
  if (!active) {
    await host.shadow(hpa, record);
    return 'shadow';
  }
  const rescaled = entry.port.rescaledTo !== undefined;
  if (rescaled) host.rescaled(record);
  const failed = entry.port.events.find((e) => e.reason === 'FailedRescale');
  if (record.rescale && !rescaled) {
    const err = failed?.message.replace(/^.*; error: /, '') ?? 'unknown error';
    await host.emit(hpa, { type: 'Warning', reason: 'FailedRescale', message: `New size: ${record.desiredReplicas}; reason: ${record.explanation}; error: ${err}` });
    const status = setCondition(predictiveStatus(hpa, record, false), { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${err}` }, nowDate);
    await host.writeStatus(hpa, status);
    return 'failed-rescale';
  }
  if (rescaled) for (const e of record.events) await host.emit(hpa, e);
  await host.writeStatus(hpa, predictiveStatus(hpa, record, rescaled));
  return rescaled ? 'rescaled' : 'ok';
}

/** The HPA status after a predictive decision, in kube-controller-manager's shape. */
export function predictiveStatus(hpa: HpaObject, record: PredictiveRecord, rescaled: boolean): HpaStatus {
  const prev = hpa.status;
  const t = record.time;
  const lim = record.limitedBy;
  const conds = [
    rescaled
      ? { type: 'AbleToScale', status: 'True' as const, reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${record.desiredReplicas}` }
      : { type: 'AbleToScale', status: 'True' as const, reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
    { type: 'ScalingActive', status: 'True' as const, reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from tide/predicted-concurrency (tide.dev/policy: predictive): ${record.explanation}` },
    lim.includes('max')
      ? { type: 'ScalingLimited', status: 'True' as const, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }
      : lim.includes('min')
        ? { type: 'ScalingLimited', status: 'True' as const, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }
        : { type: 'ScalingLimited', status: 'False' as const, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
  ];
  // lastTransitionTime changes only with the status (upstream setCondition)
  let status: HpaStatus = { currentReplicas: record.currentReplicas, desiredReplicas: record.desiredReplicas, currentMetrics: [], conditions: prev?.conditions ?? [] };
  for (const c of conds) status = setCondition(status, c, new Date(t));
  status.conditions = (status.conditions ?? []).filter((c) => conds.some((x) => x.type === c.type));
  if (!status.conditions.length) status.conditions = conditionsToK8s(conds, t);
  if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
  const last = rescaled ? new Date(record.now) : prev?.lastScaleTime;
  if (last) status.lastScaleTime = new Date(last as unknown as string);
  return status;
}
