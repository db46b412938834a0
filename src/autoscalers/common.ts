// What every autoscaler kind does the same way: sync-or-async plumbing over the port, actuation
// through /scale, the record sink (with the "only what says something new" filter of the fast
// tickers), the status every view shows, and snapshot checks.
import type { DecisionRecord, MetricProposal } from '../core/decision.ts';
import type { PodInfo } from '../deciders/hpa/types.ts';
import type { AutoscalerRef, ClusterPort, Maybe } from './port.ts';
import type { AutoscalerSnapshot, AutoscalerSpec, AutoscalerStatus } from './types.ts';

export function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** f(v) now when v is a value, later when it is a Promise. */
export function then<T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> {
  return isPromise(v) ? v.then(f) : f(v);
}

/** All values; a Promise only when one of them is. */
export function all<T>(vs: Maybe<T>[]): Maybe<T[]> {
  for (const v of vs) if (isPromise(v)) return Promise.all(vs);
  return vs as T[];
}

/** The value when it is there now; undefined for a pending answer (whose rejection is ignored). */
export function peek<T>(v: Maybe<T>): T | undefined {
  if (isPromise(v)) { v.catch(() => {}); return undefined; }
  return v;
}

/** Run `body` unless a run is in flight (the shell's loop and a poke may overlap when answers are async). */
export class SyncGuard {
  private busy = false;
  run<T>(body: () => Maybe<T>): Maybe<T | null> {
    if (this.busy) return null;
    this.busy = true;
    let out: Maybe<T>;
    try { out = body(); } catch (e) { this.busy = false; throw e; }
    if (isPromise(out)) return out.finally(() => { this.busy = false; });
    this.busy = false;
    return out;
  }
}

export function refOf(spec: AutoscalerSpec): AutoscalerRef {
  return {
    kind: spec.kind,
    name: spec.name,
    ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
    target: spec.target,
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    ...(spec.source ? { source: spec.source } : {}),
  };
}

/** Shared per-autoscaler bookkeeping: actuation, last decision, lastScaleTime, creation time. */
export class Core {
  readonly port: ClusterPort;
  readonly ref: AutoscalerRef;
  readonly dryRun: boolean;
  readonly created: number;
  last: DecisionRecord | undefined;
  lastScaleTime: number | undefined;

  constructor(spec: AutoscalerSpec, port: ClusterPort, dryRun: boolean) {
    this.port = port;
    this.ref = refOf(spec);
    this.dryRun = dryRun;
    this.created = spec.createdAt ?? port.now();
  }

  /** Write /scale when the record says so (not in shadow mode). */
  actuate(record: DecisionRecord, now: number): Maybe<void> {
    if (!record.rescale || this.dryRun) return;
    return this.scaleTo(record.desiredReplicas, now, record.explanation);
  }

  scaleTo(replicas: number, now: number, reason: string): Maybe<void> {
    this.lastScaleTime = now;
    let r: Maybe<void>;
    try { r = this.port.setScale(this.ref.target, replicas); } catch (e) { this.failedRescale(replicas, reason, e); return; }
    if (isPromise(r)) return r.catch((e) => this.failedRescale(replicas, reason, e));
  }

  private failedRescale(replicas: number, reason: string, e: unknown): void {
    this.port.event(this.ref, { type: 'Warning', reason: 'FailedRescale', message: `New size: ${replicas}; reason: ${reason}; error: ${(e as Error)?.message ?? String(e)}` });
  }

  /** Actuate, then record (the order every shell had): the record's state is the decider's. */
  finish<R extends DecisionRecord>(record: R, now: number, shouldRecord = true): Maybe<R> {
    this.last = record;
    const a = this.actuate(record, now);
    const rec = () => { if (shouldRecord) this.port.record?.(this.ref, record); return record; };
    return isPromise(a) ? a.then(rec) : rec();
  }

