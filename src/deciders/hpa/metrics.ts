// One MetricSpec + what the metrics pipeline returned for it → the replica count it proposes,
// with upstream's metric description, error wrapping, failure condition reason and event
// (horizontal.go computeReplicasForMetric / computeStatusFor*Metric), and the kubectl-style
// current/target strings for the record.

import type { DecisionEvent, MetricProposal } from '../../core/decision.ts';
import type { MetricObservation, MetricSpec, MetricTarget, PodMetricSample } from './types.ts';
import {
  type CalcEnv,
  type CalcResult,
  getExternalMetricReplicas,
  getExternalPerPodMetricReplicas,
  getObjectMetricReplicas,
  getObjectPerPodMetricReplicas,
  getPlainMetricReplicas,
  getResourceReplicas,
} from './replica-calculator.ts';
import { formatMilli, formatSelector } from './format.ts';
import { unableToComputeMessage, warning } from './conditions.ts';

export interface MetricOutcome {
  ok: boolean;
  /** Proposed replicas (valid when ok). */
  replicas: number;
  /** Upstream's metric description, e.g. "cpu resource utilization (percentage of request)". */
  metricName: string;
  /** Short name for explanations ("cpu", "inference_queue_depth"). */
  shortName: string;
  /** The error computeReplicasForMetric returns (when !ok). */
  error?: string;
  /** ScalingActive=False reason/message upstream would set if this is the first invalid metric. */
  conditionReason?: string;
  conditionMessage?: string;
  /** The Warning event upstream records for the failure. */
  event?: DecisionEvent;
  proposal: MetricProposal;
}

export interface MetricContext {
  env: CalcEnv;
  specReplicas: number;
  statusReplicas: number;
  namespace: string;
}

const UNKNOWN = '<unknown>';

function failed(
  metricName: string,
  shortName: string,
  target: string,
  reason: string,
  conditionErr: string,
  returnedErr: string,
): MetricOutcome {
  return {
    ok: false,
    replicas: 0,
    metricName,
    shortName,
    error: returnedErr,
    conditionReason: reason,
    conditionMessage: unableToComputeMessage(conditionErr),
    event: warning(reason, conditionErr),
    proposal: { metric: metricName, current: UNKNOWN, target, proposedReplicas: null, error: returnedErr },
  };
}

function succeeded(metricName: string, shortName: string, current: string, target: string, r: CalcResult & { ok: true }): MetricOutcome {
  const i = r.info;
  const detail: Record<string, unknown> = {
    readyPods: i.readyPods,
    missingPods: i.missingPods,
    unreadyPods: i.unreadyPods,
    ignoredPods: i.ignoredPods,
    withinTolerance: i.withinTolerance,
  };
  // the raw values upstream writes into status.currentMetrics (milli-units; utilization in %)
  detail.usageMilli = r.usage;
  if (r.utilization !== undefined) detail.utilization = r.utilization;
  if (i.rebalancedUsageRatio !== undefined) detail.rebalancedUsageRatio = i.rebalancedUsageRatio;
  if (i.directionFlipPrevented) detail.directionFlipPrevented = true;
  return {
    ok: true,
    replicas: r.replicas,
    metricName,
    shortName,
    proposal: { metric: metricName, current, target, proposedReplicas: r.replicas, ratio: i.usageRatio, detail },
  };
}

function podSamples(obs: MetricObservation | undefined, api: string): { samples?: PodMetricSample[]; error?: string } {
  if (obs === undefined) return { error: 'no metric observation supplied' };
  if (obs.kind === 'error') return { error: obs.message };
  if (obs.kind !== 'pods') return { error: `expected per-pod samples, got a ${obs.kind} observation` };
  if (obs.samples.length === 0) return { error: `no metrics returned from ${api}` };
  return { samples: obs.samples };
}

