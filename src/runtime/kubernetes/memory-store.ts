// An HPA's memory on the cluster: the recommendation history and scale events that
// kube-controller-manager keeps only in its process (so a restart or a failover forgets the
// scale-down a stabilization window was holding and the rate limits of behavior policies). Tide keeps
// them in one annotation on the HPA itself, `tide.dev/memory`, written by the leader only when the
// memory changes in a way that matters to a later decision, read by a new leader before its first
// decision on that HPA.
//
// Why an annotation on the HPA: it lives and dies with the object (no garbage, no extra object to
// list or watch: every standby already has it in its HPA informer, so a takeover reads nothing), and
// it is one small merge patch. A copied manifest carrying it is ignored (the uid must match).
//
// Compaction is lossless for every decision the HPA decider can take with it:
//  - recommendations: the decider takes, per stabilization window, the max (scale-down) and the min
//    (scale-up) of the entries newer than now − window. An entry that has a newer entry ≥ it AND a
//    newer entry ≤ it can never be either, for any window: it is dropped. What remains is the
//    suffix-maxima and suffix-minima, at most 2 × (maxReplicas − minReplicas + 1) entries.
//  - scale events: "outdated" ones (older than the longest policy period when the last event was
//    stored) are never counted again: dropped.
// The newest recommendation's timestamp moves at every sync while its value stays the same; that
// alone is not a change worth a write. So the write key leaves it out, and a new leader restores it
// as the moment the previous leader could last have acted (its last Lease renewal seen + the renew
// deadline, at most now): a value that was still being recommended is held at least as long as the
// old leader would have held it, by at most the renew deadline more.
// ScaledObjects keep the memory of their HPA part (the 1↔N semantics Tide applies itself) in the
// same annotation on the ScaledObject; KEDA's own state (lastActiveTime, health) is in its status.
// Bounds: 64 recommendations and 64 events per direction (older ones merged conservatively: a merged
// recommendation takes the larger value and the newer time, merged events add up at the newer time,
// so a truncated memory can only hold replicas longer); the annotation is at most MEMORY_MAX_BYTES.
import type { HpaState, ScaleEvent, TimestampedRecommendation } from '../../deciders/hpa/types.ts';
import type { Apis } from './client.ts';
import { apiCode, MERGE_PATCH } from './client.ts';

export const MEMORY_ANNOTATION = 'tide.dev/memory';
export const MEMORY_MAX_RECOMMENDATIONS = 64;
export const MEMORY_MAX_EVENTS = 64;
/** Upper bound of the annotation value (64 + 2 × 64 entries of at most ~24 characters, plus the header). */
export const MEMORY_MAX_BYTES = 8192;

/** The annotation's JSON: times are ms relative to `t` (the write time), to keep it short. */
export interface PersistedMemory {
  v: 1;
  /** metadata.uid of the HPA it belongs to. */
  uid: string;
  /** Epoch ms of the write. */
  t: number;
  /** Recommendations [dt, replicas], oldest first. */
  r: [number, number][];
  /** Scale-up and scale-down events [dt, replicaChange], oldest first. */
  u: [number, number][];
  d: [number, number][];
  /** lastScaleTime, dt. */
  l?: number;
  /**
   * Indices into r, u, d of the entries stamped before (or without) a metrics fetch (`beforeFetch`:
   * an exact-millisecond tie with a cutoff counts them as older, as upstream's clock does). Separate,
   * optional lists rather than a third element per pair, so a reader of the older format still takes
   * the rest of the memory.
   */
  rb?: number[];
  ub?: number[];
  db?: number[];
}

/** Drop recommendations that can never be a window's max or min again; oldest first. */
export function compactRecommendations(recs: readonly TimestampedRecommendation[]): TimestampedRecommendation[] {
  const sorted = recs.map((r, i) => ({ r, i })).sort((a, b) => a.r.timestamp - b.r.timestamp || a.i - b.i).map((x) => x.r);
  const keep: TimestampedRecommendation[] = [];
  let maxAfter = -Infinity;
  let minAfter = Infinity;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const r = sorted[i]!;
    const dominated = maxAfter >= r.recommendation && minAfter <= r.recommendation;
    if (!dominated) keep.push(r);
    if (r.recommendation > maxAfter) maxAfter = r.recommendation;
    if (r.recommendation < minAfter) minAfter = r.recommendation;
  }
  keep.reverse();
  while (keep.length > MEMORY_MAX_RECOMMENDATIONS) {
    // merge the two oldest: the larger value at the newer time (holds replicas at least as long)
    const [a, b] = keep.splice(0, 2) as [TimestampedRecommendation, TimestampedRecommendation];
    keep.unshift(withMark<TimestampedRecommendation>({ timestamp: b.timestamp, recommendation: Math.max(a.recommendation, b.recommendation) }, b));
  }
  return keep;
}

