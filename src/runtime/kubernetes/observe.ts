// What the upstream HPA controller observes, read from the cluster: the target's pods (from the pod
// informer, by the scale's selector), resource metrics from metrics.k8s.io (metrics-server), Pods /
// Object / External metrics from custom.metrics.k8s.io / external.metrics.k8s.io when the cluster
// serves them, otherwise from Prometheus through the PromQL mapping `tide up` uses.
import type * as k8s from '@kubernetes/client-node';
import type { MetricObservation, MetricSpec, PodInfo, PodMetricSample, PodPhase } from '../../deciders/hpa/types.ts';
import { milliValue } from '../../manifests/quantity.ts';
import { labelMatchers, metricSourceFor, observeMappedMetric, type MetricMapping } from '../../sources/metric-mapping.ts';
import type { Apis } from './client.ts';
import { TIDE_USER_AGENT, apiCode, apiMessage, parseSelector, selectorMatchesLabels, toMs } from './client.ts';

function milli(q: unknown): number {
  try { return milliValue(q as string); } catch { return 0; }
}

export function podInfoOf(p: k8s.V1Pod): PodInfo {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  const info: PodInfo = {
    name: p.metadata?.name ?? '',
    phase: (p.status?.phase ?? 'Pending') as PodPhase,
    containers: (p.spec?.containers ?? []).map((c) => {
      const requests: Record<string, number> = {};
      for (const [k, v] of Object.entries(c.resources?.requests ?? {})) requests[k] = milli(v);
      return { name: c.name, requests };
    }),
  };
  if (ready) info.ready = { status: ready.status as 'True' | 'False' | 'Unknown', lastTransitionTime: toMs(ready.lastTransitionTime) ?? 0 };
  const st = toMs(p.status?.startTime);
  if (st !== undefined) info.startTime = st;
  const del = toMs(p.metadata?.deletionTimestamp);
  if (del !== undefined) info.deletionTimestamp = del;
  if (p.metadata?.labels) info.labels = p.metadata.labels;
  return info;
}

/** Pods of a namespace matching a scale's string selector. */
export function podsFor(pods: readonly k8s.V1Pod[], selector: string): k8s.V1Pod[] {
  const reqs = parseSelector(selector);
  return pods.filter((p) => selectorMatchesLabels(reqs, p.metadata?.labels));
}

function windowSeconds(w: unknown): number {
  const m = /^(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(String(w ?? ''));
  if (!m) return 30;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

interface PodMetricsItem {
  metadata: { name: string; namespace?: string };
  timestamp: string;
  window: string;
  containers: { name: string; usage: Record<string, string> }[];
}

/**
 * The metrics-server list of a namespace, fetched once per namespace per sync round (the round visits
 * a namespace's HPAs one after the other, so the list is as fresh as a per-HPA one within a
 * metrics-server resolution). Upstream lists per HPA with its selector; here one LIST per namespace
 * serves all its HPAs, each keeping the items of its own pods (those the pod informer matched to the
 * scale's selector: upstream, too, uses only the metrics of pods its pod lister returns).
 */
export class ResourceMetrics {
  private readonly cache = new Map<string, Promise<PodMetricsItem[]>>();
  private readonly apis: Apis;
  constructor(apis: Apis) { this.apis = apis; }

  /** Drop cached lists (call once per sync round). */
  clear(): void { this.cache.clear(); }

  private list(namespace: string): Promise<PodMetricsItem[]> {
    let p = this.cache.get(namespace);
    if (!p) {
      this.apis.requests.set('list pod metrics', (this.apis.requests.get('list pod metrics') ?? 0) + 1);
      p = this.apis.custom.listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace, plural: 'pods' })
        .then((r: { items?: PodMetricsItem[] }) => r.items ?? []);
      this.cache.set(namespace, p);
    }
    return p;
  }

  /** Samples for a Resource (container undefined) or ContainerResource metric of `pods` (the target's pods, by name). */
  async observe(namespace: string, pods: ReadonlySet<string>, resource: string, container?: string): Promise<MetricObservation> {
    let all: PodMetricsItem[];
    try { all = await this.list(namespace); } catch (e) {
      const code = apiCode(e);
      const msg = code === 503 || code === 404
        ? 'the server is currently unable to handle the request (get pods.metrics.k8s.io)'
        : code === undefined ? apiMessage(e) : apiMessage(e);
      return { kind: 'error', message: `unable to fetch metrics from resource metrics API: ${msg}` };
    }
    const samples: PodMetricSample[] = [];
    for (const it of all) {
      if (!pods.has(it.metadata.name)) continue;
      let value = 0;
      let found = false;
      for (const c of it.containers ?? []) {
        if (container !== undefined && c.name !== container) continue;
        const q = c.usage?.[resource];
        if (q === undefined) continue;
        value += milli(q);
        found = true;
      }
      if (!found) {
        if (container !== undefined) continue;
        if ((it.containers ?? []).length === 0) continue;
        // upstream: a pod whose containers lack the resource is skipped with an error for the whole list
        return { kind: 'error', message: `unable to fetch metrics from resource metrics API: missing resource metric ${resource} for pod ${namespace}/${it.metadata.name}` };
      }
      samples.push({ pod: it.metadata.name, value, timestamp: toMs(it.timestamp) ?? Date.now(), windowSeconds: windowSeconds(it.window) });
    }
    if (samples.length === 0) return { kind: 'error', message: 'no metrics returned from resource metrics API' };
    return { kind: 'pods', samples };
  }
}

