// The HPA driver: every sync period, observe the Deployment's replicas like the kube-controller-manager
// does (pods with phase/Ready/startTime, metrics-server samples from /proc, custom Pods metrics scraped
// from each ready replica), call the pure HPA decider, record the decision and actuate it.
import type { DecisionRecord } from '../../../core/decision.ts';
import { decideHpa } from '../../../deciders/hpa/decide.ts';
import { formatMilli } from '../../../deciders/hpa/format.ts';
import type { HpaControllerConfig, HpaObservation, HpaPolicy, HpaState, MetricObservation, MetricSpec, MetricTarget } from '../../../deciders/hpa/types.ts';
import type { AutoscalerItem } from '../bundle.ts';
import { hpaMappedMetricReader } from '../../../sources/metric-mapping.ts';
import type { AutoscalerDriver, AutoscalerStatus, DriverContext, DriverOptions } from './types.ts';
import { autoscalerStatus, kubectlTargets } from './status.ts';

export function formatTarget(t: MetricTarget): string {
  if (t.type === 'Utilization') return `${t.averageUtilization ?? 0}%`;
  if (t.type === 'AverageValue') return formatMilli(t.averageValue ?? 0);
  return formatMilli(t.value ?? 0);
}

export function metricSpecName(m: MetricSpec): { name: string; target: string } {
  switch (m.type) {
    case 'Resource': return { name: `resource ${m.resource.name} on pods${m.resource.target.type === 'Utilization' ? '  (as a percentage of request)' : ''}`, target: formatTarget(m.resource.target) };
    case 'ContainerResource': return { name: `resource ${m.containerResource.name} of container "${m.containerResource.container}" on pods${m.containerResource.target.type === 'Utilization' ? '  (as a percentage of request)' : ''}`, target: formatTarget(m.containerResource.target) };
    case 'Pods': return { name: `"${m.pods.metric.name}" on pods`, target: formatTarget(m.pods.target) };
    case 'Object': return { name: `"${m.object.metric.name}" on ${m.object.describedObject.kind}/${m.object.describedObject.name}`, target: formatTarget(m.object.target) };
    case 'External': return { name: `"${m.external.metric.name}" (external metric)`, target: formatTarget(m.external.target) };
  }
}

export function createHpaDriver(item: AutoscalerItem, ctx: DriverContext, opts: DriverOptions): AutoscalerDriver {
  const policy = item.policy as HpaPolicy;
  const config: Partial<HpaControllerConfig> = { syncPeriodSeconds: opts.syncPeriodMs / 1000, ...(opts.overrides as Partial<HpaControllerConfig>) };
  let state: HpaState = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
  let last: DecisionRecord | undefined;
  const created = ctx.now();
  let lastScaleTime: number | undefined;
  let syncing = false;
  const target = item.target;
  const mapped = hpaMappedMetricReader(policy.metrics, { manifestFile: item.source?.file });

  async function observe(now: number): Promise<HpaObservation> {
    const all = ctx.pods(target, true);
    const active = all.filter((r) => !r.terminating);
    const metrics: MetricObservation[] = [];
    for (const m of policy.metrics) {
      if (m.type === 'Resource' || m.type === 'ContainerResource') {
        const res = m.type === 'Resource' ? m.resource.name : m.containerResource.name;
        if (m.type === 'ContainerResource' && active.length && active[0].deployment.container.name !== m.containerResource.container) {
          metrics.push({ kind: 'error', message: `container ${m.containerResource.container} not present in the pods of Deployment ${target}` });
          continue;
        }
        const samples = active.map((r) => ctx.resourceSample(r.name, res)).filter((s) => s !== null);
        if (!samples.length && active.length) metrics.push({ kind: 'error', message: 'no metrics returned from resource metrics API' });
        else metrics.push({ kind: 'pods', samples });
      } else if (m.type === 'Pods') {
        const values = await ctx.scrapePods(target, m.pods.metric.name, m.pods.metric.selector);
        if (!values.size) metrics.push({ kind: 'error', message: 'no metrics returned from custom metrics API (scraped /metrics of the ready replicas)' });
        else metrics.push({ kind: 'pods', samples: [...values].map(([pod, v]) => ({ pod, value: Math.round(v * 1000), timestamp: now, windowSeconds: opts.syncPeriodMs / 1000 })) });
      } else {
        // Object/External: PromQL per metric name from tide-metrics.yaml next to the manifest (docs/custom-metrics.md)
        metrics.push(await mapped.observe(policy.metrics.indexOf(m), now));
      }
    }
    return {
      now,
      target: { specReplicas: ctx.specReplicas(target), statusReplicas: active.length, selector: Object.entries(active[0]?.deployment.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
      pods: all.map((r) => r.podInfo()),
      metrics,
    };
  }

  const driver: AutoscalerDriver = {
    kind: 'hpa',
    name: policy.name,
    target,
    syncPeriodMs: opts.syncPeriodMs,
    async sync(now: number) {
      if (syncing) return null;
      syncing = true;
      try {
        const obs = await observe(now);
        const { record, state: next } = decideHpa(policy, obs, state, config);
        state = next;
        last = record;
        if (record.rescale) {
          if (!ctx.dryRun) {
            ctx.scale(target, record.desiredReplicas);
            lastScaleTime = now;
          }
        }
        ctx.record(policy.name, record);
        return record;
      } finally { syncing = false; }
    },
    poke() { void driver.sync(ctx.now()); },
    status(): AutoscalerStatus {
      const specs = policy.metrics.map(metricSpecName);
      return autoscalerStatus(ctx, target, {
        kind: 'hpa',
        name: policy.name,
        reference: `${policy.scaleTargetRef.kind}/${policy.scaleTargetRef.name}`,
        targets: kubectlTargets(last?.proposals ?? [], specs),
        minReplicas: policy.minReplicas,
        maxReplicas: policy.maxReplicas,
        created,
        lastScaleTime: (state.lastScaleTime ?? lastScaleTime),
        metricSpecs: specs,
      }, last);
    },
  };
  return driver;
}

