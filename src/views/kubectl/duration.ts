// kubectl's AGE column and describe's ages: k8s.io/apimachinery duration.HumanDuration.

/** "45s", "2m30s", "12m", "3h20m", "5d", "2y100d". */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) { const y = Math.floor(h / 24 / 365); const d = Math.floor(h / 24) % 365; return d === 0 ? `${y}y` : `${y}y${d}d`; }
  return `${Math.floor(h / 24 / 365)}y`;
}

/** translateTimestampSince: "<unknown>" for a missing timestamp, else the age at `now`. */
export function age(timestamp: string | undefined | null, now: number): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isFinite(t) ? humanDuration(now - t) : '<unknown>';
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
export function rfc1123z(timestamp: string | number): string {
  const d = new Date(typeof timestamp === 'number' ? timestamp : Date.parse(timestamp));
  return d.toUTCString().replace('GMT', '+0000');
}

/** RFC 3339 at second precision, as metav1.Time marshals ("2026-12-01T21:08:26Z"). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
