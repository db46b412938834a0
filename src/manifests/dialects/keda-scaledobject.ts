// keda.sh/v1alpha1 ScaledObject: schema (the CRD's structure and bounds), the checks KEDA's
// admission webhook and scaler constructors make (replica bounds, fallback, triggers, scaling
// modifiers, cpu/memory, per-scaler metadata), KEDA's defaults, and normalization to KedaPolicy.
import { z } from 'zod';
import type { HpaBehavior } from '../../deciders/hpa/types.ts';
import type { KedaMetricType, KedaPolicy, KedaTrigger, FallbackBehavior } from '../../deciders/keda/types.ts';
import { compileFormula, validateComposite } from '../../deciders/keda/formula.ts';
import { createTriggerSource, isSupportedTrigger, SUPPORTED_TRIGGER_TYPES, triggerTargets } from '../../sources/index.ts';
import { int32, k8sObject, metadataSchema, quantity } from '../k8s/common.ts';
import { defaultBehavior, scalingRules } from './hpa.ts';
import type { Dialect, DialectContext, ScaleTargetRef } from './types.ts';

export const KEDA_DEFAULTS = {
  pollingInterval: 30,
  cooldownPeriod: 300,
  initialCooldownPeriod: 0,
  minReplicaCount: 0,
  maxReplicaCount: 100,
} as const;

export const PAUSED = 'autoscaling.keda.sh/paused';
export const PAUSED_REPLICAS = 'autoscaling.keda.sh/paused-replicas';
export const PAUSED_SCALE_IN = 'autoscaling.keda.sh/paused-scale-in';
export const PAUSED_SCALE_OUT = 'autoscaling.keda.sh/paused-scale-out';
export const FORCE_ACTIVATION = 'autoscaling.keda.sh/force-activation';

const nonNeg = () => int32().min(0, { error: 'must be greater than or equal to 0' });

const metadataValue = z.string({ error: 'trigger metadata values must be strings (quote numbers and booleans)' });

export const scaledObjectSchema = k8sObject({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: metadataSchema,
  spec: k8sObject({
    scaleTargetRef: k8sObject({
      name: z.string().min(1, { error: 'must not be empty' }),
      apiVersion: z.string().optional(),
      kind: z.string().optional(),
      envSourceContainerName: z.string().optional(),
    }),
    pollingInterval: int32().min(1, { error: 'must be greater than or equal to 1' }).optional(),
    initialCooldownPeriod: nonNeg().optional(),
    cooldownPeriod: nonNeg().optional(),
    idleReplicaCount: nonNeg().optional(),
    minReplicaCount: nonNeg().optional(),
    maxReplicaCount: int32().min(1, { error: 'must be greater than or equal to 1' }).optional(),
    advanced: k8sObject({
      horizontalPodAutoscalerConfig: k8sObject({
        name: z.string().optional(),
        behavior: k8sObject({ scaleUp: scalingRules().optional(), scaleDown: scalingRules().optional() }).optional(),
      }).optional(),
      restoreToOriginalReplicaCount: z.boolean().optional(),
      scalingModifiers: k8sObject({
        formula: z.string().optional(),
        target: z.string({ error: 'must be a string (quote the number)' }).optional(),
        activationTarget: z.string({ error: 'must be a string (quote the number)' }).optional(),
        metricType: z.enum(['AverageValue', 'Value'], { error: 'must be AverageValue or Value' }).optional(),
      }).optional(),
    }).optional(),
    triggers: z.array(k8sObject({
      type: z.string().min(1, { error: 'must not be empty' }),
      name: z.string().optional(),
      useCachedMetrics: z.boolean().optional(),
      metadata: z.record(z.string(), metadataValue),
      authenticationRef: k8sObject({ name: z.string(), kind: z.string().optional() }).optional(),
      metricType: z.enum(['AverageValue', 'Value', 'Utilization'], { error: 'must be AverageValue, Value or Utilization' }).optional(),
    })).min(1, { error: 'no triggers defined in the ScaledObject/ScaledJob' }),
    fallback: k8sObject({
      failureThreshold: nonNeg(),
      replicas: nonNeg(),
      behavior: z.enum(['static', 'currentReplicas', 'currentReplicasIfHigher', 'currentReplicasIfLower', 'scalingModifiers'], {
        error: 'must be one of static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower, scalingModifiers',
      }).optional(),
    }).optional(),
  }),
}, ['status']);
export type ScaledObjectManifest = z.infer<typeof scaledObjectSchema>;
type TriggerIn = ScaledObjectManifest['spec']['triggers'][number];