function resourceMetric(
  ctx: MetricContext,
  resource: string,
  container: string | undefined,
  target: MetricTarget,
  obs: MetricObservation | undefined,
): MetricOutcome {
  const isContainer = container !== undefined;
  const reason = isContainer ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
  const wrapReturned = (e: string) =>
    isContainer ? `failed to get ${container} container metric value: ${e}` : `failed to get ${resource} resource metric value: ${e}`;
  const shortName = isContainer ? `${resource} of container ${container}` : resource;

  if (target.averageValue !== undefined) {
    const metricName = `${resource} resource`;
    const targetStr = formatMilli(target.averageValue);
    const got = podSamples(obs, 'resource metrics API');
    let r: CalcResult;
    if (got.error !== undefined) r = { ok: false, error: `unable to get metrics for resource ${resource}: ${got.error}` };
    else r = getPlainMetricReplicas(ctx.env, ctx.specReplicas, target.averageValue, resource, got.samples!);
    if (!r.ok) {
      const err = `failed to get ${resource} usage: ${r.error}`;
      return failed(metricName, shortName, targetStr, reason, err, wrapReturned(err));
    }
    return succeeded(metricName, shortName, formatMilli(r.usage), targetStr, r);
  }

  const metricName = isContainer
    ? `${resource} container resource utilization (percentage of request)`
    : `${resource} resource utilization (percentage of request)`;
  if (target.averageUtilization === undefined) {
    const err = 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set';
    return failed(metricName, shortName, '<auto>', reason, err, wrapReturned(err));
  }
  const targetStr = `${target.averageUtilization}%`;
  const got = podSamples(obs, 'resource metrics API');
  let r: CalcResult;
  if (got.error !== undefined) r = { ok: false, error: `unable to get metrics for resource ${resource}: ${got.error}` };
  else r = getResourceReplicas(ctx.env, ctx.specReplicas, target.averageUtilization, resource, container, got.samples!);
  if (!r.ok) {
    const err = `failed to get ${resource} utilization: ${r.error}`;
    return failed(metricName, shortName, targetStr, reason, err, wrapReturned(err));
  }
  return succeeded(metricName, shortName, `${r.utilization}%`, targetStr, r);
}

/** computeReplicasForMetric for one spec. */
export function computeReplicasForMetric(ctx: MetricContext, spec: MetricSpec, obs: MetricObservation | undefined): MetricOutcome {
  switch (spec.type) {
    case 'Resource':
      return resourceMetric(ctx, spec.resource.name, undefined, spec.resource.target, obs);
    case 'ContainerResource':
      return resourceMetric(ctx, spec.containerResource.name, spec.containerResource.container, spec.containerResource.target, obs);
    case 'Pods': {
      const name = spec.pods.metric.name;
      const metricName = `pods metric ${name}`;
      const avg = spec.pods.target.averageValue;
      const targetStr = avg === undefined ? UNKNOWN : formatMilli(avg);
      let r: CalcResult;
      if (avg === undefined) r = { ok: false, error: 'invalid pods metric source: an average value target is required' };
      else {
        const got = podSamples(obs, 'custom metrics API');
        if (got.error !== undefined) r = { ok: false, error: `unable to get metric ${name}: ${got.error}` };
        else r = getPlainMetricReplicas(ctx.env, ctx.specReplicas, avg, '', got.samples!);
      }
      if (!r.ok) return failed(metricName, name, targetStr, 'FailedGetPodsMetric', r.error, `failed to get pods metric value: ${r.error}`);
      return succeeded(metricName, name, formatMilli(r.usage), targetStr, r);
    }
    case 'Object': {
      const o = spec.object;
      const name = o.metric.name;
      const ref = o.describedObject;
      const fetchErr = (e: string) => `unable to get metric ${name} on ${ref.kind} ${ctx.namespace}/${ref.name}: ${e}`;
      const value = (): { v?: number; error?: string } => {
        if (obs === undefined) return { error: 'no metric observation supplied' };
        if (obs.kind === 'error') return { error: obs.message };
        if (obs.kind !== 'object') return { error: `expected an object value, got a ${obs.kind} observation` };
        return { v: obs.value };
      };
      if (o.target.type === 'Value' && o.target.value !== undefined) {
        const metricName = `${ref.kind} metric ${name}`;
        const targetStr = formatMilli(o.target.value);
        const got = value();
        const r: CalcResult =
          got.error !== undefined ? { ok: false, error: fetchErr(got.error) } : getObjectMetricReplicas(ctx.env, ctx.specReplicas, o.target.value, got.v!);
        if (!r.ok) return failed(metricName, name, targetStr, 'FailedGetObjectMetric', r.error, `failed to get object metric value: ${r.error}`);
        return succeeded(metricName, name, formatMilli(r.usage), targetStr, r);
      }
      if (o.target.type === 'AverageValue' && o.target.averageValue !== undefined) {
        // upstream describes this one as an "external metric" too
        const metricName = `external metric ${name}(${formatSelector(o.metric.selector)})`;
        const targetStr = `${formatMilli(o.target.averageValue)} (avg)`;
        const got = value();
        const r: CalcResult =
          got.error !== undefined
            ? { ok: false, error: fetchErr(got.error) }
            : getObjectPerPodMetricReplicas(ctx.env, ctx.statusReplicas, o.target.averageValue, got.v!);
        if (!r.ok) {
          return failed(metricName, name, targetStr, 'FailedGetObjectMetric', r.error, `failed to get object metric value: failed to get ${name} object metric: ${r.error}`);
        }
        return succeeded(metricName, name, formatMilli(r.usage), targetStr, r);
      }
      const err = 'invalid object metric source: neither a value target nor an average value target was set';
      return failed(`${ref.kind} metric ${name}`, name, UNKNOWN, 'FailedGetObjectMetric', err, `failed to get object metric value: ${err}`);
    }
    case 'External': {
      const e = spec.external;
      const name = e.metric.name;
      const sel = formatSelector(e.metric.selector);
      const metricName = `external metric ${name}(${sel})`;
      const values = (): { v?: number[]; error?: string } => {
        if (obs === undefined) return { error: 'no metric observation supplied' };
        if (obs.kind === 'error') return { error: obs.message };
        if (obs.kind !== 'external') return { error: `expected external values, got a ${obs.kind} observation` };
        if (obs.values.length === 0) return { error: 'no metrics returned from external metrics API' };
        return { v: obs.values };
      };
      const fetchErr = (msg: string) => `unable to get external metric ${ctx.namespace}/${name}/${sel}: ${msg}`;
      const wrap = (msg: string) => `failed to get ${name} external metric value: ${msg}`;
      if (e.target.averageValue !== undefined) {
        const targetStr = `${formatMilli(e.target.averageValue)} (avg)`;
        const got = values();
        const r: CalcResult =
          got.error !== undefined
            ? { ok: false, error: fetchErr(got.error) }
            : getExternalPerPodMetricReplicas(ctx.env, ctx.statusReplicas, e.target.averageValue, got.v!);
        if (!r.ok) return failed(metricName, name, targetStr, 'FailedGetExternalMetric', r.error, wrap(`failed to get ${name} external metric: ${r.error}`));
        return succeeded(metricName, name, formatMilli(r.usage), targetStr, r);
      }
      if (e.target.value !== undefined) {
        const targetStr = formatMilli(e.target.value);
        const got = values();
        const r: CalcResult =
          got.error !== undefined ? { ok: false, error: fetchErr(got.error) } : getExternalMetricReplicas(ctx.env, ctx.specReplicas, e.target.value, got.v!);
        if (!r.ok) return failed(metricName, name, targetStr, 'FailedGetExternalMetric', r.error, wrap(`failed to get external metric ${name}: ${r.error}`));
        return succeeded(metricName, name, formatMilli(r.usage), targetStr, r);
      }
      const err = 'invalid external metric source: neither a value target nor an average value target was set';
      return failed(metricName, name, UNKNOWN, 'FailedGetExternalMetric', err, wrap(err));
    }
    default: {
      const t = (spec as { type: string }).type;
      const err = `unknown metric source type "${t}"`;
      return failed(`${t} metric`, t, UNKNOWN, 'InvalidMetricSourceType', err, err);
    }
  }
}

