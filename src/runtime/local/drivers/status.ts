// The parts of an autoscaler's status every driver fills the same way: replica counts from the
// runtime, and metrics/conditions/last decision from the last DecisionRecord.
import type { DecisionRecord, MetricProposal } from '../../../core/decision.ts';
import type { AutoscalerStatus, DriverContext } from './types.ts';

type OwnFields = Omit<AutoscalerStatus, 'currentReplicas' | 'desiredReplicas' | 'metrics' | 'conditions' | 'lastDecision' | 'dryRun'>;

export function autoscalerStatus(ctx: DriverContext, deployment: string, own: OwnFields, last: DecisionRecord | undefined): AutoscalerStatus {
  return {
    ...own,
    currentReplicas: ctx.pods(deployment).length,
    desiredReplicas: last?.desiredReplicas ?? ctx.specReplicas(deployment),
    metrics: last?.proposals ?? [],
    conditions: last?.conditions ?? [],
    ...(last ? { lastDecision: last } : {}),
    dryRun: ctx.dryRun,
  };
}

/** kubectl's TARGETS column: "cur/target" per metric, at most two then "+ N more...". */
export function kubectlTargets(metrics: MetricProposal[], specs: { target: string }[]): string {
  const targets = metrics.length ? metrics.map((p) => `${p.current}/${p.target}`) : specs.map((s) => `<unknown>/${s.target}`);
  return targets.length > 2 ? `${targets.slice(0, 2).join(', ')} + ${targets.length - 2} more...` : targets.join(', ') || '<none>';
}
