// The HorizontalPodAutoscaler, as kube-controller-manager's HPA controller runs one object: every sync
// period GET /scale, list the target's pods, fetch each metric from its API (resource metrics,
// custom pods/object metrics, external metrics), run the pure decider (src/deciders/hpa) with the
// recommendation history and scale events it remembers, write /scale when it rescales, and record
// the decision (conditions, events, the explanation `describe` shows).
import { decideHpa, emptyHpaState } from '../deciders/hpa/decide.ts';
import { formatMilli } from '../deciders/hpa/format.ts';
import type { HpaControllerConfig, HpaDecisionRecord, HpaObservation, HpaPolicy, HpaState, MetricObservation, MetricSpec, MetricTarget, PodInfo } from '../deciders/hpa/types.ts';
import type { MetricPoint } from './types.ts';
import type { DecisionRecord } from '../core/decision.ts';
import type { AutoscalerRef, ClusterPort, Maybe, Scale } from './port.ts';
import type { Autoscaler, AutoscalerOptions, AutoscalerSnapshot, AutoscalerSpec } from './types.ts';
import { all, Core, kubectlTargets, referenceOf, SyncGuard, then } from './common.ts';

/** The HPA controller's default sync period (--horizontal-pod-autoscaler-sync-period). */
export const HPA_SYNC_PERIOD_MS = 15_000;

/** What upstream uses when spec.metrics is empty: cpu at 80 % of request. */
const DEFAULT_METRICS: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];

export function formatTarget(t: MetricTarget): string {
  if (t.type === 'Utilization') return `${t.averageUtilization ?? 0}%`;
  if (t.type === 'AverageValue') return formatMilli(t.averageValue ?? 0);
  return formatMilli(t.value ?? 0);
}

/** describe's name for a metric spec, as kubectl prints it. */
export function metricSpecName(m: MetricSpec): { name: string; target: string } {
  switch (m.type) {
    case 'Resource': return { name: `resource ${m.resource.name} on pods${m.resource.target.type === 'Utilization' ? '  (as a percentage of request)' : ''}`, target: formatTarget(m.resource.target) };
    case 'ContainerResource': return { name: `resource ${m.containerResource.name} of container "${m.containerResource.container}" on pods${m.containerResource.target.type === 'Utilization' ? '  (as a percentage of request)' : ''}`, target: formatTarget(m.containerResource.target) };
    case 'Pods': return { name: `"${m.pods.metric.name}" on pods`, target: formatTarget(m.pods.target) };
    case 'Object': return { name: `"${m.object.metric.name}" on ${m.object.describedObject.kind}/${m.object.describedObject.name}`, target: formatTarget(m.object.target) };
    case 'External': return { name: `"${m.external.metric.name}" (external metric)`, target: formatTarget(m.external.target) };
  }
}

/** One metric spec through the port, as the HPA's metrics client fetches it. */
export function observeHpaMetric(port: ClusterPort, ref: AutoscalerRef, m: MetricSpec): Maybe<MetricObservation> {
  switch (m.type) {
    case 'Resource': return port.resourceMetrics(ref, m.resource.name);
    case 'ContainerResource': return port.resourceMetrics(ref, m.containerResource.name, m.containerResource.container);
    case 'Pods': return port.podMetrics ? port.podMetrics(ref, m.pods.metric) : unavailable('custom metrics API');
    case 'Object': return port.objectMetric ? port.objectMetric(ref, m.object.describedObject, m.object.metric) : unavailable('custom metrics API');
    case 'External': return port.externalMetric ? port.externalMetric(ref, m.external.metric) : unavailable('external metrics API');
  }
}

function unavailable(api: string): MetricObservation {
  return { kind: 'error', message: `the ${api} is not available in this environment` };
}

/** The HPA controller's observation of one object: /scale, pods, every metric. */
export function observeHpa(port: ClusterPort, ref: AutoscalerRef, specs: MetricSpec[], now: number): Maybe<HpaObservation> {
  const scale = port.getScale(ref.target);
  const pods = port.listPods(ref.target);
  const metrics = specs.map((m) => observeHpaMetric(port, ref, m));
  return then(all<unknown>([scale, pods, ...metrics]), (vs) => ({
    now,
    target: vs[0] as Scale,
    pods: vs[1] as PodInfo[],
    metrics: vs.slice(2) as MetricObservation[],
  }));
}

/** The sim's chart line: the driving metric's usage ratio in percent. */
export function ratioMetric(rec: DecisionRecord, label = 'metric / target (%)'): MetricPoint | undefined {
  const p = rec.proposals[rec.drivingMetric ?? 0];
  if (!p || p.ratio === undefined) return undefined;
  return { value: p.ratio * 100, target: 100, label };
}

export function createHpaAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions): Autoscaler {
  const policy = spec.policy as HpaPolicy;
  const syncPeriodMs = opts.syncPeriodMs ?? HPA_SYNC_PERIOD_MS;
  const config: Partial<HpaControllerConfig> = { syncPeriodSeconds: syncPeriodMs / 1000, ...(opts.config as Partial<HpaControllerConfig> | undefined) };
  const core = new Core(spec, port, !!opts.dryRun);
  const specs = policy.metrics.length ? policy.metrics : DEFAULT_METRICS;
  const names = policy.metrics.map(metricSpecName);
  const guard = new SyncGuard();
  const resourcePipeline = port.openResourceMetrics?.(core.ref);
  let state: HpaState = emptyHpaState();
  let metric: MetricPoint | undefined;

  function decide(obs: HpaObservation): Maybe<HpaDecisionRecord> {
    const { record, state: next } = decideHpa(policy, obs, state, config);
    state = next;
    metric = ratioMetric(record) ?? metric;
    return core.finish(record, obs.now);
  }

  return {
    kind: 'hpa',
    name: spec.name,
    ref: core.ref,
    target: spec.target.name,
    syncPeriodMs,
    firstSyncDelayMs: opts.firstSyncDelayMs ?? syncPeriodMs,
    pokeDelivery: 'resync-hint',
    sync(now) {
      return guard.run(() => then(observeHpa(port, core.ref, specs, now), decide));
    },
    // the HPA has no activator upstream; a poke is only a hint to sync early (see pokeDelivery)
    poke(now) { void this.sync(now); },
    status() {
      return core.status({
        kind: 'hpa',
        name: spec.name,
        reference: `${policy.scaleTargetRef.kind}/${policy.scaleTargetRef.name}`,
        targets: kubectlTargets(core.last?.proposals ?? [], names),
        minReplicas: policy.minReplicas,
        maxReplicas: policy.maxReplicas,
        ...(state.lastScaleTime !== undefined ? { lastScaleTime: state.lastScaleTime } : {}),
        metricSpecs: names,
      });
    },
    metric: () => metric,
    snapshot() { return core.snapshot('hpa', state); },
    restore(s: AutoscalerSnapshot) { state = core.restore<HpaState>('hpa', s); },
    close() { resourcePipeline?.close(); },
  };
}

export { referenceOf };
