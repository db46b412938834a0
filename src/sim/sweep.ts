// Cost–attainment frontiers: every baseline's main knob swept over a grid, and Tide's SLO-target
// knob, on one trace. A single setting can always be picked to look good; a frontier cannot.
import { simulate, type SimOptions } from './engine.ts';
import { hpaController, kedaController, kpaController, predictiveController } from './controllers.ts';
import { hpaCpuBaseline, kedaQueueBaseline, kpaDefaultsBaseline } from './baselines.ts';
import { defaultPredictivePolicy } from '../policies/predictive.ts';
import { quantile } from './dist.ts';
import type { PolicyContext } from './run.ts';

export type FrontierFamily = 'hpa' | 'kpa' | 'keda' | 'tide';

export interface FrontierPoint {
  family: FrontierFamily;
  label: string;
  /** Tide's default setting (the point the goal is about). */
  isDefault: boolean;
  replicaSeconds: number;
  sloAttainment: number;
  maxReplicas: number;
}

export interface SweepGrid {
  /** HPA CPU targets, percent. */
  hpaTargets: number[];
  /** HPA scale-down stabilization windows, seconds (300 = the API server's default). */
  hpaScaleDownWindowsS: number[];
  /** KPA target utilization, percent, and stable window, seconds. */
  kpaUtilizations: number[];
  kpaWindowsS: number[];
  /** KEDA per-replica queue target, as a multiple of the replica's slots. */
  kedaPerSlot: number[];
  /** Tide's SLO target, fractions (the default is ctx.sloTarget). */
  tideTargets: number[];
}

export const defaultGrid: SweepGrid = {
  hpaTargets: [30, 40, 50, 60, 70, 80, 90],
  hpaScaleDownWindowsS: [0, 60, 300],
  kpaUtilizations: [50, 70, 90],
  kpaWindowsS: [30, 60, 120],
  kedaPerSlot: [0.5, 1, 2, 4],
  tideTargets: [0.9, 0.95, 0.98, 0.99, 0.995, 0.999],
};

export function tideDefaultPolicy(ctx: PolicyContext, sloTarget = ctx.sloTarget) {
  return defaultPredictivePolicy({
    name: 'tide',
    slotsPerReplica: ctx.service.concurrency,
    minReplicas: ctx.minReplicas,
    maxReplicas: ctx.maxReplicas,
    sloLatencyMs: ctx.sloMs,
    sloTarget,
    coldStartMs: quantile(ctx.service.coldStart, 0.5),
    seasonMs: ctx.seasonMs,
  });
}

/** Runs the grid (one simulation per point) and returns every point. */
export function sweepFrontier(base: SimOptions, ctx: PolicyContext, o: { grid?: Partial<SweepGrid>; onRun?: (label: string) => void } = {}): FrontierPoint[] {
  const g: SweepGrid = { ...defaultGrid, ...o.grid };
  const slots = ctx.service.concurrency;
  const out: FrontierPoint[] = [];
  const run = (family: FrontierFamily, label: string, make: () => Parameters<typeof simulate>[1], isDefault = false): void => {
    o.onRun?.(label);
    const r = simulate({ ...base, onProgress: undefined }, make());
    out.push({ family, label, isDefault, replicaSeconds: r.summary.replicaSeconds, sloAttainment: r.summary.sloAttainment, maxReplicas: r.summary.maxReplicas });
  };
  const hpaMin = Math.max(1, ctx.minReplicas);
  for (const w of g.hpaScaleDownWindowsS) {
    for (const t of g.hpaTargets) {
      run('hpa', `HPA cpu ${t}% (scale-down window ${w}s)`, () => hpaController(hpaCpuBaseline(t, hpaMin, ctx.maxReplicas, w), { label: `HPA cpu ${t}%` }));
    }
  }
  for (const win of g.kpaWindowsS) {
    for (const u of g.kpaUtilizations) {
      run('kpa', `KPA utilization ${u}% (window ${win}s)`, () => kpaController(kpaDefaultsBaseline(slots, {
        minScale: ctx.minReplicas, maxScale: ctx.maxReplicas, targetUtilizationPercentage: u, windowSeconds: win,
      }), { label: 'KPA' }));
    }
  }
  for (const k of g.kedaPerSlot) {
    const per = Math.max(1, Math.round(k * slots));
    if (out.some((p) => p.family === 'keda' && p.label === `KEDA queue ${per}/replica`)) continue;
    run('keda', `KEDA queue ${per}/replica`, () => kedaController(kedaQueueBaseline(per, ctx.minReplicas, ctx.maxReplicas), { label: 'KEDA' }));
  }
  const targets = [...new Set([...g.tideTargets, ctx.sloTarget])].sort((a, b) => a - b);
  for (const t of targets) {
    const isDefault = t === ctx.sloTarget;
    run('tide', `Tide slo-target ${(t * 100).toFixed(1)}%${isDefault ? ' (default)' : ''}`, () => predictiveController(tideDefaultPolicy(ctx, t), 2000, 'Tide'), isDefault);
  }
  return out;
}

/** Points of `pts` that dominate `p`: both cheaper and higher in attainment (strictly). */
export function dominators(p: FrontierPoint, pts: FrontierPoint[]): FrontierPoint[] {
  return pts.filter((q) => q !== p && q.replicaSeconds < p.replicaSeconds && q.sloAttainment > p.sloAttainment);
}

/** The Pareto-efficient points of a set (no other point is at most as costly and at least as good, one of them strictly). */
export function paretoFront(pts: FrontierPoint[]): FrontierPoint[] {
  return pts.filter((p) => !pts.some((q) => q !== p && q.replicaSeconds <= p.replicaSeconds && q.sloAttainment >= p.sloAttainment
    && (q.replicaSeconds < p.replicaSeconds || q.sloAttainment > p.sloAttainment)));
}
