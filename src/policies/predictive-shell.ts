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
  private late = 0;
  private pending: DemandSample[] = [];
  private readonly sloMs: number | undefined;

  /** With the policy's latency SLO, samples also count the requests that missed it only by waiting. */
  constructor(sloMs?: number) { this.sloMs = sloMs; }

  /** A finished request: its service time is the latency minus the time it queued in the proxy. */
  requestDone(info: { status: number; latencyMs: number; queuedMs: number }): void {
    if (info.status === 0) return;
    const service = Math.max(0, info.latencyMs - info.queuedMs);
    this.done++;
    this.serviceMs += service;
    if (this.sloMs !== undefined && info.latencyMs > this.sloMs && service <= this.sloMs) this.late++;
  }

  /**
   * A stats snapshot. Between two snapshots: arrivals = growth of requestsTotal; busy and queued
   * request-ms are the trapezoid of the in-flight and queued gauges over the interval. The policy
   * reads one sample as one second, so an interval of k seconds (a timer that fired late: a stalled
   * event loop runs a missed setInterval once, not k times) becomes k equal one-second samples, not
   * one second with k seconds of arrivals in it, which would read as a k-fold surge.
   */
  snapshot(stats: ProxyStats): void {
    const prev = this.last;
    this.last = stats;
    if (!prev || stats.now <= prev.now) return;
    const dt = stats.now - prev.now;
    const k = Math.max(1, Math.round(dt / 1000));
    const arrivals = Math.max(0, stats.requestsTotal - prev.requestsTotal);
    const busyMs = ((prev.inFlight + stats.inFlight) / 2) * dt;
    const queuedMs = ((prev.queued + stats.queued) / 2) * dt;
    for (let i = 0; i < k; i++) {
      this.pending.push({
        t: prev.now + Math.round((i * dt) / k),
        arrivals: arrivals / k,
        busyMs: busyMs / k,
        queuedMs: queuedMs / k,
        started: this.done / k,
        startedServiceMs: this.serviceMs / k,
        ...(this.sloMs !== undefined ? { late: this.late / k, lateSloMs: this.sloMs } : {}),
      });
    }
    this.done = 0;
    this.serviceMs = 0;
    this.late = 0;
  }

  /** Samples since the last call (oldest first), and the current queue / in-flight gauges. */
  take(): { samples: DemandSample[]; queued: number; inFlight: number } {
    const samples = this.pending;
    this.pending = [];
    return { samples, queued: this.last?.queued ?? 0, inFlight: this.last?.inFlight ?? 0 };
  }
}
