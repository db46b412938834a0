// autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscaler: schemas, upstream validation rules
// (pkg/apis/autoscaling/validation), upstream defaults (defaults.go) and normalization to HpaPolicy.
import { z } from 'zod';
import { defaultScaleDownRules, defaultScaleUpRules } from '../../deciders/hpa/normalize.ts';
import type { HpaBehavior, HpaPolicy, HpaScalingRules, MetricSpec, MetricTarget } from '../../deciders/hpa/types.ts';
import { int32, k8sObject, labelSelectorSchema, metadataSchema, quantity } from '../k8s/common.ts';
import { milliValue, parseQuantity, sign, tryParseQuantity } from '../quantity.ts';
import type { Dialect, DialectContext, ScaleTargetRef } from './types.ts';

const crossRef = () => k8sObject({ apiVersion: z.string().optional(), kind: z.string(), name: z.string() });

// 0 passes the schema; validateMinReplicas() decides with the HPAScaleToZero gate, as upstream
const minReplicas = () => int32().min(0, { error: 'must be greater than or equal to 0' });
const maxReplicas = () => int32().min(1, { error: 'must be greater than 0' });

// ---------- autoscaling/v1 ----------
export const hpaV1Schema = k8sObject({
  apiVersion: z.literal('autoscaling/v1'),
  kind: z.literal('HorizontalPodAutoscaler'),
  metadata: metadataSchema,
  spec: k8sObject({
    scaleTargetRef: crossRef(),
    minReplicas: minReplicas().optional(),
    maxReplicas: maxReplicas(),
    targetCPUUtilizationPercentage: int32().min(1, { error: 'must be greater than 0' }).optional(),
  }),
}, ['status']);
export type HpaV1Manifest = z.infer<typeof hpaV1Schema>;

// ---------- autoscaling/v2 ----------
const metricTarget = () => k8sObject({
  type: z.enum(['Utilization', 'Value', 'AverageValue'], { error: (i) => (i.input === undefined ? 'must specify a metric target type' : 'must be either Utilization, Value, or AverageValue') }),
  averageUtilization: int32().min(1, { error: 'must be greater than 0' }).optional(),
  averageValue: quantity().optional(),
  value: quantity().optional(),
});
const metricIdentifier = () => k8sObject({ name: z.string(), selector: labelSelectorSchema.optional() });

const METRIC_TYPES = ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'] as const;
const metricSpec = () => k8sObject({
  type: z.string({ error: 'must specify a metric source type' }),
  resource: k8sObject({ name: z.string(), target: metricTarget() }).optional(),
  containerResource: k8sObject({ name: z.string(), container: z.string(), target: metricTarget() }).optional(),
  pods: k8sObject({ metric: metricIdentifier(), target: metricTarget() }).optional(),
  object: k8sObject({ describedObject: crossRef(), metric: metricIdentifier(), target: metricTarget() }).optional(),
  external: k8sObject({ metric: metricIdentifier(), target: metricTarget() }).optional(),
});

/** autoscaling/v2 HPAScalingRules; KEDA's advanced.horizontalPodAutoscalerConfig.behavior reuses it. */
export const scalingRules = () => k8sObject({
  stabilizationWindowSeconds: int32()
    .min(0, { error: 'must be greater than or equal to zero' })
    .max(3600, { error: 'must be less than or equal to 3600' }).optional(),
  selectPolicy: z.enum(['Max', 'Min', 'Disabled'], { error: 'must be one of Max, Min, Disabled' }).optional(),
  policies: z.array(k8sObject({
    type: z.enum(['Pods', 'Percent'], { error: 'must be one of Pods, Percent' }),
    value: int32().min(1, { error: 'must be greater than zero' }),
    periodSeconds: int32().min(1, { error: 'must be greater than zero' }).max(1800, { error: 'must be less than or equal to 1800' }),
  })).optional(),
  tolerance: quantity().optional(),
});

const v2Spec = () => k8sObject({
  scaleTargetRef: crossRef(),
  minReplicas: minReplicas().optional(),
  maxReplicas: maxReplicas(),
  metrics: z.array(metricSpec()).optional(),
  behavior: k8sObject({ scaleUp: scalingRules().optional(), scaleDown: scalingRules().optional() }).optional(),
});