/** `to` with `from`'s before-fetch mark (a merged entry takes the newer entry's time, so its mark too). */
function withMark<T extends { beforeFetch?: boolean }>(to: T, from: { beforeFetch?: boolean }): T {
  if (from.beforeFetch === true) to.beforeFetch = true;
  return to;
}

export function compactEvents(events: readonly ScaleEvent[]): ScaleEvent[] {
  const live = events.filter((e) => e.outdated !== true).map((e) => withMark<ScaleEvent>({ timestamp: e.timestamp, replicaChange: e.replicaChange }, e)).sort((a, b) => a.timestamp - b.timestamp);
  while (live.length > MEMORY_MAX_EVENTS) {
    const [a, b] = live.splice(0, 2) as [ScaleEvent, ScaleEvent];
    live.unshift(withMark<ScaleEvent>({ timestamp: b.timestamp, replicaChange: a.replicaChange + b.replicaChange }, b));
  }
  return live;
}

/** Indices of the marked entries; undefined when none (the field is then left out). */
function marks(list: readonly { beforeFetch?: boolean }[]): number[] | undefined {
  const ix = list.flatMap((e, i) => (e.beforeFetch === true ? [i] : []));
  return ix.length ? ix : undefined;
}

/** The memory to persist for an HPA decider state, taken at `now`. */
export function persistMemory(uid: string, state: HpaState, now: number): PersistedMemory {
  const t = Math.round(now);
  const rel = (x: number) => Math.round(x) - t;
  const recs = compactRecommendations(state.recommendations ?? []);
  const ups = compactEvents(state.scaleUpEvents ?? []);
  const downs = compactEvents(state.scaleDownEvents ?? []);
  const m: PersistedMemory = {
    v: 1,
    uid,
    t,
    r: recs.map((r) => [rel(r.timestamp), r.recommendation]),
    u: ups.map((e) => [rel(e.timestamp), e.replicaChange]),
    d: downs.map((e) => [rel(e.timestamp), e.replicaChange]),
  };
  if (state.lastScaleTime !== undefined) m.l = rel(state.lastScaleTime);
  const rb = marks(recs), ub = marks(ups), db = marks(downs);
  if (rb) m.rb = rb;
  if (ub) m.ub = ub;
  if (db) m.db = db;
  return m;
}

/**
 * What decides whether a write is needed: everything but the newest recommendation's time (absolute
 * times, so two writes at different moments compare equal when nothing else moved).
 */
export function memoryKey(m: PersistedMemory): string {
  const abs = (p: [number, number]) => [p[0] + m.t, p[1]];
  const r = m.r.map(abs);
  if (r.length) r[r.length - 1] = [0, r[r.length - 1]![1]!];
  const key: unknown[] = [m.uid, r, m.u.map(abs), m.d.map(abs), m.l === undefined ? null : m.l + m.t];
  // marks only when there are any, so a memory without them keeps the key it had before they existed
  if (m.rb || m.ub || m.db) key.push([m.rb ?? [], m.ub ?? [], m.db ?? []]);
  return JSON.stringify(key);
}

export function encodeMemory(m: PersistedMemory): string {
  return JSON.stringify(m);
}

