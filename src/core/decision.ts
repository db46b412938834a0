// The decision record: the one shape every decider (HPA, KPA, KEDA) emits and every shell
// (local runtime, Kubernetes controller, simulator, `tide decide`) logs, shows and replays.
// A record must hold everything needed to recompute it offline: the inputs and the state before.

/** Which rule bounded the final replica count (first the one that bit last). */
export type LimitRule =
  | 'none'            // the metric proposal was applied as is
  | 'tolerance'       // within tolerance: no change
  | 'invalid-metrics' // a metric failed and the proposal would have scaled down
  | 'stabilization'   // stabilization window (HPA) / scale-down-delay (KPA)
  | 'policy'          // scaleUp/scaleDown rate policy (HPA behavior) or KPA max rates
  | 'legacy-scale-up-limit' // v1/no-behavior HPA: max(2*current, 4)
  | 'min'             // clamped to minReplicas / min-scale
  | 'max'             // clamped to maxReplicas / max-scale
  | 'disabled'        // selectPolicy Disabled, or spec replicas == 0, or paused
  | 'panic'           // KPA panic mode holds the count (never scales down while panicking)
  | 'activation'      // KEDA/KPA activation threshold decided 0 <-> 1
  | 'cooldown'        // KEDA cooldownPeriod before scaling to zero
  | 'scale-to-zero-grace' // KPA grace period / pod retention before reaching zero
  | 'fallback';       // KEDA fallback replicas after failureThreshold

/** One metric's contribution, as shown by `describe`. */
export interface MetricProposal {
  /** Human name, e.g. "resource cpu on pods (as a percentage of request)" or "pods/inference_queue_depth". */
  metric: string;
  /** Current value formatted as kubectl does (e.g. "23%", "120m", "<unknown>"). */
  current: string;
  /** Target formatted as kubectl does (e.g. "50%", "50", "10 (avg)"). */
  target: string;
  /** Replicas this metric alone proposes; null when the metric could not be computed. */
  proposedReplicas: number | null;
  /** Usage ratio current/target when meaningful. */
  ratio?: number;
  /** Why the metric failed, if it did. */
  error?: string;
  /** Free-form per-metric detail (e.g. missing/unready pod counts, rebalance applied). */
  detail?: Record<string, unknown>;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export interface Condition {
  type: string;           // AbleToScale | ScalingActive | ScalingLimited | Active | Fallback | Ready | ...
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

export interface DecisionEvent {
  type: 'Normal' | 'Warning';
  reason: string;         // e.g. SuccessfulRescale, FailedGetResourceMetric
  message: string;
}

export interface DecisionRecord<Inputs = unknown, Details = unknown> {
  decider: 'hpa' | 'kpa' | 'keda' | 'tide';
  /** Autoscaler object name (HPA / InferenceService / ScaledObject). */
  autoscaler: string;
  /** "Deployment/name" */
  target: string;
  /** Decision time as ISO 8601, and as epoch milliseconds. */
  time: string;
  now: number;
  currentReplicas: number;
  desiredReplicas: number;
  /** True when the shell should actuate (desired != current and scaling is enabled). */
  rescale: boolean;
  /** The metric whose proposal drove the result (index into proposals), or null. */
  drivingMetric: number | null;
  proposals: MetricProposal[];
  /** The rules that bounded the result, in the order they were applied. */
  limitedBy: LimitRule[];
  /** One sentence a person can read: what was decided and why. */
  explanation: string;
  conditions: Condition[];
  events: DecisionEvent[];
  /** Everything needed to replay: the observation and the decider state before the decision. */
  inputs: Inputs;
  /** Decider-specific detail (HPA: raw vs normalized recommendation; KPA: windows, panic state). */
  details: Details;
}
