// Request-statistics pipelines of the local runtime: how the proxy (Tide's activator, always in
// front of a Service locally) is sampled into what the autoscalers read through the port.
//  - ProxySampler: Knative-style per-second samples (time-weighted in-flight + queued, arrivals),
//    as queue-proxy and the activator report them to Knative's autoscaler.
//  - ProxyDemand (src/policies/predictive-shell.ts): per-second demand for Tide's policy.
import type { KpaSample } from '../../deciders/kpa/types.ts';

/** How often the proxy's in-flight count is sampled to build the per-second time-weighted average. */
export const SAMPLE_PERIOD_MS = 100;

/**
 * Turns proxy snapshots into per-second KPA samples: time-weighted average of in-flight + held
 * requests and the arrivals of that second. Pure bookkeeping (the shell feeds it), testable alone.
 */
export class ProxySampler {
  private weighted = 0;
  private elapsed = 0;
  private lastAt: number | null = null;
  private lastLevel = 0;
  private lastTotal: number | null = null;
  /** Set after an immediate cold-request stat: the next second's report gives that "1" back. */
  private firstAdj = 0;
  /** Epoch second of the last sample reported. */
  private lastSecond: number | null = null;
  readonly pending: KpaSample[] = [];

  /** Record a snapshot (level = in-flight + queued, total = arrivals counter). */
  observe(now: number, level: number, total: number): void {
    if (this.lastAt !== null && now > this.lastAt) {
      const dt = now - this.lastAt;
      this.weighted += this.lastLevel * dt;
      this.elapsed += dt;
    }
    this.lastAt = now;
    this.lastLevel = level;
    if (this.lastTotal === null) this.lastTotal = total;
  }

  /** The activator's immediate stat on the first request of a cold episode (concurrency 1, 1 request). */
  coldRequest(now: number): void {
    this.pending.push({ time: now, concurrency: 1, rps: 1 });
    this.firstAdj = 1;
  }

  /**
   * Close the current second: push its sample when there are ready pods or traffic. The KPA sums
   * the samples of one second (upstream's buckets add up the stats of different pods), and this one
   * sample stands for all of the Service's pods: a second report within the same epoch second (a
   * late timer and the decision's own report after an event-loop stall) would read as twice the
   * concurrency. So it reports nothing and keeps accumulating into the next second's sample.
   */
  report(now: number, total: number, readyPods: number): KpaSample | null {
    this.observe(now, this.lastLevel, total);
    if (this.lastSecond === Math.floor(now / 1000)) return null;
    const avg = this.elapsed > 0 ? this.weighted / this.elapsed : this.lastLevel;
    const count = Math.max(0, total - (this.lastTotal ?? total));
    this.weighted = 0; this.elapsed = 0; this.lastTotal = total;
    const concurrency = Math.max(0, avg - this.firstAdj);
    const rps = Math.max(0, count - this.firstAdj);
    this.firstAdj = 0;
    // Scraped pods always report (zeros included); the activator only reports seconds with traffic.
    if (readyPods === 0 && concurrency === 0 && rps === 0) return null;
    const s = { time: now, concurrency: Math.round(concurrency * 1e6) / 1e6, rps };
    this.pending.push(s);
    this.lastSecond = Math.floor(now / 1000);
    return s;
  }

  drain(): KpaSample[] {
    return this.pending.splice(0, this.pending.length);
  }
}
