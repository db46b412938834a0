// The Knative Pod Autoscaler, as Knative's autoscaler runs one revision: per-second request stats
// (concurrency / RPS from queue-proxy and the activator) into the pure decider (src/deciders/kpa)
// every 2 s tick, and at once on a cold request (the activator's poke) while the revision is at
// zero; its decision is written to /scale, scale to zero included. Decisions are recorded when they
// say something new (a rescale, an event, a change of outcome or mode, or a 30 s heartbeat).
import type { DecisionRecord } from '../core/decision.ts';
import { decideKpa } from '../deciders/kpa/decide.ts';
import { kpaConfigFromMap, TICK_INTERVAL_MS } from '../deciders/kpa/config.ts';
import { makeKpaPolicy } from '../deciders/kpa/policy.ts';
import type { KpaItemPolicy } from '../manifests/knative.ts';
import type { KpaDecisionRecord, KpaPolicy, KpaState } from '../deciders/kpa/types.ts';
import type { ClusterPort, Maybe, Scale } from './port.ts';
import type { Autoscaler, AutoscalerOptions, AutoscalerSnapshot, AutoscalerSpec, MetricPoint } from './types.ts';
import { all, Core, fmtNum, RecordFilter, then } from './common.ts';

/** Unchanged decisions are still recorded this often. */
export const RECORD_HEARTBEAT_MS = 30_000;

export type { KpaItemPolicy };

function isItemPolicy(p: unknown): p is KpaItemPolicy {
  return typeof p === 'object' && p !== null && 'kpa' in p && 'revision' in p;
}

/** A spec's policy: a resolved KpaPolicy (simulator baselines) or a Knative/KServe object's KpaItemPolicy. */
/** The KpaPolicy of a spec, with config-autoscaler keys from the shell (`stable-window`, ...) applied. */
export function resolveKpaPolicy(p: KpaPolicy | KpaItemPolicy, config: Record<string, unknown> = {}): KpaPolicy {
  if (!isItemPolicy(p)) return p;
  const cfgKeys = Object.entries(config).filter(([k]) => k !== 'tickIntervalMs' && k !== 'samplePeriodMs');
  if (!cfgKeys.length) return p.kpa;
  const map: Record<string, string> = {};
  for (const [k, v] of cfgKeys) map[k] = String(v);
  return makeKpaPolicy(p.revision, kpaConfigFromMap(map));
}

export function createKpaAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions): Autoscaler {
  const config = opts.config ?? {};
  const policy = resolveKpaPolicy(spec.policy as KpaPolicy | KpaItemPolicy, config);
  const tick = Number(config.tickIntervalMs ?? TICK_INTERVAL_MS);
  const core = new Core(spec, port, !!opts.dryRun);
  const stats = port.openConcurrencyStats?.(core.ref, config.samplePeriodMs !== undefined ? { samplePeriodMs: Number(config.samplePeriodMs) } : {});
  const filter = new RecordFilter(RECORD_HEARTBEAT_MS);
  let state: KpaState | null = null;
  let metric: MetricPoint | undefined;
  let closed = false;

  const key = (r: KpaDecisionRecord) => () => JSON.stringify([r.desiredReplicas, r.details.deciderDesired, r.details.panicking, r.details.activatorInPath, r.conditions[0]?.status, r.limitedBy, r.details.valid]);

  function decide(now: number, poke: boolean): Maybe<KpaDecisionRecord> {
    return then(all<unknown>([port.readyPods(core.ref.target), port.getScale(core.ref.target)]), ([ready, scale]) => {
      const readyPods = ready as number;
      const samples = stats ? stats.take(now, poke ? 'poke' : 'tick') : [];
      const { record, state: next } = decideKpa(policy, {
        now,
        readyPods,
        currentReplicas: (scale as Scale).specReplicas,
        samples,
        ...(poke ? { poke: true } : {}),
      }, state);
      state = next;
      const d = record.details;
      if (d.stableAverage !== null) metric = { value: d.stableAverage, target: d.targetValue * Math.max(1, readyPods), label: 'stable concurrency vs target x ready pods' };
      return core.finish(record, now, port.record !== undefined && filter.wants(record as DecisionRecord, now, key(record)));
    });
  }

  return {
    kind: 'kpa',
    name: spec.name,
    ref: core.ref,
    target: spec.target.name,
    syncPeriodMs: tick,
    firstSyncDelayMs: tick,
    pokeDelivery: 'message',
    sync(now) {
      if (closed) return null;
      return decide(now, false);
    },
    poke(now) {
      if (closed) return;
      // Knative's Poke: decide at once only when the revision is (being) scaled to zero
      if (state === null || state.deciderDesired <= 0 || specReplicasNow(port, core) === 0) void decide(now, true);
    },
    status() {
      const d = (core.last as KpaDecisionRecord | undefined)?.details;
      const cur = d && d.stableAverage !== null ? `${fmtNum(d.panicking ? d.panicAverage! : d.stableAverage)}${d.panicking ? ' (panic)' : ''}` : '<unknown>';
      return core.status({
        kind: 'kpa',
        name: spec.name,
        reference: policy.target,
        targets: `${cur}/${fmtNum(policy.targetValue)} ${policy.metric}`,
        minReplicas: policy.minScale,
        maxReplicas: policy.maxScale,
        metricSpecs: [{ name: `${policy.metric} (revision total; stable ${policy.stableWindowSeconds}s, panic ${policy.panicWindowSeconds}s)`, target: `${fmtNum(policy.targetValue)} per pod` }],
      });
    },
    metric: () => metric,
    snapshot() { return core.snapshot('kpa', state, { filter: filter.toJSON() }); },
    restore(s: AutoscalerSnapshot) {
      state = core.restore<KpaState | null>('kpa', s);
      filter.load(s.extra?.filter as Record<string, unknown> | undefined);
    },
    close() {
      closed = true;
      stats?.close();
    },
  };
}

/** spec.replicas now when the port answers at once (a pending answer counts as unknown). */
function specReplicasNow(port: ClusterPort, core: Core): number | undefined {
  const s = port.getScale(core.ref.target);
  if (typeof (s as { then?: unknown }).then === 'function') { (s as Promise<Scale>).catch(() => {}); return undefined; }
  return (s as Scale).specReplicas;
}
