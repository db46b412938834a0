// What Tide writes in active mode, shaped exactly as kube-controller-manager writes it: the HPA's
// status subresource (currentReplicas, desiredReplicas, currentMetrics, conditions, lastScaleTime,
// observedGeneration) and core/v1 Events on the HPA (SuccessfulRescale, FailedGetResourceMetric, …),
// aggregated like client-go's event correlator (same reason+message: count++ and lastTimestamp).
import { hostname } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Condition, DecisionEvent } from '../../core/decision.ts';
import type { HpaDecisionRecord, MetricObservation, MetricSpec } from '../../deciders/hpa/types.ts';
import { formatMilli } from '../../deciders/hpa/format.ts';
import type { Apis } from './client.ts';
import { apiCode, MERGE_PATCH } from './client.ts';

export type HpaObject = k8s.V2HorizontalPodAutoscaler;
export type HpaStatus = NonNullable<k8s.V2HorizontalPodAutoscaler['status']>;

function quantityFromCurrent(s: string): string | undefined {
  return s === '<unknown>' || s === '' ? undefined : s.replace(/ \(avg\)$/, '');
}

function avgSample(obs: MetricObservation | undefined): number | undefined {
  if (!obs || obs.kind !== 'pods' || obs.samples.length === 0) return undefined;
  let sum = 0;
  for (const s of obs.samples) sum += s.value;
  return Math.round(sum / obs.samples.length);
}

/** status.currentMetrics from a decision: one entry per metric spec, empty for metrics that failed (as upstream). */
export function currentMetricsOf(record: HpaDecisionRecord): k8s.V2MetricStatus[] {
  const specs: MetricSpec[] = record.inputs.policy.metrics;
  const obs = record.inputs.observation.metrics;
  return specs.map((spec, i) => {
    const p = record.proposals[i];
    if (!p || p.proposedReplicas === null || p.error) return { type: '' } as k8s.V2MetricStatus;
    const cur = quantityFromCurrent(p.current);
    switch (spec.type) {
      case 'Resource':
      case 'ContainerResource': {
        const t = spec.type === 'Resource' ? spec.resource.target : spec.containerResource.target;
        const current: k8s.V2MetricValueStatus = {};
        if (t.type === 'Utilization') {
          current.averageUtilization = Number.parseInt(p.current, 10);
          // upstream's rawProposal: the decider's int64 average over the pods it counted
          const raw = (p.detail as { usageMilli?: unknown } | undefined)?.usageMilli;
          const avg = typeof raw === 'number' && Number.isFinite(raw) ? raw : avgSample(obs[i]);
          if (avg !== undefined) current.averageValue = formatMilli(avg);
        } else if (cur) current.averageValue = cur;
        return spec.type === 'Resource'
          ? { type: 'Resource', resource: { name: spec.resource.name, current } }
          : { type: 'ContainerResource', containerResource: { name: spec.containerResource.name, container: spec.containerResource.container, current } };
      }
      case 'Pods':
        return { type: 'Pods', pods: { metric: { name: spec.pods.metric.name, ...(spec.pods.metric.selector ? { selector: spec.pods.metric.selector } : {}) }, current: { ...(cur ? { averageValue: cur } : {}) } } };
      case 'Object': {
        const o = spec.object;
        const current: k8s.V2MetricValueStatus = o.target.type === 'AverageValue' ? { ...(cur ? { averageValue: cur } : {}) } : { ...(cur ? { value: cur } : {}) };
        return { type: 'Object', object: { describedObject: o.describedObject as k8s.V2CrossVersionObjectReference, metric: { name: o.metric.name, ...(o.metric.selector ? { selector: o.metric.selector } : {}) }, current } };
      }
      case 'External': {
        const e = spec.external;
        const current: k8s.V2MetricValueStatus = e.target.type === 'AverageValue' ? { ...(cur ? { averageValue: cur } : {}) } : { ...(cur ? { value: cur } : {}) };
        return { type: 'External', external: { metric: { name: e.metric.name, ...(e.metric.selector ? { selector: e.metric.selector } : {}) }, current } };
      }
    }
    return { type: '' } as k8s.V2MetricStatus;
  });
}