export const hpaV2Schema = k8sObject({
  apiVersion: z.enum(['autoscaling/v2', 'autoscaling/v2beta2']),
  kind: z.literal('HorizontalPodAutoscaler'),
  metadata: metadataSchema,
  spec: v2Spec(),
}, ['status']);
export type HpaV2Manifest = z.infer<typeof hpaV2Schema>;
type MetricIn = NonNullable<HpaV2Manifest['spec']['metrics']>[number];
type TargetIn = z.infer<ReturnType<typeof metricTarget>>;
type RulesIn = z.infer<ReturnType<typeof scalingRules>>;

// ---------- validation (upstream rules, upstream messages) ----------
type Path = (string | number)[];

function validatePathSegmentName(v: string, path: Path, ctx: DialectContext): void {
  if (v === '.' || v === '..') ctx.report({ path, message: `may not be '${v}'` });
  for (const bad of ['/', '%']) if (v.includes(bad)) ctx.report({ path, message: `may not contain '${bad}'` });
}

function validateRef(ref: { kind: string; name: string }, path: Path, ctx: DialectContext): void {
  if (ref.kind.length === 0) ctx.report({ path: [...path, 'kind'], message: 'Required value' });
  else validatePathSegmentName(ref.kind, [...path, 'kind'], ctx);
  if (ref.name.length === 0) ctx.report({ path: [...path, 'name'], message: 'Required value' });
  else validatePathSegmentName(ref.name, [...path, 'name'], ctx);
}

/** HPAScaleToZero (on by default since v1.37): minReplicas may be 0. */
function scaleToZeroEnabled(ctx: DialectContext): boolean {
  return ctx.featureGates?.HPAScaleToZero ?? true;
}

function validateMinReplicas(spec: { minReplicas?: number; metrics?: { type: string }[] }, ctx: DialectContext, v1: boolean): void {
  if (spec.minReplicas !== 0) return;
  if (!scaleToZeroEnabled(ctx)) {
    ctx.report({ path: ['spec', 'minReplicas'], message: 'must be greater than or equal to 1', allowed: 'minReplicas: 0 needs the HPAScaleToZero feature gate (on by default since Kubernetes v1.37)' });
    return;
  }
  const hasObjectOrExternal = (spec.metrics ?? []).some((m) => m.type === 'Object' || m.type === 'External');
  if (!hasObjectOrExternal) {
    ctx.report({
      path: v1 ? ['spec', 'minReplicas'] : ['spec', 'metrics'],
      message: 'Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
      allowed: 'add an Object or External metric, or set minReplicas to 1 or more',
    });
  }
}

function validateCommon(spec: { minReplicas?: number; maxReplicas: number; scaleTargetRef: { kind: string; name: string } }, ctx: DialectContext): void {
  if (spec.minReplicas !== undefined && spec.maxReplicas < spec.minReplicas) {
    ctx.report({ path: ['spec', 'maxReplicas'], message: 'must be greater than or equal to `minReplicas`', allowed: `minReplicas is ${spec.minReplicas}` });
  }
  validateRef(spec.scaleTargetRef, ['spec', 'scaleTargetRef'], ctx);
}

function positive(q: string | number | undefined): boolean {
  const p = q === undefined ? undefined : tryParseQuantity(q);
  return p === undefined || sign(p) === 1; // unparsable quantities are reported by the schema
}

function validateTarget(t: TargetIn, path: Path, ctx: DialectContext): void {
  if (!positive(t.value)) ctx.report({ path: [...path, 'value'], message: 'must be positive' });
  if (!positive(t.averageValue)) ctx.report({ path: [...path, 'averageValue'], message: 'must be positive' });
}

function validateMetricName(name: string, path: Path, ctx: DialectContext): void {
  if (!name) ctx.report({ path, message: 'must specify a metric name' });
  else validatePathSegmentName(name, path, ctx);
}

const SOURCE_FIELD: Record<(typeof METRIC_TYPES)[number], keyof MetricIn> = {
  Object: 'object', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource', External: 'external',
};

