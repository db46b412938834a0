// The Kubernetes shell's side of the autoscaler port (src/autoscalers/port.ts): what an autoscaler
// (the shared HPA module) sees of a real cluster. One port per HPA object; before each sync the
// controller hands it what it already read this round (the /scale answer, the pods from the informer
// by the scale's selector); metrics are fetched on demand (metrics.k8s.io; custom/external metrics
// APIs when served, else PromQL through the mapping). Writes: /scale (resourceVersion-checked, 409
// retried); records and events are collected for the controller, which publishes them after the
// sync together with the HPA status (as kube-controller-manager does at the end of a reconcile).
import type { DecisionEvent, DecisionRecord } from '../../core/decision.ts';
import type { CrossVersionObjectReference, MetricIdentifier, MetricSpec, PodInfo } from '../../deciders/hpa/types.ts';
import type {
  AutoscalerRef, ClusterPort, ExternalMetricResult, ObjectMetricResult, PodMetricsResult, Scale, ScaleTargetRef,
} from '../../autoscalers/port.ts';
import type { MetricMapping } from '../../sources/metric-mapping.ts';
import type { Apis } from './client.ts';
import { observeCustom, type ResourceMetrics } from './observe.ts';
import { updateScale, type ScaleInfo } from './scale.ts';

export interface SyncContext {
  now: number;
  namespace: string;
  scale: ScaleInfo;
  pods: PodInfo[];
  /** Names of `pods` (filled on first use). */
  podNames?: Set<string>;
  mapping: MetricMapping;
}

/** Gates of a replica that may lose leadership: `allowed` is checked before every write, `beforeScale` runs before a /scale write (Tide persists the HPA's memory there first). */
export interface PortHooks {
  allowed?: () => boolean;
  beforeScale?: () => Promise<void>;
}

export class KubernetesClusterPort implements ClusterPort {
  private readonly apis: Apis;
  private readonly resource: ResourceMetrics;
  private readonly served: () => { custom: boolean; external: boolean };
  private readonly fieldManager: string;
  private ctx: SyncContext | undefined;
  private readonly hooks: PortHooks;
  /** Set by setScale during the current sync. */
  rescaledTo: number | undefined;
  records: DecisionRecord[] = [];
  events: DecisionEvent[] = [];

  constructor(apis: Apis, resource: ResourceMetrics, served: () => { custom: boolean; external: boolean }, fieldManager: string, hooks: PortHooks = {}) {
    this.hooks = hooks;
    this.apis = apis;
    this.resource = resource;
    this.served = served;
    this.fieldManager = fieldManager;
  }

  /** Start a sync with what the controller read already. */
  begin(ctx: SyncContext): void {
    this.ctx = ctx;
    this.rescaledTo = undefined;
    this.records = [];
    this.events = [];
  }

  private get c(): SyncContext {
    if (!this.ctx) throw new Error('KubernetesClusterPort used outside a sync');
    return this.ctx;
  }

  now(): number { return this.ctx?.now ?? Date.now(); }

  getScale(_t: ScaleTargetRef): Scale {
    const s = this.c.scale;
    return { specReplicas: s.specReplicas, statusReplicas: s.statusReplicas, ...(s.selector ? { selector: s.selector } : {}) };
  }

  async setScale(t: ScaleTargetRef, replicas: number): Promise<void> {
    const c = this.c;
    const allowed = this.hooks.allowed;
    if (allowed && !allowed()) throw new Error('this replica is not the leader (any more): not writing the scale');
    await this.hooks.beforeScale?.();
    const ok = await updateScale(this.apis, c.namespace, t, c.scale, replicas, this.fieldManager, allowed);
    if (!ok) throw new Error(`the replicas of ${t.kind}/${t.name} were changed by another writer during the update; not overriding them`);
    this.rescaledTo = replicas;
  }

  listPods(_t: ScaleTargetRef): PodInfo[] { return this.c.pods; }

  readyPods(_t: ScaleTargetRef): number {
    let n = 0;
    for (const p of this.c.pods) if (p.deletionTimestamp === undefined && p.ready?.status === 'True') n++;
    return n;
  }

  resourceMetrics(_ref: AutoscalerRef, resource: string, container?: string): Promise<PodMetricsResult> | PodMetricsResult {
    const c = this.c;
    if (!c.scale.selector) return { kind: 'error', message: "the HPA target's scale is missing a selector" };
    c.podNames ??= new Set(c.pods.map((p) => p.name));
    return this.resource.observe(c.namespace, c.podNames, resource, container) as Promise<PodMetricsResult>;
  }

  private custom(spec: MetricSpec): Promise<PodMetricsResult | ObjectMetricResult | ExternalMetricResult> {
    const c = this.c;
    return observeCustom(this.apis, this.served(), c.namespace, c.scale.selector ?? '', spec, c.mapping, c.now) as Promise<PodMetricsResult | ObjectMetricResult | ExternalMetricResult>;
  }

  podMetrics(_ref: AutoscalerRef, metric: MetricIdentifier): Promise<PodMetricsResult> {
    return this.custom({ type: 'Pods', pods: { metric, target: { type: 'AverageValue' } } }) as Promise<PodMetricsResult>;
  }

  objectMetric(_ref: AutoscalerRef, describedObject: CrossVersionObjectReference, metric: MetricIdentifier): Promise<ObjectMetricResult> {
    return this.custom({ type: 'Object', object: { describedObject, metric, target: { type: 'Value' } } }) as Promise<ObjectMetricResult>;
  }

  externalMetric(_ref: AutoscalerRef, metric: MetricIdentifier): Promise<ExternalMetricResult> {
    return this.custom({ type: 'External', external: { metric, target: { type: 'Value' } } }) as Promise<ExternalMetricResult>;
  }

  record(_ref: AutoscalerRef, record: DecisionRecord): void { this.records.push(record); }

  event(_ref: AutoscalerRef, event: DecisionEvent): void { this.events.push(event); }
}
