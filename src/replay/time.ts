// Human-friendly times in scenarios: ISO 8601 strings (absolute), numbers (seconds since the
// scenario's start), or durations like "90s", "-5m", "1h30m", "250ms" (also since the start).

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "1m30s", "-5m", "250ms", "2h" → milliseconds; undefined when not a duration. */
export function parseDurationMs(s: string): number | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/.exec(s.trim());
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2].matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(part[1]) * UNIT_MS[part[2]];
  return m[1] === '-' ? -total : total;
}

export class TimeError extends Error {}

/** Resolve a scenario time to epoch milliseconds. */
export function resolveTime(v: number | string, originMs: number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TimeError(`bad time ${v}`);
    return originMs + Math.round(v * 1000);
  }
  const d = parseDurationMs(v);
  if (d !== undefined) return originMs + Math.round(d);
  if (/^-?\d+(\.\d+)?$/.test(v.trim())) return originMs + Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new TimeError(`bad time "${v}" (use seconds since the start like 30, a duration like "90s" or "-5m", or an ISO time like "2026-01-01T00:00:00Z")`);
  return t;
}

/** A duration (number = seconds, or "90s") → milliseconds. */
export function resolveDuration(v: number | string): number {
  if (typeof v === 'number') return Math.round(v * 1000);
  const d = parseDurationMs(v);
  if (d === undefined) {
    if (/^-?\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
    throw new TimeError(`bad duration "${v}" (use seconds, or e.g. "90s", "5m")`);
  }
  return Math.round(d);
}
