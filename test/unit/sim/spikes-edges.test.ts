// The spike-memory functions (src/policies/spikes.ts) at their exact edges: the threshold and base
// limits of an onset, which buckets make the base and the peak, onset spacing, the lag search's
// support / score limits, jitter tolerance, eligibility and tie-breaking, and the recall window.
// Pure functions on small hand-made histories: fast enough for their mutation runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPIKE_OPTIONS, detectSpikePeriod, findOnsets, onsetRatio, recallSpike, type History } from '../../../src/policies/spikes.ts';

const hist = (xs: number[]): History => ({ n: xs.length, get: (i) => xs[i] });
/** `n` buckets at `base`, with the given buckets set. */
function buckets(n: number, base: number, set: Record<number, number> = {}): number[] {
  const xs = new Array<number>(n).fill(base);
  for (const [i, v] of Object.entries(set)) xs[Number(i)] = v;
  return xs;
}

test('onset: at least threshold x the base (2 by default), from a base of at least minBase (0.5)', () => {
  assert.deepEqual(DEFAULT_SPIKE_OPTIONS, { threshold: 2, minBase: 0.5 });
  assert.equal(onsetRatio(hist(buckets(12, 2, { 6: 4 })), 6), 2, 'exactly 2x is an onset');
  assert.equal(onsetRatio(hist(buckets(12, 2, { 6: 3.99 })), 6), 0, 'just below is none');
  assert.equal(onsetRatio(hist(buckets(12, 0.5, { 6: 1 })), 6), 2, 'a base of exactly 0.5 counts');
  assert.equal(onsetRatio(hist(buckets(12, 0.49, { 6: 5 })), 6), 0, 'a base below 0.5 is too little traffic');
  assert.equal(onsetRatio(hist(buckets(12, 0, { 6: 5 })), 6), 0, 'from nothing');
  // options
  assert.equal(onsetRatio(hist(buckets(12, 2, { 6: 3 })), 6, { threshold: 1.5, minBase: 0.5 }), 1.5);
  assert.equal(onsetRatio(hist(buckets(12, 0.5, { 6: 0.75 })), 6, { threshold: 1.5, minBase: 0.5 }), 1.5, 'a peak below 1 slot is its own ratio');
});

test('onset: the base is the mean of the buckets 20-40 s before (j-4..j-2, not j-1); the peak the largest of j..j+3', () => {
  //          0  1  2  3   4   5  6  7   8   9
  const xs = [0, 1, 2, 3, 50, 8, 10, 1, 12, 99];
  assert.equal(onsetRatio(hist(xs), 5), 6, 'base (1+2+3)/3 = 2, peak max(8, 10, 1, 12) = 12');
  // the peak window is cut at the end of the history
  assert.equal(onsetRatio(hist(xs.slice(0, 8)), 5), 5, 'peak max(8, 10, 1)');
});

test('onset: only where there are four buckets before it and inside the history', () => {
  const xs = buckets(10, 2, { 4: 8, 3: 8 });
  assert.equal(onsetRatio(hist(xs), 4), 4, 'j = 4 is the first with a base: (2+2+2)/3, bucket 3 (j-1) is not part of it');
  const ys = buckets(10, 2, { 4: 8 });
  assert.equal(onsetRatio(hist(ys), 4), 4);
  assert.equal(onsetRatio(hist(ys), 3), 0, 'j = 3: no base');
  assert.equal(onsetRatio(hist(buckets(10, 2, { 3: 8 })), 3), 0);
  assert.equal(onsetRatio(hist(ys), 10), 0, 'j = n: outside');
  assert.equal(onsetRatio(hist(ys), 11), 0);
  assert.equal(onsetRatio(hist(ys), -1), 0);
});

test('findOnsets: from bucket 4 on (or `from`), at least 6 buckets apart', () => {
  const xs = buckets(30, 2, { 4: 8, 10: 8, 15: 8, 22: 8 });
  // 4, then 10 (6 later: counts), 15 (5 after 10: skipped), 22
  assert.deepEqual(findOnsets(hist(xs)), [4, 10, 22]);
  assert.deepEqual(findOnsets(hist(xs), 0), [4, 10, 22], 'from below 4 is 4');
  assert.deepEqual(findOnsets(hist(xs), 5), [10, 22], 'from 5');
  assert.deepEqual(findOnsets(hist(xs), 11), [15, 22], 'from 11: 15 is the first');
  assert.deepEqual(findOnsets(hist(buckets(8, 2, { 7: 8 }))), [7], 'the last bucket can be one');
});

