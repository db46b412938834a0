// Shared by the Knative Service and KServe InferenceService dialects: both describe a revision
// (containers + containerConcurrency + timeoutSeconds + autoscaling annotations). This module
// validates the annotations, resolves the KPA policy (or, for class hpa.autoscaling.knative.dev,
// an HpaPolicy as Knative's MakeHPA builds it) and synthesizes the Deployment + Service objects the
// local runtime runs, reusing the apps/v1 Deployment dialect for the containers.

import { z } from 'zod';
import { DNS_LABEL } from '../k8s/common.ts';
import { defaultKpaConfig, HPA_CLASS, KPA_CLASS, type KpaClusterConfig } from '../../deciders/kpa/config.ts';
import { makeKpaPolicy, type KpaRevisionInput } from '../../deciders/kpa/policy.ts';
import type { KpaPolicy } from '../../deciders/kpa/types.ts';
import type { HpaBehavior, HpaPolicy, MetricSpec } from '../../deciders/hpa/types.ts';
import type { NormalizedDeployment, NormalizedService } from '../types.ts';
import { deploymentDialect, deploymentSchema } from './deployment.ts';
import type { DialectContext } from './types.ts';
import { GROUP, parseKnativeAnnotations } from './knative-annotations.ts';

// ---- cluster settings (config-autoscaler), overridable -------------------------------------------
let clusterConfig: KpaClusterConfig = defaultKpaConfig();
/** Set the `config-autoscaler` settings used when normalizing Knative/KServe manifests. */
export function setKnativeClusterConfig(cfg: KpaClusterConfig): void { clusterConfig = cfg; }
export function knativeClusterConfig(): KpaClusterConfig { return clusterConfig; }

/** config-defaults: revision timeout default and maximum, containerConcurrency maximum. */
export const REVISION_TIMEOUT_DEFAULT = 300;
export const REVISION_TIMEOUT_MAX = 600;
export const CONTAINER_CONCURRENCY_MAX = 1000;
/** Port Knative gives the user container when none is declared (and sets $PORT to). */
export const DEFAULT_USER_PORT = 8080;

// ---- containers: the Deployment dialect's container schema with an optional name ----------------
const deploymentContainer = (deploymentSchema as unknown as {
  shape: { spec: { shape: { template: { shape: { spec: { shape: { containers: { element: z.ZodObject<z.ZodRawShape> } } } } } } } };
}).shape.spec.shape.template.shape.spec.shape.containers.element;
export const revisionContainerSchema = deploymentContainer.extend({
  name: z.string().regex(DNS_LABEL, { error: 'must be a DNS label (lowercase letters, digits and "-")' }).optional(),
});
export type RevisionContainer = z.infer<typeof revisionContainerSchema> & { name?: string; ports?: { containerPort: number; name?: string }[]; readinessProbe?: unknown };

// ---- what a revision normalizes to --------------------------------------------------------------
export type KnativeAutoscaler =
  | { decider: 'kpa'; policy: KpaPolicy; revision: KpaRevisionInput }
  | { decider: 'hpa'; policy: HpaPolicy };

export interface KnativeNormalized {
  /** Source kind, e.g. "InferenceService" or "Service (serving.knative.dev)". */
  sourceKind: string;
  name: string;
  namespace?: string;
  autoscaler: KnativeAutoscaler;
  /** The Deployment the local runtime runs (named like the revision's workload). */
  deployment: NormalizedDeployment;
  /** The Service in front of it (Tide's proxy / activator). */
  service: NormalizedService;
  /** Plain apps/v1 + v1 objects of the same, for shells that work on manifest objects. */
  objects: { deployment: Record<string, unknown>; service: Record<string, unknown> };
  containerConcurrency: number;
  timeoutSeconds: number;
  responseStartTimeoutSeconds?: number;
  /** Why it cannot run locally (e.g. predictor.model), when it cannot; autoscaling still decides. */
  notRunnable?: string;
}

export interface RevisionInput {
  sourceKind: string;
  name: string;
  namespace?: string;
  /** Name of the workload Deployment (KServe: `<isvc>-predictor`). */
  deploymentName: string;
  /** Name of the Service (the URL host locally). */
  serviceName: string;
  labels: Record<string, string>;
  /** Revision template annotations (autoscaling ones included). */
  annotations: Record<string, string>;
  /** Path of each annotation key in the document, for positions. */
  annotationPath: (key: string) => (string | number)[];
  containers: RevisionContainer[];
  containersPath: (string | number)[];
  containerConcurrency?: number;
  containerConcurrencyPath: (string | number)[];
  timeoutSeconds?: number;
  timeoutPath: (string | number)[];
  responseStartTimeoutSeconds?: number;
  notRunnable?: string;
}

