// `kubectl get hpa` and `kubectl describe hpa` for autoscaling/v2 HorizontalPodAutoscaler objects
// (as the API server returns them, or the local daemon mirrors them). Pure: objects and `now` in,
// text out — the same functions serve `tide get hpa` locally and against a Kubernetes cluster.
import { age, rfc1123z } from './duration.ts';
import type { Event, HorizontalPodAutoscaler, HPAScalingRules, MetricStatus, MetricTarget } from './types.ts';
import { describeEvents, describeLabels, describeAnnotations } from './describe-common.ts';
import { tabwrite, DESCRIBE_TABLE } from './tabwriter.ts';

const UNKNOWN = '<unknown>';

function pct(n: number | undefined): string | undefined {
  return n === undefined ? undefined : `${n}%`;
}

/**
 * The TARGETS column of kubectl 1.37 (printers.go formatHPAMetrics): "cpu: 2%/50%, 0/4" — one
 * "current/target" per spec.metrics entry, prefixed by the resource name only for Resource and
 * ContainerResource metrics; "(avg)" after AverageValue targets of Object and External metrics; at
 * most two then " + N more..." unless wide; "<none>" without metrics. (Checked against the real
 * kubectl in test/k8s/views.test.ts.)
 */
export function formatHpaTargets(hpa: HorizontalPodAutoscaler, wide = false): string {
  const specs = hpa.spec.metrics ?? [];
  if (specs.length === 0) return '<none>';
  const statuses: MetricStatus[] = hpa.status?.currentMetrics ?? [];
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'External': {
        const e = spec.external!;
        const cur = st?.external?.current;
        if (e.target.averageValue !== undefined) list.push(`${cur?.averageValue ?? UNKNOWN}/${e.target.averageValue} (avg)`);
        else list.push(`${cur?.value ?? UNKNOWN}/${e.target.value ?? UNKNOWN}`);
        break;
      }
      case 'Pods': {
        const p = spec.pods!;
        list.push(`${st?.pods?.current.averageValue ?? UNKNOWN}/${p.target.averageValue ?? UNKNOWN}`);
        break;
      }
      case 'Object': {
        const o = spec.object!;
        const cur = st?.object?.current;
        if (o.target.averageValue !== undefined) list.push(`${cur?.averageValue ?? UNKNOWN}/${o.target.averageValue} (avg)`);
        else list.push(`${cur?.value ?? UNKNOWN}/${o.target.value ?? UNKNOWN}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const r = spec.type === 'Resource' ? spec.resource! : spec.containerResource!;
        const cur = spec.type === 'Resource' ? st?.resource?.current : st?.containerResource?.current;
        if (r.target.averageValue !== undefined) list.push(`${r.name}: ${cur?.averageValue ?? UNKNOWN}/${r.target.averageValue}`);
        else list.push(`${r.name}: ${pct(cur?.averageUtilization) ?? UNKNOWN}/${pct(r.target.averageUtilization) ?? '<auto>'}`);
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (!wide && list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

export const HPA_COLUMNS = ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'];

/** One `kubectl get hpa` row (the same columns with -o wide, where TARGETS lists every metric). */
export function hpaRow(hpa: HorizontalPodAutoscaler, now: number, wide = false): string[] {
  const ref = hpa.spec.scaleTargetRef;
  return [
    hpa.metadata.name,
    `${ref.kind}/${ref.name}`,
    formatHpaTargets(hpa, wide),
    hpa.spec.minReplicas === undefined ? '<unset>' : String(hpa.spec.minReplicas),
    String(hpa.spec.maxReplicas),
    String(hpa.status?.currentReplicas ?? 0),
    age(hpa.metadata.creationTimestamp, now),
  ];
}

function targetValue(t: MetricTarget): string {
  return (t.type === 'AverageValue' ? t.averageValue : t.value) ?? t.averageValue ?? t.value ?? UNKNOWN;
}

function behaviorLines(direction: string, rules: HPAScalingRules | undefined): string[] {
  if (!rules) return [];
  const out = [`  ${direction}:`];
  if (rules.stabilizationWindowSeconds !== undefined) out.push(`    Stabilization Window: ${rules.stabilizationWindowSeconds} seconds`);
  if (rules.policies?.length) {
    out.push(`    Select Policy: ${rules.selectPolicy ?? 'Max'}`);
    out.push('    Policies:');
    for (const p of rules.policies) out.push(`      - Type: ${p.type}\tValue: ${p.value}\tPeriod: ${p.periodSeconds} seconds`);
  }
  return out;
}

/** The metric lines of describe's "Metrics: ( current / target )" section, tab-separated before alignment. */
export function describeMetricLines(hpa: HorizontalPodAutoscaler): string[] {
  const statuses = hpa.status?.currentMetrics ?? [];
  return (hpa.spec.metrics ?? []).map((m, i) => {
    const st = statuses[i];
    switch (m.type) {
      case 'External': {
        const e = m.external!;
        if (e.target.averageValue !== undefined) return `  "${e.metric.name}" (target average value):\t${st?.external?.current.averageValue ?? UNKNOWN} / ${e.target.averageValue}`;
        return `  "${e.metric.name}" (target value):\t${st?.external?.current.value ?? UNKNOWN} / ${e.target.value ?? UNKNOWN}`;
      }
      case 'Pods':
        return `  "${m.pods!.metric.name}" on pods:\t${st?.pods?.current.averageValue ?? UNKNOWN} / ${targetValue(m.pods!.target)}`;
      case 'Object': {
        const o = m.object!;
        const head = `  "${o.metric.name}" on ${o.describedObject.kind}/${o.describedObject.name} `;
        if (o.target.type === 'AverageValue') return `${head}(target average value):\t${st?.object?.current.averageValue ?? UNKNOWN} / ${o.target.averageValue ?? UNKNOWN}`;
        return `${head}(target value):\t${st?.object?.current.value ?? UNKNOWN} / ${o.target.value ?? UNKNOWN}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const r = m.type === 'Resource' ? m.resource! : m.containerResource!;
        const cur = m.type === 'Resource' ? st?.resource?.current : st?.containerResource?.current;
        const head = m.type === 'Resource' ? `  resource ${r.name} on pods` : `  resource ${r.name} of container "${m.containerResource!.container}" on pods`;
        if (r.target.averageValue !== undefined) return `${head}:\t${cur?.averageValue ?? UNKNOWN} / ${r.target.averageValue}`;
        const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}% (${cur.averageValue ?? '0'})` : UNKNOWN;
        return `${head}  (as a percentage of request):\t${current} / ${pct(r.target.averageUtilization) ?? '<auto>'}`;
      }
      default:
        return `  <unknown metric type "${m.type}">`;
    }
  });
}

export interface DescribeHpaExtra {
  /** Sections appended after Events (Tide's "Last decision"), already formatted. */
  trailer?: string;
}

/** `kubectl describe hpa`: the v2 describer's sections, aligned as its tabwriter aligns them. */
export function describeHpa(hpa: HorizontalPodAutoscaler, events: Event[] | undefined, now: number, extra: DescribeHpaExtra = {}): string {
  const m = hpa.metadata;
  const lines: string[] = [
    `Name:\t${m.name}`,
    `Namespace:\t${m.namespace ?? 'default'}`,
    ...describeLabels('Labels', m.labels),
    ...describeAnnotations('Annotations', m.annotations),
    `CreationTimestamp:\t${m.creationTimestamp ? rfc1123z(m.creationTimestamp) : '<unknown>'}`,
    `Reference:\t${hpa.spec.scaleTargetRef.kind}/${hpa.spec.scaleTargetRef.name}`,
    'Metrics:\t( current / target )',
    ...describeMetricLines(hpa),
    `Min replicas:\t${hpa.spec.minReplicas === undefined ? '<unset>' : hpa.spec.minReplicas}`,
    `Max replicas:\t${hpa.spec.maxReplicas}`,
  ];
  if (hpa.spec.behavior) lines.push('Behavior:', ...behaviorLines('Scale Up', hpa.spec.behavior.scaleUp), ...behaviorLines('Scale Down', hpa.spec.behavior.scaleDown));
  lines.push(`${hpa.spec.scaleTargetRef.kind} pods:\t${hpa.status?.currentReplicas ?? 0} current / ${hpa.status?.desiredReplicas ?? 0} desired`);
  const conds = hpa.status?.conditions ?? [];
  if (conds.length) {
    lines.push('Conditions:', '  Type\tStatus\tReason\tMessage', '  ----\t------\t------\t-------');
    for (const c of conds) lines.push(`  ${c.type}\t${c.status}\t${c.reason ?? ''}\t${c.message ?? ''}`);
  }
  // "Events:\t<none>" shares the last block's alignment (kubectl writes it through the same tabwriter);
  // a real event table follows a flush, so it aligns on its own
  if (events && !events.length) lines.push('Events:\t<none>');
  let text = tabwrite(lines.join('\n'), DESCRIBE_TABLE);
  if (events?.length) text += '\n' + describeEvents(events, now);
  if (extra.trailer) text += '\n' + extra.trailer;
  return text;
}

