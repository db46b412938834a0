// CrashLoopBackOff-like restart back-off, after the kubelet's: the first restart after a crash is
// immediate; each further restart waits `base` (10 s), doubling up to `max` (5 min), measured from the
// previous start; a container that stayed up for `resetAfter` (10 min, twice the cap) starts afresh.
// Pure: the caller passes times in epoch ms.

export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export interface BackoffState {
  /** Current back-off (ms); 0 before the first crash. */
  currentMs: number;
  /** When the container was last started. */
  lastStart: number;
}

export function initialBackoff(now: number): BackoffState {
  return { currentMs: 0, lastStart: now };
}

/**
 * A container started at `state.lastStart` exited at `exitedAt`. Returns when it may start again and
 * the state to keep once it does start (call `started` at that time).
 */
export function nextRestart(state: BackoffState, exitedAt: number, cfg: BackoffConfig = DEFAULT_BACKOFF): { at: number; backoffMs: number } {
  let current = state.currentMs;
  if (exitedAt - state.lastStart >= cfg.resetAfterMs) current = 0;
  if (current === 0) return { at: exitedAt, backoffMs: 0 };
  return { at: Math.max(exitedAt, state.lastStart + current), backoffMs: current };
}

/** The container is (re)started at `now` after having crashed with back-off `prev`. */
export function started(state: BackoffState, now: number, cfg: BackoffConfig = DEFAULT_BACKOFF): BackoffState {
  let current = state.currentMs;
  if (now - state.lastStart >= cfg.resetAfterMs) current = 0;
  const next = current === 0 ? cfg.baseMs : Math.min(current * 2, cfg.maxMs);
  return { currentMs: next, lastStart: now };
}
