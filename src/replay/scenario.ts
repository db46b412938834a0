// The `tide decide` scenario format (JSON, or JSONL: a header line then one step per line).
// Human-friendly inputs: times as ISO strings / seconds since start / durations, quantities as
// strings ("150m", "1Gi"). docs/decide.md documents it; docs/decide-scenario.schema.json is
// generated from `scenarioSchema` (npx tide decide --schema).
import { z } from 'zod';

const time = () => z.union([z.number(), z.string()]).describe('ISO 8601 time, seconds since `start` (number), or a duration since `start` like "90s" / "-5m"');
const duration = () => z.union([z.number(), z.string()]).describe('seconds (number) or a duration like "90s", "5m"');
const qty = () => z.union([z.string(), z.number()]).describe('Kubernetes quantity, e.g. "150m", "1Gi", 2');
const int = () => z.number().int();

export const manifestRefSchema = z.union([
  z.string().describe('YAML text (one or more documents), or a path to a YAML file relative to the scenario file'),
  z.object({ path: z.string() }).strict().describe('a path to a YAML file'),
  z.record(z.string(), z.unknown()).describe('a manifest as an object (apiVersion, kind, metadata, spec), or an already normalized policy'),
]);

export const containerRequestsSchema = z.object({ name: z.string(), requests: z.record(z.string(), qty()) }).strict();

export const podSchema = z.object({
  name: z.string().optional(),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional().describe('default Running'),
  ready: z.union([z.boolean(), z.enum(['True', 'False', 'Unknown'])]).optional().describe('Ready condition; default true. Use "none" semantics by setting phase Pending'),
  readySince: time().optional().describe('lastTransitionTime of Ready; default the pod start time'),
  startTime: time().optional().describe('status.startTime; default `age` before the step, or long ago'),
  age: duration().optional().describe('alternative to startTime: how long before the step the pod started'),
  deletionTimestamp: time().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  requests: z.record(z.string(), qty()).optional().describe('single-container shorthand for containers[0].requests'),
  containers: z.array(containerRequestsSchema).optional(),
}).strict();

export const metricInputSchema = z.object({
  each: qty().optional().describe('Resource/ContainerResource/Pods: every running pod reports this value'),
  utilization: z.number().optional().describe('Resource/ContainerResource: every running pod uses this percentage of its request'),
  pods: z.union([z.array(z.union([qty(), z.null()])), z.record(z.string(), qty())]).optional().describe('per-pod values, in pod order (null = no sample) or by pod name'),
  value: qty().optional().describe('Object: the object\'s value; External: a single series value'),
  values: z.array(qty()).optional().describe('External: every matching series (summed)'),
  error: z.string().optional().describe('the metric fetch failed with this message'),
  timestamp: time().optional().describe('sample time; default the step time'),
  window: duration().optional().describe('sample window; default 15s'),
  kind: z.enum(['pods', 'object', 'external', 'error']).optional().describe('raw MetricObservation (milli-units, epoch ms) when given'),
  samples: z.array(z.object({ pod: z.string(), value: z.number(), timestamp: z.number(), windowSeconds: z.number() })).optional(),
  timestampMs: z.number().optional(),
  message: z.string().optional(),
}).strict();

export const historySchema = z.object({
  recommendations: z.array(z.object({ at: time(), replicas: int() }).strict()).optional(),
  scaleUpEvents: z.array(z.object({ at: time(), change: int(), outdated: z.boolean().optional() }).strict()).optional(),
  scaleDownEvents: z.array(z.object({ at: time(), change: int(), outdated: z.boolean().optional() }).strict()).optional(),
  lastScaleTime: time().optional(),
}).strict();

export const stepSchema = z.object({
  at: time().describe('decision time'),
  replicas: int().min(0).optional().describe('scale.spec.replicas; default: the previous decision when actuating, else the previous value'),
  statusReplicas: int().min(0).optional().describe('scale.status.replicas; default = replicas'),
  selector: z.string().optional(),
  pods: z.union([int().min(0), z.array(podSchema)]).optional().describe('a pod count (generated pods) or the pod list; default: one ready pod per replica'),
  metrics: z.array(z.union([metricInputSchema, z.null()])).optional().describe('one entry per policy metric, in order'),
  history: historySchema.optional().describe('replace the decider memory before this step'),
  note: z.string().optional(),
}).strict();

export const scenarioSchema = z.object({
  $schema: z.string().optional(),
  description: z.string().optional(),
  decider: z.enum(['hpa', 'kpa', 'keda']).optional().describe('default: from the policy kind'),
  policy: manifestRefSchema.describe('the autoscaler: HorizontalPodAutoscaler (autoscaling/v1 or v2) as YAML text, object or path'),
  deployment: manifestRefSchema.optional().describe('the scaled Deployment (pod requests, initial replicas)'),
  config: z.record(z.string(), z.number()).optional().describe('controller settings (HPA: tolerance, cpuInitializationPeriodSeconds, initialReadinessDelaySeconds, downscaleStabilizationSeconds, syncPeriodSeconds)'),
  featureGates: z.record(z.string(), z.boolean()).optional().describe('kube-controller-manager feature gates (HPA: HPAScaleToZero, HPAConfigurableTolerance); default: Kubernetes v1.37'),
  start: z.union([z.string(), z.number()]).optional().describe('time origin: ISO time or epoch ms; default 2026-01-01T00:00:00Z'),
  replicas: int().min(0).optional().describe('initial spec replicas; default the Deployment\'s, else minReplicas'),
  actuate: z.boolean().optional().describe('default true: each step starts from the previous decision'),
  podDefaults: z.object({
    requests: z.record(z.string(), qty()).optional(),
    containers: z.array(containerRequestsSchema).optional(),
    age: duration().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }).strict().optional().describe('for generated pods'),
  newPodReadyAfter: duration().optional().describe('generated pods created by a scale-up become ready this long after starting; default 0'),
  history: historySchema.optional().describe('decider memory before the first step'),
  state: z.record(z.string(), z.unknown()).optional().describe('raw decider state before the first step, as in a record\'s inputs.state (epoch ms); `history` is applied on top'),
  steps: z.array(stepSchema).min(1),
}).strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioStep = z.infer<typeof stepSchema>;
export type MetricInput = z.infer<typeof metricInputSchema>;
export type PodInput = z.infer<typeof podSchema>;
export type HistoryInput = z.infer<typeof historySchema>;

/** JSON Schema of the scenario format (draft 2020-12). */
export function scenarioJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(scenarioSchema, { io: 'input' }) as Record<string, unknown>;
  return { $id: 'https://tide.dev/schemas/decide-scenario.schema.json', title: 'tide decide scenario', ...s };
}
