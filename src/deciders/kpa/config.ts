// The cluster-wide `config-autoscaler` settings (Knative's ConfigMap), typed, with upstream's
// defaults and validation rules (knative/serving pkg/autoscaler/config/config.go). Durations are in
// seconds; percentages are kept as upstream stores them (target fraction 0..1, panic threshold in %).

export interface KpaClusterConfig {
  /** container-concurrency-target-percentage, stored as a fraction in (0, 1]. Default 0.7. */
  containerConcurrencyTargetFraction: number;
  /** container-concurrency-target-default: soft per-pod concurrency when containerConcurrency = 0. Default 100. */
  containerConcurrencyTargetDefault: number;
  /** requests-per-second-target-default: per-pod total RPS for metric=rps. Default 200. */
  rpsTargetDefault: number;
  /** Utilization applied to non-concurrency metrics; not settable through the ConfigMap upstream. Default 0.7. */
  targetUtilization: number;
  /** target-burst-capacity: >= 0 or exactly -1. Default 211. */
  targetBurstCapacity: number;
  /** stable-window in seconds (6..3600). Default 60. */
  stableWindowSeconds: number;
  /** panic-window-percentage (1..100). Default 10. */
  panicWindowPercentage: number;
  /** panic-threshold-percentage. Default 200. */
  panicThresholdPercentage: number;
  /** max-scale-up-rate (> 1). Default 1000. */
  maxScaleUpRate: number;
  /** max-scale-down-rate (> 1). Default 2. */
  maxScaleDownRate: number;
  /** activator-capacity (>= 1). Default 100. */
  activatorCapacity: number;
  enableScaleToZero: boolean;
  /** scale-to-zero-grace-period in seconds (> 0). Default 30. */
  scaleToZeroGracePeriodSeconds: number;
  /** scale-to-zero-pod-retention-period in seconds (>= 0). Default 0. */
  scaleToZeroPodRetentionPeriodSeconds: number;
  /** scale-down-delay in seconds (>= 0, whole seconds). Default 0. */
  scaleDownDelaySeconds: number;
  /** initial-scale (>= 0; 0 only with allowZeroInitialScale). Default 1. */
  initialScale: number;
  allowZeroInitialScale: boolean;
  /** min-scale default. 0. */
  minScale: number;
  /** max-scale default, 0 = unlimited. */
  maxScale: number;
  /** max-scale-limit, 0 = none. */
  maxScaleLimit: number;
  podAutoscalerClass: string;
  /** config-deployment progress-deadline (seconds); activation gives up after this + 30 s. Default 600. */
  progressDeadlineSeconds: number;
}

export const KPA_CLASS = 'kpa.autoscaling.knative.dev';
export const HPA_CLASS = 'hpa.autoscaling.knative.dev';
/** Decider tick period (hard-coded upstream). */
export const TICK_INTERVAL_MS = 2000;
/** Metric bucket size (hard-coded upstream). */
export const BUCKET_SIZE_MS = 1000;
export const ACTIVATION_TIMEOUT_BUFFER_SECONDS = 30;
export const MIN_ACTIVATORS = 2;

export function defaultKpaConfig(): KpaClusterConfig {
  return {
    containerConcurrencyTargetFraction: 0.7,
    containerConcurrencyTargetDefault: 100,
    rpsTargetDefault: 200,
    targetUtilization: 0.7,
    targetBurstCapacity: 211,
    stableWindowSeconds: 60,
    panicWindowPercentage: 10,
    panicThresholdPercentage: 200,
    maxScaleUpRate: 1000,
    maxScaleDownRate: 2,
    activatorCapacity: 100,
    enableScaleToZero: true,
    scaleToZeroGracePeriodSeconds: 30,
    scaleToZeroPodRetentionPeriodSeconds: 0,
    scaleDownDelaySeconds: 0,
    initialScale: 1,
    allowZeroInitialScale: false,
    minScale: 0,
    maxScale: 0,
    maxScaleLimit: 0,
    podAutoscalerClass: KPA_CLASS,
    progressDeadlineSeconds: 600,
  };
}

/**
 * Parses a Go duration string ("30s", "1m30s", "1h", "500ms", "0") into seconds.
 * Returns null when the text is not a duration.
 */
export function parseGoDuration(text: string): number | null {
  const s = text.trim();
  if (s === '0') return 0;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return null;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * unit[part[2]!]!;
  }
  total = Math.round(total * 1e9) / 1e9;
  return m[1] === '-' ? -total : total;
}

export class KpaConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}

/**
 * Builds the cluster config from a `config-autoscaler` data map (string values), validating like
 * upstream's NewConfigFromMap. Unknown keys (e.g. the retired `tick-interval`) are ignored.
 */
