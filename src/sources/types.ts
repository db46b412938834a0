// The metric-source plug-in interface (after KEDA's scaler interface). Every way Tide learns a number
// — process stats, the proxy's own counters, a replica's /metrics, Prometheus, Redis, RabbitMQ,
// NATS, PostgreSQL, cron, GPU — is one MetricSource. Shells poll sources; deciders never do I/O.

export interface SourceSample {
  /** Metric value in base units (a float; deciders convert to milli-units themselves). */
  value: number;
  /** When the value was observed (epoch ms). */
  timestamp: number;
  /** Optional series labels (e.g. pod name for per-pod metrics). */
  labels?: Record<string, string>;
}

export interface MetricSource {
  /** Plug-in kind, e.g. "prometheus", "redis", "process". */
  readonly kind: string;
  /** Human description without secrets, shown by `describe`. */
  describe(): string;
  /**
   * Read the current value(s). Rejects with an Error naming the backend when it is unreachable or
   * answers badly; the shell turns that into an invalid-metric observation (no scale-down).
   */
  read(now: number, signal?: AbortSignal): Promise<SourceSample[]>;
  /** Release connections. Safe to call twice. */
  close(): Promise<void>;
}
