// serving.kserve.io/v1beta1 InferenceService: the predictor's containers run like a Deployment,
// autoscaled as KServe configures Knative (SetAutoScalingAnnotations): class KPA unless set,
// scaleTarget → target, scaleMetric → metric, minReplicas → min-scale (default 1: no scale to zero
// unless minReplicas: 0), maxReplicas → max-scale (0 = unlimited), containerConcurrency and timeout
// onto the revision. ISVC-level min-scale/max-scale annotations are dropped as KServe does.
// Deployment mode Standard/RawDeployment maps to an HPA (KServe's createHPA). predictor.model
// (model-server runtimes + storageUri) is out of scope locally: it validates and decides, not runs.
import { z } from 'zod';
import { int32, k8sObject, metadataSchema, stringMap } from '../k8s/common.ts';
import type { HpaPolicy, MetricSpec } from '../../deciders/hpa/types.ts';
import { HPA_CLASS } from '../../deciders/kpa/config.ts';
import type { Dialect, DialectContext, DialectIssue } from './types.ts';
import { GROUP } from './knative-annotations.ts';
import {
  knativeClusterConfig, normalizeRevision, revisionContainerSchema, validateRevision,
  type KnativeNormalized, type RevisionContainer, type RevisionInput,
} from './knative-workload.ts';
import { milliValue } from '../quantity.ts';

const FRAMEWORKS = ['sklearn', 'xgboost', 'tensorflow', 'pytorch', 'triton', 'onnx', 'huggingface', 'pmml', 'lightgbm', 'paddle'];
const PREDICTOR_IGNORED = [
  ...FRAMEWORKS, 'model', 'workerSpec', 'logger', 'batcher', 'canaryTrafficPercent', 'deploymentStrategy', 'scaleMetricType',
  'volumes', 'serviceAccountName', 'imagePullSecrets', 'nodeSelector', 'affinity', 'tolerations', 'securityContext', 'runtimeClassName',
  'priorityClassName', 'dnsPolicy', 'dnsConfig', 'hostAliases', 'schedulerName', 'topologySpreadConstraints', 'initContainers',
  'automountServiceAccountToken', 'enableServiceLinks', 'hostNetwork', 'hostIPC', 'hostPID', 'shareProcessNamespace',
  'terminationGracePeriodSeconds', 'restartPolicy', 'nodeName', 'readinessGates', 'os', 'resources', 'storageUris', 'minReplicaCount',
];

const metricTarget = z.looseObject({
  type: z.enum(['Utilization', 'AverageValue', 'Value']).optional(),
  averageUtilization: int32().optional(),
  averageValue: z.union([z.string(), z.number()]).optional(),
  value: z.union([z.string(), z.number()]).optional(),
});

export const inferenceServiceSchema = k8sObject({
  apiVersion: z.literal('serving.kserve.io/v1beta1'),
  kind: z.literal('InferenceService'),
  metadata: metadataSchema,
  spec: k8sObject({
    predictor: k8sObject({
      containers: z.array(revisionContainerSchema).optional(),
      minReplicas: int32().optional(),
      maxReplicas: int32().optional(),
      scaleTarget: int32().optional(),
      scaleMetric: z.enum(['cpu', 'memory', 'concurrency', 'rps'], { error: 'must be one of cpu, memory, concurrency, rps' }).optional(),
      containerConcurrency: int32().optional(),
      timeout: int32().optional(),
      labels: stringMap().optional(),
      annotations: stringMap().optional(),
      autoScaling: z.looseObject({
        metrics: z.array(z.looseObject({
          type: z.string(),
          resource: z.looseObject({ name: z.string(), target: metricTarget }).optional(),
        })).optional(),
      }).optional(),
    }, PREDICTOR_IGNORED),
    transformer: z.unknown().optional(),
    explainer: z.unknown().optional(),
  }),
}, ['status']);
export type InferenceServiceManifest = z.infer<typeof inferenceServiceSchema>;

/** Annotations KServe does not propagate from the ISVC to the revision (ServiceAnnotationDisallowedList). */
const DISALLOWED = [`${GROUP}/min-scale`, `${GROUP}/max-scale`, 'kubectl.kubernetes.io/last-applied-configuration'];
const ISVC_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function deploymentMode(s: InferenceServiceManifest): 'Knative' | 'Standard' {
  const m = s.metadata.annotations?.['serving.kserve.io/deploymentMode'];
  return m === 'Standard' || m === 'RawDeployment' ? 'Standard' : 'Knative';
}

