// Controllers of the simulated service. Autoscalers of every kind run through the shared layer
// (src/autoscalers) on the simulator's port (./port.ts: autoscalerController); this module keeps the
// controllers that are not autoscalers (a fixed count, a precomputed schedule) and one-line
// constructors of specs for the built-in policies, tests and benches.
import type { SimController, SimHandle } from './engine.ts';
import type { PredictivePolicy } from '../policies/predictive.ts';
import type { HpaPolicy } from '../deciders/hpa/types.ts';
import type { KedaPolicy } from '../deciders/keda/types.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import type { DecisionRecord } from '../core/decision.ts';
import type { AutoscalerSpec } from '../autoscalers/types.ts';
import { autoscalerController, type SimAutoscalerOptions } from './port.ts';

export { DemandCollector } from './port.ts';
export type { SimAutoscalerOptions as HpaSimOptions } from './port.ts';

/** Fixed replica count (the "null policy" baseline of the benchmark). */
export function staticController(n: number): SimController {
  return {
    name: `static ${n}`,
    start(sim) { sim.setDesired(n); },
  };
}

/**
 * Replays a precomputed per-second replica schedule (the oracle). With `serveAll`, it never leaves
 * queued requests without a replica: a request that finds none starts one at once (the activator's
 * poke), and the schedule's zeros become one while requests wait.
 */
export function scheduleController(name: string, startMs: number, perSecond: Int32Array, serveAll = false): SimController {
  let handle: SimHandle | undefined;
  return {
    name,
    start(sim) {
      handle = sim;
      sim.setDesired(perSecond.length ? perSecond[0] : 0);
      sim.every(1000, startMs + 1000, (now) => {
        const k = Math.floor((now - startMs) / 1000);
        if (k < perSecond.length) sim.setDesired(serveAll && sim.queued > 0 ? Math.max(1, perSecond[k]) : perSecond[k]);
      });
    },
    ...(serveAll ? { onColdRequest: () => { if (handle && handle.desired === 0) handle.setDesired(1); } } : {}),
  };
}

// ---- autoscalers as the simulator names them ----------------------------------------------------

type SimAutoscaler = SimController & { records: DecisionRecord[] };

function spec(kind: string, name: string, policy: unknown, target = 'model'): AutoscalerSpec {
  return { kind, name, target: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, policy };
}

/** The Kubernetes HPA behind metrics-server (15 s scrapes) with a 15 s sync. */
export function hpaController(policy: HpaPolicy, o: SimAutoscalerOptions = {}): SimAutoscaler {
  return autoscalerController(spec('hpa', policy.name, policy, policy.scaleTargetRef.name), { label: `hpa ${policy.name}`, ...o });
}

/** KEDA (its 0<->1 executor + the generated HPA); at zero replicas only KEDA's own loop runs, every pollingInterval. */
export function kedaController(policy: KedaPolicy, o: SimAutoscalerOptions = {}): SimAutoscaler {
  return autoscalerController(spec('keda', policy.name, policy, policy.scaleTargetRef.name), { label: `keda ${policy.name}`, ...o });
}

/** The Knative KPA: per-second request stats, a decision every 2 s, and at once on a cold request. */
export function kpaController(policy: KpaPolicy, o: { label?: string; keepRecords?: boolean } = {}): SimAutoscaler {
  return autoscalerController(spec('kpa', policy.name, policy), { label: `kpa ${policy.name}`, ...o });
}

/** Tide's predictive policy, ticking every tickMs (default 2 s, like the KPA). */
export function predictiveController(policy: PredictivePolicy, tickMs = 2000, label?: string): SimAutoscaler {
  return autoscalerController(spec('tide', policy.name, policy), {
    label: label ?? `tide predictive${policy.sloLatencyMs !== undefined ? ` (slo ${policy.sloLatencyMs}ms)` : ''}`,
    config: { tickIntervalMs: tickMs },
  });
}
