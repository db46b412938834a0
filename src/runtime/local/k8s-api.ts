// Kubernetes-style read paths of the control API: the local runtime's objects at the URLs an API
// server serves them (/api/v1/namespaces/default/pods, /apis/autoscaling/v2/…/horizontalpodautoscalers,
// /apis/apps/v1/…/deployments, /api/v1/…/events, /apis/metrics.k8s.io/v1beta1/…/pods), so the CLI
// reads the same shapes locally as from a cluster. Lists support ?labelSelector= and events
// ?fieldSelector=involvedObject.name=…,involvedObject.kind=….
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HpaPolicy } from '../../deciders/hpa/types.ts';
import { parseSelector, selectorMatches } from '../../views/kubectl/selector.ts';
import type { ObjectMeta } from '../../views/kubectl/types.ts';
import type { LocalRuntime } from './controller.ts';
import { deploymentObject, eventObjects, hpaObject, NAMESPACE, podMetricsObject, podObject, serviceObject } from './k8s-objects.ts';

interface Named { metadata: ObjectMeta }

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export function hpaObjects(rt: LocalRuntime) {
  return [...rt.drivers.values()].map((d) => {
    const item = rt.bundle.autoscalers.find((a) => a.name === d.name);
    return hpaObject(d.status(), d.kind === 'hpa' ? (item?.policy as HpaPolicy | undefined) : undefined);
  });
}

export function podObjects(rt: LocalRuntime) {
  return [...rt.supervisors.values()].flatMap((s) => [...s.replicas.values()].map((r) => podObject(r.status(), s.deployment)));
}

export function deploymentObjects(rt: LocalRuntime) {
  return [...rt.supervisors.values()].map((s) => deploymentObject(s.deployment, s.desired, [...s.replicas.values()].map((r) => r.status()), rt.startedAt));
}

export function serviceObjects(rt: LocalRuntime) {
  return [...rt.services.values()].map((s) => serviceObject(s.spec, s.port, rt.startedAt, s.error));
}

export function podMetricsObjects(rt: LocalRuntime) {
  return rt.replicas(undefined, false).map((r) => podMetricsObject(r.name, r.deployment.container.name, rt.usage.usage(r.name), Date.now(), rt.opts.metricResolutionMs, { ...r.deployment.labels, 'pod-template-hash': r.deployment.templateHash })).filter((m) => m !== null);
}

const RESOURCES: Record<string, { group: string; plural: string; qualified: string; list: (rt: LocalRuntime) => Named[]; listKind: string; apiVersion: string }> = {
  pods: { group: 'api/v1', plural: 'pods', qualified: 'pods', list: podObjects, listKind: 'PodList', apiVersion: 'v1' },
  services: { group: 'api/v1', plural: 'services', qualified: 'services', list: serviceObjects, listKind: 'ServiceList', apiVersion: 'v1' },
  events: { group: 'api/v1', plural: 'events', qualified: 'events', list: (rt) => eventObjects(rt.events), listKind: 'EventList', apiVersion: 'v1' },
  deployments: { group: 'apis/apps/v1', plural: 'deployments', qualified: 'deployments.apps', list: deploymentObjects, listKind: 'DeploymentList', apiVersion: 'apps/v1' },
  horizontalpodautoscalers: { group: 'apis/autoscaling/v2', plural: 'horizontalpodautoscalers', qualified: 'horizontalpodautoscalers.autoscaling', list: hpaObjects, listKind: 'HorizontalPodAutoscalerList', apiVersion: 'autoscaling/v2' },
  'metrics/pods': { group: 'apis/metrics.k8s.io/v1beta1', plural: 'pods', qualified: 'pods.metrics.k8s.io', list: podMetricsObjects, listKind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1' },
};

function fieldFilter(q: URLSearchParams): (o: Named) => boolean {
  const fs = q.get('fieldSelector');
  if (!fs) return () => true;
  const reqs = fs.split(',').map((p) => p.split('=')).filter((p) => p.length >= 2).map(([k, ...v]) => [k.trim(), v.join('=').replace(/^=/, '').trim()] as const);
  return (o) => reqs.every(([k, v]) => {
    const path = k.split('.');
    let cur: unknown = o;
    for (const p of path) cur = (cur as Record<string, unknown> | undefined)?.[p];
    return String(cur ?? '') === v;
  });
}

/** Serve a Kubernetes-style GET; returns false when the path is not one of these. */
export function handleKubeApi(rt: LocalRuntime, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname;
  if (!p.startsWith('/api/v1/') && !p.startsWith('/apis/')) return false;
  if ((req.method ?? 'GET') !== 'GET') return false;
  const m = p.match(/^\/(api\/v1|apis\/apps\/v1|apis\/autoscaling\/v2|apis\/metrics\.k8s\.io\/v1beta1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?$/);
  if (!m) return false;
  const [, group, nsRaw, plural, nameRaw] = m;
  const key = group === 'apis/metrics.k8s.io/v1beta1' ? `metrics/${plural}` : plural;
  const r = RESOURCES[key];
  if (!r || r.group !== group) return false;
  const ns = nsRaw === undefined ? undefined : decodeURIComponent(nsRaw);
  const name = nameRaw === undefined ? undefined : decodeURIComponent(nameRaw);
  const q = url.searchParams;
  let items = ns === undefined || ns === NAMESPACE ? r.list(rt) : [];
  if (name !== undefined) {
    const obj = items.find((o) => o.metadata.name === name);
    if (!obj) return status(res, 404, 'NotFound', `${r.qualified} "${name}" not found`), true;
    return send(res, 200, obj), true;
  }
  const ls = q.get('labelSelector');
  if (ls) {
    let reqs;
    try { reqs = parseSelector(ls); } catch (e) { return status(res, 400, 'BadRequest', `unable to parse requirement: ${(e as Error).message}`), true; }
    items = items.filter((o) => selectorMatches(reqs, o.metadata.labels));
  }
  items = items.filter(fieldFilter(q));
  send(res, 200, { apiVersion: r.apiVersion, kind: r.listKind, metadata: { resourceVersion: String(Date.now()) }, items });
  return true;
}