/** The revision KServe would create (annotations after SetAutoScalingAnnotations). */
function revisionOf(s: InferenceServiceManifest): RevisionInput {
  const p = s.spec.predictor;
  const base = ['spec', 'predictor'];
  const meta = s.metadata.annotations ?? {};
  const anns: Record<string, string> = {};
  const origin = new Map<string, (string | number)[]>();
  for (const [k, v] of Object.entries(meta)) if (!DISALLOWED.includes(k)) { anns[k] = v; origin.set(k, ['metadata', 'annotations', k]); }
  for (const [k, v] of Object.entries(p.annotations ?? {})) { anns[k] = v; origin.set(k, [...base, 'annotations', k]); }
  if (anns[`${GROUP}/class`] === undefined) anns[`${GROUP}/class`] = 'kpa.autoscaling.knative.dev';
  if (p.scaleTarget !== undefined) { anns[`${GROUP}/target`] = String(p.scaleTarget); origin.set(`${GROUP}/target`, [...base, 'scaleTarget']); }
  if (p.scaleMetric !== undefined) { anns[`${GROUP}/metric`] = p.scaleMetric; origin.set(`${GROUP}/metric`, [...base, 'scaleMetric']); }
  anns[`${GROUP}/min-scale`] = String(p.minReplicas ?? 1);
  origin.set(`${GROUP}/min-scale`, p.minReplicas !== undefined ? [...base, 'minReplicas'] : base);
  if (p.maxReplicas !== undefined && p.maxReplicas !== 0) { anns[`${GROUP}/max-scale`] = String(p.maxReplicas); origin.set(`${GROUP}/max-scale`, [...base, 'maxReplicas']); }
  // ValidateInitialScaleAnnotation: a non-integer or a disallowed 0 is dropped (default initial scale).
  const is = anns[`${GROUP}/initial-scale`];
  if (is !== undefined && (!/^[+-]?\d+$/.test(is) || Number(is) < 0 || (Number(is) === 0 && !knativeClusterConfig().allowZeroInitialScale))) {
    delete anns[`${GROUP}/initial-scale`];
  }
  const hasModel = (p as Record<string, unknown>).model !== undefined || FRAMEWORKS.some((f) => (p as Record<string, unknown>)[f] !== undefined);
  return {
    sourceKind: 'InferenceService',
    name: s.metadata.name,
    ...(s.metadata.namespace ? { namespace: s.metadata.namespace } : {}),
    deploymentName: `${s.metadata.name}-predictor`,
    serviceName: s.metadata.name,
    labels: { ...(p.labels ?? {}), 'serving.kserve.io/inferenceservice': s.metadata.name, component: 'predictor' },
    annotations: anns,
    annotationPath: (k) => origin.get(k) ?? ['metadata', 'annotations', k],
    containers: (p.containers ?? []) as RevisionContainer[],
    containersPath: [...base, 'containers'],
    ...(p.containerConcurrency !== undefined ? { containerConcurrency: p.containerConcurrency } : {}),
    containerConcurrencyPath: [...base, 'containerConcurrency'],
    ...(p.timeout !== undefined ? { timeoutSeconds: p.timeout, responseStartTimeoutSeconds: p.timeout } : {}),
    timeoutPath: [...base, 'timeout'],
    ...(hasModel && !(p.containers ?? []).length ? { notRunnable: 'spec.predictor.model (a KServe serving runtime loading storageUri) is not run locally: give spec.predictor.containers with the command that serves the model' } : {}),
  };
}

