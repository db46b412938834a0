// Resolves a KPA policy from the revision (containerConcurrency + annotations) and the cluster
// config, as knative's MakeDecider / ResolveMetricTarget / ScaleBounds / GetInitialScale do.

import { goRound } from './aggregation.ts';
import { defaultKpaConfig, type KpaClusterConfig } from './config.ts';
import type { KpaAnnotations, KpaMetric, KpaPolicy } from './types.ts';

export interface KpaRevisionInput {
  name: string;
  namespace?: string;
  /** "Deployment/name" */
  target: string;
  containerConcurrency?: number;
  annotations?: KpaAnnotations;
  reachable?: boolean;
}

export function resolveMetricTarget(
  metric: KpaMetric, containerConcurrency: number, ann: KpaAnnotations, cfg: KpaClusterConfig,
): { targetValue: number; totalValue: number } {
  let total: number;
  let tu: number;
  if (metric === 'rps') {
    total = cfg.rpsTargetDefault;
    tu = cfg.targetUtilization;
  } else {
    total = containerConcurrency > 0 ? containerConcurrency : cfg.containerConcurrencyTargetDefault;
    tu = cfg.containerConcurrencyTargetFraction;
  }
  if (ann.target !== undefined) {
    total = ann.target;
    if (metric === 'concurrency' && containerConcurrency > 0) total = Math.min(ann.target, containerConcurrency);
  }
  if (ann.targetUtilizationPercentage !== undefined) tu = ann.targetUtilizationPercentage / 100;
  return { targetValue: Math.max(0.01, total * tu), totalValue: total };
}

/** Panic window in whole seconds: stable × pct / 100 rounded to the second, at least 1 s. */
export function panicWindowSeconds(stableSeconds: number, pct: number): number {
  return Math.max(1, goRound((stableSeconds * pct) / 100));
}

export function initialScaleOf(ann: KpaAnnotations, cfg: KpaClusterConfig): number {
  const v = ann.initialScale;
  if (v !== undefined && (v !== 0 || cfg.allowZeroInitialScale)) return v;
  return cfg.initialScale;
}

export function makeKpaPolicy(rev: KpaRevisionInput, cfg: KpaClusterConfig = defaultKpaConfig()): KpaPolicy {
  const ann = rev.annotations ?? {};
  const metric: KpaMetric = ann.metric === 'rps' ? 'rps' : 'concurrency';
  const cc = rev.containerConcurrency ?? 0;
  const { targetValue, totalValue } = resolveMetricTarget(metric, cc, ann, cfg);
  const stable = ann.windowSeconds ?? cfg.stableWindowSeconds;
  return {
    name: rev.name,
    ...(rev.namespace !== undefined ? { namespace: rev.namespace } : {}),
    target: rev.target,
    metric,
    containerConcurrency: cc,
    targetValue,
    totalValue,
    panicThreshold: (ann.panicThresholdPercentage ?? cfg.panicThresholdPercentage) / 100,
    stableWindowSeconds: stable,
    panicWindowSeconds: panicWindowSeconds(stable, ann.panicWindowPercentage ?? cfg.panicWindowPercentage),
    targetBurstCapacity: ann.targetBurstCapacity ?? cfg.targetBurstCapacity,
    scaleDownDelaySeconds: ann.scaleDownDelaySeconds ?? cfg.scaleDownDelaySeconds,
    activationScale: ann.activationScale ?? 0,
    initialScale: initialScaleOf(ann, cfg),
    minScale: ann.minScale ?? cfg.minScale,
    maxScale: ann.maxScale ?? cfg.maxScale,
    maxScaleUpRate: cfg.maxScaleUpRate,
    maxScaleDownRate: cfg.maxScaleDownRate,
    activatorCapacity: cfg.activatorCapacity,
    enableScaleToZero: cfg.enableScaleToZero,
    scaleToZeroGracePeriodSeconds: cfg.scaleToZeroGracePeriodSeconds,
    scaleToZeroPodRetentionPeriodSeconds: ann.scaleToZeroPodRetentionPeriodSeconds ?? cfg.scaleToZeroPodRetentionPeriodSeconds,
    aggregation: ann.metricAggregationAlgorithm ?? 'linear',
    reachable: rev.reachable ?? true,
    progressDeadlineSeconds: ann.progressDeadlineSeconds ?? cfg.progressDeadlineSeconds,
  };
}
