// The local runtime's driver for Tide's own predictive policy (src/policies/predictive.ts): an HPA,
// Knative Service or InferenceService annotated `tide.dev/policy: predictive` is driven by it instead
// of its native decider (bundle.ts picks the kind 'tide' through predictivePolicyForDoc (src/policies/from-manifest.ts),
// so `tide up` and `tide simulate` run the same policy from the same manifest).
//
// Shape like the KPA driver: the proxy in front of the Deployment is snapshotted once a second into
// per-second demand samples (ProxyDemand: arrivals, busy and queued request-ms, service times of the
// finished requests), and every 2 s the pure decider runs on the samples since the last decision; its
// decision is actuated (unless --dry-run) and recorded (decider 'tide'; `tide decide --verify` replays
// it through src/replay/others.ts). A request that finds no replica scales 0 → max(1, min) at once
// (the activator's poke, as the simulator does).
import type { DecisionRecord } from '../../../core/decision.ts';
import { decidePredictive, emptyPredictiveState, type PredictivePolicy, type PredictiveRecord, type PredictiveState } from '../../../policies/predictive.ts';
import { ProxyDemand } from '../../../policies/predictive-shell.ts';
import type { AutoscalerItem } from '../bundle.ts';
import type { AutoscalerDriver, AutoscalerStatus, DriverContext, DriverOptions } from './types.ts';
import { autoscalerStatus } from './status.ts';

/** Decision period (ms), as the simulator's predictive controller and the KPA. */
export const TIDE_TICK_MS = 2000;
/** Proxy snapshot period (ms): the policy takes one demand sample per second. */
export const TIDE_SNAPSHOT_MS = 1000;
/** Unchanged decisions are still logged this often (decisions.jsonl). */
export const TIDE_RECORD_HEARTBEAT_MS = 30_000;

export function createTideDriver(item: AutoscalerItem, ctx: DriverContext, opts: DriverOptions): AutoscalerDriver {
  const policy = item.policy as PredictivePolicy;
  const target = item.target;
  const tick = Number(opts.overrides.tickIntervalMs ?? TIDE_TICK_MS);
  const created = ctx.now();
  const demand = new ProxyDemand();
  // Without request completions the service time is estimated from busy ms per arrival: drop the
  // (then always zero) started counters so that the policy takes that path.
  const completions = ctx.onRequestDone !== undefined;
  const unsubscribe = ctx.onRequestDone?.(target, (info) => demand.requestDone(info));
  let state: PredictiveState = emptyPredictiveState();
  let last: PredictiveRecord | undefined;
  let lastScaleTime: number | undefined;
  let closed = false;
  let lastKey = '';
  let lastRecordedAt = -Infinity;

  const snapshot = () => {
    const st = ctx.proxyStats(target);
    if (st) demand.snapshot(st);
  };
  snapshot();
  const snapTimer = setInterval(snapshot, TIDE_SNAPSHOT_MS);
  snapTimer.unref?.();

  function decide(now: number): PredictiveRecord {
    const taken = demand.take();
    const samples = completions ? taken.samples : taken.samples.map(({ started: _s, startedServiceMs: _m, ...rest }) => rest);
    const { record, state: next } = decidePredictive(policy, {
      now,
      currentReplicas: ctx.specReplicas(target),
      readyReplicas: ctx.pods(target).filter((r) => r.ready).length,
      samples,
      queued: taken.queued,
      inFlight: taken.inFlight,
    }, state);
    state = next;
    last = record;
    if (record.rescale && !ctx.dryRun) {
      ctx.scale(target, record.desiredReplicas);
      lastScaleTime = now;
    }
    // decide every tick, log what says something new (each record replays on its own: its inputs
    // carry the state before the decision)
    const d = record.details;
    const key = JSON.stringify([record.desiredReplicas, record.currentReplicas, d.requiredNow, d.requiredForecast, record.limitedBy]);
    if (record.rescale || record.events.length > 0 || key !== lastKey || now - lastRecordedAt >= TIDE_RECORD_HEARTBEAT_MS) {
      ctx.record(policy.name, record as DecisionRecord);
      lastKey = key;
      lastRecordedAt = now;
    }
    return record;
  }

  const util = policy.slotsPerReplica * (policy.sloLatencyMs === undefined ? policy.targetUtilization : policy.maxUtilization);
  const driver: AutoscalerDriver = {
    kind: 'tide',
    name: policy.name,
    target,
    syncPeriodMs: tick,
    async sync(now: number) {
      if (closed) return null;
      return decide(now) as DecisionRecord;
    },
    poke() {
      if (closed || ctx.specReplicas(target) > 0 || policy.maxReplicas <= 0) return;
      const n = Math.max(1, policy.minReplicas);
      ctx.event(policy.name, { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${n}; reason: a request arrived with no replica (activator)${ctx.dryRun ? ' (dry run: not applied)' : ''}` });
      if (!ctx.dryRun) { ctx.scale(target, n); lastScaleTime = ctx.now(); }
    },
    status(): AutoscalerStatus {
      const d = last?.details;
      return autoscalerStatus(ctx, target, {
        kind: 'tide',
        name: policy.name,
        reference: policy.target,
        targets: `${d ? fmt(d.forecast) : '<unknown>'}/${fmt(util)} tide/predicted-concurrency`,
        minReplicas: policy.minReplicas,
        maxReplicas: policy.maxReplicas,
        created,
        ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
        metricSpecs: [{
          name: `tide/predicted-concurrency (busy slots; horizon ${policy.prewarmHorizonMs / 1000}s, scale-down window ${policy.scaleDownWindowMs / 1000}s${policy.sloLatencyMs !== undefined ? `, SLO ${policy.sloLatencyMs}ms @ ${policy.sloTarget * 100}%` : ''})`,
          target: `${fmt(util)} per replica`,
        }],
      }, last as DecisionRecord | undefined);
    },
    close() {
      closed = true;
      clearInterval(snapTimer);
      unsubscribe?.();
    },
  };
  return driver;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}
