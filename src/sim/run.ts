// Glue for the CLI and benchmarks: named built-in policies, trace/generator resolution, comparisons.
import { simulate, type ServiceModel, type SimController, type SimOptions, type SimResult } from './engine.ts';
import { runOracle } from './oracle.ts';
import { hpaController, kedaController, kpaController, predictiveController, staticController } from './controllers.ts';
import { hpaCpuBaseline, kedaQueueBaseline, kpaDefaultsBaseline } from './baselines.ts';
import { defaultPredictivePolicy } from '../policies/predictive.ts';
import { quantile } from './dist.ts';

export const BUILTIN_POLICIES = ['hpa-cpu-50', 'hpa-cpu-70', 'kpa-defaults', 'keda-queue', 'tide', 'oracle'] as const;
export type BuiltinPolicy = (typeof BUILTIN_POLICIES)[number];

export interface PolicyContext {
  service: ServiceModel;
  sloMs: number;
  sloTarget: number;
  minReplicas: number;
  maxReplicas: number;
  /** Seasonality for Tide's policy (ms), 0 = none. */
  seasonMs: number;
}

/** A controller for a built-in policy name (`static:N` too). The oracle is not a controller: see runOracle. */
export function builtinController(name: string, ctx: PolicyContext): SimController {
  const slots = ctx.service.concurrency;
  const st = /^static:(\d+)$/.exec(name);
  if (st) return staticController(Number(st[1]));
  switch (name) {
    case 'hpa-cpu-50': return hpaController(hpaCpuBaseline(50, Math.max(1, ctx.minReplicas), ctx.maxReplicas), { label: 'HPA cpu 50%' });
    case 'hpa-cpu-70': return hpaController(hpaCpuBaseline(70, Math.max(1, ctx.minReplicas), ctx.maxReplicas), { label: 'HPA cpu 70%' });
    case 'kpa-defaults': return kpaController(kpaDefaultsBaseline(slots, { minScale: ctx.minReplicas, maxScale: ctx.maxReplicas }), { label: 'KPA defaults' });
    case 'keda-queue': return kedaController(kedaQueueBaseline(slots, ctx.minReplicas, ctx.maxReplicas), { label: `KEDA queue (${slots}/replica)` });
    case 'tide': return predictiveController(defaultPredictivePolicy({
      name: 'tide',
      slotsPerReplica: slots,
      minReplicas: ctx.minReplicas,
      maxReplicas: ctx.maxReplicas,
      sloLatencyMs: ctx.sloMs,
      sloTarget: ctx.sloTarget,
      coldStartMs: quantile(ctx.service.coldStart, 0.5),
      seasonMs: ctx.seasonMs,
    }), 2000, 'Tide predictive');
    default: throw new Error(`unknown policy "${name}" (built-in: ${BUILTIN_POLICIES.join(', ')}, static:N)`);
  }
}

export interface CompareEntry { name: string; make?: () => SimController; oracle?: boolean }

/** Run every entry on the same trace/seed; the oracle targets `oracleTarget` attainment. */
export function compare(base: SimOptions, entries: CompareEntry[], oracleTarget: number, oracleIterations = 8): SimResult[] {
  const out: SimResult[] = [];
  for (const e of entries) {
    if (e.oracle) out.push(runOracle(base, oracleTarget, { iterations: oracleIterations }));
    else out.push(simulate(base, e.make!()));
  }
  return out;
}