export function conditionsToK8s(conds: Condition[], nowIso: string): k8s.V2HorizontalPodAutoscalerCondition[] {
  return conds.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: new Date(c.lastTransitionTime ?? nowIso) }));
}

/** Conditions of a live HPA status in the decider's shape (so lastTransitionTime stays stable across controller restarts). */
export function conditionsFromK8s(status: HpaStatus | undefined): Condition[] | undefined {
  const list = status?.conditions;
  if (!list?.length) return undefined;
  return list.map((c) => ({
    type: c.type,
    status: c.status as Condition['status'],
    reason: c.reason ?? '',
    message: c.message ?? '',
    ...(c.lastTransitionTime ? { lastTransitionTime: new Date(c.lastTransitionTime as unknown as string).toISOString() } : {}),
  }));
}

/** The status kube-controller-manager would write after this decision. */
export function statusFromRecord(hpa: HpaObject, record: HpaDecisionRecord, rescaled: boolean): HpaStatus {
  const prev = hpa.status;
  const invalid = record.details.path === 'invalid-metrics';
  const status: HpaStatus = {
    currentReplicas: record.currentReplicas,
    // upstream keeps the previous desiredReplicas when no metric could be computed
    desiredReplicas: invalid ? (prev?.desiredReplicas ?? record.currentReplicas) : record.desiredReplicas,
    currentMetrics: currentMetricsOf(record),
    conditions: conditionsToK8s(record.conditions, record.time),
  };
  if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
  const last = rescaled ? new Date(record.now) : prev?.lastScaleTime;
  if (last) status.lastScaleTime = new Date(last as unknown as string);
  return status;
}

