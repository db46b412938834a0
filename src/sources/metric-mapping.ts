// HPA Object/External metrics without an adapter: a small mapping from metric name to PromQL, read
// from `tide-metrics.yaml` (next to the manifests) and/or annotations on the HorizontalPodAutoscaler.
// It plays the role Prometheus Adapter's rules play in a cluster.
//
//   # tide-metrics.yaml
//   prometheus: http://127.0.0.1:9090          # default server for every metric
//   metrics:
//     gpu_utilization_avg:
//       query: avg(DCGM_FI_DEV_GPU_UTIL{<<.LabelMatchers>>})
//     queue_backlog:
//       query: sum(rabbitmq_queue_messages{queue="jobs"})
//       prometheus: http://10.0.0.5:9090      # per-metric server (optional)
//
//   # or on the HPA:
//   metadata:
//     annotations:
//       metrics.tide.dev/prometheus: http://127.0.0.1:9090
//       metrics.tide.dev/gpu_utilization_avg: avg(DCGM_FI_DEV_GPU_UTIL)
//
// `<<.LabelMatchers>>` is replaced by the metric's selector (matchLabels / matchExpressions) as PromQL
// label matchers, like the adapter does. The query returns a vector; an External metric is the sum
// of its samples (HPA semantics), an Object metric must return one sample.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LabelSelector, MetricObservation } from '../deciders/hpa/types.ts';
import { PrometheusSource } from './prometheus.ts';

export const ANNOTATION_PREFIX = 'metrics.tide.dev/';
export const MAPPING_FILE = 'tide-metrics.yaml';

export interface MetricMappingEntry { query: string; prometheus?: string }
export interface MetricMapping {
  prometheus?: string;
  metrics: Record<string, MetricMappingEntry>;
}

export function parseMetricMapping(text: string, file = MAPPING_FILE): MetricMapping {
  let doc: unknown;
  try { doc = parse(text); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); }
  if (doc === null || doc === undefined) return { metrics: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: expected a mapping with "prometheus" and "metrics"`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (k !== 'prometheus' && k !== 'metrics') throw new Error(`${file}: unknown field ${k} (known: prometheus, metrics)`);
  const out: MetricMapping = { metrics: {} };
  if (d.prometheus !== undefined) {
    if (typeof d.prometheus !== 'string') throw new Error(`${file}: prometheus: must be a URL string`);
    out.prometheus = d.prometheus;
  }
  const metrics = d.metrics ?? {};
  if (typeof metrics !== 'object' || Array.isArray(metrics)) throw new Error(`${file}: metrics: must be a mapping of metric name → {query, prometheus?}`);
  for (const [name, v] of Object.entries(metrics as Record<string, unknown>)) {
    if (typeof v === 'string') { out.metrics[name] = { query: v }; continue; }
    const e = v as Record<string, unknown> | null;
    if (!e || typeof e.query !== 'string' || !e.query) throw new Error(`${file}: metrics.${name}.query: required PromQL string`);
    for (const k of Object.keys(e)) if (k !== 'query' && k !== 'prometheus') throw new Error(`${file}: metrics.${name}: unknown field ${k} (known: query, prometheus)`);
    out.metrics[name] = { query: e.query, ...(typeof e.prometheus === 'string' ? { prometheus: e.prometheus } : {}) };
  }
  return out;
}

/** Read tide-metrics.yaml; undefined when the file does not exist. */
export function loadMetricMapping(path: string): MetricMapping | undefined {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseMetricMapping(text, path);
}

export function mappingFromAnnotations(annotations: Record<string, string> | undefined): MetricMapping {
  const out: MetricMapping = { metrics: {} };
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!k.startsWith(ANNOTATION_PREFIX)) continue;
    const name = k.slice(ANNOTATION_PREFIX.length);
    if (name === 'prometheus') out.prometheus = v;
    else out.metrics[name] = { query: v };
  }
  return out;
}

/** Later mappings win (annotations over the file). */
export function mergeMappings(...ms: (MetricMapping | undefined)[]): MetricMapping {
  const out: MetricMapping = { metrics: {} };
  for (const m of ms) {
    if (!m) continue;
    if (m.prometheus) out.prometheus = m.prometheus;
    Object.assign(out.metrics, m.metrics);
  }
  return out;
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const reEsc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A label selector as PromQL label matchers: app="x",tier=~"a|b". */
export function labelMatchers(sel: LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}="${esc(v)}"`);
  for (const e of sel?.matchExpressions ?? []) {
    const alt = (e.values ?? []).map(reEsc).join('|');
    if (e.operator === 'In') parts.push(`${e.key}=~"${esc(alt)}"`);
    else if (e.operator === 'NotIn') parts.push(`${e.key}!~"${esc(alt)}"`);
    else if (e.operator === 'Exists') parts.push(`${e.key}!=""`);
    else parts.push(`${e.key}=""`);
  }
  return parts.join(',');
}

export function queryFor(mapping: MetricMapping, name: string, selector?: LabelSelector): { server: string; query: string } {
  const e = mapping.metrics[name];
  if (!e) throw new Error(`no PromQL for metric ${JSON.stringify(name)}: add it to ${MAPPING_FILE} (metrics.${name}.query) or annotate the HPA with ${ANNOTATION_PREFIX}${name}`);
  const server = e.prometheus ?? mapping.prometheus;
  if (!server) throw new Error(`no Prometheus server for metric ${JSON.stringify(name)}: set "prometheus:" in ${MAPPING_FILE} or the ${ANNOTATION_PREFIX}prometheus annotation`);
  return { server, query: e.query.replaceAll('<<.LabelMatchers>>', labelMatchers(selector)) };
}

