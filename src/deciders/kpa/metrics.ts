// The metric collection step (knative pkg/autoscaler/metrics): samples go into the stable and panic
// windows of the policy's metric; the decider reads both window averages.

import { bucketsEmpty, newBuckets, recordBucket, windowAverage, type TimedBuckets } from './aggregation.ts';
import type { KpaPolicy, KpaSample } from './types.ts';

export function newWindows(policy: KpaPolicy): { stable: TimedBuckets; panic: TimedBuckets } {
  return { stable: newBuckets(policy.stableWindowSeconds), panic: newBuckets(policy.panicWindowSeconds) };
}

/** Records one sample (values in the same second add up, as upstream's buckets do). Mutates. */
export function recordSample(policy: KpaPolicy, w: { stable: TimedBuckets; panic: TimedBuckets }, s: KpaSample): void {
  const v = policy.metric === 'rps' ? s.rps : s.concurrency;
  recordBucket(w.stable, s.time, v);
  recordBucket(w.panic, s.time, v);
}

/**
 * Stable and panic averages, or null ("no data") when the stable window saw nothing for more than
 * a window and pods are scraped (TBC != -1). With TBC = -1 only the activator reports: no data = 0.
 */
export function stableAndPanic(policy: KpaPolicy, w: { stable: TimedBuckets; panic: TimedBuckets }, now: number): { stable: number; panic: number } | null {
  if (bucketsEmpty(w.stable, now) && policy.targetBurstCapacity !== -1) return null;
  return { stable: windowAverage(w.stable, now, policy.aggregation), panic: windowAverage(w.panic, now, policy.aggregation) };
}
