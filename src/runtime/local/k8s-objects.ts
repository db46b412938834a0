// The local runtime's state as the Kubernetes objects an API server would return: autoscaling/v2
// HorizontalPodAutoscalers with the status kube-controller-manager writes (currentMetrics,
// conditions, currentReplicas, desiredReplicas, lastScaleTime), v1 Pods, apps/v1 Deployments,
// v1 Services, v1 Events and metrics.k8s.io PodMetrics. `tide get/describe/top` format these with
// src/views/kubectl, the same code that formats objects read from a real cluster.
import { constants } from 'node:os';
import type { DecisionRecord, MetricProposal } from '../../core/decision.ts';
import { formatMilli } from '../../deciders/hpa/format.ts';
import type { HpaPolicy, MetricSpec as PolicyMetric, MetricTarget as PolicyTarget } from '../../deciders/hpa/types.ts';
import { rfc3339 } from '../../views/kubectl/duration.ts';
import type {
  ContainerState as KContainerState, Deployment, Event, HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, Pod, PodMetrics, Service,
} from '../../views/kubectl/types.ts';
import type { AutoscalerStatus } from '../../autoscalers/types.ts';
import type { ContainerState, ReplicaStatus, RuntimeEvent } from './supervisor.ts';
import type { LocalDeployment } from './workload.ts';

export const NAMESPACE = 'default';
export const NODE_NAME = 'localhost';

function uid(kind: string, name: string): string {
  // stable per object: a UUID-shaped FNV-1a hash of kind/name
  let h = 0x811c9dc5;
  const s = `${kind}/${name}`;
  const parts: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i) + round; h = Math.imul(h, 0x01000193) >>> 0; }
    parts.push(h.toString(16).padStart(8, '0'));
  }
  const x = parts.join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function target(t: PolicyTarget): MetricTarget {
  if (t.type === 'Utilization') return { type: 'Utilization', averageUtilization: t.averageUtilization ?? 0 };
  if (t.type === 'AverageValue') return { type: 'AverageValue', averageValue: formatMilli(t.averageValue ?? 0) };
  return { type: 'Value', value: formatMilli(t.value ?? 0) };
}

export function hpaMetricSpec(m: PolicyMetric): MetricSpec {
  switch (m.type) {
    case 'Resource': return { type: 'Resource', resource: { name: m.resource.name, target: target(m.resource.target) } };
    case 'ContainerResource': return { type: 'ContainerResource', containerResource: { name: m.containerResource.name, container: m.containerResource.container, target: target(m.containerResource.target) } };
    case 'Pods': return { type: 'Pods', pods: { metric: m.pods.metric, target: target(m.pods.target) } };
    case 'Object': return { type: 'Object', object: { describedObject: m.object.describedObject, metric: m.object.metric, target: target(m.object.target) } };
    case 'External': return { type: 'External', external: { metric: m.external.metric, target: target(m.external.target) } };
  }
}

/** status.currentMetrics[i] as computeStatusFor*Metric writes it; `{type: ""}` for a metric that failed (as upstream leaves it). */
export function hpaMetricStatus(m: PolicyMetric, p: MetricProposal | undefined): MetricStatus {
  const usage = p?.detail?.usageMilli;
  if (!p || typeof usage !== 'number' || p.error) return { type: '' };
  const q = formatMilli(usage);
  const util = p.detail?.utilization;
  switch (m.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource.name, current: typeof util === 'number' ? { averageUtilization: util, averageValue: q } : { averageValue: q } } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource.name, container: m.containerResource.container, current: typeof util === 'number' ? { averageUtilization: util, averageValue: q } : { averageValue: q } } };
    case 'Pods':
      return { type: 'Pods', pods: { metric: m.pods.metric, current: { averageValue: q } } };
    case 'Object':
      return { type: 'Object', object: { describedObject: m.object.describedObject, metric: m.object.metric, current: m.object.target.type === 'AverageValue' ? { averageValue: q } : { value: q } } };
    case 'External':
      return { type: 'External', external: { metric: m.external.metric, current: m.external.target.type === 'AverageValue' ? { averageValue: q } : { value: q } } };
  }
}