const isPair = (p: unknown): p is [number, number] => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Parse an annotation value; a reason string when it cannot be used (malformed, too big, another object's). */
export function decodeMemory(text: string | undefined, uid: string): PersistedMemory | string {
  if (text === undefined || text === '') return 'no memory';
  if (text.length > MEMORY_MAX_BYTES) return `memory annotation too large (${text.length} bytes > ${MEMORY_MAX_BYTES})`;
  let o: unknown;
  try { o = JSON.parse(text); } catch { return 'memory annotation is not JSON'; }
  const m = o as Partial<PersistedMemory>;
  if (!m || typeof m !== 'object' || m.v !== 1) return 'memory annotation has an unknown format';
  if (m.uid !== uid) return `memory annotation belongs to another object (uid ${String(m.uid)})`;
  if (typeof m.t !== 'number' || !Number.isFinite(m.t)) return 'memory annotation has no time';
  for (const k of ['r', 'u', 'd'] as const) {
    const list = m[k];
    if (!Array.isArray(list) || !list.every(isPair)) return `memory annotation: ${k} is not a list of [time, value] pairs`;
    if (list.length > (k === 'r' ? MEMORY_MAX_RECOMMENDATIONS : MEMORY_MAX_EVENTS)) return `memory annotation: ${k} has too many entries`;
  }
  if (m.l !== undefined && (typeof m.l !== 'number' || !Number.isFinite(m.l))) return 'memory annotation: l is not a number';
  for (const [k, of] of [['rb', 'r'], ['ub', 'u'], ['db', 'd']] as const) {
    const ix = m[k];
    if (ix === undefined) continue;
    const n = m[of]!.length;
    if (!Array.isArray(ix) || !ix.every((i) => Number.isInteger(i) && i >= 0 && i < n)) return `memory annotation: ${k} is not a list of indices into ${of}`;
  }
  return m as PersistedMemory;
}

/**
 * The decider state a new leader resumes from. `previousActiveUntil`: the newest moment the previous
 * writer could still have synced (see the header); the newest recommendation is taken as seen then
 * (never later than `now`, never earlier than written).
 */
export function restoreMemory(m: PersistedMemory, now: number, previousActiveUntil?: number): HpaState {
  const abs = (dt: number) => m.t + dt;
  const marked = (ix: number[] | undefined) => new Set(ix ?? []);
  const rb = marked(m.rb), ub = marked(m.ub), db = marked(m.db);
  const recommendations: TimestampedRecommendation[] = m.r.map(([dt, v], i) => (rb.has(i) ? { timestamp: abs(dt), recommendation: v, beforeFetch: true } : { timestamp: abs(dt), recommendation: v }));
  const last = recommendations[recommendations.length - 1];
  if (last) {
    const seen = Math.max(last.timestamp, Math.min(now, previousActiveUntil ?? now));
    // taken as seen at a later sync, which fetched: the mark belonged to the written moment only
    if (seen > last.timestamp) delete last.beforeFetch;
    last.timestamp = seen;
  }
  const event = (marks: Set<number>) => ([dt, c]: [number, number], i: number): ScaleEvent => (marks.has(i) ? { timestamp: abs(dt), replicaChange: c, outdated: false, beforeFetch: true } : { timestamp: abs(dt), replicaChange: c, outdated: false });
  const state: HpaState = {
    recommendations,
    scaleUpEvents: m.u.map(event(ub)),
    scaleDownEvents: m.d.map(event(db)),
  };
  if (m.l !== undefined) state.lastScaleTime = abs(m.l);
  return state;
}

// ---- on the cluster ----

/** The memory a fresh autoscaler of this HPA resumes from, or why there is none. */
export function memoryOf(hpa: { metadata?: { uid?: string; annotations?: Record<string, string> } }, now: number, previousActiveUntil?: number): { state: HpaState; key: string; memory: PersistedMemory } | { why: string } {
  const m = decodeMemory(hpa.metadata?.annotations?.[MEMORY_ANNOTATION], hpa.metadata?.uid ?? '');
  if (typeof m === 'string') return { why: m };
  return { state: restoreMemory(m, now, previousActiveUntil), key: memoryKey(m), memory: m };
}

/** What carries a memory annotation: an HPA, or a ScaledObject (its HPA part's memory). */
export type MemoryOwner = 'hpa' | 'scaledobject';

/** One merge patch of the annotation (field manager: Tide's). 'gone' when the object was deleted meanwhile. */
export async function writeMemory(apis: Apis, namespace: string, name: string, text: string, fieldManager: string, owner: MemoryOwner = 'hpa'): Promise<'written' | 'gone'> {
  const verb = owner === 'hpa' ? 'patch hpa memory' : 'patch scaledobject memory';
  apis.requests.set(verb, (apis.requests.get(verb) ?? 0) + 1);
  const body = { metadata: { annotations: { [MEMORY_ANNOTATION]: text } } };
  try {
    if (owner === 'hpa') await apis.autoscaling.patchNamespacedHorizontalPodAutoscaler({ name, namespace, body, fieldManager }, MERGE_PATCH);
    else await apis.custom.patchNamespacedCustomObject({ group: 'keda.sh', version: 'v1alpha1', namespace, plural: 'scaledobjects', name, body, fieldManager }, MERGE_PATCH);
    return 'written';
  } catch (e) {
    if (apiCode(e) === 404) return 'gone';
    throw e;
  }
}

/**
 * Persist an object's memory if it changed in a way a later decision depends on (`lastKey`: the
 * memoryKey the annotation holds): one annotation patch, the new key when written.
 */
export async function saveMemoryIfChanged(apis: Apis, owner: MemoryOwner, obj: { namespace: string; name: string; uid: string }, state: HpaState, now: number, fieldManager: string, lastKey: string | undefined): Promise<{ key: string } | 'unchanged' | 'gone'> {
  const m = persistMemory(obj.uid, state, now);
  const key = memoryKey(m);
  if (key === lastKey) return 'unchanged';
  const r = await writeMemory(apis, obj.namespace, obj.name, encodeMemory(m), fieldManager, owner);
  return r === 'written' ? { key } : r;
}