const isResource = (t: { type: string }) => t.type === 'cpu' || t.type === 'memory';

/** KEDA's getBoolAnnotation: absent → false; unparsable → true. */
function boolAnnotation(ann: Record<string, string> | undefined, key: string): boolean {
  const v = ann?.[key];
  if (v === undefined) return false;
  const l = v.toLowerCase();
  if (['false', '0', 'f'].includes(l)) return false;
  return true;
}

function usesModifiers(so: ScaledObjectManifest): boolean {
  const sm = so.spec.advanced?.scalingModifiers;
  return !!sm && Object.values(sm).some((x) => x !== undefined && x !== '');
}

function resourceMetricType(t: TriggerIn): KedaMetricType | undefined {
  return t.metricType ?? (t.metadata.type as KedaMetricType | undefined);
}

function validate(so: ScaledObjectManifest, ctx: DialectContext): void {
  const spec = so.spec;
  const ann = so.metadata.annotations;
  // replica bounds (CRD rule + CheckReplicaCountBoundsAreValid)
  const max = spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount;
  if (spec.minReplicaCount !== undefined && spec.minReplicaCount > max) {
    ctx.report({ path: ['spec', 'minReplicaCount'], message: `MinReplicaCount=${spec.minReplicaCount} must be less than MaxReplicaCount=${max}` });
  }
  const minForIdle = spec.minReplicaCount !== undefined ? Math.max(1, spec.minReplicaCount) : 0;
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount >= minForIdle) {
    ctx.report({ path: ['spec', 'idleReplicaCount'], message: `IdleReplicaCount=${spec.idleReplicaCount} must be less than MinReplicaCount=${minForIdle}` });
  }
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount !== 0) {
    ctx.report({ severity: 'warning', path: ['spec', 'idleReplicaCount'], message: 'only 0 works reliably in KEDA (the HPA pushes replicas back to its min)' });
  }
  // annotations
  const pr = ann?.[PAUSED_REPLICAS];
  if (pr !== undefined && !/^\d+$/.test(pr.trim())) {
    ctx.report({ path: ['metadata', 'annotations', PAUSED_REPLICAS], message: `must be a non-negative integer, got "${pr}"` });
  }
  // triggers (ValidateTriggers + per-scaler metadata)
  const names = new Set<string>();
  spec.triggers.forEach((t, i) => {
    const path = ['spec', 'triggers', i];
    if (t.useCachedMetrics && (t.type === 'cpu' || t.type === 'memory' || t.type === 'cron')) {
      ctx.report({ path: [...path, 'useCachedMetrics'], message: `property "useCachedMetrics" is not supported for "${t.type}" scaler` });
    }
    if (t.name) {
      if (names.has(t.name)) ctx.report({ path: [...path, 'name'], message: `triggerName "${t.name}" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique` });
      names.add(t.name);
    }
    if (t.authenticationRef) {
      ctx.report({ severity: 'warning', path: [...path, 'authenticationRef'], message: 'TriggerAuthentication is not resolved locally; give secrets with …FromEnv metadata instead' });
    }
    if (!isSupportedTrigger(t.type)) {
      ctx.report({ path: [...path, 'type'], message: `trigger type "${t.type}" is not supported`, allowed: SUPPORTED_TRIGGER_TYPES.join(', ') });
      return;
    }
    if (isResource(t)) {
      const mt = resourceMetricType(t);
      if (mt !== 'Utilization' && mt !== 'AverageValue') {
        ctx.report({ path: t.metricType ? [...path, 'metricType'] : path, message: `unknown metric type: ${mt ?? ''}, allowed values are 'Utilization' or 'AverageValue'`, allowed: 'set trigger metricType' });
      } else if (!t.metricType) {
        ctx.report({ severity: 'warning', path: [...path, 'metadata', 'type'], message: "the 'type' setting is deprecated (removed in KEDA 2.18); use metricType" });
      }
    } else if (t.metricType === 'Utilization') {
      ctx.report({ path: [...path, 'metricType'], message: `metricType Utilization is only valid for cpu and memory triggers`, allowed: 'AverageValue, Value' });
    }
    try {
      triggerTargets(t.type, t.metadata, i);
    } catch (e) {
      ctx.report({ path: [...path, 'metadata'], message: (e as Error).message });
      return;
    }
    if (!isResource(t)) {
      try {
        const src = createTriggerSource(t.type, t.metadata, { env: ctx.env });
        void src.close(); // built lazily: no connection was opened
      } catch (e) {
        const msg = (e as Error).message;
        ctx.report({ severity: /FromEnv names .* not set/.test(msg) ? 'warning' : 'error', path: [...path, 'metadata'], message: msg });
      }
    }
  });
  const cpuMem = spec.triggers.filter(isResource).length;
  if (cpuMem === spec.triggers.length && (spec.minReplicaCount ?? 0) === 0) {
    ctx.report({ path: ['spec', 'minReplicaCount'], message: "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work in this case)" });
  }
  // fallback (CheckFallbackValid)
  const modifiers = usesModifiers(so);
  if (spec.fallback) {
    if (!modifiers && cpuMem === spec.triggers.length) {
      ctx.report({ path: ['spec', 'fallback'], message: 'at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled' });
    }
    if (spec.fallback.behavior === 'scalingModifiers' && !spec.advanced?.scalingModifiers?.formula) {
      ctx.report({ path: ['spec', 'fallback', 'behavior'], message: 'scalingModifiers fallback behavior requires scalingModifiers.formula to be defined' });
    }
  }
  // scaling modifiers (ValidateAndCompileScalingModifiers)
  if (modifiers) {
    const sm = spec.advanced!.scalingModifiers!;
    const base = ['spec', 'advanced', 'scalingModifiers'];
    if (!sm.formula) {
      ctx.report({ path: base, message: 'error ScalingModifiers.Formula is mandatory' });
      return;
    }
    if (!sm.target) {
      ctx.report({ path: [...base, 'formula'], message: 'error validating formula in ScalingModifiers: formula is given but target is empty' });
      return;
    }
    const names = [...new Set(spec.triggers.filter((t) => !isResource(t) && t.name).map((t) => t.name as string))];
    try {
      validateComposite(compileFormula(sm.formula), names);
    } catch (e) {
      ctx.report({ path: [...base, 'formula'], message: `error validating formula in ScalingModifiers: ${(e as Error).message}`, allowed: `names of non-cpu/memory triggers: ${names.join(', ') || '(none: give triggers a name)'}` });
    }
    const target = Number(sm.target);
    if (!Number.isFinite(target) || target <= 0) {
      ctx.report({ path: [...base, 'target'], message: `error validating target in ScalingModifiers: error converting target for scalingModifiers (string->float) to valid target: "${sm.target}"`, allowed: 'a number > 0' });
    }
    if (sm.activationTarget !== undefined && sm.activationTarget !== '' && !Number.isFinite(Number(sm.activationTarget))) {
      ctx.report({ path: [...base, 'activationTarget'], message: `scalingModifiers.ActivationTarget parsing error: "${sm.activationTarget}"` });
    }
  }
}

