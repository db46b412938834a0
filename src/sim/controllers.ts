// Controllers: adapters that drive the pure deciders from the simulated world, with the upstream
// metric pipelines and their delays in front of them. No policy logic lives here.
import type { SimController, SimHandle, MetricPoint } from './engine.ts';
import {
  decidePredictive, emptyPredictiveState, type DemandSample, type PredictivePolicy, type PredictiveState,
} from '../policies/predictive.ts';
import { decideHpa, emptyHpaState } from '../deciders/hpa/decide.ts';
import type { HpaControllerConfig, HpaPolicy, HpaState, MetricObservation, MetricSpec } from '../deciders/hpa/types.ts';
import { decideKeda, emptyKedaState, isResourceTrigger } from '../deciders/keda/decide.ts';
import type { KedaPolicy, KedaState, TriggerObservation } from '../deciders/keda/types.ts';
import { MetricsServer, podValues, podsOf, quantityFor, serviceValue } from './pipelines.ts';
import type { DecisionRecord } from '../core/decision.ts';

/** Fixed replica count (the "null policy" baseline of the benchmark). */
export function staticController(n: number): SimController {
  return {
    name: `static ${n}`,
    start(sim) { sim.setDesired(n); },
  };
}

/** Collects one DemandSample per second (arrivals, busy slot-ms, queued request-ms), as the proxy reports them. */
export class DemandCollector {
  private lastArr = 0;
  private lastQ = 0;
  private lastStarted = 0;
  private lastSvc = 0;
  private pending: DemandSample[] = [];
  start(sim: SimHandle, onSample?: (s: DemandSample) => void): void {
    const first = Math.floor(sim.startMs / 1000) * 1000 + 1000;
    this.lastArr = sim.arrivals;
    this.lastQ = sim.queueIntegral();
    sim.every(1000, first, (now) => {
      const arrivals = sim.arrivals - this.lastArr;
      const q = sim.queueIntegral();
      const s: DemandSample = {
        t: now - 1000, arrivals, busyMs: sim.totalBusyMs(now - 1000, now), queuedMs: q - this.lastQ,
        started: sim.started - this.lastStarted, startedServiceMs: sim.startedServiceMs - this.lastSvc,
      };
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

/** Tide's predictive policy, ticking every tickMs (default 2 s, like the KPA). */
export function predictiveController(policy: PredictivePolicy, tickMs = 2000, label?: string): SimController {
  let state: PredictiveState = emptyPredictiveState();
  const demand = new DemandCollector();
  let metric: MetricPoint | undefined;
  let simRef: SimHandle;
  const decide = (now: number): void => {
    const sim = simRef;
    const { record, state: next } = decidePredictive(policy, {
      now,
      currentReplicas: sim.desired,
      readyReplicas: sim.readyCount(now),
      samples: demand.drain(),
      queued: sim.queued,
      inFlight: sim.inFlightNow(),
    }, state);
    state = next;
    metric = { value: record.details.forecast, target: policy.slotsPerReplica * Math.max(1, sim.desired), label: 'forecast busy slots vs capacity' };
    if (record.desiredReplicas !== sim.desired) sim.setDesired(record.desiredReplicas);
  };
  return {
    name: label ?? `tide predictive${policy.sloLatencyMs !== undefined ? ` (slo ${policy.sloLatencyMs}ms)` : ''}`,
    start(sim) {
      simRef = sim;
      demand.start(sim);
      const first = Math.floor(sim.startMs / 1000) * 1000 + tickMs;
      sim.every(tickMs, first, decide);
    },
    onColdRequest(now) {
      // like the activator's poke: scale from zero at once
      if (simRef.desired === 0 && policy.maxReplicas > 0) simRef.setDesired(Math.max(1, policy.minReplicas));
      void now;
    },
    metric: () => metric,
  };
}

/** Replays a precomputed per-second replica schedule (the oracle). */
export function scheduleController(name: string, startMs: number, perSecond: Int32Array): SimController {
  return {
    name,
    start(sim) {
      sim.setDesired(perSecond.length ? perSecond[0] : 0);
      sim.every(1000, startMs + 1000, (now) => {
        const k = Math.floor((now - startMs) / 1000);
        if (k < perSecond.length) sim.setDesired(perSecond[k]);
      });
    },
  };
}

// ---- upstream deciders --------------------------------------------------------------------------

export interface HpaSimOptions {
  config?: Partial<HpaControllerConfig>;
  /** metrics-server --metric-resolution (default 15 s). */
  resolutionMs?: number;
  /** HPA sync offset after a scrape (default 7 s: on average half a scrape stale). */
  syncOffsetMs?: number;
  label?: string;
  /** Keep the decision records (memory!): for `--records`. */
  keepRecords?: boolean;
}

function metricObservation(sim: SimHandle, spec: MetricSpec, ms: MetricsServer, now: number): MetricObservation {
  const name = spec.type === 'Resource' ? spec.resource.name
    : spec.type === 'ContainerResource' ? spec.containerResource.name
    : spec.type === 'Pods' ? spec.pods.metric.name
    : spec.type === 'Object' ? spec.object.metric.name
    : spec.external.metric.name;
  const q = quantityFor(name);
  if (spec.type === 'Resource' || spec.type === 'ContainerResource') {
    if (q !== 'cpu') return { kind: 'error', message: `the simulator models cpu only, not ${name}` };
    return { kind: 'pods', samples: ms.latest() };
  }
  if (!q) return { kind: 'error', message: `the simulator cannot compute metric "${name}" (name it after queue, concurrency, rps or cpu)` };
  if (spec.type === 'Pods') return { kind: 'pods', samples: podValues(sim, q, now) };
  const v = Math.round(serviceValue(sim, q, now) * 1000);
  if (spec.type === 'Object') return { kind: 'object', value: v, timestamp: now };
  return { kind: 'external', values: [v], timestamp: now };
}

function ratioMetric(rec: DecisionRecord, label: string): MetricPoint | undefined {
  const i = rec.drivingMetric ?? 0;
  const p = rec.proposals[i];
  if (!p || p.ratio === undefined) return undefined;
  return { value: p.ratio * 100, target: 100, label };
}

/** The Kubernetes HPA (decideHpa) behind metrics-server (15 s scrapes) with a 15 s sync. */
export function hpaController(policy: HpaPolicy, o: HpaSimOptions = {}): SimController & { records: DecisionRecord[] } {
  let state: HpaState = emptyHpaState();
  const ms = new MetricsServer(o.resolutionMs ?? 15_000);
  const syncMs = (o.config?.syncPeriodSeconds ?? 15) * 1000;
  let metric: MetricPoint | undefined;
  const records: DecisionRecord[] = [];
  return {
    name: o.label ?? `hpa ${policy.name}`,
    records,
    start(sim) {
      ms.start(sim);
      const first = Math.floor(sim.startMs / 1000) * 1000 + (o.syncOffsetMs ?? 7000);
      sim.every(syncMs, first, (now) => {
        const metrics = policy.metrics.length
          ? policy.metrics.map((m) => metricObservation(sim, m, ms, now))
          : [{ kind: 'pods' as const, samples: ms.latest() }];
        const { record, state: next } = decideHpa(policy, {
          now,
          target: { specReplicas: sim.desired, statusReplicas: sim.desired },
          pods: podsOf(sim, now),
          metrics,
        }, state, o.config);
        state = next;
        if (o.keepRecords) records.push(record);
        metric = ratioMetric(record, 'metric / target (%)') ?? metric;
        if (record.desiredReplicas !== sim.desired) sim.setDesired(record.desiredReplicas);
      });
    },
    metric: () => metric,
  };
}

function triggerQuantityName(t: KedaPolicy['triggers'][number]): string {
  const m = t.metadata;
  return [m.query, m.queueName, m.listName, m.stream, m.metricName, m.valueLocation, t.metricName, t.type].filter(Boolean).join(' ');
}

/**
 * KEDA (decideKeda: its 0<->1 executor + the generated HPA). The HPA part syncs every 15 s reading the
 * scalers live through KEDA's metrics adapter; at zero replicas only KEDA's own loop runs, every
 * pollingInterval. Queue-like triggers (rabbitmq, redis lists, nats, kafka lag, prometheus queries
 * about a queue) read the proxy's outstanding requests.
 */
export function kedaController(policy: KedaPolicy, o: HpaSimOptions = {}): SimController & { records: DecisionRecord[] } {
  let state: KedaState = emptyKedaState();
  const ms = new MetricsServer(o.resolutionMs ?? 15_000);
  const syncMs = (o.config?.syncPeriodSeconds ?? 15) * 1000;
  const pollMs = policy.pollingIntervalSeconds * 1000;
  let metric: MetricPoint | undefined;
  const records: DecisionRecord[] = [];
  let lastPoll = -Infinity;
  let simRef: SimHandle;
  const round = (now: number): void => {
    const sim = simRef;
    const triggers: TriggerObservation[] = policy.triggers.map((t) => {
      if (isResourceTrigger(t)) return { kind: 'pods', samples: ms.latest() };
      const q = quantityFor(triggerQuantityName(t)) ?? (/(rabbitmq|redis|nats|kafka|sqs|postgres|mysql|queue)/.test(t.type) ? 'outstanding' : null);
      if (!q) return { kind: 'error', message: `the simulator cannot compute trigger ${t.type}` };
      return { kind: 'value', value: serviceValue(sim, q, now), timestamp: now };
    });
    const { record, state: next } = decideKeda(policy, {
      now,
      target: { specReplicas: sim.desired, statusReplicas: sim.desired },
      pods: podsOf(sim, now),
      triggers,
    }, state, now, o.config);
    state = next;
    lastPoll = now;
    if (o.keepRecords) records.push(record);
    metric = ratioMetric(record, 'metric / target (%)') ?? metric;
    if (record.desiredReplicas !== sim.desired) sim.setDesired(record.desiredReplicas);
  };
  return {
    name: o.label ?? `keda ${policy.name}`,
    records,
    start(sim) {
      simRef = sim;
      ms.start(sim);
      const first = Math.floor(sim.startMs / 1000) * 1000 + (o.syncOffsetMs ?? 7000);
      sim.every(Math.min(syncMs, pollMs), first, (now) => {
        // at zero only KEDA's polling loop runs
        if (sim.desired === 0 && now - lastPoll < pollMs) return;
        round(now);
      });
    },
    metric: () => metric,
  };
}