function behavior(policy: HpaPolicy): HorizontalPodAutoscaler['spec']['behavior'] {
  if (!policy.behavior) return undefined;
  const rules = (r: HpaPolicy['behavior'] extends infer B ? B extends { scaleUp: infer R } ? R : never : never) => ({
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    selectPolicy: r.selectPolicy,
    policies: r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })),
    ...(r.tolerance !== undefined ? { tolerance: formatMilli(Math.round(r.tolerance * 1000)) } : {}),
  });
  return { scaleUp: rules(policy.behavior.scaleUp), scaleDown: rules(policy.behavior.scaleDown) };
}

function conditions(last: DecisionRecord | undefined, fallback: number): NonNullable<HorizontalPodAutoscaler['status']>['conditions'] {
  return (last?.conditions ?? []).map((c) => ({
    type: c.type, status: c.status, lastTransitionTime: rfc3339(c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : fallback), reason: c.reason, message: c.message,
  }));
}

/**
 * One autoscaler as an autoscaling/v2 HPA. `policy` is the HPA decider's policy for kind 'hpa'
 * (exact spec and status); other kinds (KPA, KEDA, Tide's policy) are shown through the same shape
 * with one External metric per decider metric, their kind in the `tide.dev/autoscaler-kind` annotation.
 */
export function hpaObject(st: AutoscalerStatus, policy: HpaPolicy | undefined): HorizontalPodAutoscaler {
  const annotations: Record<string, string> = {};
  if (st.kind !== 'hpa') annotations['tide.dev/autoscaler-kind'] = st.kind;
  if (st.dryRun) annotations['tide.dev/dry-run'] = 'true';
  const last = st.lastDecision;
  const [refKind, refName] = st.reference.split('/');
  let metrics: MetricSpec[];
  let currentMetrics: MetricStatus[] | null;
  if (st.kind === 'hpa' && policy) {
    metrics = policy.metrics.map(hpaMetricSpec);
    currentMetrics = last ? policy.metrics.map((m, i) => hpaMetricStatus(m, last.proposals[i])) : null;
  } else if (/^(.*)\/(\S+) (\S+)$/.test(st.targets)) {
    // KPA / Tide's policy: one metric, "current/target name" as the driver states it
    const [, cur, tgt, name] = /^(.*)\/(\S+) (\S+)$/.exec(st.targets)!;
    metrics = [{ type: 'External', external: { metric: { name }, target: { type: 'Value', value: tgt } } }];
    currentMetrics = last && cur !== '<unknown>' ? [{ type: 'External', external: { metric: { name }, current: { value: cur } } }] : last ? [{ type: '' }] : null;
  } else {
    metrics = st.metricSpecs.map((s) => ({ type: 'External', external: { metric: { name: s.name }, target: { type: 'Value', value: s.target } } }));
    currentMetrics = last ? st.metricSpecs.map((s, i) => {
      const p = st.metrics[i];
      return p && p.current !== '<unknown>' ? { type: 'External', external: { metric: { name: s.name }, current: { value: p.current } } } : { type: '' };
    }) : null;
  }
  const status: NonNullable<HorizontalPodAutoscaler['status']> = {
    observedGeneration: 1,
    ...(st.lastScaleTime ? { lastScaleTime: rfc3339(st.lastScaleTime) } : {}),
    currentReplicas: last ? st.currentReplicas : 0,
    desiredReplicas: last ? st.desiredReplicas : 0,
    currentMetrics,
    ...(last ? { conditions: conditions(last, last.now) } : {}),
  };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: st.name, namespace: NAMESPACE, uid: uid('hpa', st.name), resourceVersion: String(last?.now ?? st.created),
      creationTimestamp: rfc3339(st.created),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec: {
      scaleTargetRef: { apiVersion: policy?.scaleTargetRef.apiVersion ?? 'apps/v1', kind: refKind || 'Deployment', name: refName ?? st.name },
      minReplicas: st.minReplicas,
      maxReplicas: st.maxReplicas,
      metrics,
      ...(policy?.behavior ? { behavior: behavior(policy) } : {}),
    },
    status,
  };
}

