// Recurring-spike memory for Tide's predictive policy: finds the sudden jumps ("onsets") in a
// history of 10 s demand buckets, learns online at which lag they recur (the autocorrelation of the
// onset sequence: for each lag, the share of onsets preceded by another onset one lag earlier), and
// recalls, one lag after a past onset, how much demand jumped then. Pure functions of the past.

/** A bucket history: `get(i)` for 0 <= i < n, oldest first. */
export interface History {
  n: number;
  get(i: number): number;
}

export interface SpikeOptions {
  /** An onset is a bucket at least this many times the mean of the buckets 20-40 s before it. */
  threshold: number;
  /** Ignore onsets from a base below this (busy slots): too little traffic to tell. */
  minBase: number;
}

export const DEFAULT_SPIKE_OPTIONS: SpikeOptions = { threshold: 2, minBase: 0.5 };

/** Mean of the buckets 20-40 s before bucket j (the level a jump at j starts from). */
function baseBefore(h: History, j: number): number {
  return (h.get(j - 4) + h.get(j - 3) + h.get(j - 2)) / 3;
}

/** Jump ratio at bucket j: the largest of the buckets j..j+3 (the spike's first 40 s) over the base before j; 0 when j is no onset. */
export function onsetRatio(h: History, j: number, o: SpikeOptions = DEFAULT_SPIKE_OPTIONS): number {
  if (j < 4 || j >= h.n) return 0;
  const b0 = baseBefore(h, j);
  if (b0 < o.minBase || h.get(j) < o.threshold * b0) return 0;
  let pk = 0;
  for (let q = j; q < Math.min(h.n, j + 4); q++) pk = Math.max(pk, h.get(q));
  return pk / b0;
}

/** Onsets in [from, n): bucket indices, at least 6 buckets (1 min) apart. */
export function findOnsets(h: History, from = 4, o: SpikeOptions = DEFAULT_SPIKE_OPTIONS): number[] {
  const out: number[] = [];
  for (let j = Math.max(4, from); j < h.n; j++) {
    if (out.length && j - out[out.length - 1] < 6) continue;
    if (onsetRatio(h, j, o) > 0) out.push(j);
  }
  return out;
}

export interface SpikePeriod {
  /** Lag in buckets (0 = none found). */
  lag: number;
  /** Share of the onsets (that have one lag of history before them) preceded by an onset one lag earlier (±tol). */
  score: number;
  /** Onsets that had such a predecessor. */
  support: number;
}

/**
 * The lag in [minLag, maxLag] at which onsets recur most (the peak of the onset sequence's
 * autocorrelation, with ±tol buckets of jitter; on a tie the shortest lag. A multiple of the period can
 * win when unrelated onsets make the period's score lower: it predicts fewer spikes, no false ones); `from` is where the onset search began (an onset
 * counts only when one lag before it lies inside the searched history). Needs `minSupport` recurring onsets and a share of
 * at least `minScore`; else lag 0.
 */
export function detectSpikePeriod(onsets: number[], from: number, minLag: number, maxLag: number, tol = 2, minSupport = 3, minScore = 0.25): SpikePeriod {
  const best: SpikePeriod = { lag: 0, score: 0, support: 0 };
  if (onsets.length < minSupport + 1) return best;
  // candidate lags: every pairwise distance ± tol (the score can only peak near one)
  const cand = new Set<number>();
  for (let a = 0; a < onsets.length; a++) {
    for (let b = a + 1; b < onsets.length; b++) {
      const d = onsets[b] - onsets[a];
      if (d > maxLag + tol) break;
      for (let l = Math.max(minLag, d - tol); l <= Math.min(maxLag, d + tol); l++) cand.add(l);
    }
  }
  for (const lag of [...cand].sort((x, y) => x - y)) {
    let eligible = 0, support = 0;
    for (let b = 0; b < onsets.length; b++) {
      const t = onsets[b] - lag;
      if (t < from + tol) continue;
      eligible++;
      for (let a = b - 1; a >= 0 && onsets[a] >= t - tol; a--) if (onsets[a] <= t + tol) { support++; break; }
    }
    if (support < minSupport || eligible === 0) continue;
    const score = support / eligible;
    if (score > best.score) { best.lag = lag; best.score = score; best.support = support; }
  }
  if (best.score < minScore) return { lag: 0, score: best.score, support: best.support };
  return best;
}

/**
 * Spike recall: the largest jump ratio among the onsets one lag ago that fall in the coming window
 * (buckets now+1-margin .. now+ahead+margin, shifted back by lag); 1 when none.
 */
export function recallSpike(h: History, lag: number, ahead: number, margin: number, o: SpikeOptions = DEFAULT_SPIKE_OPTIONS): number {
  if (lag <= 0) return 1;
  const c = h.n - 1 - lag;
  let r = 1;
  for (let j = c + 1 - margin; j <= c + ahead + margin; j++) r = Math.max(r, onsetRatio(h, j, o));
  return r;
}
