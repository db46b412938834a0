// Windowed aggregation as knative's pkg/autoscaler/aggregation: per-second timed buckets with a
// linear ("averaged") or weighted-exponential window average, and the max-over-time window used by
// scale-down-delay. All state is plain data (JSON-serializable) so decisions replay; times inside
// are whole seconds (epoch ms truncated), null meaning "never" (Go's zero time).

export type AggregationAlgorithm = 'linear' | 'weighted-exponential';

export interface TimedBuckets {
  /** Window length in seconds (= number of buckets, the granularity being 1 s). */
  window: number;
  buckets: number[];
  windowTotal: number;
  /** Epoch seconds of the first and last written bucket since the last reset; null = never. */
  firstWrite: number | null;
  lastWrite: number | null;
}

const WEIGHT_PRECISION = 0.9999;
const MIN_EXPONENT = 0.2;

export function newBuckets(windowSeconds: number): TimedBuckets {
  const nb = Math.max(1, Math.ceil(windowSeconds));
  return { window: nb, buckets: new Array<number>(nb).fill(0), windowTotal: 0, firstWrite: null, lastWrite: null };
}

const sec = (ms: number) => Math.floor(ms / 1000);
/** Go's math.Round: half away from zero. */
export function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
function round6(x: number): number {
  return goRound(x * 1e6) / 1e6;
}
function mod(i: number, n: number): number {
  return ((i % n) + n) % n;
}

/** Adds `value` into the bucket of second `nowMs`; values in the same second are summed. Mutates b. */
export function recordBucket(b: TimedBuckets, nowMs: number, value: number): void {
  const bt = sec(nowMs);
  const nb = b.buckets.length;
  if (b.lastWrite !== bt) {
    const last = b.lastWrite ?? -Infinity;
    if (bt + b.window > last) {
      if (b.firstWrite === null || b.firstWrite > bt) b.firstWrite = bt;
      if (bt > last) {
        if (bt - last >= b.window) {
          // Silence of at least a window: start over.
          b.firstWrite = bt;
          b.buckets.fill(0);
          b.windowTotal = 0;
        } else {
          for (let i = last + 1; i <= bt; i++) {
            const idx = mod(i, nb);
            b.windowTotal -= b.buckets[idx]!;
            b.buckets[idx] = 0;
          }
        }
        b.lastWrite = bt;
      }
    } else {
      return; // older than a window before the last write: ignored
    }
  }
  b.buckets[mod(bt, nb)]! += value;
  b.windowTotal += value;
}

/** True when nothing was written for more than a window. */
export function bucketsEmpty(b: TimedBuckets, nowMs: number): boolean {
  if (b.lastWrite === null) return true;
  return sec(nowMs) - b.lastWrite > b.window;
}

/** Linear window average: partial windows divide by the seconds seen since the first write. */
export function linearAverage(b: TimedBuckets, nowMs: number): number {
  const now = sec(nowMs);
  if (b.lastWrite === null || b.firstWrite === null) return 0;
  const nb = b.buckets.length;
  const d = now - b.lastWrite;
  if (d <= 0) {
    const numB = Math.min(b.lastWrite - b.firstWrite + 1, nb);
    return round6(b.windowTotal / numB);
  }
  if (d < b.window) {
    let ret = b.windowTotal;
    for (let i = b.lastWrite + 1; i <= now; i++) ret -= b.buckets[mod(i, nb)]!;
    const numB = Math.min(b.lastWrite - b.firstWrite + 1, nb - (now - b.lastWrite));
    return round6(ret / numB);
  }
  return 0;
}

export function smoothingCoefficient(nb: number): number {
  return Math.max(1 - Math.pow(1 - WEIGHT_PRECISION, 1 / nb), MIN_EXPONENT);
}

/** Weighted-exponential average: newest second weighs most; silent seconds count as leading zeros. */
export function weightedAverage(b: TimedBuckets, nowMs: number): number {
  if (bucketsEmpty(b, nowMs) || b.lastWrite === null) return 0;
  const now = sec(nowMs);
  const total = b.buckets.length;
  const m = smoothingCoefficient(total);
  let numB = total;
  let mult = m;
  if (now > b.lastWrite) {
    const nz = now - b.lastWrite;
    mult *= Math.pow(1 - m, nz);
    numB -= nz;
  }
  let ret = 0;
  for (let i = 0; i < numB; i++) {
    ret += b.buckets[mod(b.lastWrite - i, total)]! * mult;
    mult *= 1 - m;
  }
  return ret;
}

export function windowAverage(b: TimedBuckets, nowMs: number, algo: AggregationAlgorithm): number {
  return algo === 'weighted-exponential' ? weightedAverage(b, nowMs) : linearAverage(b, nowMs);
}

// ---- max over a time window (scale-down-delay) -----------------------------------------------

export interface MaxTimeWindow {
  /** Number of 2-second slots covered: ceil(delay / 2 s). */
  size: number;
  /** Granularity in seconds (2). */
  granularity: number;
  /** Descending-by-value list of (slot index, value). */
  entries: Array<{ index: number; value: number }>;
}

export function newMaxTimeWindow(durationSeconds: number, granularitySeconds = 2): MaxTimeWindow {
  return { size: Math.ceil(durationSeconds / granularitySeconds), granularity: granularitySeconds, entries: [] };
}

export function recordMax(w: MaxTimeWindow, nowMs: number, value: number): void {
  const index = Math.floor(sec(nowMs) / w.granularity);
  const e = w.entries;
  // Drop trailing values no larger than the new one: they can never be the max again.
  while (e.length > 0 && e[e.length - 1]!.value <= value) e.pop();
  // Drop leading values that fell out of the window.
  while (e.length > 0 && index - e[0]!.index >= w.size) e.shift();
  const last = e[e.length - 1];
  if (last && last.index === index) {
    if (value > last.value) last.value = value;
    return;
  }
  e.push({ index, value });
}

/** Max of the values recorded in the window (0 when nothing is recorded). */
export function currentMax(w: MaxTimeWindow): number {
  return w.entries.length > 0 ? w.entries[0]!.value : 0;
}
