// The `autoscaling.knative.dev/*` annotations: parsed and validated as Knative's webhook does
// (knative/serving pkg/apis/autoscaling/annotation_validation.go, keys and legacy camelCase aliases
// from register.go). Problems are reported on the annotation's own position.

import { parseGoDuration, type KpaClusterConfig, KPA_CLASS, HPA_CLASS } from '../../deciders/kpa/config.ts';
import type { KpaAnnotations } from '../../deciders/kpa/types.ts';

export const GROUP = 'autoscaling.knative.dev';

/** Each annotation's keys in priority order (the first present wins, as kmap.KeyPriority). */
export const ANNOTATION_KEYS = {
  class: ['class'],
  metric: ['metric'],
  target: ['target'],
  targetUtilizationPercentage: ['target-utilization-percentage', 'targetUtilizationPercentage'],
  targetBurstCapacity: ['target-burst-capacity', 'targetBurstCapacity'],
  window: ['window'],
  panicWindowPercentage: ['panic-window-percentage', 'panicWindowPercentage'],
  panicThresholdPercentage: ['panic-threshold-percentage', 'panicThresholdPercentage'],
  minScale: ['min-scale', 'minScale'],
  maxScale: ['max-scale', 'maxScale'],
  initialScale: ['initial-scale', 'initialScale'],
  activationScale: ['activation-scale'],
  scaleDownDelay: ['scale-down-delay', 'scaleDownDelay'],
  scaleToZeroPodRetentionPeriod: ['scale-to-zero-pod-retention-period', 'scaleToZeroPodRetentionPeriod'],
  metricAggregationAlgorithm: ['metric-aggregation-algorithm', 'metricAggregationAlgorithm'],
} as const;

const KNOWN = new Set<string>(Object.values(ANNOTATION_KEYS).flat().map((k) => `${GROUP}/${k}`));
// Not autoscaling-decider settings but legitimately found in that group.
for (const k of ['container-concurrency']) KNOWN.add(`${GROUP}/${k}`);

export interface AnnotationProblem {
  /** The annotation key the problem is about (its position is reported). */
  key: string;
  message: string;
  allowed?: string;
  severity: 'error' | 'warning';
}

export interface ParsedAnnotations {
  class: string;
  /** Raw metric name (cpu/memory/custom only valid with the HPA class). */
  metric?: string;
  kpa: KpaAnnotations;
  problems: AnnotationProblem[];
}

function get(m: Record<string, string>, keys: readonly string[]): [string, string] | undefined {
  for (const k of keys) {
    const full = `${GROUP}/${k}`;
    if (Object.prototype.hasOwnProperty.call(m, full)) return [full, m[full]!];
  }
  return undefined;
}

const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INT = /^[+-]?\d+$/;
const INT32_MAX = 2147483647;

