// Feeding Tide's predictive policy from a live proxy (the local runtime): turns periodic ProxyStats
// snapshots and finished-request callbacks into the per-second DemandSamples decidePredictive takes.
// The runtime calls `snapshot(stats)` about once a second and `requestDone(info)` from its
// RequestObserver; every decision drains `take()`.
import type { ProxyStats } from '../runtime/local/proxy-types.ts';
import type { DemandSample } from './predictive.ts';

export class ProxyDemand {
  private last: ProxyStats | undefined;
  private done = 0;
  private serviceMs = 0;
  private pending: DemandSample[] = [];

  /** A finished request: its service time is the latency minus the time it queued in the proxy. */
  requestDone(info: { status: number; latencyMs: number; queuedMs: number }): void {
    if (info.status === 0) return;
    this.done++;
    this.serviceMs += Math.max(0, info.latencyMs - info.queuedMs);
  }

  /**
   * A stats snapshot. Between two snapshots: arrivals = growth of requestsTotal; busy and queued
   * request-ms are the trapezoid of the in-flight and queued gauges over the interval. One sample per
   * snapshot pair, stamped with the earlier snapshot's time.
   */
  snapshot(stats: ProxyStats): void {
    const prev = this.last;
    this.last = stats;
    if (!prev || stats.now <= prev.now) return;
    const dt = stats.now - prev.now;
    this.pending.push({
      t: prev.now,
      arrivals: Math.max(0, stats.requestsTotal - prev.requestsTotal),
      busyMs: ((prev.inFlight + stats.inFlight) / 2) * dt,
      queuedMs: ((prev.queued + stats.queued) / 2) * dt,
      started: this.done,
      startedServiceMs: this.serviceMs,
    });
    this.done = 0;
    this.serviceMs = 0;
  }

  /** Samples since the last call (oldest first), and the current queue / in-flight gauges. */
  take(): { samples: DemandSample[]; queued: number; inFlight: number } {
    const samples = this.pending;
    this.pending = [];
    return { samples, queued: this.last?.queued ?? 0, inFlight: this.last?.inFlight ?? 0 };
  }
}
