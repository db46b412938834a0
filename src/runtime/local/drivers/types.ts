// The per-autoscaler driver interface of the local runtime. A driver owns one autoscaler object
// (an HPA, a Knative/KServe KPA, a KEDA ScaledObject): every sync it gathers an observation from the
// runtime, calls its pure decider, records the decision and (unless dry-run) scales the Deployment.
// New kinds register a factory in ./registry.ts; the controller knows nothing kind-specific.
import type { Condition, DecisionEvent, DecisionRecord, MetricProposal } from '../../../core/decision.ts';
import type { LabelSelector, PodMetricSample } from '../../../deciders/hpa/types.ts';
import type { ProxyStats } from '../proxy-types.ts';
import type { Replica } from '../supervisor.ts';
import type { AutoscalerItem } from '../bundle.ts';

/** What `tide get hpa` / `describe` show for one autoscaler. */
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

export interface DriverContext {
  readonly dryRun: boolean;
  now(): number;
  /** Replicas of a Deployment (not terminating ones unless asked). */
  pods(deployment: string, includeTerminating?: boolean): Replica[];
  /** spec.replicas of the Deployment (what was last asked). */
  specReplicas(deployment: string): number;
  /** metrics-server-like sample for one pod (milli-units), or null when not available yet. */
  resourceSample(pod: string, resource: string): PodMetricSample | null;
  /** Scrape `metric` from each ready replica's /metrics; value per pod in base units. Failures per pod are omitted. */
  scrapePods(deployment: string, metric: string, selector?: LabelSelector): Promise<Map<string, number>>;
  /** The proxy's live view of the Service in front of the Deployment (concurrency, requests per replica). */
  proxyStats(deployment: string): ProxyStats | undefined;
  /** Requests per second per replica over the last `windowMs` (from the proxy's counters). */
  requestRate(deployment: string, windowMs: number): { total: number; perReplica: Map<string, number> };
  /** Set the Deployment's replicas (ignored in dry-run by the caller's contract: drivers check dryRun). */
  scale(deployment: string, replicas: number): void;
  /** Persist + publish a decision (decisions.jsonl, metrics, events). */
  record(autoscaler: string, record: DecisionRecord): void;
  event(autoscaler: string, e: DecisionEvent): void;
  log(msg: string): void;
  /**
   * Subscribe to the finished requests of the Service in front of the Deployment (service time =
   * latency - queued). Optional; returns the unsubscribe function.
   */
  onRequestDone?(deployment: string, fn: (info: { status: number; latencyMs: number; queuedMs: number }) => void): () => void;
}

export interface AutoscalerDriver {
  readonly kind: string;
  readonly name: string;
  /** Deployment name it scales. */
  readonly target: string;
  readonly syncPeriodMs: number;
  /** One reconcile; returns the record (also passed to ctx.record) or null when nothing was decided. */
  sync(now: number): Promise<DecisionRecord | null>;
  /** The activator saw a request with no ready replica: decide now (scale from zero). */
  poke?(): void;
  status(): AutoscalerStatus;
  close?(): void;
}

export interface DriverOptions {
  syncPeriodMs: number;
  /** Controller-config overrides per kind (e.g. HPA tolerance), from flags. */
  overrides: Record<string, unknown>;
}

export type DriverFactory = (item: AutoscalerItem, ctx: DriverContext, opts: DriverOptions) => AutoscalerDriver;