function validate(s: InferenceServiceManifest, ctx: DialectContext): void {
  const p = s.spec.predictor;
  const base = ['spec', 'predictor'];
  const reported = new Set<string>();
  const report = (i: DialectIssue) => { reported.add(JSON.stringify(i.path)); ctx.report(i); };
  if (!ISVC_NAME.test(s.metadata.name)) {
    report({ path: ['metadata', 'name'], message: `a InferenceService name must consist of lower case alphanumeric characters or '-', and must start with alphabetical character`, allowed: "e.g. 'my-name' or 'abc-123'" });
  }
  const hasModel = (p as Record<string, unknown>).model !== undefined || FRAMEWORKS.some((f) => (p as Record<string, unknown>)[f] !== undefined);
  if (!(p.containers ?? []).length && !hasModel) report({ path: base, message: 'the predictor must specify containers (or a model)', allowed: 'spec.predictor.containers' });
  // ComponentExtensionSpec.Validate
  if (p.containerConcurrency !== undefined && p.containerConcurrency < 0) report({ path: [...base, 'containerConcurrency'], message: 'parallelism cannot be less than 0' });
  const min = p.minReplicas ?? 1;
  const max = p.maxReplicas ?? 0;
  if (min < 0) report({ path: [...base, 'minReplicas'], message: "'MinReplicas' cannot be less than 0" });
  if (max < 0) report({ path: [...base, 'maxReplicas'], message: "'MaxReplicas' cannot be less than 0" });
  if (min > max && max !== 0 && min >= 0) report({ path: [...base, 'maxReplicas'], message: "'MinReplicas' cannot be greater than MaxReplicas", allowed: `>= ${min}, or 0 for unlimited` });
  for (const k of DISALLOWED.slice(0, 2)) {
    if (s.metadata.annotations?.[k] !== undefined) {
      const field = k.endsWith('min-scale') ? 'minReplicas' : 'maxReplicas';
      ctx.report({ severity: 'warning', path: ['metadata', 'annotations', k], atKey: true, message: `KServe does not propagate this annotation from an InferenceService; spec.predictor.${field} decides (${field === 'minReplicas' ? `now ${min}` : max ? `now ${max}` : 'now unlimited'})`, allowed: `set spec.predictor.${field}` });
    }
  }
  const mode = deploymentMode(s);
  const cls = s.metadata.annotations?.[`${GROUP}/class`] ?? p.annotations?.[`${GROUP}/class`];
  if (mode === 'Knative') {
    const metric = p.scaleMetric ?? 'concurrency';
    if (cls === HPA_CLASS) {
      if (metric !== 'cpu' && metric !== 'memory') report({ path: [...base, 'scaleMetric'], message: `[${metric}] is not a supported metric`, allowed: 'cpu or memory with the HPA class' });
      else if (p.scaleTarget !== undefined && ((metric === 'cpu' && p.scaleTarget < 1) || p.scaleTarget > 100)) report({ path: [...base, 'scaleTarget'], message: 'the target utilization percentage should be a [1-100] integer' });
      else if (p.scaleTarget !== undefined && metric === 'memory' && p.scaleTarget < 1) report({ path: [...base, 'scaleTarget'], message: 'the target memory should be greater than 1 MiB' });
    } else {
      if (metric !== 'concurrency' && metric !== 'rps') report({ path: [...base, 'scaleMetric'], message: `[${metric}] is not a supported metric`, allowed: `concurrency or rps with the KPA; cpu/memory need annotation ${GROUP}/class: ${HPA_CLASS}` });
      else if (metric === 'rps' && p.scaleTarget !== undefined && p.scaleTarget < 1) report({ path: [...base, 'scaleTarget'], message: 'the target for rps should be greater than 1' });
    }
    // Knative's own checks on the revision KServe creates, without repeating what KServe reported.
    validateRevision(revisionOf(s), { ...ctx, report: (i) => { if (!reported.has(JSON.stringify(i.path))) ctx.report(i); } });
  } else {
    const ac = s.metadata.annotations?.['serving.kserve.io/autoscalerClass'] ?? 'hpa';
    if (!['hpa', 'keda', 'external', 'none'].includes(ac)) report({ path: ['metadata', 'annotations', 'serving.kserve.io/autoscalerClass'], message: `[${ac}] is not a supported autoscaler class type`, allowed: 'hpa, keda, external, none' });
    if (ac === 'hpa') {
      const metric = p.scaleMetric ?? 'cpu';
      if (metric !== 'cpu' && metric !== 'memory') report({ path: [...base, 'scaleMetric'], message: `[${metric}] is not a supported metric`, allowed: 'cpu or memory in Standard (raw deployment) mode' });
      else if (p.scaleTarget !== undefined && ((metric === 'cpu' && p.scaleTarget < 1) || p.scaleTarget > 100)) report({ path: [...base, 'scaleTarget'], message: 'the target utilization percentage should be a [1-100] integer' });
    }
    const rev = revisionOf(s);
    validateRevision({ ...rev, annotations: {} }, { ...ctx, report: (i) => { if (!reported.has(JSON.stringify(i.path))) ctx.report(i); } });
  }
  if (s.spec.transformer !== undefined || s.spec.explainer !== undefined) {
    ctx.report({ severity: 'warning', path: ['spec', s.spec.transformer !== undefined ? 'transformer' : 'explainer'], atKey: true, message: 'not run locally (only the predictor runs)' });
  }
}

