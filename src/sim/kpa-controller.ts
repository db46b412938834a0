// The Knative KPA (decideKpa) fed like upstream: one sample per second of the revision's
// time-weighted concurrency (in-flight + queued, as queue-proxy/activator report it) and request
// count, a decision every 2 s, and an immediate decision on a cold request (the activator's poke).
import type { SimController, SimHandle, MetricPoint } from './engine.ts';
import type { KpaPolicy, KpaSample, KpaState } from '../deciders/kpa/types.ts';
import { decideKpa } from '../deciders/kpa/decide.ts';
import { makeKpaPolicy } from '../deciders/kpa/policy.ts';
import { TICK_INTERVAL_MS } from '../deciders/kpa/config.ts';
import type { DecisionRecord } from '../core/decision.ts';

/** Knative defaults for a revision whose containerConcurrency is the replica's slot count. */
export function kpaDefaultsBaseline(containerConcurrency: number): KpaPolicy {
  return makeKpaPolicy({ name: 'kpa-defaults', target: 'Deployment/model', containerConcurrency });
}

export function kpaController(policy: KpaPolicy, o: { label?: string; keepRecords?: boolean } = {}): SimController & { records: DecisionRecord[] } {
  let state: KpaState | null = null;
  let pending: KpaSample[] = [];
  let lastArr = 0;
  let lastQ = 0;
  let metric: MetricPoint | undefined;
  const records: DecisionRecord[] = [];
  let simRef: SimHandle;
  const decide = (now: number, poke: boolean): void => {
    const sim = simRef;
    const ready = sim.readyCount(now);
    const { record, state: next } = decideKpa(policy, { now, readyPods: ready, currentReplicas: sim.desired, samples: pending, poke }, state);
    pending = [];
    state = next;
    if (o.keepRecords) records.push(record);
    const d = record.details;
    if (d.stableAverage !== null) metric = { value: d.stableAverage, target: d.targetValue * Math.max(1, ready), label: 'stable concurrency vs target x ready pods' };
    if (record.desiredReplicas !== sim.desired) sim.setDesired(record.desiredReplicas);
  };
  return {
    name: o.label ?? `kpa ${policy.name}`,
    records,
    start(sim) {
      simRef = sim;
      lastArr = sim.arrivals;
      lastQ = sim.queueIntegral();
      const first = Math.floor(sim.startMs / 1000) * 1000 + 1000;
      sim.every(1000, first, (now) => {
        const q = sim.queueIntegral();
        const busy = sim.totalBusyMs(now - 1000, now);
        const arrivals = sim.arrivals - lastArr;
        const conc = (busy + (q - lastQ)) / 1000;
        lastArr = sim.arrivals;
        lastQ = q;
        const anyReady = sim.readyCount(now) > 0;
        if (anyReady || arrivals > 0 || conc > 0) pending.push({ time: now - 500, concurrency: conc, rps: arrivals });
      });
      sim.every(TICK_INTERVAL_MS, Math.floor(sim.startMs / 1000) * 1000 + TICK_INTERVAL_MS, (now) => decide(now, false));
    },
    onColdRequest(now) {
      simRef.at(now, (t) => {
        if (simRef.desired === 0) {
          pending.push({ time: t, concurrency: Math.max(1, simRef.queued), rps: 1 });
          decide(t, true);
        }
      });
    },
    metric: () => metric,
  };
}