function normalizeTrigger(t: TriggerIn, i: number): KedaTrigger {
  const tt = triggerTargets(t.type, t.metadata, i);
  const metricType: KedaMetricType = isResource(t) ? (resourceMetricType(t) ?? 'Utilization') : (t.metricType ?? 'AverageValue');
  const out: KedaTrigger = {
    type: t.type,
    metricType,
    metadata: { ...t.metadata },
    target: tt.target,
    activationTarget: tt.activationTarget,
    metricName: tt.metricName,
  };
  if (t.name) out.name = t.name;
  if (t.useCachedMetrics) out.useCachedMetrics = true;
  return out;
}

function normalize(so: ScaledObjectManifest, ctx: DialectContext): KedaPolicy {
  const spec = so.spec;
  const ann = so.metadata.annotations ?? {};
  const policy: KedaPolicy = {
    name: so.metadata.name,
    scaleTargetRef: {
      apiVersion: spec.scaleTargetRef.apiVersion ?? 'apps/v1',
      kind: spec.scaleTargetRef.kind ?? 'Deployment',
      name: spec.scaleTargetRef.name,
    },
    pollingIntervalSeconds: spec.pollingInterval ?? KEDA_DEFAULTS.pollingInterval,
    cooldownPeriodSeconds: spec.cooldownPeriod ?? KEDA_DEFAULTS.cooldownPeriod,
    initialCooldownPeriodSeconds: spec.initialCooldownPeriod ?? KEDA_DEFAULTS.initialCooldownPeriod,
    minReplicaCount: spec.minReplicaCount ?? KEDA_DEFAULTS.minReplicaCount,
    maxReplicaCount: spec.maxReplicaCount ?? KEDA_DEFAULTS.maxReplicaCount,
    triggers: spec.triggers.map(normalizeTrigger),
    annotations: {},
    source: { file: ctx.file, apiVersion: so.apiVersion },
  };
  if (so.metadata.namespace) policy.namespace = so.metadata.namespace;
  if (spec.idleReplicaCount !== undefined) policy.idleReplicaCount = spec.idleReplicaCount;
  if (spec.fallback) {
    policy.fallback = {
      failureThreshold: spec.fallback.failureThreshold,
      replicas: spec.fallback.replicas,
      behavior: (spec.fallback.behavior ?? 'static') as FallbackBehavior,
    };
  }
  const behavior = spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
  if (behavior) policy.behavior = defaultBehavior(behavior) as HpaBehavior;
  if (usesModifiers(so)) {
    const sm = spec.advanced!.scalingModifiers!;
    policy.scalingModifiers = {
      formula: sm.formula ?? '',
      target: Number(sm.target),
      activationTarget: sm.activationTarget ? Number(sm.activationTarget) : 0,
      metricType: sm.metricType ?? 'AverageValue',
    };
  }
  if (ann[PAUSED_REPLICAS] !== undefined) policy.annotations.pausedReplicas = Number(ann[PAUSED_REPLICAS]);
  if (boolAnnotation(ann, PAUSED)) policy.annotations.paused = true;
  if (boolAnnotation(ann, PAUSED_SCALE_IN)) policy.annotations.pausedScaleIn = true;
  if (boolAnnotation(ann, PAUSED_SCALE_OUT)) policy.annotations.pausedScaleOut = true;
  if (boolAnnotation(ann, FORCE_ACTIVATION)) policy.annotations.forceActivation = true;
  return policy;
}

export const scaledObjectDialect: Dialect<ScaledObjectManifest, KedaPolicy> = {
  apiVersions: ['keda.sh/v1alpha1'],
  kind: 'ScaledObject',
  role: 'autoscaler',
  decider: 'keda',
  schema: scaledObjectSchema,
  validate,
  normalize,
  scaleTarget: (so): ScaleTargetRef => ({
    ...(so.spec.scaleTargetRef.apiVersion ? { apiVersion: so.spec.scaleTargetRef.apiVersion } : {}),
    kind: so.spec.scaleTargetRef.kind ?? 'Deployment',
    name: so.spec.scaleTargetRef.name,
    path: ['spec', 'scaleTargetRef', 'name'],
  }),
};
