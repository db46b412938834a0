// What a shell holds of an autoscaler: the Autoscaler interface every kind implements, the spec the
// factory builds it from, its options, its status (for get/describe) and its serialisable memory.
import type { Condition, DecisionRecord, MetricProposal } from '../core/decision.ts';
import type { AutoscalerRef, ClusterPort, Maybe, ScaleTargetRef } from './port.ts';

/** One autoscaler object as the manifest layer normalized it (shell-independent). */
export interface AutoscalerSpec {
  /** 'hpa' | 'kpa' | 'keda' | 'tide' | any kind registered with registerAutoscaler(). */
  kind: string;
  name: string;
  namespace?: string;
  target: ScaleTargetRef;
  /** The kind's policy: HpaPolicy, KpaItemPolicy, KedaPolicy, PredictivePolicy, ... */
  policy: unknown;
  annotations?: Record<string, string>;
  source?: { file?: string; line?: number };
  /**
   * metadata.creationTimestamp (epoch ms). KEDA's initialCooldownPeriod counts from it. Absent: KEDA
   * takes its first decision's time (the simulator, whose objects have no creation time); status
   * shows the autoscaler's start.
   */
  createdAt?: number;
}

/** Settings the shell passes to every autoscaler it creates. */
export interface AutoscalerOptions {
  /**
   * The HPA controller's sync period (kube-controller-manager --horizontal-pod-autoscaler-sync-period),
   * ms; default 15 s. KPA and Tide tick on their own period (2 s); KEDA at min(pollingInterval, this).
   */
  syncPeriodMs?: number;
  /**
   * When the first HPA/KEDA sync happens after the autoscaler starts (ms); default one period, as the
   * controller-manager does for a new object. The simulator sets 7 s: HPA syncs land between two
   * metrics-server scrapes (on average half a scrape stale). KPA and Tide tick one tick after start.
   */
  firstSyncDelayMs?: number;
  /** Shadow mode: decide, record and explain, never write /scale. */
  dryRun?: boolean;
  /**
   * Kind-specific controller settings, passed on as they are:
   *  - hpa, keda: Partial<HpaControllerConfig> (tolerance, downscaleStabilizationSeconds,
   *    cpuInitializationPeriodSeconds, initialReadinessDelaySeconds, syncPeriodSeconds, and whatever the
   *    HPA decider's config grows, e.g. feature gates) — kube-controller-manager's flags;
   *  - kpa: config-autoscaler keys ('stable-window', 'container-concurrency-target-percentage', ...)
   *    plus tickIntervalMs / samplePeriodMs;
   *  - tide: tickIntervalMs.
   */
  config?: Record<string, unknown>;
}

/** What `get hpa` / `describe` show for one autoscaler (the local API's JSON, the dashboard, kubectl-like views). */
export interface AutoscalerStatus {
  kind: string;
  name: string;
  /** "Deployment/name" */
  reference: string;
  /** kubectl TARGETS column, e.g. "23%/50%", "<unknown>/50%". */
  targets: string;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
  created: number;
  lastScaleTime?: number;
  metrics: MetricProposal[];
  conditions: Condition[];
  /** Human description of the metric specs (describe's "Metrics:" section when nothing is observed yet). */
  metricSpecs: { name: string; target: string }[];
  lastDecision?: DecisionRecord;
  dryRun: boolean;
}

/** The metric an autoscaler last acted on, value against target (the simulator's chart line). */
export interface MetricPoint { value: number; target: number; label: string }

/**
 * An autoscaler's memory between syncs, as small JSON: what a shell persists to survive a restart or a
 * leader failover (recommendation history and scale events of an HPA, KPA windows, KEDA health, ...).
 * `restore` accepts what `snapshot` gave, from the same kind and name; anything else is refused.
 */
export interface AutoscalerSnapshot {
  /** Format version. */
  v: 1;
  kind: string;
  name: string;
  /** When it was taken (shell clock, epoch ms). */
  at: number;
  /** Decider state (HpaState, KpaState, KedaState, PredictiveState, ...). */
  state: unknown;
  lastScaleTime?: number;
  /** Kind-specific extras (e.g. the recording filter's last key). */
  extra?: Record<string, unknown>;
}

/** How the activator's cold-request signal reaches the autoscaler (see Autoscaler.pokeDelivery). */
export type PokeDelivery = 'message' | 'inline' | 'resync-hint';

/**
 * One autoscaler object, running in some shell. The shell calls `sync(now)` every `syncPeriodMs`
 * (first after `firstSyncDelayMs`), never two at once; `poke(now)` when a request found no ready
 * replica; `status()` for views; `close()` when the object goes away.
 */
export interface Autoscaler {
  readonly kind: string;
  readonly name: string;
  readonly ref: AutoscalerRef;
  /** The scale target's name (the local runtime's Deployment). */
  readonly target: string;
  readonly syncPeriodMs: number;
  readonly firstSyncDelayMs: number;
  /**
   * 'message': the signal travels to the autoscaler (Knative: activator → autoscaler stat), so a shell
   * with a virtual clock delivers it as its own event at the same instant; 'inline': handled in the
   * request path itself (Tide's scale-from-zero). 'resync-hint': the kind has no activator upstream
   * (HPA, KEDA); a poke only asks for an early sync, a convenience of `tide up` that a shell modelling
   * upstream's timing (the simulator) leaves out. Real-time shells call poke at once for all three.
   */
  readonly pokeDelivery: PokeDelivery;
  /** One reconcile; resolves to the decision (also sent to the record sink), or null when nothing was decided. */
  sync(now: number): Maybe<DecisionRecord | null>;
  /** The activator saw a request with no ready replica (scale from zero). */
  poke(now: number): void;
  status(): AutoscalerStatus;
  /** The metric it last acted on (value vs target), for charts. */
  metric(): MetricPoint | undefined;
  snapshot(): AutoscalerSnapshot;
  restore(snapshot: AutoscalerSnapshot): void;
  close(): void;
}

/** Builds one kind of autoscaler. */
export type AutoscalerFactory = (spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions) => Autoscaler;
