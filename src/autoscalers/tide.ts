// Tide's own predictive policy (src/policies/predictive.ts) as an autoscaler: an HPA, Knative Service
// or InferenceService annotated `tide.dev/policy: predictive` runs it instead of its native decider.
// Per-second demand samples of the Service (arrivals, busy and queued request-ms, service times)
// feed the pure policy every 2 s tick; its decision is written to /scale and recorded (decider
// 'tide'; `tide decide --verify` replays it) when it says something new. A request that finds no
// replica scales 0 → max(1, min) at once, in the request path (pokeDelivery 'inline').
import type { DecisionRecord } from '../core/decision.ts';
import { decidePredictive, emptyPredictiveState, type PredictivePolicy, type PredictiveRecord, type PredictiveState } from '../policies/predictive.ts';
import type { ClusterPort, Maybe, Scale } from './port.ts';
import type { Autoscaler, AutoscalerOptions, AutoscalerSnapshot, AutoscalerSpec, MetricPoint } from './types.ts';
import { all, Core, fmtNum, peek, RecordFilter, then } from './common.ts';

/** Decision period (ms), as the KPA's. */
export const TIDE_TICK_MS = 2000;
/** Unchanged decisions are still recorded this often. */
export const TIDE_RECORD_HEARTBEAT_MS = 30_000;

export function createTideAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions): Autoscaler {
  const policy = spec.policy as PredictivePolicy;
  const tick = Number(opts.config?.tickIntervalMs ?? TIDE_TICK_MS);
  const core = new Core(spec, port, !!opts.dryRun);
  const demand = port.openDemandStats?.(core.ref, { sloMs: policy.sloLatencyMs });
  const filter = new RecordFilter(TIDE_RECORD_HEARTBEAT_MS);
  let state: PredictiveState = emptyPredictiveState();
  let metric: MetricPoint | undefined;
  let closed = false;

  function decide(now: number): Maybe<PredictiveRecord> {
    return then(all<unknown>([port.getScale(core.ref.target), port.readyPods(core.ref.target)]), ([scale, ready]) => {
      const current = (scale as Scale).specReplicas;
      const taken = demand ? demand.take(now) : { samples: [], queued: 0, inFlight: 0 };
      const { record, state: next } = decidePredictive(policy, {
        now,
        currentReplicas: current,
        readyReplicas: ready as number,
        samples: taken.samples,
        queued: taken.queued,
        inFlight: taken.inFlight,
      }, state);
      state = next;
      metric = { value: record.details.forecast, target: policy.slotsPerReplica * Math.max(1, current), label: 'forecast busy slots vs capacity' };
      const d = record.details;
      const key = () => JSON.stringify([record.desiredReplicas, record.currentReplicas, d.requiredNow, d.requiredForecast, record.limitedBy]);
      return core.finish(record, now, port.record !== undefined && filter.wants(record as DecisionRecord, now, key));
    });
  }

  const util = policy.slotsPerReplica * (policy.sloLatencyMs === undefined ? policy.targetUtilization : policy.maxUtilization);
  return {
    kind: 'tide',
    name: spec.name,
    ref: core.ref,
    target: spec.target.name,
    syncPeriodMs: tick,
    firstSyncDelayMs: tick,
    pokeDelivery: 'inline',
    sync(now) {
      if (closed) return null;
      return decide(now);
    },
    poke(now) {
      if (closed || policy.maxReplicas <= 0) return;
      const scale = peek(port.getScale(core.ref.target));
      if (!scale || scale.specReplicas > 0) return;
      const n = Math.max(1, policy.minReplicas);
      port.event(core.ref, { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${n}; reason: a request arrived with no replica (activator)${core.dryRun ? ' (dry run: not applied)' : ''}` });
      if (!core.dryRun) void core.scaleTo(n, now, 'a request arrived with no replica (activator)');
    },
    status() {
      const d = (core.last as PredictiveRecord | undefined)?.details;
      return core.status({
        kind: 'tide',
        name: spec.name,
        reference: policy.target,
        targets: `${d ? fmtNum(d.forecast) : '<unknown>'}/${fmtNum(util)} tide/predicted-concurrency`,
        minReplicas: policy.minReplicas,
        maxReplicas: policy.maxReplicas,
        metricSpecs: [{
          name: `tide/predicted-concurrency (busy slots; horizon ${policy.prewarmHorizonMs / 1000}s, scale-down window ${policy.scaleDownWindowMs / 1000}s${policy.sloLatencyMs !== undefined ? `, SLO ${policy.sloLatencyMs}ms @ ${policy.sloTarget * 100}%` : ''})`,
          target: `${fmtNum(util)} per replica`,
        }],
      });
    },
    metric: () => metric,
    snapshot() { return core.snapshot('tide', state, { filter: filter.toJSON() }); },
    restore(s: AutoscalerSnapshot) {
      state = core.restore<PredictiveState>('tide', s);
      filter.load(s.extra?.filter as Record<string, unknown> | undefined);
    },
    close() {
      closed = true;
      demand?.close();
    },
  };
}
