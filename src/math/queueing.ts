// M/M/c queueing formulas (Erlang C). Shared by Tide's predictive policy (sizing to a latency SLO)
// and the simulator's validation tests, so neither depends on the other.

/** Erlang C: probability that an arrival waits in an M/M/c queue with offered load a = lambda/mu erlangs. */
export function erlangC(c: number, a: number): number {
  if (a >= c) return 1;
  // Erlang B by recurrence, then C from B (numerically stable)
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  const rho = a / c;
  return b / (1 - rho + rho * b);
}

/** Mean waiting time in M/M/c (same unit as meanService). */
export function mmcMeanWait(c: number, lambda: number, meanService: number): number {
  const a = lambda * meanService;
  if (a >= c) return Infinity;
  return (erlangC(c, a) * meanService) / (c - a);
}

/** P(wait > t) in M/M/c. */
export function mmcWaitTail(c: number, lambda: number, meanService: number, t: number): number {
  const a = lambda * meanService;
  if (a >= c) return 1;
  return erlangC(c, a) * Math.exp(-((c - a) / meanService) * t);
}
