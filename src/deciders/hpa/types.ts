// Inputs and state of the HPA decider, shaped after autoscaling/v2 so a Kubernetes user recognises
// every field. All quantities are already parsed: metric values and requests are in *milli-units*
// (integers, as resource.Quantity.MilliValue() gives), times are epoch milliseconds.

export type MetricTargetType = 'Utilization' | 'AverageValue' | 'Value';

export interface MetricTarget {
  type: MetricTargetType;
  /** Percent of request, for Utilization. */
  averageUtilization?: number;
  /** Milli-units, for AverageValue. */
  averageValue?: number;
  /** Milli-units, for Value. */
  value?: number;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface MetricIdentifier {
  name: string;
  selector?: LabelSelector;
}

export interface CrossVersionObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
}

export type MetricSpec =
  | { type: 'Resource'; resource: { name: string; target: MetricTarget } }
  | { type: 'ContainerResource'; containerResource: { name: string; container: string; target: MetricTarget } }
  | { type: 'Pods'; pods: { metric: MetricIdentifier; target: MetricTarget } }
  | { type: 'Object'; object: { describedObject: CrossVersionObjectReference; metric: MetricIdentifier; target: MetricTarget } }
  | { type: 'External'; external: { metric: MetricIdentifier; target: MetricTarget } };

export interface HpaScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface HpaScalingRules {
  /**
   * undefined: the controller's --horizontal-pod-autoscaler-downscale-stabilization (scaleDown; the
   * API server leaves it unset and the controller fills it in at each sync) or 0 (scaleUp).
   */
  stabilizationWindowSeconds?: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: HpaScalingPolicy[];
  /** Fraction (0.1 == 10%); undefined means the controller-wide default tolerance. */
  tolerance?: number;
}

export interface HpaBehavior {
  scaleUp: HpaScalingRules;
  scaleDown: HpaScalingRules;
}

/** A normalized HorizontalPodAutoscaler (v1 is converted to this shape, behavior left undefined). */
export interface HpaPolicy {
  name: string;
  namespace?: string;
  scaleTargetRef: CrossVersionObjectReference;
  minReplicas: number;          // defaulted to 1
  maxReplicas: number;
  metrics: MetricSpec[];        // defaulted to cpu 80% Utilization when empty, as upstream
  /** undefined: legacy path (v1, or v2 without behavior): 5 min downscale stabilization, max(2x,4) up-limit. */
  behavior?: HpaBehavior;
  /** Where it came from, for messages. */
  source?: { file?: string; apiVersion: string };
  /**
   * namespace/name of every HPA whose selector matches this HPA's target pods (the controller's
   * selector store; Tide knows it from the manifests loaded together, src/manifests/checks.ts).
   * More than one: ScalingActive=False, AmbiguousSelector, and the HPA does not act. Omitted: only this one.
   */
  selectingHpas?: string[];
}

/**
 * kube-controller-manager feature gates that change HPA decisions (--feature-gates). Defaults are
 * Kubernetes v1.37's; see docs/hpa.md for the version matrix.
 */
export interface HpaFeatureGates {
  /** minReplicas: 0 with Object/External metrics, the ScaledToZero condition (beta, on in v1.37; alpha, off, v1.16-v1.36). */
  HPAScaleToZero: boolean;
  /** behavior.scaleUp/scaleDown.tolerance (alpha, off, v1.33-v1.34; beta v1.35-v1.36; GA v1.37). */
  HPAConfigurableTolerance: boolean;
}

