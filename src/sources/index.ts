// Registry of metric-source plug-ins for KEDA triggers: which metadata key is the scaling target and
// which the activation threshold (KEDA's names), the HPA External metric name KEDA would generate,
// and a factory building the MetricSource. Adding a scaler = one module + one entry here.

import type { MetricSource, SourceSample } from './types.ts';
import { parseNumber, parseQuantity, type Env } from './common.ts';
import { prometheusFromKeda } from './prometheus.ts';
import { redisListFromKeda } from './redis.ts';
import { redisStreamsFromKeda } from './redis-streams.ts';
import { rabbitmqFromKeda } from './rabbitmq.ts';
import { natsJetStreamFromKeda } from './nats-jetstream.ts';
import { postgresqlFromKeda } from './postgresql.ts';
import { cronFromKeda } from './cron.ts';
import { metricsApiFromKeda } from './metrics-api.ts';
import { gpuFromKeda } from './gpu.ts';
import { ResourceSource, type ReplicaUsage } from './resource.ts';

export { SourceError } from './common.ts';
export type { MetricSource, SourceSample } from './types.ts';

export interface TriggerTargets {
  /** Scaling target in base units (percent for Utilization). */
  target: number;
  /** Activation threshold (strictly greater than activates). */
  activationTarget: number;
  /** `s<index>-<name>` as KEDA names the External metric (cpu/memory: the resource name). */
  metricName: string;
}

export interface SourceContext {
  env: Env;
  /** Per-replica usage for cpu/memory triggers (the runtime provides it). */
  resourceUsage?: () => Promise<ReplicaUsage[]> | ReplicaUsage[];
}

/** KEDA's NormalizeString: characters not allowed in a metric name become '-'. */
export function normalizeMetricName(s: string): string {
  return s.replace(/[^A-Za-z0-9-]/g, '-');
}

interface ScalerSpec {
  /** metadata key of the target, and its default (undefined = required). */
  target: string;
  targetDefault?: number;
  activation: string;
  name(meta: Record<string, string>): string;
  build(meta: Record<string, string>, ctx: SourceContext): MetricSource;
}

const SCALERS: Record<string, ScalerSpec> = {
  prometheus: {
    target: 'threshold', activation: 'activationThreshold',
    name: () => 'prometheus',
    build: (m, c) => prometheusFromKeda(m, c.env),
  },
  redis: {
    target: 'listLength', targetDefault: 5, activation: 'activationListLength',
    name: (m) => `redis-${m.listName ?? ''}`,
    build: (m, c) => redisListFromKeda(m, c.env),
  },
  'redis-streams': {
    target: 'pendingEntriesCount', targetDefault: 5, activation: 'activationLagCount',
    name: (m) => `redis-streams-${m.stream ?? ''}`,
    build: (m, c) => redisStreamsFromKeda(m, c.env).source,
  },
  rabbitmq: {
    target: 'value', activation: 'activationValue',
    name: (m) => `rabbitmq-${m.queueName ?? ''}`,
    build: (m, c) => rabbitmqFromKeda(m, c.env),
  },
  'nats-jetstream': {
    target: 'lagThreshold', targetDefault: 10, activation: 'activationLagThreshold',
    name: (m) => `nats-jetstream-${m.stream ?? ''}`,
    build: (m, c) => natsJetStreamFromKeda(m, c.env),
  },
  postgresql: {
    target: 'targetQueryValue', activation: 'activationTargetQueryValue',
    name: () => 'postgresql',
    build: (m, c) => postgresqlFromKeda(m, c.env),
  },
  cron: {
    target: '', targetDefault: 1, activation: '',
    name: (m) => `cron-${m.timezone ?? ''}-${m.start ?? ''}-${m.end ?? ''}`,
    build: (m, c) => cronFromKeda(m, c.env),
  },
  'metrics-api': {
    target: 'targetValue', activation: 'activationTargetValue',
    name: (m) => `metric-api-${m.valueLocation ?? ''}`,
    build: (m, c) => metricsApiFromKeda(m, c.env),
  },
  gpu: {
    target: 'value', activation: 'activationValue',
    name: (m) => `gpu-${m.metric ?? 'utilization'}`,
    build: (m, c) => gpuFromKeda(m, c.env),
  },
  cpu: {
    target: 'value', activation: '',
    name: () => 'cpu',
    build: (_m, c) => resourceSource('cpu', c),
  },
  memory: {
    target: 'value', activation: '',
    name: () => 'memory',
    build: (_m, c) => resourceSource('memory', c),
  },
};

function resourceSource(kind: 'cpu' | 'memory', c: SourceContext): MetricSource {
  if (!c.resourceUsage) throw new Error(`${kind} trigger needs the runtime's process stats`);
  return new ResourceSource(kind, c.resourceUsage);
}

export const SUPPORTED_TRIGGER_TYPES = Object.keys(SCALERS);

export function isSupportedTrigger(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(SCALERS, type);
}

/** Target, activation threshold and External metric name of trigger `index` (throws on bad metadata). */
export function triggerTargets(type: string, meta: Record<string, string>, index: number): TriggerTargets {
  const spec = SCALERS[type];
  if (!spec) throw new Error(`trigger type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_TRIGGER_TYPES.join(', ')})`);
  let target: number;
  if (type === 'redis-streams') {
    // which target applies depends on consumerGroup / lagCount (see redis-streams.ts)
    if (!meta.consumerGroup) target = parseNumber(meta.streamLength, 'streamLength', 5);
    else if (parseNumber(meta.lagCount, 'lagCount', 0) !== 0) target = parseNumber(meta.lagCount, 'lagCount');
    else target = parseNumber(meta.pendingEntriesCount, 'pendingEntriesCount', 5);
  } else if (type === 'cpu' || type === 'memory') {
    const v = meta.value;
    if (v === undefined || v === '') throw new Error(`${type} trigger: metadata.value is required`);
    try {
      target = parseQuantity(v); // Utilization: percent; AverageValue: a quantity ("500m", "512Mi")
    } catch {
      throw new Error(`${type} trigger: metadata.value must be a number or quantity, got ${JSON.stringify(v)}`);
    }
  } else if (spec.target === '') {
    target = spec.targetDefault!;
  } else {
    const raw = type === 'rabbitmq' && meta.value === undefined ? meta.queueLength : meta[spec.target];
    target = parseNumber(raw, `${type} trigger: metadata.${spec.target}`, spec.targetDefault);
  }
  const activationTarget = spec.activation ? parseNumber(meta[spec.activation], `${type} trigger: metadata.${spec.activation}`, 0) : 0;
  const metricName = type === 'cpu' || type === 'memory' ? type : `s${index}-${normalizeMetricName(spec.name(meta))}`;
  return { target, activationTarget, metricName };
}

/** Build the MetricSource for a trigger. Throws with a readable message on bad metadata. */
export function createTriggerSource(type: string, meta: Record<string, string>, ctx: SourceContext): MetricSource {
  const spec = SCALERS[type];
  if (!spec) throw new Error(`trigger type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_TRIGGER_TYPES.join(', ')})`);
  return spec.build(meta, ctx);
}

/** The single value a KEDA trigger reports from a source's samples (GPU: mean over GPUs; else sum). */
export function triggerValue(type: string, samples: SourceSample[]): number {
  if (samples.length === 0) return 0;
  const sum = samples.reduce((s, x) => s + x.value, 0);
  return type === 'gpu' ? sum / samples.length : sum;
}
