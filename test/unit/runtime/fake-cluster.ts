// A fake local runtime (LocalCluster) under the real LocalClusterPort: replicas, a proxy's stats
// and finished-request callbacks, scale writes, records and events, on a fake clock.
import type { DecisionEvent, DecisionRecord } from '../../../src/core/decision.ts';
import { LocalClusterPort, type LocalCluster } from '../../../src/runtime/local/port.ts';
import type { ProxyStats } from '../../../src/runtime/local/proxy-types.ts';
import type { Replica } from '../../../src/runtime/local/supervisor.ts';

export function fakeCluster(opts: { t0: number; replicas?: number; ready?: number }) {
  let now = opts.t0;
  let replicas = opts.replicas ?? 1;
  const scaled: number[] = [];
  const records: DecisionRecord[] = [];
  const events: DecisionEvent[] = [];
  const stats: ProxyStats = { now, queued: 0, inFlight: 0, requestsTotal: 0, replicas: [] };
  const listeners = new Set<(i: { status: number; latencyMs: number; queuedMs: number }) => void>();
  const replica = (i: number) => ({ name: `web-${i}`, ready: true, terminating: false, deployment: { labels: { app: 'web' }, container: { name: 'app' } }, podInfo: () => ({ name: `web-${i}`, phase: 'Running', containers: [] }) }) as unknown as Replica;
  const rt: LocalCluster = {
    syncPeriodMs: 15_000,
    now: () => now,
    replicas: () => Array.from({ length: opts.ready ?? replicas }, (_, i) => replica(i)),
    specReplicas: () => replicas,
    scaleDeployment: (_d, n) => { scaled.push(n); replicas = n; if (opts.ready !== undefined) opts.ready = n; },
    resourceSample: () => null,
    scrapePods: async () => new Map(),
    proxyStats: () => ({ ...stats, now }),
    onRequestDone: (_d, fn) => { listeners.add(fn); return () => { listeners.delete(fn); }; },
    recordDecision: (_n, r) => { records.push(r); },
    autoscalerEvent: (_n, e) => { events.push(e); },
    log: () => {},
  };
  const port = new LocalClusterPort(rt);
  return {
    port, scaled, records, events, listeners, stats,
    get now() { return now; },
    advance(ms: number) { now += ms; },
    /**
     * One second of traffic: `rps` requests of `serviceMs`, `busy` in flight at the end of it; the
     * first `waited` of them finish after queueing `queuedMs` first.
     */
    second(rps: number, serviceMs: number, busy: number, waited = 0, queuedMs = 0) {
      now += 1000;
      stats.requestsTotal += rps;
      stats.inFlight = busy;
      for (let i = 0; i < rps; i++) {
        const q = i < waited ? queuedMs : 0;
        for (const fn of listeners) fn({ status: 200, latencyMs: serviceMs + q, queuedMs: q });
      }
    },
  };
}
