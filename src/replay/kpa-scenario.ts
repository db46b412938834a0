// `tide decide` scenarios for the KPA: each step gives the decision time, the replicas and ready
// pods, and the observed revision-total metric (concurrency, or RPS for metric rps) for the seconds
// since the previous step: `metrics: [{ value: 12 }]` (held every second) or `metrics: [{ values:
// [3, 8, 12] }]` (one per second, the last at the step time). The first step fills a whole stable
// window with its value (a steady state). Seconds with no ready pod and no traffic are left out, as
// the local runtime does. Decider state carries from step to step. `state` (a KPA record's
// inputs.state) starts the decider from that memory; the first step then adds only its own
// seconds. `history` is the HPA's memory (recommendations, scale events) and is rejected here.
import { UserError } from '../core/errors.ts';
import type { ReplayDecider, ScenarioRunner, ScenarioSetup } from './registry.ts';
import type { ScenarioStep } from './scenario.ts';
import { resolveTime } from './time.ts';
import { decideKpa } from '../deciders/kpa/decide.ts';
import type { KpaDecisionRecord, KpaPolicy, KpaSample, KpaState } from '../deciders/kpa/types.ts';

export function isKpaPolicy(o: unknown): o is KpaPolicy {
  const p = o as KpaPolicy;
  return !!p && typeof p === 'object' && !('apiVersion' in p) && typeof p.targetValue === 'number' && typeof p.panicThreshold === 'number' && typeof p.stableWindowSeconds === 'number';
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

const STATE_KEYS: (keyof KpaState)[] = ['stable', 'panic', 'panicTime', 'maxPanicPods', 'delayWindow', 'deciderDesired', 'deciderEbc', 'active', 'scaleTargetInitialized', 'paDesired', 'sks'];

const HISTORY_HINT = 'is the HPA\'s memory (recommendations, scale events) and does not apply to a KPA; give "state" (a KPA record\'s inputs.state) instead, or leave it out';

function kpaState(raw: Record<string, unknown>): KpaState {
  const missing = STATE_KEYS.filter((k) => !(k in raw));
  if (missing.length) throw new UserError(`state: not a KPA state: missing ${missing.join(', ')} (copy a KPA record's inputs.state: tide decide … | jq '.inputs.state')`);
  const unknown = Object.keys(raw).filter((k) => !(STATE_KEYS as string[]).includes(k));
  if (unknown.length) throw new UserError(`state: unknown KPA state field(s) ${unknown.join(', ')} (allowed: ${STATE_KEYS.join(', ')})`);
  for (const k of ['stable', 'panic'] as const) {
    const b = raw[k];
    if (!b || typeof b !== 'object') throw new UserError(`state.${k}: expected the window object of a KPA record's inputs.state, got ${JSON.stringify(raw[k])}`);
  }
  return structuredClone(raw) as unknown as KpaState;
}

export function createKpaScenarioRunner(setup: ScenarioSetup): ScenarioRunner {
  const policy = setup.policy as KpaPolicy;
  const sc = setup.scenario;
  const origin = setup.originMs;
  const actuate = sc.actuate ?? true;
  if (sc.history !== undefined) throw new UserError(`history: ${HISTORY_HINT}`);
  sc.steps.forEach((s, i) => { if (s.history !== undefined) throw new UserError(`steps[${i}].history: ${HISTORY_HINT}`); });
  let replicas = sc.replicas ?? Math.max(policy.initialScale, policy.minScale);
  let state: KpaState | null = sc.state ? kpaState(sc.state) : null;
  let prevAt: number | null = null;
  return {
    step(step: ScenarioStep, index: number): KpaDecisionRecord {
      const at = resolveTime(step.at, origin);
      if (step.replicas !== undefined) replicas = step.replicas;
      const ready = typeof step.pods === 'number' ? step.pods
        : Array.isArray(step.pods) ? step.pods.filter((p) => (p.phase ?? 'Running') === 'Running' && p.ready !== false && p.ready !== 'False' && p.ready !== 'Unknown').length
          : replicas;
      const m = step.metrics?.[0] ?? undefined;
      let values: number[] = [];
      try {
        if (m?.values) values = m.values.map(num);
        else {
          const v = m?.value !== undefined ? num(m.value) : 0;
          // First step: a whole stable window (steady state), or only this second when `state` holds the past.
          const from = prevAt === null ? (state ? at : at - (policy.stableWindowSeconds - 1) * 1000) : prevAt + 1000;
          const n = Math.max(1, Math.floor((at - from) / 1000) + 1);
          values = Array.from({ length: n }, () => v);
        }
      } catch (e) { throw new Error(`steps[${index}].metrics[0]: ${(e as Error).message}`); }
      const samples: KpaSample[] = [];
      values.forEach((v, k) => {
        const time = at - (values.length - 1 - k) * 1000;
        if (ready > 0 || v > 0) samples.push({ time, concurrency: policy.metric === 'rps' ? 0 : v, rps: policy.metric === 'rps' ? v : 0 });
      });
      const { record, state: next } = decideKpa(policy, { now: at, readyPods: ready, currentReplicas: replicas, samples }, state);
      state = next;
      prevAt = at;
      if (actuate && record.rescale) replicas = record.desiredReplicas;
      return record;
    },
  };
}

/** Registered with `tide decide`'s deciders (src/replay/registry.ts). */
export const kpaScenarioHooks: Pick<ReplayDecider, 'scenario' | 'isPolicy'> = {
  scenario: createKpaScenarioRunner,
  isPolicy: isKpaPolicy,
};