// ---------------------------------------------------------------- lag search

/** A chain of `k` onsets `lag` apart from `start`, each shifted by `jit[i]`. */
const chain = (start: number, lag: number, k: number, jit: number[] = []): number[] => Array.from({ length: k }, (_, i) => start + i * lag + (jit[i] ?? 0));
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

test('lag search: four onsets (three that recur) are enough, three are not; ties go to the shortest lag', () => {
  const p = detectSpikePeriod(chain(1000, 100, 4), 0, 30, 2160);
  assert.deepEqual(p, { lag: 98, score: 0.75, support: 3 }, 'lags 98..102 all fit within ±2: the shortest wins; the first onset has no predecessor');
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 3), 0, 30, 2160), { lag: 0, score: 0, support: 0 });
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 4), 0, 30, 2160, 2, 4), { lag: 0, score: 0, support: 0 }, 'minSupport 4');
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 5), 0, 30, 2160, 2, 4), { lag: 98, score: 0.8, support: 4 });
  // no jitter tolerance: exactly the lag
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 4), 0, 30, 2160, 0), { lag: 100, score: 0.75, support: 3 });
  // the first onset is not eligible when the search began less than a lag before it
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 4), 950, 30, 2160), { lag: 98, score: 1, support: 3 });
});

test('lag search: jitter of exactly ±tol still recurs; more does not', () => {
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 4, [0, -2, 0, 2]), 0, 30, 2160, 2).support, 3);
  assert.deepEqual(detectSpikePeriod(chain(1000, 100, 4, [0, 2, 0, -2]), 0, 30, 2160, 2).support, 3);
  const far = detectSpikePeriod(chain(1000, 100, 4, [0, 3, 0, 3]), 0, 30, 2160, 1);
  assert.equal(far.lag, 0, JSON.stringify(far));
  // each onset counts one predecessor at most
  const twin = detectSpikePeriod(sorted([...chain(1000, 100, 4), 899, 901]), 0, 30, 2160, 2, 3, 0);
  assert.deepEqual(twin, { lag: 98, score: 4 / 6, support: 4 }, '1000 has two onsets one lag before it (899, 901): one support');
});

test('lag search: minLag and maxLag bound the lag, tolerance included', () => {
  // spacing minLag + 1: found at minLag (not below it)
  assert.equal(detectSpikePeriod(chain(1000, 31, 4), 0, 30, 2160).lag, 30);
  assert.equal(detectSpikePeriod(chain(1000, 29, 4), 0, 30, 2160).lag, 30, 'spacing 29 is within ±2 of 30');
  assert.equal(detectSpikePeriod(chain(1000, 27, 4), 0, 30, 2160).lag, 0, 'spacing 27: too short');
  // spacing maxLag + tol: found at maxLag
  assert.deepEqual(detectSpikePeriod(chain(100, 202, 4), 0, 30, 200), { lag: 200, score: 1, support: 3 });
  assert.equal(detectSpikePeriod(chain(100, 203, 4), 0, 30, 200).lag, 0, 'spacing maxLag + tol + 1: too long');
});

