// The simulator's side of the autoscaler port (src/autoscalers/port.ts), and the one SimController
// that runs any autoscaler kind from the shared factory. The "cluster" is the simulated service:
// /scale is the engine's desired count, pods are its replicas, and the metric pipelines keep
// upstream's cadence and delays (src/sim/pipelines.ts): metrics-server scrapes every 15 s, per-second
// request stats as queue-proxy/activator report them, per-second demand for Tide's policy, custom and
// external metrics read live by keyword. Only sampling lives here; nothing decides.
import type { DecisionEvent, DecisionRecord } from '../core/decision.ts';
import type { CrossVersionObjectReference, MetricIdentifier, PodInfo } from '../deciders/hpa/types.ts';
import type { KedaTrigger } from '../deciders/keda/types.ts';
import type { KpaSample } from '../deciders/kpa/types.ts';
import type { DemandSample } from '../policies/predictive.ts';
import type {
  AutoscalerRef, ClusterPort, ConcurrencyStats, DemandStats, DemandStatsOptions, ExternalMetricResult, ObjectMetricResult, PodMetricsResult, Scale,
  ScalerMetricResult, ScaleTargetRef,
} from '../autoscalers/port.ts';
import { createAutoscaler } from '../autoscalers/factory.ts';
import type { Autoscaler, AutoscalerSpec } from '../autoscalers/types.ts';
import type { SimController, SimHandle } from './engine.ts';
import { MetricsServer, podValues, podsOf, quantityFor, serviceValue, type SimQuantity } from './pipelines.ts';

/**
 * Collects one DemandSample per second (arrivals, busy slot-ms, queued request-ms), as the proxy
 * reports them; with an SLO, also the requests that missed it only because they waited.
 */
export class DemandCollector {
  private lastLate = 0;
  private readonly sloMs: number | undefined;
  constructor(sloMs?: number) { this.sloMs = sloMs; }
  private lastArr = 0;
  private lastQ = 0;
  private lastStarted = 0;
  private lastSvc = 0;
  private pending: DemandSample[] = [];
  start(sim: SimHandle, onSample?: (s: DemandSample) => void): void {
    const first = Math.floor(sim.startMs / 1000) * 1000 + 1000;
    this.lastArr = sim.arrivals;
    this.lastQ = sim.queueIntegral();
    const late = this.sloMs !== undefined ? sim.lateCounter(this.sloMs) : undefined;
    if (late) this.lastLate = late();
    sim.every(1000, first, (now) => {
      const arrivals = sim.arrivals - this.lastArr;
      const q = sim.queueIntegral();
      const s: DemandSample = {
        t: now - 1000, arrivals, busyMs: sim.totalBusyMs(now - 1000, now), queuedMs: q - this.lastQ,
        started: sim.started - this.lastStarted, startedServiceMs: sim.startedServiceMs - this.lastSvc,
      };
      if (late) { s.late = late() - this.lastLate; s.lateSloMs = this.sloMs; this.lastLate = late(); }
      this.lastStarted = sim.started;
      this.lastSvc = sim.startedServiceMs;
      this.lastArr = sim.arrivals;
      this.lastQ = q;
      this.pending.push(s);
      onSample?.(s);
    });
  }
  drain(): DemandSample[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }
}

/** What the simulator's KEDA scalers read: the trigger's query/queue/metric names, by keyword. */
function triggerQuantity(t: KedaTrigger): SimQuantity | null {
  const m = t.metadata;
  const name = [m.query, m.queueName, m.listName, m.stream, m.metricName, m.valueLocation, t.metricName, t.type].filter(Boolean).join(' ');
  // queue-like scalers (rabbitmq, redis lists, nats, kafka lag, ...) read the proxy's outstanding requests
  return quantityFor(name) ?? (/(rabbitmq|redis|nats|kafka|sqs|postgres|mysql|queue)/.test(t.type) ? 'outstanding' : null);
}

