// The KEDA ScaledObject, as KEDA's operator and the HPA it generates run one object: every
// pollingInterval (and every HPA sync period while active) read each trigger — cpu/memory from the
// resource metrics API, the others from their scalers — and run the pure decider (src/deciders/keda:
// activation 0↔1, cooldown, fallback, the generated HPA for 1↔N), write /scale when it rescales and
// record the decision. At zero replicas only KEDA's own polling loop runs (the HPA is inactive).
// A failing scaler is an error observation (no scale-down; fallback after failureThreshold).
import { decideKeda, emptyKedaState, generatedHpaPolicy, isResourceTrigger } from '../deciders/keda/decide.ts';
import type { KedaDecisionRecord } from '../deciders/keda/decide.ts';
import type { KedaObservation, KedaPolicy, KedaState, TriggerObservation } from '../deciders/keda/types.ts';
import type { HpaControllerConfig, PodInfo } from '../deciders/hpa/types.ts';
import type { ClusterPort, Maybe, Scale } from './port.ts';
import type { Autoscaler, AutoscalerOptions, AutoscalerSnapshot, AutoscalerSpec, MetricPoint } from './types.ts';
import { all, Core, kubectlTargets, SyncGuard, then } from './common.ts';
import { HPA_SYNC_PERIOD_MS, metricSpecName, ratioMetric } from './hpa.ts';

export function createKedaAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions): Autoscaler {
  const policy = spec.policy as KedaPolicy;
  const core = new Core(spec, port, !!opts.dryRun);
  const config = (opts.config ?? {}) as Partial<HpaControllerConfig>;
  const hpaConfig = Object.keys(config).length ? config : undefined;
  const pollMs = policy.pollingIntervalSeconds * 1000;
  // KEDA polls every pollingInterval and its HPA syncs every sync period: run at the faster one
  const syncPeriodMs = Math.min(pollMs, opts.syncPeriodMs ?? HPA_SYNC_PERIOD_MS);
  const guard = new SyncGuard();
  const resourcePipeline = port.openResourceMetrics?.(core.ref);
  let state: KedaState = emptyKedaState(spec.createdAt);
  let lastPoll = -Infinity;
  let metric: MetricPoint | undefined;
  const hpaSpecs = generatedHpaPolicy(policy).metrics.map(metricSpecName);

  function readTrigger(i: number): Maybe<TriggerObservation> {
    const t = policy.triggers[i];
    if (isResourceTrigger(t)) return port.resourceMetrics(core.ref, t.type);
    if (!port.scalerMetric) return { kind: 'error', message: `scaler ${t.type} is not available in this environment` };
    return port.scalerMetric(core.ref, t, i);
  }

  function round(now: number, scale: Scale): Maybe<KedaDecisionRecord> {
    const pods = port.listPods(core.ref.target);
    const triggers = policy.triggers.map((_, i) => readTrigger(i));
    return then(all<unknown>([pods, ...triggers]), (vs) => {
      const obs: KedaObservation = { now, target: scale, pods: vs[0] as PodInfo[], triggers: vs.slice(1) as TriggerObservation[] };
      const { record, state: next } = decideKeda(policy, obs, state, now, hpaConfig);
      state = next;
      lastPoll = now;
      metric = ratioMetric(record) ?? metric;
      return core.finish(record, now);
    });
  }

  return {
    kind: 'keda',
    name: spec.name,
    ref: core.ref,
    target: spec.target.name,
    syncPeriodMs,
    firstSyncDelayMs: opts.firstSyncDelayMs ?? syncPeriodMs,
    pokeDelivery: 'resync-hint',
    sync(now) {
      return guard.run(() => then(port.getScale(core.ref.target), (scale): Maybe<KedaDecisionRecord | null> => {
        // at zero only KEDA's polling loop runs (every pollingInterval); the generated HPA is inactive
        if (scale.specReplicas === 0 && now - lastPoll < pollMs) return null;
        return round(now, scale);
      }));
    },
    // KEDA has no activator upstream; a poke is only a hint to poll early (see pokeDelivery)
    poke(now) { lastPoll = -Infinity; void this.sync(now); },
    status() {
      return core.status({
        kind: 'keda',
        name: spec.name,
        reference: `${policy.scaleTargetRef.kind}/${policy.scaleTargetRef.name}`,
        targets: kubectlTargets(core.last?.proposals ?? [], hpaSpecs),
        minReplicas: policy.minReplicaCount,
        maxReplicas: policy.maxReplicaCount,
        ...(state.hpa.lastScaleTime !== undefined ? { lastScaleTime: state.hpa.lastScaleTime } : {}),
        metricSpecs: hpaSpecs,
      });
    },
    metric: () => metric,
    snapshot() { return core.snapshot('keda', state, { lastPoll: Number.isFinite(lastPoll) ? lastPoll : null }); },
    restore(s: AutoscalerSnapshot) {
      state = core.restore<KedaState>('keda', s);
      if (typeof s.extra?.lastPoll === 'number') lastPoll = s.extra.lastPoll;
    },
    close() { resourcePipeline?.close(); },
  };
}