test('lag search: only onsets with one lag of searched history before them are eligible; the score needs 0.25', () => {
  // chain 1000..1300 (support 3) plus unrelated onsets: 12 eligible in all → 3 / 12 = 0.25 exactly
  const unrelated = [150, 263, 391, 527, 677, 829, 2000, 2500];
  const on = sorted([...chain(1000, 100, 4), ...unrelated]);
  assert.deepEqual(detectSpikePeriod(on, 0, 90, 110, 2), { lag: 98, score: 0.25, support: 3 });
  // a 13th eligible one: 3 / 13 is below 0.25 → none (the score is still reported)
  const more = sorted([...on, 3100]);
  assert.deepEqual(detectSpikePeriod(more, 0, 90, 110, 2), { lag: 0, score: 3 / 13, support: 3 });
  assert.equal(detectSpikePeriod(more, 0, 90, 110, 2, 3, 0.2).lag, 98, 'minScore 0.2');
  const eight = sorted([...chain(1000, 100, 4), 150, 263, 391, 527]);
  assert.equal(detectSpikePeriod(eight, 0, 90, 110, 2, 3, 0.4).lag, 0, 'score 3/8 is below 0.4');
  assert.equal(detectSpikePeriod(eight, 0, 90, 110, 2, 3, 0.375).lag, 98, '… and exactly 0.375');
  // eligibility at its edge: onset - lag >= from + tol. With lag 98 and from 0: 100 is eligible, 99 is not.
  const edge = sorted([...chain(1000, 100, 4), 100, 527, 677, 829, 2000, 2500, 2700, 2900]);
  assert.deepEqual(detectSpikePeriod(edge, 0, 98, 98, 2), { lag: 98, score: 0.25, support: 3 }, '100 is the 12th eligible');
  const edge2 = sorted([...chain(1000, 100, 4), 99, 527, 677, 829, 2000, 2500, 2700, 2900, 3100]);
  assert.deepEqual(detectSpikePeriod(edge2, 0, 98, 98, 2), { lag: 98, score: 0.25, support: 3 }, '99 is not eligible: still 12');
  const edge3 = sorted([...chain(1000, 100, 4), 96, 527, 677, 829, 2000, 2500, 2700, 2900, 3100]);
  assert.deepEqual(detectSpikePeriod(edge3, 0, 98, 98, 2), { lag: 98, score: 0.25, support: 3 }, '96 is not eligible either');
  // the first onset counts as eligible too when it is
  const first = sorted([...chain(1000, 100, 4), 527, 677, 829, 2000, 2500, 2700, 2900, 3100]);
  assert.equal(first[0], 527);
  assert.deepEqual(detectSpikePeriod(first, 0, 98, 98, 2), { lag: 98, score: 0.25, support: 3 });
});

test('lag search: ties go to the shortest lag even when a longer one was a candidate first', () => {
  // 896 → 1000 (104 apart) makes 102..106 candidates before the chain's 98..102; with the search
  // starting at 901 neither 896 nor 1000 is eligible, so 98..102 tie (1100, 1200, 1300 recur)
  const on = [896, ...chain(1000, 100, 4)];
  assert.deepEqual(detectSpikePeriod(on, 901, 30, 110), { lag: 98, score: 1, support: 3 });
});

// ---------------------------------------------------------------- recall

test('recall: the jump one lag ago whose time comes within the look-ahead (and margin); none without a lag', () => {
  // 2 busy slots; a one-bucket spike to 8 at bucket 50; n = 146 (now = 145)
  const xs = buckets(146, 2, { 50: 8 });
  const h = hist(xs);
  // lag 100: c = 45, the window is 46..45+ahead (+/- margin)
  assert.equal(recallSpike(h, 100, 5, 0), 4, '50 is within 46..50');
  assert.equal(recallSpike(h, 100, 4, 0), 1, 'not within 46..49');
  assert.equal(recallSpike(h, 100, 4, 1), 4, 'with a margin of 1: 45..50');
  assert.equal(recallSpike(h, 96, 1, 0), 4, 'lag 96: c = 49, the window is just 50');
  assert.equal(recallSpike(h, 95, 5, 0), 1, 'lag 95: c = 50, the spike is in the past of the window');
  assert.equal(recallSpike(h, 95, 5, 1), 4, '… unless the margin reaches back to it');
  // no lag: 1, even with a spike right now
  const now = hist(buckets(20, 2, { 19: 8 }));
  assert.equal(recallSpike(now, 0, 5, 2), 1);
  assert.equal(recallSpike(now, -5, 5, 2), 1);
  assert.equal(recallSpike(now, 1, 1, 0), 4, 'lag 1: the window is the newest bucket');
  // the largest jump in the window, and 1 when below it
  const two = hist(buckets(200, 2, { 50: 8, 53: 12 }));
  assert.equal(recallSpike(two, 150, 10, 0), 6);
  assert.equal(recallSpike(hist(buckets(200, 2)), 150, 10, 2), 1);
});