export interface SimPortOptions {
  /** metrics-server --metric-resolution (default 15 s). */
  resolutionMs?: number;
  /** Keep decision records here (memory!): for `--records`. Absent: no record sink. */
  records?: DecisionRecord[];
}

export class SimClusterPort implements ClusterPort {
  private readonly sim: SimHandle;
  private readonly resolutionMs: number;
  private ms: MetricsServer | undefined;
  private readonly cold: ((t: number) => void)[] = [];
  readonly record?: (ref: AutoscalerRef, record: DecisionRecord) => void;

  constructor(sim: SimHandle, opts: SimPortOptions = {}) {
    this.sim = sim;
    this.resolutionMs = opts.resolutionMs ?? 15_000;
    const records = opts.records;
    if (records) this.record = (_ref, r) => { records.push(r); };
  }

  now(): number { return this.sim.now; }
  getScale(_t: ScaleTargetRef): Scale { const n = this.sim.desired; return { specReplicas: n, statusReplicas: n }; }
  setScale(_t: ScaleTargetRef, replicas: number): void { this.sim.setDesired(replicas); }
  listPods(_t: ScaleTargetRef): PodInfo[] { return podsOf(this.sim, this.sim.now); }
  readyPods(_t: ScaleTargetRef): number { return this.sim.readyCount(this.sim.now); }

  openResourceMetrics(_ref: AutoscalerRef): { close(): void } {
    if (!this.ms) {
      this.ms = new MetricsServer(this.resolutionMs);
      this.ms.start(this.sim);
    }
    return { close() {} };
  }

  resourceMetrics(ref: AutoscalerRef, resource: string): PodMetricsResult {
    if (quantityFor(resource) !== 'cpu') return { kind: 'error', message: `the simulator models cpu only, not ${resource}` };
    if (!this.ms) this.openResourceMetrics(ref);
    return { kind: 'pods', samples: this.ms!.latest() };
  }

  podMetrics(_ref: AutoscalerRef, metric: MetricIdentifier): PodMetricsResult {
    const q = quantityFor(metric.name);
    if (!q) return unknownMetric(metric.name);
    return { kind: 'pods', samples: podValues(this.sim, q, this.sim.now) };
  }

  objectMetric(_ref: AutoscalerRef, _obj: CrossVersionObjectReference, metric: MetricIdentifier): ObjectMetricResult {
    const q = quantityFor(metric.name);
    if (!q) return unknownMetric(metric.name);
    const now = this.sim.now;
    return { kind: 'object', value: Math.round(serviceValue(this.sim, q, now) * 1000), timestamp: now };
  }

  externalMetric(_ref: AutoscalerRef, metric: MetricIdentifier): ExternalMetricResult {
    const q = quantityFor(metric.name);
    if (!q) return unknownMetric(metric.name);
    const now = this.sim.now;
    return { kind: 'external', values: [Math.round(serviceValue(this.sim, q, now) * 1000)], timestamp: now };
  }

  scalerMetric(_ref: AutoscalerRef, trigger: KedaTrigger): ScalerMetricResult {
    const q = triggerQuantity(trigger);
    if (!q) return { kind: 'error', message: `the simulator cannot compute trigger ${trigger.type}` };
    const now = this.sim.now;
    return { kind: 'value', value: serviceValue(this.sim, q, now), timestamp: now };
  }