function signalNumber(sig: string | null): number | undefined {
  if (!sig) return undefined;
  return (constants.signals as Record<string, number>)[sig];
}

function containerState(s: ContainerState | undefined): KContainerState | undefined {
  if (!s) return undefined;
  if (s.kind === 'waiting') return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
  if (s.kind === 'running') return { running: { startedAt: rfc3339(s.startedAt) } };
  const sig = signalNumber(s.signal);
  return { terminated: { exitCode: s.exitCode ?? (sig !== undefined ? 128 + sig : 1), ...(sig !== undefined ? { signal: sig } : {}), reason: s.reason, ...(s.message ? { message: s.message } : {}), finishedAt: rfc3339(s.finishedAt) } };
}

function requestsOf(d: LocalDeployment): Record<string, string> | undefined {
  const r = d.container.requests;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) out[k] = formatMilli(v);
  return Object.keys(out).length ? out : undefined;
}

function imageOf(d: LocalDeployment): string {
  return (d.container as { image?: string }).image ?? '';
}

function containers(d: LocalDeployment, port?: number) {
  const req = requestsOf(d);
  return [{
    name: d.container.name,
    image: imageOf(d),
    command: d.container.command,
    ...(port ? { ports: [{ containerPort: port, protocol: 'TCP' }] } : {}),
    resources: req ? { requests: req } : {},
  }];
}

/** One replica as a v1 Pod (owned by the Deployment's ReplicaSet). Tide's port and pid ride in annotations. */
export function podObject(s: ReplicaStatus, d: LocalDeployment): Pod {
  const rsName = `${d.name}-${d.templateHash}`;
  const running = s.state.kind === 'running';
  const readyT = rfc3339(s.readyTransition || s.created);
  const cond = (type: string, ok: boolean, t = readyT) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: t });
  const annotations: Record<string, string> = { ...d.annotations, 'tide.dev/port': String(s.port) };
  if (s.pid) annotations['tide.dev/pid'] = String(s.pid);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: s.name, namespace: NAMESPACE, uid: uid('pod', s.name), creationTimestamp: rfc3339(s.created),
      ...(s.deletionTimestamp ? { deletionTimestamp: rfc3339(s.deletionTimestamp) } : {}),
      labels: { ...s.labels, 'pod-template-hash': d.templateHash },
      annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: uid('rs', rsName), controller: true }],
    },
    spec: { containers: containers(d, s.port), nodeName: NODE_NAME },
    status: {
      phase: s.phase,
      conditions: [cond('PodReadyToStartContainers', running, rfc3339(s.created)), cond('Initialized', true, rfc3339(s.created)), cond('Ready', s.ready), cond('ContainersReady', s.ready), cond('PodScheduled', true, rfc3339(s.created))],
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      ...(s.startTime ? { startTime: rfc3339(s.startTime) } : {}),
      containerStatuses: [{
        name: d.container.name, ready: s.ready, started: running, restartCount: s.restartCount, image: imageOf(d),
        state: containerState(s.state),
        ...(s.lastState ? { lastState: containerState(s.lastState) } : {}),
      }],
    },
  };
}

export function deploymentObject(d: LocalDeployment, desired: number, pods: ReplicaStatus[], created: number): Deployment {
  const active = pods.filter((p) => !p.deletionTimestamp);
  const ready = active.filter((p) => p.ready).length;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: d.name, namespace: NAMESPACE, uid: uid('deploy', d.name), generation: 1, creationTimestamp: rfc3339(created), labels: d.labels, ...(Object.keys(d.annotations).length ? { annotations: d.annotations } : {}) },
    spec: { replicas: desired, selector: { matchLabels: d.labels }, template: { metadata: { labels: d.labels }, spec: { containers: containers(d) } } },
    status: {
      observedGeneration: 1, replicas: pods.length, updatedReplicas: pods.length, readyReplicas: ready, availableReplicas: ready,
      ...(active.length - ready > 0 ? { unavailableReplicas: active.length - ready } : {}),
    },
  };
}