function validateMetric(m: MetricIn, path: Path, ctx: DialectContext): void {
  if (m.type.length === 0) ctx.report({ path: [...path, 'type'], message: 'must specify a metric source type' });
  else if (!(METRIC_TYPES as readonly string[]).includes(m.type)) {
    ctx.report({ path: [...path, 'type'], message: `Unsupported value: "${m.type}"`, allowed: `supported values: ${METRIC_TYPES.map((t) => `"${t}"`).join(', ')}` });
  }
  const present = (['object', 'pods', 'resource', 'containerResource', 'external'] as const).filter((k) => m[k] !== undefined);
  const expected = SOURCE_FIELD[m.type as keyof typeof SOURCE_FIELD];
  if (expected && !present.includes(expected as (typeof present)[number])) {
    ctx.report({ path: [...path, expected], message: 'must populate information for the given metric source', allowed: `type ${m.type} needs a \`${expected}\` block` });
  }
  for (const k of present) {
    if (k !== expected) ctx.report({ path: [...path, k], atKey: true, message: 'must populate the given metric source only', allowed: expected ? `type is ${m.type}: only \`${expected}\`` : 'exactly one source block' });
  }
  if (m.resource && expected === 'resource') {
    const p = [...path, 'resource'];
    if (!m.resource.name) ctx.report({ path: [...p, 'name'], message: 'must specify a resource name' });
    validateResourceTarget(m.resource.target, [...p, 'target'], ctx);
  }
  if (m.containerResource && expected === 'containerResource') {
    const p = [...path, 'containerResource'];
    if (!m.containerResource.name) ctx.report({ path: [...p, 'name'], message: 'must specify a resource name' });
    if (!m.containerResource.container) ctx.report({ path: [...p, 'container'], message: 'must specify a container' });
    validateResourceTarget(m.containerResource.target, [...p, 'target'], ctx);
  }
  if (m.pods && expected === 'pods') {
    const p = [...path, 'pods'];
    validateMetricName(m.pods.metric.name, [...p, 'metric', 'name'], ctx);
    validateTarget(m.pods.target, [...p, 'target'], ctx);
    if (m.pods.target.averageValue === undefined) ctx.report({ path: [...p, 'target', 'averageValue'], message: 'must specify a positive target averageValue', allowed: 'Pods metrics take type AverageValue' });
    else if (m.pods.target.type !== 'AverageValue') ctx.report({ path: [...p, 'target', 'type'], message: `"${m.pods.target.type}" is not supported for Pods metrics`, allowed: 'AverageValue' });
  }
  if (m.object && expected === 'object') {
    const p = [...path, 'object'];
    validateRef(m.object.describedObject, [...p, 'describedObject'], ctx);
    validateMetricName(m.object.metric.name, [...p, 'metric', 'name'], ctx);
    validateTarget(m.object.target, [...p, 'target'], ctx);
    validateValueTarget(m.object.target, [...p, 'target'], 'must set either a target value or averageValue', undefined, ctx);
  }
  if (m.external && expected === 'external') {
    const p = [...path, 'external'];
    validateMetricName(m.external.metric.name, [...p, 'metric', 'name'], ctx);
    validateTarget(m.external.target, [...p, 'target'], ctx);
    validateValueTarget(m.external.target, [...p, 'target'], 'must set either a target value for metric or a per-pod target', 'may not set both a target value for metric and a per-pod target', ctx);
  }
}

function validateValueTarget(t: TargetIn, path: Path, missing: string, both: string | undefined, ctx: DialectContext): void {
  if (t.value === undefined && t.averageValue === undefined) ctx.report({ path: [...path, 'averageValue'], message: missing });
  else if (both && t.value !== undefined && t.averageValue !== undefined) ctx.report({ path: [...path, 'value'], atKey: true, message: both });
  // Beyond upstream's validation: the controller would fail on these at run time, so say it now.
  else if (t.type === 'Utilization') ctx.report({ path: [...path, 'type'], message: '"Utilization" is not supported for this metric source', allowed: 'Value or AverageValue' });
  else if (t.type === 'Value' && t.value === undefined) ctx.report({ path: [...path, 'value'], message: 'must be set for type Value' });
  else if (t.type === 'AverageValue' && t.averageValue === undefined) ctx.report({ path: [...path, 'averageValue'], message: 'must be set for type AverageValue' });
}

function validateResourceTarget(t: TargetIn, path: Path, ctx: DialectContext): void {
  validateTarget(t, path, ctx);
  if (t.averageUtilization === undefined && t.averageValue === undefined) {
    ctx.report({ path: [...path, 'averageUtilization'], message: 'must set either a target raw value or a target utilization' });
  } else if (t.averageUtilization !== undefined && t.averageValue !== undefined) {
    ctx.report({ path: [...path, 'averageValue'], atKey: true, message: 'may not set both a target raw value and a target utilization' });
  } else if (t.type === 'Value') {
    ctx.report({ path: [...path, 'type'], message: '"Value" is not supported for resource metrics', allowed: 'Utilization or AverageValue' });
  } else if (t.type === 'Utilization' && t.averageUtilization === undefined) {
    ctx.report({ path: [...path, 'averageUtilization'], message: 'must be set for type Utilization' });
  } else if (t.type === 'AverageValue' && t.averageValue === undefined) {
    ctx.report({ path: [...path, 'averageValue'], message: 'must be set for type AverageValue' });
  }
}