  /** Replica counts now (from the port when it answers at once, else from the last decision). */
  counts(): { current: number; spec: number } {
    const pods = peek(this.port.listPods(this.ref.target));
    const scale = peek(this.port.getScale(this.ref.target));
    const current = pods ? activePods(pods).length : (this.last?.currentReplicas ?? 0);
    return { current, spec: scale?.specReplicas ?? this.last?.desiredReplicas ?? current };
  }

  status(own: OwnStatus): AutoscalerStatus {
    const last = this.last;
    const { current, spec } = this.counts();
    const lastScaleTime = own.lastScaleTime ?? this.lastScaleTime;
    return {
      ...own,
      created: this.created,
      ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
      currentReplicas: current,
      desiredReplicas: last?.desiredReplicas ?? spec,
      metrics: last?.proposals ?? [],
      conditions: last?.conditions ?? [],
      ...(last ? { lastDecision: last } : {}),
      dryRun: this.dryRun,
    };
  }

  snapshot(kind: string, state: unknown, extra?: Record<string, unknown>): AutoscalerSnapshot {
    return {
      v: 1, kind, name: this.ref.name, at: this.port.now(), state: structuredClone(state),
      ...(this.lastScaleTime !== undefined ? { lastScaleTime: this.lastScaleTime } : {}),
      ...(extra ? { extra } : {}),
    };
  }

  /** Validate a snapshot for this autoscaler and take its lastScaleTime; returns a private copy of its state. */
  restore<S>(kind: string, s: AutoscalerSnapshot): S {
    if (!s || s.v !== 1) throw new Error(`${kind}/${this.ref.name}: unsupported snapshot version ${JSON.stringify((s as { v?: unknown } | null)?.v)}`);
    if (s.kind !== kind || s.name !== this.ref.name) throw new Error(`${kind}/${this.ref.name}: snapshot belongs to ${s.kind}/${s.name}`);
    if (s.lastScaleTime !== undefined) this.lastScaleTime = s.lastScaleTime;
    return structuredClone(s.state) as S;
  }
}

export type OwnStatus = Omit<AutoscalerStatus, 'currentReplicas' | 'desiredReplicas' | 'metrics' | 'conditions' | 'lastDecision' | 'dryRun' | 'created' | 'lastScaleTime'> & { lastScaleTime?: number };

export function activePods(pods: PodInfo[]): PodInfo[] {
  return pods.filter((p) => p.deletionTimestamp === undefined);
}

/**
 * The fast tickers (KPA, Tide: every 2 s) decide every tick but record only decisions that say something
 * new: a rescale, an event, a change of the key, or a heartbeat. Each record replays on its own.
 */
export class RecordFilter {
  private lastKey = '';
  private lastAt = -Infinity;
  readonly heartbeatMs: number;
  constructor(heartbeatMs: number) { this.heartbeatMs = heartbeatMs; }
  wants(record: DecisionRecord, now: number, key: () => string): boolean {
    const k = key();
    if (record.rescale || record.events.length > 0 || k !== this.lastKey || now - this.lastAt >= this.heartbeatMs) {
      this.lastKey = k;
      this.lastAt = now;
      return true;
    }
    return false;
  }
  toJSON(): Record<string, unknown> { return { lastKey: this.lastKey, lastAt: Number.isFinite(this.lastAt) ? this.lastAt : null }; }
  load(x: Record<string, unknown> | undefined): void {
    if (!x) return;
    if (typeof x.lastKey === 'string') this.lastKey = x.lastKey;
    if (typeof x.lastAt === 'number') this.lastAt = x.lastAt;
  }
}

/** kubectl's TARGETS column: "cur/target" per metric, at most two then "+ N more...". */
export function kubectlTargets(metrics: MetricProposal[], specs: { target: string }[]): string {
  const targets = metrics.length ? metrics.map((p) => `${p.current}/${p.target}`) : specs.map((s) => `<unknown>/${s.target}`);
  return targets.length > 2 ? `${targets.slice(0, 2).join(', ')} + ${targets.length - 2} more...` : targets.join(', ') || '<none>';
}

/** "Deployment/name" of a spec's target. */
export function referenceOf(spec: AutoscalerSpec): string {
  return `${spec.target.kind}/${spec.target.name}`;
}

export function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}
