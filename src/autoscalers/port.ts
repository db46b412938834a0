// The one interface between an autoscaler (src/autoscalers/<kind>.ts) and the shell that runs it
// (`tide up` in src/runtime/local/, the simulator in src/sim/, the Kubernetes controller in
// src/runtime/kubernetes/). It models what kube-controller-manager (and Knative's autoscaler, KEDA's
// operator) see of a cluster, nothing more:
//
//   - the scale target through its /scale subresource (spec.replicas, status.replicas, status.selector),
//   - the target's pods (phase, Ready condition, start time, deletion, requests per container),
//   - resource metrics per pod (metrics.k8s.io, as metrics-server serves them),
//   - custom per-pod metrics (custom.metrics.k8s.io "pods" metrics),
//   - object and external metric queries (custom.metrics.k8s.io objects, external.metrics.k8s.io),
//   - KEDA scaler reads (what KEDA's metrics adapter asks each scaler),
//   - request statistics of the Service in front of the target (per-second concurrency / RPS as
//     queue-proxy and the activator report them; per-second demand for Tide's policy),
//   - sinks for decisions and events, a log line, and the clock.
//
// How a shell *obtains* each answer is its own business (a metric pipeline: /proc sampling, a proxy's
// counters, a simulated metrics-server with its scrape window, informer caches, API calls). What an
// autoscaler *does* with the answers — build the decider's observation, keep its memory, decide, record,
// actuate, explain — is the shared layer's business, identical in every shell.
//
// Every read may answer synchronously or with a Promise (`Maybe<T>`): the simulator answers at once
// (its virtual clock must not yield), the local runtime answers metrics asynchronously (scrapes,
// PromQL), a Kubernetes shell answers from informer caches (synchronous) and metrics APIs (Promises).
// Autoscalers only await when something is actually a Promise, so a synchronous shell runs a sync
// round without touching the microtask queue.
//
// Units follow the HPA decider: resource and custom metric values are milli-units (as
// resource.Quantity.MilliValue()); KEDA scaler values are floats in the metric's base units; times
// are epoch milliseconds from the shell's clock (`now()`), never Date.now() inside an autoscaler.
import type { DecisionEvent, DecisionRecord } from '../core/decision.ts';
import type {
  CrossVersionObjectReference, LabelSelector, MetricIdentifier, MetricObservation, PodInfo, PodMetricSample, ScaleTargetState,
} from '../deciders/hpa/types.ts';
import type { KedaTrigger } from '../deciders/keda/types.ts';
import type { KpaSample } from '../deciders/kpa/types.ts';
import type { DemandSample } from '../policies/predictive.ts';

/** A value now, or later. */
export type Maybe<T> = T | Promise<T>;

/** The scale target as an object reference (`spec.scaleTargetRef`), with its namespace. */
export interface ScaleTargetRef extends CrossVersionObjectReference {
  namespace?: string;
}

/** Which autoscaler object a call is about: lets a shell scope caches, queries, events and records. */
export interface AutoscalerRef {
  /** Autoscaler kind as the factory knows it: 'hpa' | 'kpa' | 'keda' | 'tide' | any registered kind. */
  kind: string;
  name: string;
  namespace?: string;
  /** What it scales. Local shell: a Deployment by name; Kubernetes: any object with a /scale subresource. */
  target: ScaleTargetRef;
  /** The autoscaler object's annotations (e.g. `metrics.tide.dev/*` PromQL mappings). */
  annotations?: Record<string, string>;
  /** Where the object came from (manifest file and line), for messages and file-relative lookups. */
  source?: { file?: string; line?: number };
}

/** GET <target>/scale: `spec.replicas`, `status.replicas`, `status.selector`. The HPA's ScaleTargetState. */
export type Scale = ScaleTargetState;

/** What a metrics API answered: the observation, or why it could not (the decider turns that into conditions/events). */
export type MetricError = { kind: 'error'; message: string };
export type PodMetricsResult = { kind: 'pods'; samples: PodMetricSample[] } | MetricError;
export type ObjectMetricResult = { kind: 'object'; value: number; timestamp: number } | MetricError;
export type ExternalMetricResult = { kind: 'external'; values: number[]; timestamp: number } | MetricError;
export type ScalerMetricResult = { kind: 'value'; value: number; timestamp: number } | MetricError;

/**
 * Knative-style request statistics of the target's Service: one sample per second of the revision's
 * time-weighted concurrency (in-flight + queued, as queue-proxy and the activator count them) and its
 * arrivals. The shell keeps sampling from `open` until `close`; the KPA drains it every tick.
 */