/** Set one condition in a status (upstream setCondition: lastTransitionTime changes only with the status). */
export function setCondition(status: HpaStatus, c: Condition, now: Date): HpaStatus {
  const list = [...(status.conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: k8s.V2HorizontalPodAutoscalerCondition = {
    type: c.type, status: c.status, reason: c.reason, message: c.message,
    lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
  };
  if (i >= 0) list[i] = next; else list.push(next);
  return { ...status, conditions: list };
}

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A resource.Quantity string as a number (12 significant digits), or undefined when it is not one. */
export function quantityValue(q: string): number | undefined {
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const v = Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : m[3] ? SUFFIX[m[3]]! : 1);
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : undefined;
}

/** A metav1.Time as the apiserver stores it: RFC 3339 with whole seconds. */
function timeSeconds(v: unknown): string | unknown {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? v : new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

const TIME_KEYS = new Set(['lastTransitionTime', 'lastScaleTime']);
const QUANTITY_KEYS = new Set(['value', 'averageValue']);

// Go's zero values equal missing fields (omitempty), and Semantic.DeepEqual treats nil and empty
// slices/maps alike: drop undefined, null, '', [] and {}; sort keys; quantities by value; times to seconds.
function normalize(v: unknown, key = ''): unknown {
  if (v === undefined || v === null || v === '') return undefined;
  if (TIME_KEYS.has(key)) return timeSeconds(v);
  if (QUANTITY_KEYS.has(key) && typeof v === 'string') return quantityValue(v) ?? v;
  if (Array.isArray(v)) {
    const a = v.map((x) => normalize(x) ?? {});
    return a.length ? a : undefined;
  }
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const n = normalize((v as Record<string, unknown>)[k], k);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v;
}

/** A status in the normalized shape statusEqual compares (JSON text). */
export function normalizedStatus(s: HpaStatus | undefined): string {
  if (!s) return '';
  // currentReplicas and desiredReplicas are plain int32 fields: missing is 0
  return JSON.stringify(normalize({ ...s, currentReplicas: s.currentReplicas ?? 0, desiredReplicas: s.desiredReplicas ?? 0 }) ?? {});
}

/**
 * apiequality.Semantic.DeepEqual of two HPA statuses as upstream's updateStatusIfNeeded uses it:
 * field order, quantity spelling ("500m" = "0.5"), sub-second time precision the apiserver does not
 * store, and empty-vs-missing fields do not count; list order and every value do.
 */
export function statusEqual(a: HpaStatus | undefined, b: HpaStatus | undefined): boolean {
  return normalizedStatus(a) === normalizedStatus(b);
}

// the informer's status objects do not change (an update brings a new object): normalize each once
const normalizedStored = new WeakMap<HpaStatus, string>();
function storedNormalized(s: HpaStatus): string {
  let n = normalizedStored.get(s);
  if (n === undefined) { n = normalizedStatus(s); normalizedStored.set(s, n); }
  return n;
}

/**
 * Write the status subresource when it differs (upstream updateStatusIfNeeded). Returns 'written',
 * 'unchanged' or 'gone' (the HPA was deleted meanwhile).
 */
export async function writeStatus(apis: Apis, hpa: HpaObject, status: HpaStatus, fieldManager: string): Promise<'written' | 'unchanged' | 'gone'> {
  if (hpa.status && storedNormalized(hpa.status) === normalizedStatus(status)) return 'unchanged';
  const ns = hpa.metadata!.namespace!;
  const name = hpa.metadata!.name!;
  try {
    apis.requests.set('update hpa status', (apis.requests.get('update hpa status') ?? 0) + 1);
    // a merge patch of the whole status: lists (conditions, currentMetrics) are replaced, as by an update
    await apis.autoscaling.patchNamespacedHorizontalPodAutoscalerStatus({ name, namespace: ns, body: { status: { ...status, currentMetrics: status.currentMetrics?.length ? status.currentMetrics : null } }, fieldManager }, MERGE_PATCH);
    return 'written';
  } catch (e) {
    if (apiCode(e) === 404) return 'gone';
    throw e;
  }
}

interface EventKey { uid: string; reason: string; message: string; type: string }
/** The object an Event is about (its involvedObject). */
export interface EventSubject { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string } }

/** core/v1 Events on HPAs, aggregated per (object, type, reason, message) like client-go does. */
export class EventRecorder {
  private readonly apis: Apis;
  private readonly component: string;
  private readonly seen = new Map<string, { name: string; count: number; first: Date }>();
  constructor(apis: Apis, component = 'tide-controller') {
    this.apis = apis;
    this.component = component;
  }

  /** An Event on an HPA. */
  emit(hpa: HpaObject, e: DecisionEvent): Promise<void> {
    return this.emitOn({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: hpa.metadata }, e);
  }

  /** An Event on any object (HPAs, ScaledObjects), aggregated by (object, type, reason, message) as client-go's recorder does. */
  async emitOn(obj: EventSubject, e: DecisionEvent): Promise<void> {
    const meta = obj.metadata;
    const ns = meta?.namespace ?? 'default';
    const k: EventKey = { uid: meta?.uid ?? '', reason: e.reason, message: e.message, type: e.type };
    const key = JSON.stringify(k);
    const now = new Date();
    const prev = this.seen.get(key);
    this.apis.requests.set('event', (this.apis.requests.get('event') ?? 0) + 1);
    if (prev) {
      prev.count++;
      try {
        await this.apis.core.patchNamespacedEvent({ name: prev.name, namespace: ns, body: { count: prev.count, lastTimestamp: now } }, MERGE_PATCH);
        return;
      } catch (err) {
        if (apiCode(err) !== 404) throw err;
        this.seen.delete(key); // expired (events have a TTL): create anew
      }
    }
    const name = `${meta?.name ?? obj.kind.toLowerCase()}.${(now.getTime() * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`;
    await this.apis.core.createNamespacedEvent({
      namespace: ns,
      body: {
        metadata: { name, namespace: ns },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: meta?.name, namespace: ns, uid: meta?.uid, resourceVersion: meta?.resourceVersion },
        reason: e.reason,
        message: e.message,
        type: e.type,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: hostname(),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
    this.seen.set(key, { name, count: 1, first: now });
    if (this.seen.size > 10_000) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Forget aggregation state of a deleted object. */
  forget(uid: string): void {
    for (const k of [...this.seen.keys()]) if (k.includes(`"uid":"${uid}"`)) this.seen.delete(k);
  }
}
