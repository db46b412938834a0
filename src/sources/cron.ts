// Cron source (KEDA `cron` scaler): inside the window [start, end) — evaluated in the IANA `timezone`
// — the value is desiredReplicas, outside it 0; the trigger is active inside the window. The window
// test is KEDA's: take the next start and the next end after now; when the next end comes first we
// are inside a window (it started and has not ended yet), otherwise outside. The HPA target is 1
// (AverageValue), so the value is the replica count. Pure given `now`.

import { CronExpressionParser } from 'cron-parser';
import type { MetricSource, SourceSample } from './types.ts';
import { parseNumber, type Env } from './common.ts';

export interface CronOptions { timezone: string; start: string; end: string; desiredReplicas: number }

export function validateTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(tz)} (use an IANA name such as Europe/Paris)`);
  }
}

/** Next occurrence strictly after `now` (epoch ms). */
export function nextCron(expr: string, tz: string, now: number): number {
  return CronExpressionParser.parse(expr, { currentDate: new Date(now), tz }).next().getTime();
}

export function cronWindowActive(o: CronOptions, now: number): boolean {
  const nextStart = nextCron(o.start, o.timezone, now);
  const nextEnd = nextCron(o.end, o.timezone, now);
  // KEDA's literal test: with nextStart < nextEnd it checks now > nextStart && now < nextEnd, which
  // never holds (both are after now); otherwise now > nextStart || now < nextEnd, which always does.
  if (nextStart < nextEnd) return now > nextStart && now < nextEnd;
  return now > nextStart || now < nextEnd;
}

export class CronSource implements MetricSource {
  readonly kind = 'cron';
  readonly opts: CronOptions;
  constructor(opts: CronOptions) {
    validateTimeZone(opts.timezone);
    for (const [k, e] of [['start', opts.start], ['end', opts.end]] as const) {
      try { CronExpressionParser.parse(e, { tz: opts.timezone }); } catch (err) {
        throw new Error(`cron trigger: ${k} ${JSON.stringify(e)} is not a valid cron expression: ${(err as Error).message}`);
      }
    }
    if (opts.start === opts.end) throw new Error('cron trigger: start and end must differ');
    this.opts = opts;
  }
  describe(): string {
    return `cron ${this.opts.start} → ${this.opts.end} (${this.opts.timezone}) desiredReplicas ${this.opts.desiredReplicas}`;
  }
  async read(now: number): Promise<SourceSample[]> {
    return [{ value: cronWindowActive(this.opts, now) ? this.opts.desiredReplicas : 0, timestamp: now }];
  }
  async close(): Promise<void> {}
}

export function cronFromKeda(meta: Record<string, string>, _env: Env): CronSource {
  for (const k of ['timezone', 'start', 'end', 'desiredReplicas']) {
    if (!meta[k]) throw new Error(`cron trigger: metadata.${k} is required`);
  }
  return new CronSource({ timezone: meta.timezone, start: meta.start, end: meta.end, desiredReplicas: parseNumber(meta.desiredReplicas, 'desiredReplicas') });
}
