// Inputs, state and record details of the KPA decider (Knative Pod Autoscaler). Times are epoch ms,
// durations in seconds as in the annotations. Observed values are revision totals (as upstream:
// the collector extrapolates to the whole revision), not per-pod averages.

import type { DecisionRecord } from '../../core/decision.ts';
import type { AggregationAlgorithm, MaxTimeWindow, TimedBuckets } from './aggregation.ts';

export type KpaMetric = 'concurrency' | 'rps';

/** Parsed `autoscaling.knative.dev/*` annotations (absent = not set). */
export interface KpaAnnotations {
  class?: string;
  metric?: string;
  target?: number;
  targetUtilizationPercentage?: number;
  targetBurstCapacity?: number;
  windowSeconds?: number;
  panicWindowPercentage?: number;
  panicThresholdPercentage?: number;
  minScale?: number;
  maxScale?: number;
  initialScale?: number;
  activationScale?: number;
  scaleDownDelaySeconds?: number;
  scaleToZeroPodRetentionPeriodSeconds?: number;
  metricAggregationAlgorithm?: AggregationAlgorithm;
  /** serving.knative.dev/progress-deadline, seconds. */
  progressDeadlineSeconds?: number;
}

/** A resolved KPA policy: everything the decider needs, config and annotations already merged. */
export interface KpaPolicy {
  name: string;
  namespace?: string;
  /** "Deployment/name" */
  target: string;
  metric: KpaMetric;
  /** Revision spec.containerConcurrency (hard per-pod limit), 0 = unlimited. */
  containerConcurrency: number;
  /** What the decider divides the observed total by (per-pod target after utilization). */
  targetValue: number;
  /** Per-pod capacity before utilization (used for excess burst capacity). */
  totalValue: number;
  /** Panic threshold as a fraction (2.0 = 200 %). */
  panicThreshold: number;
  stableWindowSeconds: number;
  panicWindowSeconds: number;
  /** >= 0 or -1 (activator always in path). */
  targetBurstCapacity: number;
  scaleDownDelaySeconds: number;
  /** 0 = unset. */
  activationScale: number;
  initialScale: number;
  minScale: number;
  /** 0 = unlimited. */
  maxScale: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  activatorCapacity: number;
  enableScaleToZero: boolean;
  scaleToZeroGracePeriodSeconds: number;
  scaleToZeroPodRetentionPeriodSeconds: number;
  aggregation: AggregationAlgorithm;
  /** Revision reachability (false: min-scale ignored, scale-down unbounded). Default true locally. */
  reachable: boolean;
  progressDeadlineSeconds: number;
}

/** One per-second measurement of the revision (sum of pods' and the activator's traffic). */
export interface KpaSample {
  /** Epoch ms inside the second the value belongs to. */
  time: number;
  /** Time-weighted average in-flight requests (including queued/held ones) over that second. */
  concurrency: number;
  /** Requests that arrived in that second. */
  rps: number;
}

export interface KpaObservation {
  now: number;
  /** Ready, running, not terminating replicas. */
  readyPods: number;
  /** The scale target's spec.replicas (what was last actuated). */
  currentReplicas: number;
  /**
   * Samples collected since the previous decision, oldest first. Recorded into the windows before
   * deciding. Per upstream, the shell omits seconds with no ready pod and no traffic.
   */
  samples: KpaSample[];
  /** Whether the activator answers on the service (the scale-to-zero probe). Default true. */
  activatorReachable?: boolean;
  /** True when this decision was triggered by a cold request (poke) rather than the 2 s tick. */
  poke?: boolean;
}

export type ActiveStatus = 'Unknown' | 'True' | 'False';

export interface KpaState {
  /** Stable and panic windows of the policy's metric. */
  stable: TimedBuckets;
  panic: TimedBuckets;
  /** Epoch ms of the last over-threshold decision while panicking; null = not panicking. */
  panicTime: number | null;
  maxPanicPods: number;
  /** scale-down-delay window (fixed at creation, as upstream). */
  delayWindow: MaxTimeWindow | null;
  /** The decider's status: -1 = unknown (no valid decision yet). */
  deciderDesired: number;
  deciderEbc: number;
  /** PodAutoscaler Active condition. */
  active: { status: ActiveStatus; reason: string; since: number };
  scaleTargetInitialized: boolean;
  /** PA status.desiredScale (null = never set). */
  paDesired: number | null;
  /** ServerlessService mode: Proxy = activator in path. `since` = when it entered that mode. */
  sks: { mode: 'Proxy' | 'Serve'; since: number };
}

export interface KpaDetails {
  metric: KpaMetric;
  stableWindowSeconds: number;
  panicWindowSeconds: number;
  /** Window averages of the observed revision total (null when the decision was invalid: no data). */
  stableAverage: number | null;
  panicAverage: number | null;
  targetValue: number;
  totalValue: number;
  /** ceil(stable / target), ceil(panic / target). */
  desiredStablePodCount: number | null;
  desiredPanicPodCount: number | null;
  maxScaleUp: number | null;
  maxScaleDown: number | null;
  panicking: boolean;
  panicTime: number | null;
  maxPanicPods: number;
  /** Decider output (before bounds / scale-to-zero), -1 = unknown. */
  deciderDesired: number;
  excessBurstCapacity: number;
  /** Whether the activator stays in the request path (SKS Proxy mode). */
  activatorInPath: boolean;
  numActivators: number;
  /** PA reconciler outcome: the wanted scale and whether it is applied. */
  want: number;
  apply: boolean;
  /** Which branch of the scale-to-zero state machine ran, if any. */
  scaleToZero: string | null;
  valid: boolean;
}

export interface KpaInputs {
  policy: KpaPolicy;
  observation: KpaObservation;
  state: KpaState | null;
}

export type KpaDecisionRecord = DecisionRecord<KpaInputs, KpaDetails>;
