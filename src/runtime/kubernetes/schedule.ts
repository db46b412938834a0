// Sync rounds of `tide controller`, scheduled like kube-controller-manager's HPA controller resyncs:
// a round starts every sync period (start to start, not a pause after the work), the HPAs of a round
// are reconciled by a bounded number of workers (--concurrent-horizontal-pod-autoscaler-syncs, 5 by
// default), and rounds never overlap, so one HPA is never reconciled twice at the same time. A round
// that takes longer than the period delays the next one (it starts when the late one ends; missed
// ticks are not queued up).

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** When the round after one that started at `prevStart` starts, seen at `now` (after it ended). */
export function nextRoundStart(prevStart: number, periodMs: number, now: number): number {
  return Math.max(prevStart + periodMs, now);
}

/**
 * Run `fn` over `items` with at most `limit` calls in flight, started in the items' order. Rejections
 * are the caller's business (`fn` should catch); a rejection is rethrown after all calls settled.
 * `stop` is checked before each start.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stop?: () => boolean): Promise<void> {
  const n = Math.max(1, Math.floor(limit));
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !stop?.()) {
      const item = items[next++]!;
      try { await fn(item); } catch (e) { failure ??= { e }; }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failure) throw failure.e;
}

export interface RoundSchedulerOptions {
  periodMs: number;
  run: () => Promise<void>;
  clock?: Clock;
  /** Called when a round took longer than the period (its start, its end). */
  onOverrun?: (startedAt: number, endedAt: number) => void;
  onError?: (e: unknown) => void;
}

export class RoundScheduler {
  private readonly o: RoundSchedulerOptions;
  private readonly clock: Clock;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Start times of the rounds run so far (last 100). */
  readonly starts: number[] = [];

  constructor(o: RoundSchedulerOptions) {
    this.o = o;
    this.clock = o.clock ?? systemClock;
  }

  /** Run the first round now, then one every period. */
  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const startedAt = this.clock.now();
    this.starts.push(startedAt);
    if (this.starts.length > 100) this.starts.shift();
    this.running = this.o.run().catch((e) => { this.o.onError?.(e); });
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    const endedAt = this.clock.now();
    if (endedAt - startedAt > this.o.periodMs) this.o.onOverrun?.(startedAt, endedAt);
    const at = nextRoundStart(startedAt, this.o.periodMs, endedAt);
    this.timer = this.clock.setTimeout(() => void this.tick(), at - endedAt);
  }

  /** No more rounds; resolves when the running one (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