/** Validate + parse the annotations (`anns` holds every annotation of the revision template). */
export function parseKnativeAnnotations(anns: Record<string, string>, cfg: KpaClusterConfig): ParsedAnnotations {
  const problems: AnnotationProblem[] = [];
  const err = (key: string, message: string, allowed?: string) => problems.push({ key, message, severity: 'error', ...(allowed ? { allowed } : {}) });
  const kpa: KpaAnnotations = {};

  for (const k of Object.keys(anns)) {
    if (k.startsWith(`${GROUP}/`) && !KNOWN.has(k)) {
      problems.push({ key: k, severity: 'warning', message: 'unknown autoscaling annotation (ignored)', allowed: [...KNOWN].filter((x) => !/[A-Z]/.test(x)).map((x) => x.slice(GROUP.length + 1)).join(', ') });
    }
  }

  // class
  let cls = cfg.podAutoscalerClass;
  const c = get(anns, ANNOTATION_KEYS.class);
  if (c) {
    if (c[1].endsWith('.knative.dev') && c[1] !== KPA_CLASS && c[1] !== HPA_CLASS) err(c[0], `invalid value: ${c[1]}`, `${KPA_CLASS} or ${HPA_CLASS}`);
    cls = c[1];
    kpa.class = c[1];
  }

  // min / max / activation scale
  const intGE0 = (keys: readonly string[]): [string, number] | undefined => {
    const kv = get(anns, keys);
    if (!kv) return undefined;
    const v = kv[1];
    if (!INT.test(v)) { err(kv[0], `invalid value: ${v}`, `an integer in [0, ${INT32_MAX}]`); return undefined; }
    const n = Number(v);
    if (n < 0 || n > INT32_MAX) { err(kv[0], `expected 0 <= ${v} <= ${INT32_MAX}`); return undefined; }
    return [kv[0], n];
  };
  const min = intGE0(ANNOTATION_KEYS.minScale);
  const max = intGE0(ANNOTATION_KEYS.maxScale);
  const minV = min?.[1] ?? 0;
  const maxV = max?.[1] ?? 0;
  if (min) kpa.minScale = min[1];
  if (max) kpa.maxScale = max[1];
  if (max && maxV !== 0 && maxV < minV) err(max[0], `max-scale=${maxV} is less than min-scale=${minV}`);
  if (max && cfg.maxScaleLimit > 0) {
    if (maxV > cfg.maxScaleLimit) err(max[0], `expected 1 <= ${maxV} <= ${cfg.maxScaleLimit}`, 'max-scale-limit of config-autoscaler');
    if (maxV === 0) err(max[0], `max-scale=0 (unlimited), must be less than ${cfg.maxScaleLimit}`);
  }
  const act = get(anns, ANNOTATION_KEYS.activationScale);
  if (act) {
    if (!INT.test(act[1])) err(act[0], `invalid value: ${act[1]}`, 'an integer >= 2');
    else {
      const n = Number(act[1]);
      if (minV > n) err(act[0], `min-scale=${minV} is greater than activation-scale=${n}`);
      else if (maxV !== 0 && maxV < n) err(act[0], `max-scale=${maxV} is less than activation-scale=${n}`);
      else if (n < 2) err(act[0], `activation-scale=${n} must be greater than 1`);
      else kpa.activationScale = n;
    }
  }

  // floats
  const float = (keys: readonly string[]): [string, number] | undefined => {
    const kv = get(anns, keys);
    if (!kv) return undefined;
    if (!FLOAT.test(kv[1].trim())) { err(kv[0], `invalid value: ${kv[1]}`, 'a number'); return undefined; }
    return [kv[0], Number(kv[1])];
  };
  const pw = float(ANNOTATION_KEYS.panicWindowPercentage);
  if (pw) { if (pw[1] < 1 || pw[1] > 100) err(pw[0], `expected 1 <= ${pw[1]} <= 100`); else kpa.panicWindowPercentage = pw[1]; }
  const pt = float(ANNOTATION_KEYS.panicThresholdPercentage);
  if (pt) { if (pt[1] < 110 || pt[1] > 1000) err(pt[0], `expected 110 <= ${pt[1]} <= 1000`); else kpa.panicThresholdPercentage = pt[1]; }
  const tg = float(ANNOTATION_KEYS.target);
  if (tg) { if (tg[1] < 0.01) err(tg[0], `target ${tg[1]} should be at least 0.01`); else kpa.target = tg[1]; }
  const tu = float(ANNOTATION_KEYS.targetUtilizationPercentage);
  if (tu) { if (tu[1] < 1 || tu[1] > 100) err(tu[0], `expected 1 <= ${tu[1]} <= 100`); else kpa.targetUtilizationPercentage = tu[1]; }
  const tbcKv = get(anns, ANNOTATION_KEYS.targetBurstCapacity);
  if (tbcKv) {
    const n = Number(tbcKv[1]);
    if (!FLOAT.test(tbcKv[1].trim()) || (n < 0 && n !== -1)) err(tbcKv[0], `invalid value: ${tbcKv[1]}`, 'a number >= 0, or -1 (activator always in path)');
    else kpa.targetBurstCapacity = n;
  }

  // durations
  const dur = (keys: readonly string[]): [string, number] | undefined => {
    const kv = get(anns, keys);
    if (!kv) return undefined;
    const d = parseGoDuration(kv[1]);
    if (d === null) { err(kv[0], `invalid value: ${kv[1]}`, 'a duration such as 30s, 2m, 1h'); return undefined; }
    return [kv[0], d];
  };
  const win = dur(ANNOTATION_KEYS.window);
  if (win) {
    if (win[1] < 6 || win[1] > 3600) err(win[0], `expected 6s <= ${anns[win[0]]} <= 1h0m0s`);
    else if (!Number.isInteger(win[1])) err(win[0], 'must be specified with at most second precision');
    else kpa.windowSeconds = win[1];
  }
  const sdd = dur(ANNOTATION_KEYS.scaleDownDelay);
  if (sdd) {
    if (sdd[1] < 0 || sdd[1] > 3600) err(sdd[0], `expected 0s <= ${anns[sdd[0]]} <= 1h0m0s`);
    else if (Math.round(sdd[1]) !== sdd[1]) err(sdd[0], 'must be specified with at most second precision');
    else kpa.scaleDownDelaySeconds = sdd[1];
  }
  const ret = dur(ANNOTATION_KEYS.scaleToZeroPodRetentionPeriod);
  if (ret) {
    if (ret[1] < 0 || ret[1] > 3600) err(ret[0], `expected 0s <= ${anns[ret[0]]} <= 1h0m0s`);
    else kpa.scaleToZeroPodRetentionPeriodSeconds = ret[1];
  }

  // metric (depends on class)
  let metric: string | undefined;
  const mk = get(anns, ANNOTATION_KEYS.metric);
  if (mk) {
    metric = mk[1];
    if (cls === KPA_CLASS && metric !== 'concurrency' && metric !== 'rps') {
      err(mk[0], `invalid value: ${metric}`, `concurrency or rps with class ${KPA_CLASS}; cpu/memory need class ${HPA_CLASS}`);
    } else if (cls === HPA_CLASS && metric === '') err(mk[0], 'invalid value: (empty)', 'cpu, memory or a custom metric name');
    else {
      kpa.metric = metric;
    }
  }

  // aggregation algorithm (KPA only)
  const alg = get(anns, ANNOTATION_KEYS.metricAggregationAlgorithm);
  if (alg && cls === KPA_CLASS && alg[1] !== '') {
    if (alg[1] === 'linear') kpa.metricAggregationAlgorithm = 'linear';
    else if (alg[1] === 'weighted-exponential' || alg[1] === 'weightedExponential') kpa.metricAggregationAlgorithm = 'weighted-exponential';
    else err(alg[0], `invalid value: ${alg[1]}`, 'linear or weighted-exponential');
  }

  // initial scale
  const is = get(anns, ANNOTATION_KEYS.initialScale);
  if (is) {
    if (!INT.test(is[1])) err(is[0], `invalid value: ${is[1]}`, 'an integer >= 0');
    else {
      const n = Number(is[1]);
      if (n < 0) err(is[0], `invalid value: ${is[1]} (must be greater than 0)`);
      else if (n === 0 && !cfg.allowZeroInitialScale) err(is[0], 'invalid value: 0 (initial-scale=0 not allowed by cluster)', 'set allow-zero-initial-scale: "true" in config-autoscaler');
      else kpa.initialScale = n;
    }
  }

  return { class: cls, ...(metric !== undefined ? { metric } : {}), kpa, problems };
}