/** A Prometheus source (vector mode) for an HPA External/Object metric. */
export function metricSourceFor(mapping: MetricMapping, name: string, selector?: LabelSelector): PrometheusSource {
  const { server, query } = queryFor(mapping, name, selector);
  return new PrometheusSource({ serverAddress: server, query, mode: 'vector' });
}

/** Read it as the HPA decider wants it: External = every sample in milli-units; Object = one value. */
export async function observeMappedMetric(source: PrometheusSource, kind: 'external' | 'object', now: number, signal?: AbortSignal): Promise<MetricObservation> {
  try {
    const samples = await source.read(now, signal);
    if (kind === 'external') {
      if (samples.length === 0) return { kind: 'error', message: `${source.describe()}: no series matched` };
      return { kind: 'external', values: samples.map((s) => Math.round(s.value * 1000)), timestamp: now };
    }
    if (samples.length !== 1) return { kind: 'error', message: `${source.describe()}: an Object metric needs exactly one series, got ${samples.length}` };
    return { kind: 'object', value: Math.round(samples[0].value * 1000), timestamp: now };
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
}

/**
 * For the HPA driver: reads every External/Object metric of an HPA through the mapping found in
 * `tide-metrics.yaml` next to the manifest, or the file named by $TIDE_METRICS_FILE (and the HPA's
 * annotations, which win, when the caller passes them). One call per
 * sync: `await reader.observe(metricIndex, now)` gives the MetricObservation for that metric.
 */
export function hpaMappedMetricReader(
  metrics: import('../deciders/hpa/types.ts').MetricSpec[],
  opts: { manifestFile?: string; annotations?: Record<string, string>; mappingFile?: string } = {},
): { observe(index: number, now: number, signal?: AbortSignal): Promise<MetricObservation> } {
  let mapping: MetricMapping | undefined;
  let loadError: string | undefined;
  try {
    const file = opts.mappingFile ?? process.env.TIDE_METRICS_FILE ?? (opts.manifestFile ? `${opts.manifestFile.replace(/[^/]*$/, '')}${MAPPING_FILE}` : MAPPING_FILE);
    mapping = mergeMappings(loadMetricMapping(file), mappingFromAnnotations(opts.annotations));
  } catch (e) {
    loadError = (e as Error).message;
  }
  const sources = new Map<number, PrometheusSource | string>();
  return {
    async observe(index, now, signal) {
      const m = metrics[index];
      if (!m || (m.type !== 'External' && m.type !== 'Object')) return { kind: 'error', message: `metric ${index} is not an External or Object metric` };
      if (loadError) return { kind: 'error', message: loadError };
      let src = sources.get(index);
      if (src === undefined) {
        const id = m.type === 'External' ? m.external.metric : m.object.metric;
        try { src = metricSourceFor(mapping!, id.name, id.selector); } catch (e) { src = (e as Error).message; }
        sources.set(index, src);
      }
      if (typeof src === 'string') return { kind: 'error', message: src };
      return observeMappedMetric(src, m.type === 'External' ? 'external' : 'object', now, signal);
    },
  };
}

/**
 * The same mapping, queried by metric rather than by index (what a shell's object/external metrics
 * API does): one Prometheus source per (kind, metric name, selector), built on first use.
 */
export function mappedMetricQuerier(
  opts: { manifestFile?: string; annotations?: Record<string, string>; mappingFile?: string } = {},
): {
  object(metric: import('../deciders/hpa/types.ts').MetricIdentifier, now: number, signal?: AbortSignal): Promise<MetricObservation>;
  external(metric: import('../deciders/hpa/types.ts').MetricIdentifier, now: number, signal?: AbortSignal): Promise<MetricObservation>;
} {
  let mapping: MetricMapping | undefined;
  let loadError: string | undefined;
  try {
    const file = opts.mappingFile ?? process.env.TIDE_METRICS_FILE ?? (opts.manifestFile ? `${opts.manifestFile.replace(/[^/]*$/, '')}${MAPPING_FILE}` : MAPPING_FILE);
    mapping = mergeMappings(loadMetricMapping(file), mappingFromAnnotations(opts.annotations));
  } catch (e) {
    loadError = (e as Error).message;
  }
  const sources = new Map<string, PrometheusSource | string>();
  const read = async (kind: 'object' | 'external', id: import('../deciders/hpa/types.ts').MetricIdentifier, now: number, signal?: AbortSignal): Promise<MetricObservation> => {
    if (loadError) return { kind: 'error', message: loadError };
    const key = `${kind}\u0000${id.name}\u0000${JSON.stringify(id.selector ?? null)}`;
    let src = sources.get(key);
    if (src === undefined) {
      try { src = metricSourceFor(mapping!, id.name, id.selector); } catch (e) { src = (e as Error).message; }
      sources.set(key, src);
    }
    if (typeof src === 'string') return { kind: 'error', message: src };
    return observeMappedMetric(src, kind, now, signal);
  };
  return {
    object: (metric, now, signal) => read('object', metric, now, signal),
    external: (metric, now, signal) => read('external', metric, now, signal),
  };
}
