// Pieces every `kubectl describe` shares: multi-line labels/annotations and the Events table.
import { age, humanDuration } from './duration.ts';
import type { Event } from './types.ts';
import { tabwrite, DESCRIBE_TABLE } from './tabwriter.ts';

const MAX_ANNOTATION_LEN = 140;
const SKIP_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

/** "Labels:\tapp=x" then "\tk=v" per further label (sorted), "<none>" without. Tab-separated lines. */
export function describeLabels(title: string, labels: Record<string, string> | undefined): string[] {
  const keys = Object.keys(labels ?? {}).sort();
  if (!keys.length) return [`${title}:\t<none>`];
  return keys.map((k, i) => `${i === 0 ? `${title}:` : ''}\t${k}=${labels![k]}`);
}

export function describeAnnotations(title: string, ann: Record<string, string> | undefined): string[] {
  const keys = Object.keys(ann ?? {}).filter((k) => !SKIP_ANNOTATIONS.has(k)).sort();
  if (!keys.length) return [`${title}:\t<none>`];
  const out: string[] = [];
  keys.forEach((k, i) => {
    const lead = i === 0 ? `${title}:\t` : '\t';
    const v = ann![k].replace(/\n$/, '');
    if (v.length + k.length + 2 > MAX_ANNOTATION_LEN || v.includes('\n')) {
      out.push(`${lead}${k}:`);
      for (const s of v.split('\n')) out.push(`\t  ${s.length > MAX_ANNOTATION_LEN - 2 ? s.slice(0, MAX_ANNOTATION_LEN - 2) + '...' : s}`);
    } else out.push(`${lead}${k}: ${v}`);
  });
  return out;
}

function eventTime(e: Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** describe's Events section: "Events:  <none>" or the Type/Reason/Age/From/Message table, oldest first. */
export function describeEvents(events: Event[], now: number): string {
  if (!events.length) return 'Events:  <none>';
  const sorted = [...events].sort((a, b) => eventTime(a) - eventTime(b));
  const lines = ['Events:', '  Type\tReason\tAge\tFrom\tMessage', '  ----\t------\t----\t----\t-------'];
  for (const e of sorted) {
    const first = e.eventTime ? age(e.eventTime, now) : age(e.firstTimestamp, now);
    let interval: string;
    if (e.series) interval = `${age(e.series.lastObservedTime, now)} (x${e.series.count} over ${first})`;
    else if ((e.count ?? 1) > 1) interval = `${age(e.lastTimestamp, now)} (x${e.count} over ${first})`;
    else interval = first;
    const source = e.source?.component || e.reportingComponent || '';
    let message = (e.message ?? '').trim();
    if (e.involvedObject.fieldPath) message = `${e.involvedObject.fieldPath}: ${message}`;
    lines.push(`  ${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${source}\t${message}`);
  }
  return tabwrite(lines.join('\n'), DESCRIBE_TABLE);
}

export { humanDuration };
