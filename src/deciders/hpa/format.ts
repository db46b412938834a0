// Formatting as kubectl shows HPA values: quantities in canonical DecimalSI form (as
// resource.NewMilliQuantity(v, DecimalSI).String() prints them), label selectors as Go's %+v
// of *metav1.LabelSelector, and the TARGETS column of `kubectl get hpa`.

import type { LabelSelector } from './types.ts';
import type { HpaDecisionRecord } from './types.ts';

const SUFFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** A milli-unit integer in Kubernetes' canonical DecimalSI notation: 1500 → "1500m", 2000 → "2", 3e6 → "3k". */
export function formatMilli(milli: number): string {
  if (!Number.isFinite(milli)) return String(milli);
  const m = Math.trunc(milli);
  if (m === 0) return '0';
  if (m % 1000 !== 0) return `${m}m`;
  let base = m / 1000;
  let i = 0;
  while (i < SUFFIXES.length - 1 && base % 1000 === 0) {
    base /= 1000;
    i++;
  }
  return `${base}${SUFFIXES[i]}`;
}

/** Go's `%+v` of a *metav1.LabelSelector (its generated String()); "nil" when absent. */
export function formatSelector(sel: LabelSelector | undefined): string {
  if (!sel) return 'nil';
  const keys = Object.keys(sel.matchLabels ?? {}).sort();
  const labels = keys.map((k) => `${k}: ${sel.matchLabels![k]},`).join('');
  const exprs = (sel.matchExpressions ?? [])
    .map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`)
    .join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

/**
 * kubectl's TARGETS column ("23%/50%, 120m/500m"): one "current/target" per metric, at most two
 * then " + N more..." (as kubectl prints without -o wide), "<none>" without metrics.
 */
export function formatHpaTargets(record: Pick<HpaDecisionRecord, 'proposals'>, wide = false): string {
  const list = record.proposals.map((p) => `${p.current}/${p.target}`);
  if (list.length === 0) return '<none>';
  if (list.length > 2 && !wide) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * Same string as `new Date(ms).toISOString()` (UTC, millisecond precision) for years 1970..9999,
 * several times faster (days → civil date by integer arithmetic); other inputs use Date.
 */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253402300800000) return new Date(ms).toISOString();
  const days = Math.floor(ms / 86400000);
  let rem = ms - days * 86400000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3600000);
  rem -= h * 3600000;
  const mi = Math.floor(rem / 60000);
  rem -= mi * 60000;
  const s = Math.floor(rem / 1000);
  const msr = rem - s * 1000;
  const msStr = msr < 10 ? `00${msr}` : msr < 100 ? `0${msr}` : `${msr}`;
  return `${y}-${pad2(m)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(s)}.${msStr}Z`;
}
