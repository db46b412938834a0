// What Tide says about an HPA on a cluster, read back from what `tide controller` publishes there:
// its Events on the HPA (reportingController / source "tide-controller") — the recommendation and
// agreement with upstream in shadow mode, rescales in active mode — and the HPA's own
// `tide.dev/mode` annotation. Pure: events and HPA in, summary out.
import type { Event, HorizontalPodAutoscaler } from '../../views/kubectl/index.ts';

export const TIDE_COMPONENT = /^tide(-controller)?$/;
/** Reasons only an acting controller emits (upstream's, which Tide emits in active mode). */
const ACTIVE_REASONS = new Set(['SuccessfulRescale', 'FailedRescale', 'FailedGetScale', 'FailedUpdateStatus', 'ConflictingController']);

export function isTideEvent(e: Event): boolean {
  return TIDE_COMPONENT.test(e.source?.component || e.reportingComponent || (e as { reportingController?: string }).reportingController || '');
}

function eventMs(e: Event): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

export interface TideSummary {
  /** "shadow" | "active" (from the annotation, else from what the events say), or undefined. */
  mode?: string;
  /** Tide's last recommended replica count, when an event says it. */
  recommended?: number;
  /** What upstream wrote (status.desiredReplicas) — for the agreement in shadow mode. */
  upstream?: number;
  agrees?: boolean;
  /** The newest Tide event (reason + message) on this HPA. */
  last?: { reason: string; message: string; type: string; time: number };
}

/**
 * Summarize Tide's view of one HPA. Events are the HPA's (any order). A message saying
 * "recommends N replicas" (or "N desired") gives the recommendation; in shadow mode it is compared
 * with upstream's status.desiredReplicas.
 */
export function tideSummary(hpa: HorizontalPodAutoscaler, events: Event[]): TideSummary {
  const mine = events.filter(isTideEvent).sort((a, b) => eventMs(a) - eventMs(b));
  const ann = hpa.metadata.annotations ?? {};
  const s: TideSummary = {};
  const annotated = ann['tide.dev/mode'];
  if (annotated) s.mode = annotated;
  const last = mine.at(-1);
  if (last) s.last = { reason: last.reason ?? '', message: (last.message ?? '').trim(), type: last.type ?? 'Normal', time: eventMs(last) };
  for (let i = mine.length - 1; i >= 0; i--) {
    // "Tide (shadow) recommends 4 replicas; upstream desired 3: ..." / upstream's "New size: 4; reason: ..."
    const m = /recommends (\d+) replicas|^New size: (\d+)/.exec(mine[i].message ?? '');
    if (!m) continue;
    s.recommended = Number(m[1] ?? m[2]);
    if (!s.mode && m[1] !== undefined) s.mode = 'shadow';
    break;
  }
  if (!s.mode && mine.some((e) => ACTIVE_REASONS.has(e.reason ?? ''))) s.mode = 'active';
  if (!s.mode && mine.some((e) => e.reason === 'TideRecommendation')) s.mode = 'shadow';
  // upstream only has a say in shadow mode, once it has written a status (conditions present)
  if (s.mode === 'shadow' && s.recommended !== undefined && hpa.status?.conditions?.length) {
    s.upstream = hpa.status.desiredReplicas;
    s.agrees = s.upstream === s.recommended;
  }
  return s;
}

/** The TIDE column of `tide get hpa`: "4 (agrees)", "5 (upstream 4)", "active", "<none>". */
export function tideCell(s: TideSummary): string {
  if (s.recommended === undefined) return s.mode ?? '<none>';
  if (s.agrees === true) return `${s.recommended} (agrees)`;
  if (s.agrees === false) return `${s.recommended} (upstream ${s.upstream})`;
  return `${s.recommended}${s.mode ? ` (${s.mode})` : ''}`;
}

/** describe's trailing "Tide:" section (after Events): mode, recommendation, agreement, explanation. */
export function tideSection(s: TideSummary, now: number, age: (ms: number) => string): string {
  const lines = ['Tide:'];
  if (!s.last && !s.mode) return 'Tide:  <no decision yet: is `tide controller` running and watching this namespace?>';
  lines.push(`  Mode:\t${s.mode ?? '<unknown>'}`);
  if (s.recommended !== undefined) lines.push(`  Recommendation:\t${s.recommended} replicas`);
  if (s.agrees !== undefined) lines.push(`  Upstream:\t${s.upstream} desired (${s.agrees ? 'agrees' : 'DIFFERS'})`);
  if (s.last) {
    lines.push(`  Last decision:\t${s.last.reason} (${age(now - s.last.time)} ago)`);
    lines.push(`  Explanation:\t${s.last.message}`);
  }
  return lines.join('\n');
}