/** The proposal shown for a metric that was not evaluated this decision (status has no value). */
export function unevaluatedProposal(spec: MetricSpec): MetricProposal {
  switch (spec.type) {
    case 'Resource':
    case 'ContainerResource': {
      const r = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const t = r.target;
      const metric =
        spec.type === 'Resource'
          ? t.averageValue !== undefined
            ? `${r.name} resource`
            : `${r.name} resource utilization (percentage of request)`
          : t.averageValue !== undefined
            ? `${r.name} resource`
            : `${r.name} container resource utilization (percentage of request)`;
      const target = t.averageValue !== undefined ? formatMilli(t.averageValue) : t.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>';
      return { metric, current: UNKNOWN, target, proposedReplicas: null };
    }
    case 'Pods':
      return {
        metric: `pods metric ${spec.pods.metric.name}`,
        current: UNKNOWN,
        target: spec.pods.target.averageValue === undefined ? UNKNOWN : formatMilli(spec.pods.target.averageValue),
        proposedReplicas: null,
      };
    case 'Object': {
      const o = spec.object;
      if (o.target.averageValue !== undefined && o.target.type === 'AverageValue') {
        return { metric: `external metric ${o.metric.name}(${formatSelector(o.metric.selector)})`, current: UNKNOWN, target: `${formatMilli(o.target.averageValue)} (avg)`, proposedReplicas: null };
      }
      return { metric: `${o.describedObject.kind} metric ${o.metric.name}`, current: UNKNOWN, target: o.target.value === undefined ? UNKNOWN : formatMilli(o.target.value), proposedReplicas: null };
    }
    case 'External': {
      const e = spec.external;
      const metric = `external metric ${e.metric.name}(${formatSelector(e.metric.selector)})`;
      if (e.target.averageValue !== undefined) return { metric, current: UNKNOWN, target: `${formatMilli(e.target.averageValue)} (avg)`, proposedReplicas: null };
      return { metric, current: UNKNOWN, target: e.target.value === undefined ? UNKNOWN : formatMilli(e.target.value), proposedReplicas: null };
    }
    default:
      return { metric: String((spec as { type: string }).type), current: UNKNOWN, target: UNKNOWN, proposedReplicas: null };
  }
}