  /** Per-second revision concurrency (busy + queued slot-ms) and arrivals, like queue-proxy's reports. */
  openConcurrencyStats(_ref: AutoscalerRef): ConcurrencyStats {
    const sim = this.sim;
    let pending: KpaSample[] = [];
    let lastArr = sim.arrivals;
    let lastQ = sim.queueIntegral();
    sim.every(1000, Math.floor(sim.startMs / 1000) * 1000 + 1000, (now) => {
      const q = sim.queueIntegral();
      const busy = sim.totalBusyMs(now - 1000, now);
      const arrivals = sim.arrivals - lastArr;
      const conc = (busy + (q - lastQ)) / 1000;
      lastArr = sim.arrivals;
      lastQ = q;
      if (sim.readyCount(now) > 0 || arrivals > 0 || conc > 0) pending.push({ time: now - 500, concurrency: conc, rps: arrivals });
    });
    // the activator's immediate stat on a cold request
    this.cold.push((t) => { pending.push({ time: t, concurrency: Math.max(1, sim.queued), rps: 1 }); });
    return {
      take() { const p = pending; pending = []; return p; },
      close() {},
    };
  }

  openDemandStats(_ref: AutoscalerRef, opts?: DemandStatsOptions): DemandStats {
    const c = new DemandCollector(opts?.sloMs);
    c.start(this.sim);
    const sim = this.sim;
    return {
      take: () => ({ samples: c.drain(), queued: sim.queued, inFlight: sim.inFlightNow() }),
      close() {},
    };
  }

  /** A request found no replica: feed the cold stat to the request-stat pipelines. */
  coldRequest(t: number): void {
    for (const fn of this.cold) fn(t);
  }

  event(_ref: AutoscalerRef, _e: DecisionEvent): void {}
}

function unknownMetric(name: string): { kind: 'error'; message: string } {
  return { kind: 'error', message: `the simulator cannot compute metric "${name}" (name it after queue, concurrency, rps or cpu)` };
}

export interface SimAutoscalerOptions {
  /** Kind-specific controller settings (AutoscalerOptions.config); for hpa/keda `syncPeriodSeconds` sets the sync period. */
  config?: Record<string, unknown>;
  /** metrics-server --metric-resolution (default 15 s). */
  resolutionMs?: number;
  /** HPA/KEDA sync offset after the start (default 7 s: on average half a metrics-server scrape stale). */
  syncOffsetMs?: number;
  label?: string;
  /** Keep the decision records (memory!): for `--records`. */
  keepRecords?: boolean;
}

/**
 * Any autoscaler kind in the simulator: built by the shared factory on a SimClusterPort, synced on
 * its own period, poked by the activator as its kind says (pokeDelivery).
 */
export function autoscalerController(spec: AutoscalerSpec, o: SimAutoscalerOptions = {}): SimController & { records: DecisionRecord[]; autoscaler(): Autoscaler | undefined } {
  const records: DecisionRecord[] = [];
  let a: Autoscaler | undefined;
  let port: SimClusterPort;
  let simRef: SimHandle;
  return {
    name: o.label ?? `${spec.kind} ${spec.name}`,
    records,
    autoscaler: () => a,
    start(sim) {
      simRef = sim;
      port = new SimClusterPort(sim, { resolutionMs: o.resolutionMs, ...(o.keepRecords ? { records } : {}) });
      const syncSeconds = o.config?.syncPeriodSeconds;
      const scaler = createAutoscaler(spec, port, {
        syncPeriodMs: (typeof syncSeconds === 'number' ? syncSeconds : 15) * 1000,
        firstSyncDelayMs: o.syncOffsetMs ?? 7000,
        ...(o.config ? { config: o.config } : {}),
      });
      a = scaler;
      sim.every(scaler.syncPeriodMs, Math.floor(sim.startMs / 1000) * 1000 + scaler.firstSyncDelayMs, (now) => { scaler.sync(now); });
    },
    onColdRequest(now) {
      const scaler = a;
      // the simulator models upstream's timing: no early syncs for kinds without an activator
      if (!scaler || scaler.pokeDelivery === 'resync-hint') return;
      const deliver = (t: number) => {
        if (simRef.desired !== 0) return;
        port.coldRequest(t);
        scaler.poke(t);
      };
      if (scaler.pokeDelivery === 'message') simRef.at(now, deliver);
      else deliver(now);
    },
    metric: () => a?.metric(),
  };
}
