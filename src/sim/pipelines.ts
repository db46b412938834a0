// Simulated metric pipelines with upstream's cadence and delays, and the mapping from metric names
// in users' manifests to quantities the simulator knows.
//
// - metrics-server: scrapes every pod every `resolutionMs` (default 15 s, metrics-server's
//   --metric-resolution) and reports CPU usage averaged over that window; pods younger than one
//   window have no sample yet. The HPA reads the latest scrape at its own sync (every 15 s, offset).
// - custom / external metrics (prometheus-adapter, KEDA scalers) are read live at each sync/poll.
//
// Metric names map onto the simulated service by keywords (case-insensitive):
//   cpu                                   -> per-pod CPU (millicores)
//   queue | pending | backlog | messages  -> outstanding requests (waiting + in flight)
//   concurrency | inflight | in_flight | active -> in-flight + waiting, per pod for Pods metrics
//   rps | requests_per_second | rate      -> arrivals per second (last 15 s)
// Anything else is an error observation (the HPA then refuses to scale down, as upstream).
import type { SimHandle } from './engine.ts';
import type { PodInfo, PodMetricSample } from '../deciders/hpa/types.ts';

export type SimQuantity = 'cpu' | 'outstanding' | 'concurrency' | 'rps';

export function quantityFor(name: string): SimQuantity | null {
  const n = name.toLowerCase();
  if (/cpu/.test(n)) return 'cpu';
  if (/queue|pending|backlog|messages|lag/.test(n)) return 'outstanding';
  if (/concurren|inflight|in_flight|in-flight|active/.test(n)) return 'concurrency';
  if (/rps|requests_per_second|per_second|rate|qps/.test(n)) return 'rps';
  return null;
}

/** PodInfo as the HPA expects it, for the replicas that are not draining. */
export function podsOf(sim: SimHandle, now: number): PodInfo[] {
  return sim.replicas().map((r) => {
    const ready = r.readyAt <= now;
    return {
      name: r.name,
      phase: 'Running' as const,
      startTime: r.createdAt,
      ready: { status: ready ? 'True' as const : 'False' as const, lastTransitionTime: ready ? r.readyAt : r.createdAt },
      containers: [{ name: 'main', requests: { cpu: sim.service.cpuRequestMilli, memory: 1024 * 1024 * 1024 * 1000 } }],
    };
  });
}

/** metrics-server: periodic CPU scrapes; `latest()` is what the resource metrics API returns. */
export class MetricsServer {
  private samples: PodMetricSample[] = [];
  readonly resolutionMs: number;
  constructor(resolutionMs = 15_000) {
    this.resolutionMs = resolutionMs;
  }
  start(sim: SimHandle): void {
    const w = this.resolutionMs;
    const first = Math.floor(sim.startMs / 1000) * 1000 + w;
    sim.every(w, first, (now) => {
      const out: PodMetricSample[] = [];
      for (const r of sim.replicas()) {
        if (r.createdAt > now - w) continue; // no full window yet: no sample
        out.push({ pod: r.name, value: Math.round(sim.replicaCpuMilli(r.id, now - w, now)), timestamp: now, windowSeconds: w / 1000 });
      }
      this.samples = out;
    });
  }
  latest(): PodMetricSample[] {
    return this.samples;
  }
}

/** Live value of a quantity for the whole service (base units). */
export function serviceValue(sim: SimHandle, q: SimQuantity, now: number): number {
  switch (q) {
    case 'outstanding': return sim.queued + sim.inFlightNow();
    case 'concurrency': {
      const to = Math.floor(now / 1000) * 1000;
      return sim.totalBusyMs(to - 15_000, to) / 15_000 + sim.queued;
    }
    case 'rps': return rpsTracker(sim, now);
    case 'cpu': {
      let s = 0;
      const to = Math.floor(now / 1000) * 1000;
      for (const r of sim.replicas()) s += sim.replicaCpuMilli(r.id, to - 15_000, to) / 1000;
      return s;
    }
  }
}

const rpsMemo = new WeakMap<SimHandle, { t: number; n: number; rate: number }>();
function rpsTracker(sim: SimHandle, now: number): number {
  const m = rpsMemo.get(sim);
  if (!m) {
    rpsMemo.set(sim, { t: now, n: sim.arrivals, rate: 0 });
    return 0;
  }
  if (now - m.t >= 1000) {
    m.rate = (sim.arrivals - m.n) / ((now - m.t) / 1000);
    m.t = now;
    m.n = sim.arrivals;
  }
  return m.rate;
}

/** Per-pod samples of a quantity (milli-units), for Pods metrics. */
export function podValues(sim: SimHandle, q: SimQuantity, now: number, windowMs = 15_000): PodMetricSample[] {
  const to = Math.floor(now / 1000) * 1000;
  const reps = sim.replicas().filter((r) => r.readyAt <= now);
  const queuedShare = reps.length ? sim.queued / reps.length : 0;
  return reps.map((r) => {
    let v: number;
    const busy = sim.replicaBusyMs(r.id, to - windowMs, to) / windowMs;
    switch (q) {
      case 'cpu': v = sim.replicaCpuMilli(r.id, to - windowMs, to) / 1000; break;
      case 'rps': v = rpsTracker(sim, now) / Math.max(1, reps.length); break;
      default: v = busy + queuedShare;
    }
    return { pod: r.name, value: Math.round(v * 1000), timestamp: to, windowSeconds: windowMs / 1000 };
  });
}