export interface ConcurrencyStats {
  /**
   * Samples since the previous call, oldest first. At a 'tick' a shell may close the current second
   * first (so the decision reads a bucket of its own second); at a 'poke' it must not (the activator's
   * cold stat stands for that second).
   */
  take(now: number, reason?: 'tick' | 'poke'): KpaSample[];
  close(): void;
}

/**
 * Per-second demand of the target's Service, for Tide's policy: arrivals, busy and queued request-ms
 * and the service times of finished requests, plus the live queue and in-flight gauges.
 */
export interface DemandStats {
  take(now: number): { samples: DemandSample[]; queued: number; inFlight: number };
  close(): void;
}

export interface DemandStatsOptions {
  /** The policy's latency SLO (ms): a shell that sees request latencies reports who missed it only by waiting (DemandSample.late). */
  sloMs?: number;
}

export interface ConcurrencyStatsOptions {
  /** How often the shell samples the in-flight gauge inside a second (local default 100 ms). */
  samplePeriodMs?: number;
}

/**
 * What a shell offers an autoscaler. Methods marked optional may be absent when a shell cannot serve
 * them (an autoscaler then reports the metric as unavailable, as upstream does when an API is missing).
 */
export interface ClusterPort {
  /** The shell's clock (epoch ms): wall clock locally and on a cluster, the virtual clock in the simulator. */
  now(): number;

  // ---- the scale target -----------------------------------------------------------------------
  /** GET /scale. */
  getScale(target: ScaleTargetRef): Maybe<Scale>;
  /** PUT /scale with spec.replicas = replicas. A rejected Promise is reported as a FailedRescale event. */
  setScale(target: ScaleTargetRef, replicas: number): Maybe<void>;
  /** Pods of the target (label selector of its /scale), terminating ones included (deletionTimestamp set). */
  listPods(target: ScaleTargetRef): Maybe<PodInfo[]>;
  /** Ready, not terminating pods of the target (the Endpoints' ready addresses). Cheap: called every KPA tick. */
  readyPods(target: ScaleTargetRef): Maybe<number>;

  // ---- metrics --------------------------------------------------------------------------------
  /**
   * metrics.k8s.io for the target's pods: `resource` usage per pod (milli-units: millicores, millibytes);
   * for `container`, that container's usage only (an error when the container is absent, as upstream).
   */
  resourceMetrics(ref: AutoscalerRef, resource: string, container?: string): Maybe<PodMetricsResult>;
  /** custom.metrics.k8s.io pods/<metric> for the target's pods (milli-units). */
  podMetrics?(ref: AutoscalerRef, metric: MetricIdentifier): Maybe<PodMetricsResult>;
  /** custom.metrics.k8s.io <describedObject>/<metric> (milli-units). */
  objectMetric?(ref: AutoscalerRef, describedObject: CrossVersionObjectReference, metric: MetricIdentifier): Maybe<ObjectMetricResult>;
  /** external.metrics.k8s.io <metric>{selector}: every matching series (milli-units). */
  externalMetric?(ref: AutoscalerRef, metric: MetricIdentifier): Maybe<ExternalMetricResult>;
  /**
   * A KEDA scaler's metric (base units, float), as KEDA's metrics adapter reads trigger `index` of a
   * ScaledObject. cpu/memory triggers never come here (they are resource metrics).
   */
  scalerMetric?(ref: AutoscalerRef, trigger: KedaTrigger, index: number): Maybe<ScalerMetricResult>;

  /**
   * The autoscaler will read resource metrics of the target: a shell whose metrics pipeline must run
   * ahead of the first read (the simulator's metrics-server scrapes) starts it now. Optional.
   */
  openResourceMetrics?(ref: AutoscalerRef): { close(): void };

  // ---- request statistics (the Service in front of the target) -------------------------------
  /** Start Knative-style per-second concurrency stats for the target (KPA). */
  openConcurrencyStats?(ref: AutoscalerRef, opts?: ConcurrencyStatsOptions): ConcurrencyStats;
  /** Start per-second demand stats for the target (Tide's policy). */
  openDemandStats?(ref: AutoscalerRef, opts?: DemandStatsOptions): DemandStats;
  // The activator's cold-request signal travels the other way: the shell calls Autoscaler.poke(now).

  // ---- sinks ----------------------------------------------------------------------------------
  /**
   * A decision to persist and publish (decisions.jsonl, metrics, the record's own events). Absent: the
   * shell keeps no records (the simulator without --records), and autoscalers skip the bookkeeping.
   */
  record?(ref: AutoscalerRef, record: DecisionRecord): void;
  /** An event outside a decision record (e.g. a failed scale write). */
  event(ref: AutoscalerRef, event: DecisionEvent): void;
  log?(message: string): void;
}

/** Format a label selector the way /scale's status.selector does ("a=b,c=d"). */
export function selectorString(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
}

export type { LabelSelector };