/** Controller-wide settings (kube-controller-manager flags). */
export interface HpaControllerConfig {
  tolerance: number;                        // --horizontal-pod-autoscaler-tolerance, 0.1
  cpuInitializationPeriodSeconds: number;   // 300
  initialReadinessDelaySeconds: number;     // 30
  /** --horizontal-pod-autoscaler-downscale-stabilization, 300: legacy path, and behavior.scaleDown without a window. */
  downscaleStabilizationSeconds: number;
  syncPeriodSeconds: number;                // 15
  /** --feature-gates; missing gates take their v1.37 default. */
  featureGates?: Partial<HpaFeatureGates>;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodInfo {
  name: string;
  phase: PodPhase;
  /** Ready condition; undefined means the pod has no Ready condition yet. */
  ready?: { status: 'True' | 'False' | 'Unknown'; lastTransitionTime: number };
  /** status.startTime */
  startTime?: number;
  deletionTimestamp?: number;
  labels?: Record<string, string>;
  /** Per container resource requests, milli-units (cpu in millicores, memory in millibytes). */
  containers: { name: string; requests: Record<string, number> }[];
}

/** A per-pod metric sample as metrics-server / custom metrics API return it. */
export interface PodMetricSample {
  pod: string;
  /** Milli-units. For Resource: the sum over the pod's containers; for ContainerResource: that container. */
  value: number;
  timestamp: number;
  windowSeconds: number;
}

/** What the metrics pipeline returned for one MetricSpec (same index as policy.metrics). */
export type MetricObservation =
  | { kind: 'pods'; samples: PodMetricSample[] }          // Resource, ContainerResource, Pods
  | { kind: 'object'; value: number; timestamp: number }  // Object: the described object's value (milli)
  | { kind: 'external'; values: number[]; timestamp: number } // External: every matching series (milli), summed
  | { kind: 'error'; message: string };                   // the fetch failed

export interface ScaleTargetState {
  /** scale.spec.replicas */
  specReplicas: number;
  /** scale.status.replicas */
  statusReplicas: number;
  selector?: string;
}

export interface HpaObservation {
  now: number;
  target: ScaleTargetState;
  pods: PodInfo[];
  metrics: MetricObservation[];
}

/**
 * `beforeFetch`: the timestamp was taken in a sync before (or without) any metrics fetch. Upstream
 * stamps entries with time.Now(), and a fetch takes time, so such an entry is older than one taken
 * after a fetch at the same millisecond. It decides only exact ties with a cutoff (absent = after a
 * fetch, as every recommendation computed from metrics is).
 */
export interface TimestampedRecommendation { timestamp: number; recommendation: number; beforeFetch?: boolean }
export interface ScaleEvent { timestamp: number; replicaChange: number; outdated?: boolean; beforeFetch?: boolean }

/** What the controller remembers between syncs (per HPA). Serializable. */
export interface HpaState {
  recommendations: TimestampedRecommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
  /** Last time the HPA actually rescaled (status.lastScaleTime). */
  lastScaleTime?: number;
  /** Conditions from the previous decision, to keep lastTransitionTime stable. */
  conditions?: import('../../core/decision.ts').Condition[];
}

// ---- Decider output (added with the decider; additive) ----

/** Scale-up / scale-down tolerances actually applied (fractions). */
export interface HpaTolerances { scaleUp: number; scaleDown: number }

/** Which branch of the controller's reconcile produced the decision. */
export type HpaDecisionPath =
  | 'scaling-disabled'   // spec replicas == 0 and the HPA did not scale it to zero itself
  | 'above-max'          // current > maxReplicas: straight to max, no metrics
  | 'below-min'          // current < minReplicas: straight to min, no metrics
  | 'invalid-metrics'    // all metrics failed, or some failed and the rest would scale down
  | 'legacy'             // no behavior: 5 min downscale stabilization + max(2x,4) up-limit
  | 'behavior';          // v2 behavior: stabilization windows + rate policies

export interface HpaDetails {
  path: HpaDecisionPath;
  tolerances: HpaTolerances;
  /** Max over the metric proposals (upstream computeReplicasForMetrics); null when not computed / invalid. */
  metricDesiredReplicas: number | null;
  /** Upstream's description of the metric that gave metricDesiredReplicas (e.g. "cpu resource utilization (percentage of request)"). */
  metricName: string;
  /** Number of metrics that failed, and the combined error upstream reports. */
  invalidMetrics: number;
  invalidMetricsError?: string;
  /** Recommendation before normalization (== metricDesiredReplicas when positive). */
  prenormalizedReplicas?: number;
  /** After the stabilization window(s). */
  stabilizedReplicas?: number;
  /** Rate limits in force this decision (behavior path) or the legacy up-limit. */
  scaleUpLimit?: number;
  scaleDownLimit?: number;
  /** The policy that set the rate limit, e.g. "scaleUp policy Pods 4/15s". */
  limitingPolicy?: string;
  /** Rescale reason as in the SuccessfulRescale event ("cpu resource utilization (percentage of request) above target"). */
  rescaleReason: string;
}

export interface HpaDecisionInputs {
  policy: HpaPolicy;
  observation: HpaObservation;
  /** Decider state BEFORE the decision. */
  state: HpaState;
  /** The fully resolved controller config used. */
  config: HpaControllerConfig;
}

export type HpaDecisionRecord = import('../../core/decision.ts').DecisionRecord<HpaDecisionInputs, HpaDetails>;