/**
 * Pods/Object/External metrics: the custom/external metrics APIs when served, else PromQL through the
 * mapping (a file or ConfigMap plus metrics.tide.dev/* annotations on the HPA).
 */
export async function observeCustom(
  apis: Apis,
  served: { custom: boolean; external: boolean },
  namespace: string,
  selector: string,
  spec: MetricSpec,
  mapping: MetricMapping,
  now: number,
): Promise<MetricObservation> {
  try {
    if (spec.type === 'Pods') {
      const id = spec.pods.metric;
      if (served.custom) {
        const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/pods/*/${encodeURIComponent(id.name)}`;
        const r = await rawGet(apis, path, { labelSelector: selector, ...(id.selector ? { metricLabelSelector: labelSel(id.selector) } : {}) });
        const items = (r.items ?? []) as { describedObject: { name: string }; value: string; timestamp: string; windowSeconds?: number }[];
        if (!items.length) return { kind: 'error', message: `no metrics returned from custom metrics API` };
        return { kind: 'pods', samples: items.map((i) => ({ pod: i.describedObject.name, value: milli(i.value), timestamp: toMs(i.timestamp) ?? now, windowSeconds: i.windowSeconds ?? 60 })) };
      }
      // Prometheus: one sample per pod, the query's `pod` label names the pod (PromQL with <<.LabelMatchers>> = pod selector)
      const src = metricSourceFor(mapping, id.name, id.selector);
      const samples = await src.read(now);
      const out: PodMetricSample[] = [];
      for (const s of samples) {
        const pod = s.labels?.pod ?? s.labels?.kubernetes_pod_name ?? s.labels?.pod_name;
        if (pod) out.push({ pod, value: Math.round(s.value * 1000), timestamp: now, windowSeconds: 60 });
      }
      if (!out.length) return { kind: 'error', message: `${src.describe()}: no series with a pod label` };
      return { kind: 'pods', samples: out };
    }
    if (spec.type === 'External') {
      const id = spec.external.metric;
      if (served.external) {
        const path = `/apis/external.metrics.k8s.io/v1beta1/namespaces/${namespace}/${encodeURIComponent(id.name)}`;
        const r = await rawGet(apis, path, id.selector ? { labelSelector: labelSel(id.selector) } : {});
        const items = (r.items ?? []) as { value: string; timestamp: string }[];
        if (!items.length) return { kind: 'error', message: 'no metrics returned from external metrics API' };
        return { kind: 'external', values: items.map((i) => milli(i.value)), timestamp: toMs(items[0].timestamp) ?? now };
      }
      return observeMappedMetric(metricSourceFor(mapping, id.name, id.selector), 'external', now);
    }
    if (spec.type === 'Object') {
      const o = spec.object;
      if (served.custom) {
        const plural = `${o.describedObject.kind.toLowerCase()}s`;
        const path = `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${namespace}/${plural}/${encodeURIComponent(o.describedObject.name)}/${encodeURIComponent(o.metric.name)}`;
        const r = await rawGet(apis, path, o.metric.selector ? { metricLabelSelector: labelSel(o.metric.selector) } : {});
        const items = (r.items ?? []) as { value: string; timestamp: string }[];
        if (items.length !== 1) return { kind: 'error', message: `expected exactly one metric value, got ${items.length}` };
        return { kind: 'object', value: milli(items[0].value), timestamp: toMs(items[0].timestamp) ?? now };
      }
      return observeMappedMetric(metricSourceFor(mapping, o.metric.name, o.metric.selector), 'object', now);
    }
  } catch (e) {
    return { kind: 'error', message: apiMessage(e) };
  }
  return { kind: 'error', message: `unsupported metric type ${spec.type}` };
}

function labelSel(sel: { matchLabels?: Record<string, string> }): string {
  return Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

/** GET of a path the generated clients do not cover (custom/external metrics APIs), with the kubeconfig's auth. */
async function rawGet(apis: Apis, path: string, query: Record<string, string>): Promise<{ items?: unknown[] }> {
  const cluster = apis.kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const opts: import('node:https').RequestOptions = { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': TIDE_USER_AGENT } };
  await apis.kc.applyToHTTPSOptions(opts);
  const { request } = await import('node:https');
  apis.requests.set('get custom metrics', (apis.requests.get('get custom metrics') ?? 0) + 1);
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) {
          let msg = `HTTP ${res.statusCode}`;
          try { msg = JSON.parse(body).message ?? msg; } catch { /* not JSON */ }
          reject(new Error(msg));
          return;
        }
        try { resolve(JSON.parse(body)); } catch (e) { reject(e); }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Which metrics APIs the aggregator serves (APIService discovery). */
export async function servedMetricsApis(apis: Apis): Promise<{ resource: boolean; custom: boolean; external: boolean }> {
  try {
    const groups = await apis.apis.getAPIVersions();
    const names = new Set((groups.groups ?? []).map((g) => g.name));
    return { resource: names.has('metrics.k8s.io'), custom: names.has('custom.metrics.k8s.io'), external: names.has('external.metrics.k8s.io') };
  } catch {
    return { resource: true, custom: false, external: false };
  }
}

export { labelMatchers };