/** Upstream checks on the revision spec and its annotations (errors through ctx.report). */
export function validateRevision(rev: RevisionInput, ctx: DialectContext): void {
  const parsed = parseKnativeAnnotations(rev.annotations, clusterConfig);
  for (const p of parsed.problems) {
    ctx.report({ severity: p.severity, path: rev.annotationPath(p.key), message: p.message, ...(p.allowed ? { allowed: p.allowed } : {}), atKey: p.severity === 'warning' });
  }
  const cc = rev.containerConcurrency;
  if (cc !== undefined && (cc < 0 || cc > CONTAINER_CONCURRENCY_MAX)) {
    ctx.report({ path: rev.containerConcurrencyPath, message: `expected 0 <= ${cc} <= ${CONTAINER_CONCURRENCY_MAX}`, allowed: '0 = unlimited' });
  }
  const t = rev.timeoutSeconds;
  if (t !== undefined && (t < 0 || t > REVISION_TIMEOUT_MAX)) {
    ctx.report({ path: rev.timeoutPath, message: `expected 0 <= ${t} <= ${REVISION_TIMEOUT_MAX}`, allowed: 'max-revision-timeout-seconds of config-defaults' });
  }
  if (rev.containers.length > 1) {
    const withPorts = rev.containers.filter((c) => (c.ports ?? []).length > 0).length;
    if (withPorts !== 1) ctx.report({ path: rev.containersPath, message: 'exactly one container must declare a port when there are several containers', allowed: 'ports on the serving container only' });
  }
  rev.containers.forEach((c, i) => {
    if ((c.ports ?? []).length > 1) ctx.report({ path: [...rev.containersPath, i, 'ports'], message: 'more than one container port is set', allowed: 'a single port' });
  });
  // The container checks of apps/v1 Deployment (probes, env...), reported at our paths.
  deploymentDialect.validate?.(synthDeployment(rev) as never, remapCtx(ctx, rev));
}

function remapCtx(ctx: DialectContext, rev: RevisionInput): DialectContext {
  const base = ['spec', 'template', 'spec', 'containers'];
  return {
    ...ctx,
    report(issue) {
      const p = issue.path;
      const inContainers = base.every((s, i) => p[i] === s);
      ctx.report({ ...issue, path: inContainers ? [...rev.containersPath, ...p.slice(base.length)] : rev.containersPath });
    },
  };
}

/** The Deployment a revision runs as: the serving container first, Knative's TCP readiness default. */
export function synthDeployment(rev: RevisionInput): Record<string, unknown> {
  const labels = { ...rev.labels, 'serving.knative.dev/service': rev.serviceName, app: rev.deploymentName };
  const ordered = [...rev.containers].sort((a, b) => Number((b.ports ?? []).length > 0) - Number((a.ports ?? []).length > 0));
  const containers = ordered.map((c, i) => {
    const out: Record<string, unknown> = { ...c, name: c.name ?? (i === 0 ? 'user-container' : `sidecar-${i}`) };
    if (i === 0) {
      const port = c.ports?.[0]?.containerPort ?? DEFAULT_USER_PORT;
      if (!c.ports?.length) out.ports = [{ containerPort: port }];
      // Knative probes the user container over TCP (aggressively) when no readiness probe is set.
      if (!c.readinessProbe) out.readinessProbe = { tcpSocket: { port }, periodSeconds: 1 };
    }
    return out;
  });
  const podAnnotations: Record<string, string> = { ...rev.annotations };
  // queue-proxy probes far faster than kubelet's 1 s; locally the same with Tide's probe period
  // (10 ms: cold starts are detected within ~5 ms on average, at ~100 loopback connects/s per replica).
  if (podAnnotations['tide.dev/probe-period'] === undefined) podAnnotations['tide.dev/probe-period'] = '10ms';
  if (rev.containerConcurrency) podAnnotations[`${GROUP}/container-concurrency`] = String(rev.containerConcurrency);
  const initial = initialReplicasFor(rev);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: rev.deploymentName, ...(rev.namespace ? { namespace: rev.namespace } : {}), labels },
    spec: {
      replicas: initial,
      selector: { matchLabels: { app: rev.deploymentName } },
      template: {
        metadata: { labels, annotations: podAnnotations },
        spec: { containers },
      },
    },
  };
}

export function synthService(rev: RevisionInput, port: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: rev.serviceName, ...(rev.namespace ? { namespace: rev.namespace } : {}) },
    spec: { selector: { app: rev.deploymentName }, ports: [{ name: 'http', port, targetPort: port }] },
  };
}

