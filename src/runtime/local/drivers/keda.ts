// The KEDA driver: every polling interval, read each trigger's metric source (Redis, RabbitMQ,
// Prometheus, …; cpu/memory from the runtime's process stats), call the pure KEDA decider (KEDA's
// activation/cooldown/fallback + the generated HPA), record the decision and actuate it.
// A source that fails becomes an error observation (invalid metric → no scale-down; fallback after
// failureThreshold); sources reconnect on their own, so recovery needs nothing here.
import type { DecisionRecord } from '../../../core/decision.ts';
import { decideKeda, emptyKedaState, generatedHpaPolicy, isResourceTrigger } from '../../../deciders/keda/decide.ts';
import type { KedaObservation, KedaPolicy, KedaState, TriggerObservation } from '../../../deciders/keda/types.ts';
import type { HpaControllerConfig } from '../../../deciders/hpa/types.ts';
import { createTriggerSource, triggerValue } from '../../../sources/index.ts';
import type { MetricSource } from '../../../sources/types.ts';
import type { AutoscalerItem } from '../bundle.ts';
import { metricSpecName } from '../../../autoscalers/hpa.ts';
import type { AutoscalerDriver, AutoscalerStatus, DriverContext, DriverOptions } from './types.ts';
import { autoscalerStatus, kubectlTargets } from './status.ts';

/** How long one trigger read may take before it counts as failed. */
const READ_TIMEOUT_MS = 5000;

export function createKedaDriver(item: AutoscalerItem, ctx: DriverContext, opts: DriverOptions): AutoscalerDriver {
  const policy = item.policy as KedaPolicy;
  const target = item.target;
  const created = ctx.now();
  let state: KedaState = emptyKedaState(created);
  let last: DecisionRecord | undefined;
  let lastScaleTime: number | undefined;
  let syncing = false;
  const config: Partial<HpaControllerConfig> = { ...(opts.overrides as Partial<HpaControllerConfig>) };

  // One source per non-resource trigger; a construction error is reported on every poll.
  const sources: (MetricSource | { error: string } | null)[] = policy.triggers.map((t) => {
    if (isResourceTrigger(t)) return null;
    try {
      return createTriggerSource(t.type, t.metadata, { env: process.env });
    } catch (e) {
      return { error: (e as Error).message };
    }
  });

  async function readTrigger(i: number, now: number, activeNames: string[]): Promise<TriggerObservation> {
    const t = policy.triggers[i];
    if (isResourceTrigger(t)) {
      const samples = activeNames.map((p) => ctx.resourceSample(p, t.type)).filter((s) => s !== null);
      if (!samples.length && activeNames.length) return { kind: 'error', message: 'no metrics returned from resource metrics API' };
      return { kind: 'pods', samples };
    }
    const src = sources[i]!;
    if ('error' in src) return { kind: 'error', message: src.error };
    try {
      const samples = await src.read(now, AbortSignal.timeout(READ_TIMEOUT_MS));
      return { kind: 'value', value: triggerValue(t.type, samples), timestamp: now };
    } catch (e) {
      return { kind: 'error', message: (e as Error).message };
    }
  }

  async function observe(now: number): Promise<KedaObservation> {
    const all = ctx.pods(target, true);
    const active = all.filter((r) => !r.terminating);
    const triggers = await Promise.all(policy.triggers.map((_, i) => readTrigger(i, now, active.map((r) => r.name))));
    return {
      now,
      target: { specReplicas: ctx.specReplicas(target), statusReplicas: active.length },
      pods: all.map((r) => r.podInfo()),
      triggers,
    };
  }

  const hpaSpecs = generatedHpaPolicy(policy).metrics.map(metricSpecName);

  const driver: AutoscalerDriver = {
    kind: 'keda',
    name: policy.name,
    target,
    // KEDA polls every pollingInterval and its HPA syncs every sync period: run at the faster one.
    syncPeriodMs: Math.min(policy.pollingIntervalSeconds * 1000, opts.syncPeriodMs),
    async sync(now: number) {
      if (syncing) return null;
      syncing = true;
      try {
        const obs = await observe(now);
        const { record, state: next } = decideKeda(policy, obs, state, now, Object.keys(config).length ? config : undefined);
        state = next;
        last = record;
        if (record.rescale && !ctx.dryRun) {
          ctx.scale(target, record.desiredReplicas);
          lastScaleTime = now;
        }
        ctx.record(policy.name, record);
        return record;
      } finally {
        syncing = false;
      }
    },
    poke() { void driver.sync(ctx.now()); },
    status(): AutoscalerStatus {
      return autoscalerStatus(ctx, target, {
        kind: 'keda',
        name: policy.name,
        reference: `${policy.scaleTargetRef.kind}/${policy.scaleTargetRef.name}`,
        targets: kubectlTargets(last?.proposals ?? [], hpaSpecs),
        minReplicas: policy.minReplicaCount,
        maxReplicas: policy.maxReplicaCount,
        created,
        lastScaleTime: state.hpa.lastScaleTime ?? lastScaleTime,
        metricSpecs: hpaSpecs,
      }, last);
    },
    close() {
      for (const s of sources) if (s && !('error' in s)) void s.close().catch(() => {});
    },
  };
  return driver;
}
