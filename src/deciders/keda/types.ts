// Inputs and state of the KEDA decider, shaped after keda.sh/v1alpha1 ScaledObject so a KEDA user
// recognises every field. Durations are in seconds as in the manifest; times are epoch ms. Trigger
// values are floats in the metric's base units (the decider converts to HPA milli-units itself).

import type { Condition } from '../../core/decision.ts';
import type {
  CrossVersionObjectReference, HpaBehavior, HpaState, PodInfo, PodMetricSample, ScaleTargetState,
} from '../hpa/types.ts';

export type KedaMetricType = 'AverageValue' | 'Value' | 'Utilization';
export type FallbackBehavior = 'static' | 'currentReplicas' | 'currentReplicasIfHigher' | 'currentReplicasIfLower' | 'scalingModifiers';

export interface KedaTrigger {
  /** Scaler type: prometheus, redis, redis-streams, rabbitmq, nats-jetstream, postgresql, cron, cpu, memory, metrics-api, gpu… */
  type: string;
  /** Optional trigger name (required for scalingModifiers formulas). */
  name?: string;
  /** AverageValue (default) or Value; cpu/memory take Utilization or AverageValue. */
  metricType: KedaMetricType;
  /** Raw scaler metadata (secrets are never here: `…FromEnv` names the variable). */
  metadata: Record<string, string>;
  /** Scaling target in base units (threshold, listLength, value, targetQueryValue…; percent for Utilization). */
  target: number;
  /** Activation threshold (strictly greater than activates). Default 0. Ignored for cpu/memory. */
  activationTarget: number;
  /** HPA External metric name: `s<index>-<scaler metric name>` (or the resource name for cpu/memory). */
  metricName: string;
  useCachedMetrics?: boolean;
}

export interface KedaFallback {
  failureThreshold: number;
  replicas: number;
  behavior: FallbackBehavior;
}

export interface KedaScalingModifiers {
  formula: string;
  /** Composite metric target (> 0). */
  target: number;
  /** Activation threshold for the composite value, default 0. */
  activationTarget: number;
  metricType: 'AverageValue' | 'Value';
}

export interface KedaAnnotations {
  /** autoscaling.keda.sh/paused (true: freeze at current count, no polling). */
  paused?: boolean;
  /** autoscaling.keda.sh/paused-replicas: scale to N and pause. */
  pausedReplicas?: number;
  /** autoscaling.keda.sh/paused-scale-in: HPA scaleDown Disabled, and no →0/idle. */
  pausedScaleIn?: boolean;
  /** autoscaling.keda.sh/paused-scale-out: HPA scaleUp Disabled, and no 0→1. */
  pausedScaleOut?: boolean;
  /** autoscaling.keda.sh/force-activation: treat every trigger as active. */
  forceActivation?: boolean;
}

/** A normalized ScaledObject. */
export interface KedaPolicy {
  name: string;
  namespace?: string;
  /** For the generated HPA: every HPA controlling the same pods (see HpaPolicy.selectingHpas; AmbiguousSelector when > 1). */
  selectingHpas?: string[];
  scaleTargetRef: CrossVersionObjectReference;
  pollingIntervalSeconds: number;        // 30
  cooldownPeriodSeconds: number;         // 300
  initialCooldownPeriodSeconds: number;  // 0
  minReplicaCount: number;               // 0
  maxReplicaCount: number;               // 100
  idleReplicaCount?: number;
  fallback?: KedaFallback;
  /** advanced.horizontalPodAutoscalerConfig.behavior, already defaulted per direction (undefined = HPA legacy path). */
  behavior?: HpaBehavior;
  scalingModifiers?: KedaScalingModifiers;
  triggers: KedaTrigger[];
  annotations: KedaAnnotations;
  source?: { file?: string; apiVersion: string };
}

/** What one trigger's source returned this round (same index as policy.triggers). */
export type TriggerObservation =
  | { kind: 'value'; value: number; timestamp: number }
  /** cpu/memory: per-pod samples in milli-units, as the HPA Resource metric wants them. */
  | { kind: 'pods'; samples: PodMetricSample[] }
  | { kind: 'error'; message: string };

export interface KedaObservation {
  now: number;
  target: ScaleTargetState;
  pods: PodInfo[];
  triggers: TriggerObservation[];
}

export interface TriggerHealth {
  numberOfFailures: number;
  status: 'Happy' | 'Failing';
}

/** What KEDA keeps in ScaledObject.status between rounds, plus the generated HPA's state. Serializable. */
export interface KedaState {
  /** metadata.creationTimestamp (for initialCooldownPeriod); set on the first decision when absent. */
  createdAt?: number;
  /** status.lastActiveTime */
  lastActiveTime?: number;
  /** status.health, keyed by HPA metric name. Only tracked when a valid fallback is configured. */
  health: Record<string, TriggerHealth>;
  /** The generated HPA's own state. */
  hpa: HpaState;
  /** Conditions of the previous decision (Ready, Active, Fallback, Paused), to keep transition times. */
  conditions?: Condition[];
}

export interface TriggerDetail {
  index: number;
  type: string;
  name?: string;
  metricName: string;
  /** The value the scaler reported (null on error or for cpu/memory). */
  value: number | null;
  /** The value fed to the HPA (differs from value when fallback applies). */
  hpaValue: number | null;
  active: boolean;
  error?: string;
  fallback?: boolean;
  failures?: number;
}

export interface KedaDetails {
  /** Scaling phase that decided: paused, activation (0↔1 / idle / min by KEDA), hpa (1↔N), none. */
  phase: 'paused' | 'activation' | 'deactivation' | 'hpa' | 'hold';
  isActive: boolean;
  isError: boolean;
  fallbackActive: boolean;
  triggers: TriggerDetail[];
  /** Composite metric (scalingModifiers) value when used. */
  composite?: { value: number | null; error?: string };
  /** What KEDA's own executor set on /scale this round (null = left to the HPA). */
  kedaScaleTo: number | null;
  /** The generated HPA's record, when it ran. */
  hpa?: unknown;
  /** Cooldown deadline (epoch ms) while cooling down. */
  cooldownUntil?: number;
}