/** The port the local Service listens on: `tide.dev/port`, else the container port, else 8080. */
export function servicePort(rev: RevisionInput): number {
  const ann = rev.annotations['tide.dev/port'];
  if (ann !== undefined && /^\d+$/.test(ann)) return Number(ann);
  const c = rev.containers.find((x) => (x.ports ?? []).length > 0) ?? rev.containers[0];
  return c?.ports?.[0]?.containerPort ?? DEFAULT_USER_PORT;
}

function initialReplicasFor(rev: RevisionInput): number {
  const parsed = parseKnativeAnnotations(rev.annotations, clusterConfig);
  if (parsed.class === HPA_CLASS) return Math.max(1, parsed.kpa.minScale ?? 1);
  const p = makeKpaPolicy({ name: rev.name, target: `Deployment/${rev.deploymentName}`, annotations: parsed.kpa }, clusterConfig);
  return p.initialScale;
}

/** Knative's MakeHPA for class hpa.autoscaling.knative.dev. */
export function hpaFromRevision(rev: RevisionInput, ann: ReturnType<typeof parseKnativeAnnotations>): HpaPolicy {
  const min = ann.kpa.minScale ?? clusterConfig.minScale;
  const max = ann.kpa.maxScale ?? clusterConfig.maxScale;
  const metric = ann.metric ?? 'cpu';
  let metrics: MetricSpec[] = [];
  const target = ann.kpa.target;
  if (target !== undefined) {
    if (metric === 'cpu') metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: Math.ceil(target) } } }];
    else if (metric === 'memory') metrics = [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: Math.trunc(target) * 1024 * 1024 * 1000 } } }];
    else metrics = [{ type: 'Pods', pods: { metric: { name: metric }, target: { type: 'AverageValue', averageValue: Math.trunc(target) * 1000 } } }];
  }
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  let behavior: HpaBehavior | undefined;
  if (ann.kpa.windowSeconds !== undefined) {
    const w = Math.trunc(ann.kpa.windowSeconds);
    behavior = {
      scaleUp: { stabilizationWindowSeconds: w, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: w, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    };
  }
  return {
    name: rev.name,
    ...(rev.namespace ? { namespace: rev.namespace } : {}),
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: rev.deploymentName },
    minReplicas: min > 0 ? min : 1,
    maxReplicas: max === 0 ? 2147483647 : max,
    metrics,
    ...(behavior ? { behavior } : {}),
    source: { apiVersion: 'autoscaling/v2' },
  };
}

export function normalizeRevision(rev: RevisionInput, ctx: DialectContext): KnativeNormalized {
  const ann = parseKnativeAnnotations(rev.annotations, clusterConfig);
  const cc = rev.containerConcurrency ?? 0;
  let autoscaler: KnativeAutoscaler;
  if (ann.class === HPA_CLASS) {
    autoscaler = { decider: 'hpa', policy: hpaFromRevision(rev, ann) };
  } else {
    if (ann.class !== KPA_CLASS) ctx.report({ severity: 'warning', path: rev.annotationPath(`${GROUP}/class`), message: `autoscaler class ${ann.class} is not run by Tide; using ${KPA_CLASS}` });
    const revision: KpaRevisionInput = {
      name: rev.name,
      ...(rev.namespace ? { namespace: rev.namespace } : {}),
      target: `Deployment/${rev.deploymentName}`,
      containerConcurrency: cc,
      annotations: ann.kpa,
    };
    autoscaler = { decider: 'kpa', policy: makeKpaPolicy(revision, clusterConfig), revision };
  }
  const depObj = synthDeployment(rev);
  const port = servicePort(rev);
  const svcObj = synthService(rev, port);
  const deployment = deploymentDialect.normalize!(depObj as never, remapCtx(ctx, rev)) as NormalizedDeployment;
  const service: NormalizedService = {
    name: rev.serviceName,
    ...(rev.namespace ? { namespace: rev.namespace } : {}),
    selector: { app: rev.deploymentName },
    ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }],
    labels: {},
  };
  return {
    sourceKind: rev.sourceKind,
    name: rev.name,
    ...(rev.namespace ? { namespace: rev.namespace } : {}),
    autoscaler,
    deployment,
    service,
    objects: { deployment: depObj, service: svcObj },
    containerConcurrency: cc,
    timeoutSeconds: rev.timeoutSeconds ?? REVISION_TIMEOUT_DEFAULT,
    ...(rev.responseStartTimeoutSeconds !== undefined ? { responseStartTimeoutSeconds: rev.responseStartTimeoutSeconds } : {}),
    ...(rev.notRunnable ? { notRunnable: rev.notRunnable } : {}),
  };
}