function validateRules(r: RulesIn | undefined, path: Path, ctx: DialectContext): void {
  if (!r) return;
  if (r.policies !== undefined && r.policies.length === 0) ctx.report({ path: [...path, 'policies'], message: 'must specify at least one Policy' });
  if (r.tolerance !== undefined && (tryParseQuantity(r.tolerance)?.unscaled ?? 0n) < 0n) ctx.report({ path: [...path, 'tolerance'], message: 'must be greater than or equal to 0' });
}

function validateV2(h: HpaV2Manifest, ctx: DialectContext): void {
  validateMinReplicas(h.spec, ctx, false);
  validateCommon(h.spec, ctx);
  (h.spec.metrics ?? []).forEach((m, i) => validateMetric(m, ['spec', 'metrics', i], ctx));
  validateRules(h.spec.behavior?.scaleUp, ['spec', 'behavior', 'scaleUp'], ctx);
  validateRules(h.spec.behavior?.scaleDown, ['spec', 'behavior', 'scaleDown'], ctx);
}

// ---------- normalization (upstream defaults) ----------
function quantityToFloat(q: string | number): number {
  const p = parseQuantity(q);
  return Number(p.unscaled) * 10 ** p.exp10;
}

function target(t: TargetIn): MetricTarget {
  const out: MetricTarget = { type: t.type };
  if (t.averageUtilization !== undefined) out.averageUtilization = t.averageUtilization;
  if (t.averageValue !== undefined) out.averageValue = milliValue(t.averageValue);
  if (t.value !== undefined) out.value = milliValue(t.value);
  return out;
}

function metric(m: MetricIn): MetricSpec {
  switch (m.type) {
    case 'Resource': return { type: 'Resource', resource: { name: m.resource!.name, target: target(m.resource!.target) } };
    case 'ContainerResource': return { type: 'ContainerResource', containerResource: { name: m.containerResource!.name, container: m.containerResource!.container, target: target(m.containerResource!.target) } };
    case 'Pods': return { type: 'Pods', pods: { metric: m.pods!.metric, target: target(m.pods!.target) } };
    case 'Object': return { type: 'Object', object: { describedObject: m.object!.describedObject, metric: m.object!.metric, target: target(m.object!.target) } };
    default: return { type: 'External', external: { metric: m.external!.metric, target: target(m.external!.target) } };
  }
}

/** Upstream GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: fields given win, missing ones take the defaults. */
function rules(given: RulesIn | undefined, defaults: HpaScalingRules): HpaScalingRules {
  // a scaleDown window left unset stays unset: the controller fills in its own setting at each sync
  const out: HpaScalingRules = { ...defaults, policies: defaults.policies.map((p) => ({ ...p })) };
  if (!given) return out;
  if (given.stabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = given.stabilizationWindowSeconds;
  if (given.selectPolicy !== undefined) out.selectPolicy = given.selectPolicy;
  if (given.policies !== undefined) out.policies = given.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds }));
  if (given.tolerance !== undefined) out.tolerance = quantityToFloat(given.tolerance);
  return out;
}

/** The v2 defaults for a behavior block that is present (missing direction or fields filled in). */
export function defaultBehavior(given?: { scaleUp?: RulesIn; scaleDown?: RulesIn }): HpaBehavior {
  return { scaleUp: rules(given?.scaleUp, defaultScaleUpRules()), scaleDown: rules(given?.scaleDown, defaultScaleDownRules()) };
}