/** One Service; `error` (not served: port in use, no matching Deployment) rides in the `tide.dev/error` annotation. */
export function serviceObject(s: { name: string; port: number; selector: Record<string, string>; targetPort?: number | string }, listening: number | undefined, created: number, error?: string): Service {
  const annotations: Record<string, string> = {};
  if (listening && listening !== s.port) annotations['tide.dev/listening-port'] = String(listening);
  if (error) annotations['tide.dev/error'] = error;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: NAMESPACE, uid: uid('svc', s.name), creationTimestamp: rfc3339(created), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: { type: 'ClusterIP', clusterIP: '127.0.0.1', selector: s.selector, ports: [{ port: listening ?? s.port, protocol: 'TCP', ...(s.targetPort !== undefined ? { targetPort: s.targetPort } : {}) }] },
    status: { loadBalancer: {} },
  };
}

const KINDS: Record<string, { kind: string; apiVersion: string; component: string }> = {
  horizontalpodautoscaler: { kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', component: 'horizontal-pod-autoscaler' },
  hpa: { kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', component: 'horizontal-pod-autoscaler' },
  pod: { kind: 'Pod', apiVersion: 'v1', component: 'kubelet' },
  deployment: { kind: 'Deployment', apiVersion: 'apps/v1', component: 'deployment-controller' },
  replicaset: { kind: 'ReplicaSet', apiVersion: 'apps/v1', component: 'replicaset-controller' },
  service: { kind: 'Service', apiVersion: 'v1', component: 'tide-proxy' },
  kpa: { kind: 'PodAutoscaler', apiVersion: 'autoscaling.internal.knative.dev/v1alpha1', component: 'autoscaler' },
  keda: { kind: 'ScaledObject', apiVersion: 'keda.sh/v1alpha1', component: 'keda-operator' },
  tide: { kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', component: 'tide' },
};

/** Runtime events as v1 Events, repeated ones folded into one with count/firstTimestamp/lastTimestamp (as the event recorder does). */
export function eventObjects(events: RuntimeEvent[]): Event[] {
  const byKey = new Map<string, Event>();
  for (const e of events) {
    const [k, ...rest] = e.object.split('/');
    const name = rest.join('/');
    const info = KINDS[k] ?? { kind: k, apiVersion: 'v1', component: 'tide' };
    const key = `${e.object}\u0000${e.type}\u0000${e.reason}\u0000${e.message}`;
    const t = rfc3339(e.time);
    const prev = byKey.get(key);
    if (prev) { prev.count = (prev.count ?? 1) + 1; prev.lastTimestamp = t; continue; }
    byKey.set(key, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${name}.${e.time.toString(16)}`, namespace: NAMESPACE, creationTimestamp: t },
      involvedObject: { apiVersion: info.apiVersion, kind: info.kind, name, namespace: NAMESPACE },
      reason: e.reason, message: e.message, type: e.type, count: 1, firstTimestamp: t, lastTimestamp: t, eventTime: null,
      source: { component: info.component, host: NODE_NAME },
    });
  }
  return [...byKey.values()];
}

/** metrics-server's PodMetrics for one replica from the samples the HPA reads (null before the first CPU rate). */
export function podMetricsObject(name: string, container: string, usage: { cpuMilli?: number; memoryBytes?: number }, at: number, windowMs: number, labels: Record<string, string> = {}): PodMetrics | null {
  if (usage.cpuMilli === undefined || usage.memoryBytes === undefined) return null;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics',
    metadata: { name, namespace: NAMESPACE, creationTimestamp: rfc3339(at), labels },
    timestamp: rfc3339(at), window: `${Math.round(windowMs / 1000)}s`,
    containers: [{ name: container, usage: { cpu: `${usage.cpuMilli}m`, memory: `${Math.round(usage.memoryBytes / 1024)}Ki` } }],
  };
}