export function kpaConfigFromMap(data: Record<string, string>, base: KpaClusterConfig = defaultKpaConfig()): KpaClusterConfig {
  const c: KpaClusterConfig = { ...base };
  const num = (key: string): number | undefined => {
    const v = data[key];
    if (v === undefined) return undefined;
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n)) throw new KpaConfigError(key, `not a number: "${v}"`);
    return n;
  };
  const int = (key: string): number | undefined => {
    const n = num(key);
    if (n !== undefined && !Number.isInteger(n)) throw new KpaConfigError(key, `not an integer: "${data[key]}"`);
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const v = data[key];
    if (v === undefined) return undefined;
    const t = v.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false') return false;
    throw new KpaConfigError(key, `not a boolean: "${v}"`);
  };
  const dur = (key: string): number | undefined => {
    const v = data[key];
    if (v === undefined) return undefined;
    const d = parseGoDuration(v);
    if (d === null) throw new KpaConfigError(key, `not a duration: "${v}" (e.g. 30s, 1m)`);
    return d;
  };
  const set = <K extends keyof KpaClusterConfig>(k: K, v: KpaClusterConfig[K] | undefined) => { if (v !== undefined) c[k] = v; };

  set('enableScaleToZero', bool('enable-scale-to-zero'));
  set('allowZeroInitialScale', bool('allow-zero-initial-scale'));
  const pct = num('container-concurrency-target-percentage');
  if (pct !== undefined) c.containerConcurrencyTargetFraction = pct > 1 ? pct / 100 : pct;
  set('containerConcurrencyTargetDefault', num('container-concurrency-target-default'));
  set('rpsTargetDefault', num('requests-per-second-target-default'));
  set('targetBurstCapacity', num('target-burst-capacity'));
  set('panicWindowPercentage', num('panic-window-percentage'));
  set('activatorCapacity', num('activator-capacity'));
  set('panicThresholdPercentage', num('panic-threshold-percentage'));
  set('maxScaleUpRate', num('max-scale-up-rate'));
  set('maxScaleDownRate', num('max-scale-down-rate'));
  set('initialScale', int('initial-scale'));
  set('minScale', int('min-scale'));
  set('maxScale', int('max-scale'));
  set('maxScaleLimit', int('max-scale-limit'));
  set('stableWindowSeconds', dur('stable-window'));
  set('scaleDownDelaySeconds', dur('scale-down-delay'));
  set('scaleToZeroGracePeriodSeconds', dur('scale-to-zero-grace-period'));
  set('scaleToZeroPodRetentionPeriodSeconds', dur('scale-to-zero-pod-retention-period'));
  if (data['pod-autoscaler-class'] !== undefined) c.podAutoscalerClass = data['pod-autoscaler-class'];
  validateKpaConfig(c);
  return c;
}

/** Upstream's `validate`: throws KpaConfigError on the first violation. */
export function validateKpaConfig(c: KpaClusterConfig): void {
  const fail = (k: string, m: string) => { throw new KpaConfigError(k, m); };
  if (c.scaleToZeroGracePeriodSeconds <= 0) fail('scale-to-zero-grace-period', `must be positive, was ${c.scaleToZeroGracePeriodSeconds}s`);
  if (c.scaleToZeroPodRetentionPeriodSeconds < 0) fail('scale-to-zero-pod-retention-period', 'cannot be negative');
  if (c.targetBurstCapacity < 0 && c.targetBurstCapacity !== -1) fail('target-burst-capacity', `must be either non-negative or -1 (for unlimited), was ${c.targetBurstCapacity}`);
  if (!(c.containerConcurrencyTargetFraction > 0 && c.containerConcurrencyTargetFraction <= 1)) fail('container-concurrency-target-percentage', `must be in (0, 100], was ${c.containerConcurrencyTargetFraction * 100}`);
  if (c.containerConcurrencyTargetFraction * c.containerConcurrencyTargetDefault < 0.01) fail('container-concurrency-target-default', 'percentage × default must be at least 0.01');
  if (c.rpsTargetDefault < 0.01) fail('requests-per-second-target-default', `must be at least 0.01, was ${c.rpsTargetDefault}`);
  if (c.maxScaleUpRate <= 1) fail('max-scale-up-rate', `must be greater than 1, was ${c.maxScaleUpRate}`);
  if (c.maxScaleDownRate <= 1) fail('max-scale-down-rate', `must be greater than 1, was ${c.maxScaleDownRate}`);
  if (c.stableWindowSeconds < 6 || c.stableWindowSeconds > 3600) fail('stable-window', `must be in [6s, 1h], was ${c.stableWindowSeconds}s`);
  if (!Number.isInteger(c.stableWindowSeconds)) fail('stable-window', `must be specified with at most second precision, was ${c.stableWindowSeconds}s`);
  if (c.scaleDownDelaySeconds < 0) fail('scale-down-delay', 'cannot be negative');
  if (!Number.isInteger(c.scaleDownDelaySeconds)) fail('scale-down-delay', 'must be specified with at most second precision');
  if (c.panicWindowPercentage < 1 || c.panicWindowPercentage > 100) fail('panic-window-percentage', `must be in [1, 100], was ${c.panicWindowPercentage}`);
  if (c.activatorCapacity < 1) fail('activator-capacity', `must be at least 1, was ${c.activatorCapacity}`);
  if (c.initialScale < 0 || (c.initialScale === 0 && !c.allowZeroInitialScale)) fail('initial-scale', `must be greater than 0 (or 0 with allow-zero-initial-scale), was ${c.initialScale}`);
  if (c.minScale < 0) fail('min-scale', `cannot be negative, was ${c.minScale}`);
  if (c.maxScaleLimit < 0) fail('max-scale-limit', `cannot be negative, was ${c.maxScaleLimit}`);
  if (c.maxScale < 0 || (c.maxScaleLimit > 0 && (c.maxScale === 0 || c.maxScale > c.maxScaleLimit))) {
    fail('max-scale', `must be in [0, max-scale-limit] (and non-zero when a limit is set), was ${c.maxScale}`);
  }
  if (c.maxScale !== 0 && c.minScale > c.maxScale) fail('min-scale', `cannot exceed max-scale (${c.maxScale}), was ${c.minScale}`);
}
