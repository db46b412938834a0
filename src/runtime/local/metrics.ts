// Tide's own Prometheus metrics for `tide up` (served at the control API's /metrics).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionRecord } from '../../core/decision.ts';

/** "23%" → 23, "120m" → 0.12, "2k" → 2000, "<unknown>" → null. */
export function parseShown(v: string): number | null {
  const m = /^(-?[0-9.]+)(%|m|k|M|G|T|Ki|Mi|Gi|Ti)?/.exec(v.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '%': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly replicas: Gauge<'deployment'>;
  readonly readyReplicas: Gauge<'deployment'>;
  readonly restarts: Gauge<'deployment'>;
  readonly desired: Gauge<'autoscaler' | 'kind'>;
  readonly metricValue: Gauge<'autoscaler' | 'metric'>;
  readonly metricTarget: Gauge<'autoscaler' | 'metric'>;
  readonly decisions: Counter<'autoscaler' | 'kind' | 'limited_by' | 'rescale'>;
  readonly latency: Histogram<'service' | 'code'>;
  readonly requests: Counter<'service' | 'code'>;
  readonly queue: Gauge<'service'>;
  readonly inFlight: Gauge<'service'>;
  readonly coldStart: Histogram<'service'>;
  readonly exhaustion: Counter<'operation' | 'code'>;
  readonly uncaught: Counter<'kind'>;

  constructor() {
    const r = [this.registry];
    this.replicas = new Gauge({ name: 'tide_replicas', help: 'Replicas (processes) of a Deployment, not counting terminating ones', labelNames: ['deployment'], registers: r });
    this.readyReplicas = new Gauge({ name: 'tide_ready_replicas', help: 'Ready replicas of a Deployment', labelNames: ['deployment'], registers: r });
    this.restarts = new Gauge({ name: 'tide_replica_restarts', help: 'Sum of container restarts over the live replicas of a Deployment', labelNames: ['deployment'], registers: r });
    this.desired = new Gauge({ name: 'tide_desired_replicas', help: 'Desired replicas from the last decision', labelNames: ['autoscaler', 'kind'], registers: r });
    this.metricValue = new Gauge({ name: 'tide_autoscaler_metric_value', help: 'Current value of an autoscaler metric as describe shows it (percent for Utilization)', labelNames: ['autoscaler', 'metric'], registers: r });
    this.metricTarget = new Gauge({ name: 'tide_autoscaler_metric_target', help: 'Target of an autoscaler metric', labelNames: ['autoscaler', 'metric'], registers: r });
    this.decisions = new Counter({ name: 'tide_decisions_total', help: 'Decisions by the rule that limited them (the last in limitedBy)', labelNames: ['autoscaler', 'kind', 'limited_by', 'rescale'], registers: r });
    this.latency = new Histogram({ name: 'tide_proxy_request_duration_seconds', help: 'Proxy request latency including queueing', labelNames: ['service', 'code'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r });
    this.requests = new Counter({ name: 'tide_proxy_requests_total', help: 'Requests answered by the proxy (code 0 = connection error)', labelNames: ['service', 'code'], registers: r });
    this.queue = new Gauge({ name: 'tide_proxy_queue_length', help: 'Requests waiting in the proxy queue', labelNames: ['service'], registers: r });
    this.inFlight = new Gauge({ name: 'tide_proxy_in_flight', help: 'Requests in flight to replicas', labelNames: ['service'], registers: r });
    this.exhaustion = new Counter({ name: 'tide_resource_exhaustion_total', help: 'Operations Tide could not do because it ran out of a resource (EMFILE, ENFILE, EAGAIN, ENOSPC …), by operation (accept, probe, scrape, spawn, log, state)', labelNames: ['operation', 'code'], registers: r });
    this.uncaught = new Counter({ name: 'tide_uncaught_errors_total', help: 'Errors caught by the daemon\'s last-resort handler (each one is a bug to fix)', labelNames: ['kind'], registers: r });
    this.coldStart = new Histogram({ name: 'tide_cold_start_duration_seconds', help: 'Time a request waited for a replica to become ready (scale from zero)', labelNames: ['service'], buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120], registers: r });
  }

  onDecision(kind: string, rec: DecisionRecord): void {
    this.desired.set({ autoscaler: rec.autoscaler, kind }, rec.desiredReplicas);
    this.decisions.inc({ autoscaler: rec.autoscaler, kind, limited_by: rec.limitedBy[rec.limitedBy.length - 1] ?? 'none', rescale: String(rec.rescale) });
    for (const p of rec.proposals) {
      const v = parseShown(p.current);
      const t = parseShown(p.target);
      if (v !== null) this.metricValue.set({ autoscaler: rec.autoscaler, metric: p.metric }, v);
      if (t !== null) this.metricTarget.set({ autoscaler: rec.autoscaler, metric: p.metric }, t);
    }
  }
}