/** The metric upstream uses when none is given: cpu at 80% of requests. */
export function defaultMetrics(): MetricSpec[] {
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

function normalizeV2(h: HpaV2Manifest, ctx: DialectContext): HpaPolicy {
  const metrics = (h.spec.metrics ?? []).map(metric);
  const policy: HpaPolicy = {
    name: h.metadata.name,
    scaleTargetRef: { ...(h.spec.scaleTargetRef.apiVersion ? { apiVersion: h.spec.scaleTargetRef.apiVersion } : {}), kind: h.spec.scaleTargetRef.kind, name: h.spec.scaleTargetRef.name },
    minReplicas: h.spec.minReplicas ?? 1,
    maxReplicas: h.spec.maxReplicas,
    metrics: metrics.length > 0 ? metrics : defaultMetrics(),
    source: { file: ctx.file, apiVersion: h.apiVersion },
  };
  if (h.metadata.namespace) policy.namespace = h.metadata.namespace;
  if (h.spec.behavior) policy.behavior = defaultBehavior(h.spec.behavior);
  return policy;
}

function normalizeV1(h: HpaV1Manifest, ctx: DialectContext): HpaPolicy {
  const policy: HpaPolicy = {
    name: h.metadata.name,
    scaleTargetRef: { ...(h.spec.scaleTargetRef.apiVersion ? { apiVersion: h.spec.scaleTargetRef.apiVersion } : {}), kind: h.spec.scaleTargetRef.kind, name: h.spec.scaleTargetRef.name },
    minReplicas: h.spec.minReplicas ?? 1,
    maxReplicas: h.spec.maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: h.spec.targetCPUUtilizationPercentage ?? 80 } } }],
    source: { file: ctx.file, apiVersion: h.apiVersion },
  };
  if (h.metadata.namespace) policy.namespace = h.metadata.namespace;
  return policy;
}

const scaleTarget = (h: { spec: { scaleTargetRef: { apiVersion?: string; kind: string; name: string } } }): ScaleTargetRef => ({
  ...h.spec.scaleTargetRef, path: ['spec', 'scaleTargetRef', 'name'],
});

export const hpaV1Dialect: Dialect<HpaV1Manifest, HpaPolicy> = {
  apiVersions: ['autoscaling/v1'],
  kind: 'HorizontalPodAutoscaler',
  role: 'autoscaler',
  decider: 'hpa',
  schema: hpaV1Schema,
  validate: (h, ctx) => {
    validateMinReplicas(h.spec, ctx, true);
    validateCommon(h.spec, ctx);
  },
  normalize: normalizeV1,
  scaleTarget,
};

export const hpaV2Dialect: Dialect<HpaV2Manifest, HpaPolicy> = {
  apiVersions: ['autoscaling/v2', 'autoscaling/v2beta2'],
  kind: 'HorizontalPodAutoscaler',
  role: 'autoscaler',
  decider: 'hpa',
  schema: hpaV2Schema,
  validate: validateV2,
  normalize: normalizeV2,
  scaleTarget,
};

// ---------- kubectl autoscale ----------
export interface AutoscaleFlags {
  deployment: string;
  /** --cpu-percent; omitted (or negative, kubectl's "unset") means the server default (80%). */
  cpuPercent?: number;
  /** --min; omitted (or negative) means the server default (1). */
  min?: number;
  max: number;
  /** --name; defaults to the deployment name. */
  name?: string;
}

/**
 * What `kubectl autoscale deployment X --cpu-percent=P --min=N --max=M` creates: an autoscaling/v2
 * HorizontalPodAutoscaler targeting apps/v1 Deployment X. Returns the object and its YAML.
 */
export function hpaFromAutoscaleFlags(flags: AutoscaleFlags): { object: HpaV2Manifest; yaml: string } {
  const spec: HpaV2Manifest['spec'] = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: flags.deployment },
    maxReplicas: flags.max,
  };
  if (flags.min !== undefined && flags.min >= 0) spec.minReplicas = flags.min;
  if (flags.cpuPercent !== undefined && flags.cpuPercent >= 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: flags.cpuPercent } } }];
  }
  const object: HpaV2Manifest = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: flags.name ?? flags.deployment },
    spec,
  };
  const lines = [
    'apiVersion: autoscaling/v2',
    'kind: HorizontalPodAutoscaler',
    'metadata:',
    `  name: ${object.metadata.name}`,
    'spec:',
    '  scaleTargetRef:',
    '    apiVersion: apps/v1',
    '    kind: Deployment',
    `    name: ${flags.deployment}`,
  ];
  if (spec.minReplicas !== undefined) lines.push(`  minReplicas: ${spec.minReplicas}`);
  lines.push(`  maxReplicas: ${spec.maxReplicas}`);
  if (spec.metrics) {
    lines.push('  metrics:', '  - type: Resource', '    resource:', '      name: cpu', '      target:', '        type: Utilization', `        averageUtilization: ${flags.cpuPercent}`);
  }
  return { object, yaml: `${lines.join('\n')}\n` };
}