/** KServe's createHPA for Standard (raw deployment) mode with autoscalerClass hpa. */
function rawHpa(s: InferenceServiceManifest, deploymentName: string): HpaPolicy {
  const p = s.spec.predictor;
  const min = p.minReplicas === undefined || p.minReplicas < 1 ? 1 : p.minReplicas;
  const max = Math.max(p.maxReplicas ?? 0, min);
  let metrics: MetricSpec[] = [];
  if (p.autoScaling) {
    for (const m of p.autoScaling.metrics ?? []) {
      if (!m.resource) continue;
      const t = m.resource.target;
      if (m.resource.name === 'cpu') metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: t.averageUtilization ?? 80 } } });
      else if (m.resource.name === 'memory') {
        if (t.type === 'AverageValue' && t.averageValue !== undefined) metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: milliValue(t.averageValue) } } });
        else metrics.push({ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', ...(t.averageUtilization !== undefined ? { averageUtilization: t.averageUtilization } : {}) } } });
      }
    }
  } else {
    const res = p.scaleMetric ?? 'cpu';
    if (res === 'cpu') metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: p.scaleTarget ?? 80 } } }];
    else if (res === 'memory' && p.scaleTarget !== undefined) metrics = [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: p.scaleTarget } } }];
  }
  if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  return {
    name: `${s.metadata.name}-predictor`,
    ...(s.metadata.namespace ? { namespace: s.metadata.namespace } : {}),
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName },
    minReplicas: min,
    maxReplicas: max,
    metrics,
    // KServe sets an empty behavior: the v2 defaults apply (not the legacy path).
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
    source: { apiVersion: 'autoscaling/v2' },
  };
}

function normalize(s: InferenceServiceManifest, ctx: DialectContext): KnativeNormalized {
  const rev = revisionOf(s);
  if (deploymentMode(s) === 'Knative') return normalizeRevision(rev, ctx);
  // Standard mode: a plain Deployment (replicas = minReplicas) + HPA (or nothing for keda/external/none).
  const ac = s.metadata.annotations?.['serving.kserve.io/autoscalerClass'] ?? 'hpa';
  const hpa = rawHpa(s, rev.deploymentName);
  const out = normalizeRevision({ ...rev, annotations: { [`${GROUP}/class`]: HPA_CLASS, [`${GROUP}/min-scale`]: String(hpa.minReplicas) } }, ctx);
  if (ac !== 'hpa') {
    ctx.report({ severity: 'warning', path: ['metadata', 'annotations', 'serving.kserve.io/autoscalerClass'], message: ac === 'keda' ? 'KServe would create a KEDA ScaledObject here; locally, write the ScaledObject yourself (keda.sh/v1alpha1)' : `autoscalerClass ${ac}: no autoscaler, fixed at ${hpa.minReplicas} replica(s)` });
    hpa.maxReplicas = hpa.minReplicas;
  }
  return { ...out, autoscaler: { decider: 'hpa', policy: hpa } };
}

export const inferenceServiceDialect: Dialect<InferenceServiceManifest, KnativeNormalized> = {
  apiVersions: ['serving.kserve.io/v1beta1'],
  kind: 'InferenceService',
  role: 'autoscaler',
  nameRule: 'dns1035-label', // KServe's webhook: [a-z]([-a-z0-9]*[a-z0-9])?
  roles: ['workload'],
  decider: 'kpa',
  autoscalerOf: (n) => ({ decider: n.autoscaler.decider, policy: n.autoscaler.policy }),
  schema: inferenceServiceSchema,
  validate,
  normalize,
  podLabels: (s) => ({ ...(s.spec.predictor.labels ?? {}), 'serving.kserve.io/inferenceservice': s.metadata.name, component: 'predictor', app: `${s.metadata.name}-predictor` }),
};
