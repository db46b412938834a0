// config-autoscaler parsing and validation at every boundary of knative's
// pkg/autoscaler/config/config.go NewConfigFromMap / validate (the allowed edge passes, one step
// past it fails), and Go duration parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultKpaConfig, KpaConfigError, kpaConfigFromMap, parseGoDuration, validateKpaConfig } from '../../../src/deciders/kpa/config.ts';

const ok = (data: Record<string, string>) => kpaConfigFromMap(data);
const bad = (data: Record<string, string>, key: string) => {
  assert.throws(() => kpaConfigFromMap(data), (e: unknown) => e instanceof KpaConfigError && e.key === key, JSON.stringify(data));
};

test('defaults are upstream defaults', () => {
  const c = defaultKpaConfig();
  assert.deepEqual(
    [c.containerConcurrencyTargetFraction, c.containerConcurrencyTargetDefault, c.rpsTargetDefault, c.targetUtilization, c.targetBurstCapacity,
      c.stableWindowSeconds, c.panicWindowPercentage, c.panicThresholdPercentage, c.maxScaleUpRate, c.maxScaleDownRate, c.activatorCapacity,
      c.enableScaleToZero, c.scaleToZeroGracePeriodSeconds, c.scaleToZeroPodRetentionPeriodSeconds, c.scaleDownDelaySeconds, c.initialScale,
      c.allowZeroInitialScale, c.minScale, c.maxScale, c.maxScaleLimit, c.progressDeadlineSeconds],
    [0.7, 100, 200, 0.7, 211, 60, 10, 200, 1000, 2, 100, true, 30, 0, 0, 1, false, 0, 0, 0, 600]);
  assert.doesNotThrow(() => validateKpaConfig(c));
});

test('every key is read (and only given keys change the config)', () => {
  const c = ok({
    'enable-scale-to-zero': 'FALSE', 'allow-zero-initial-scale': ' true ', 'container-concurrency-target-default': '50',
    'requests-per-second-target-default': '150', 'target-burst-capacity': '0', 'panic-window-percentage': '20', 'activator-capacity': '80',
    'panic-threshold-percentage': '300', 'max-scale-up-rate': '10', 'max-scale-down-rate': '3', 'initial-scale': '0', 'min-scale': '1',
    'max-scale': '9', 'max-scale-limit': '10', 'stable-window': '90s', 'scale-down-delay': '1m', 'scale-to-zero-grace-period': '45s',
    'scale-to-zero-pod-retention-period': '1m30s', 'pod-autoscaler-class': 'hpa.autoscaling.knative.dev',
  });
  assert.deepEqual(
    [c.enableScaleToZero, c.allowZeroInitialScale, c.containerConcurrencyTargetDefault, c.rpsTargetDefault, c.targetBurstCapacity,
      c.panicWindowPercentage, c.activatorCapacity, c.panicThresholdPercentage, c.maxScaleUpRate, c.maxScaleDownRate, c.initialScale,
      c.minScale, c.maxScale, c.maxScaleLimit, c.stableWindowSeconds, c.scaleDownDelaySeconds, c.scaleToZeroGracePeriodSeconds,
      c.scaleToZeroPodRetentionPeriodSeconds, c.podAutoscalerClass],
    [false, true, 50, 150, 0, 20, 80, 300, 10, 3, 0, 1, 9, 10, 90, 60, 45, 90, 'hpa.autoscaling.knative.dev']);
  assert.deepEqual(ok({}), defaultKpaConfig());
});

test('percentage: values above 1 are percent, values in (0, 1] are a fraction; 0 and above 100 % are refused', () => {
  assert.equal(ok({ 'container-concurrency-target-percentage': '1' }).containerConcurrencyTargetFraction, 1);
  assert.equal(ok({ 'container-concurrency-target-percentage': '0.5' }).containerConcurrencyTargetFraction, 0.5);
  assert.equal(ok({ 'container-concurrency-target-percentage': '100' }).containerConcurrencyTargetFraction, 1);
  assert.equal(ok({ 'container-concurrency-target-percentage': '1.5' }).containerConcurrencyTargetFraction, 0.015);
  bad({ 'container-concurrency-target-percentage': '0' }, 'container-concurrency-target-percentage');
  bad({ 'container-concurrency-target-percentage': '100.5' }, 'container-concurrency-target-percentage');
  // fraction × default ≥ 0.01
  assert.equal(ok({ 'container-concurrency-target-percentage': '0.01', 'container-concurrency-target-default': '1' }).containerConcurrencyTargetDefault, 1);
  bad({ 'container-concurrency-target-percentage': '0.01', 'container-concurrency-target-default': '0.99' }, 'container-concurrency-target-default');
});

test('numeric bounds: the edge passes, one step past fails', () => {
  assert.equal(ok({ 'requests-per-second-target-default': '0.01' }).rpsTargetDefault, 0.01);
  bad({ 'requests-per-second-target-default': '0.009' }, 'requests-per-second-target-default');
  assert.equal(ok({ 'max-scale-up-rate': '1.001' }).maxScaleUpRate, 1.001);
  bad({ 'max-scale-up-rate': '1' }, 'max-scale-up-rate');
  assert.equal(ok({ 'max-scale-down-rate': '1.001' }).maxScaleDownRate, 1.001);
  bad({ 'max-scale-down-rate': '1' }, 'max-scale-down-rate');
  assert.equal(ok({ 'activator-capacity': '1' }).activatorCapacity, 1);
  bad({ 'activator-capacity': '0.99' }, 'activator-capacity');
  assert.equal(ok({ 'panic-window-percentage': '1' }).panicWindowPercentage, 1);
  assert.equal(ok({ 'panic-window-percentage': '100' }).panicWindowPercentage, 100);
  bad({ 'panic-window-percentage': '100.1' }, 'panic-window-percentage');
  bad({ 'panic-window-percentage': '0.99' }, 'panic-window-percentage');
  assert.equal(ok({ 'target-burst-capacity': '0' }).targetBurstCapacity, 0);
  bad({ 'target-burst-capacity': '-0.5' }, 'target-burst-capacity');
  bad({ 'target-burst-capacity': '-1.5' }, 'target-burst-capacity');
});

test('durations: grace > 0, retention ≥ 0, delay ≥ 0 in whole seconds, stable window in [6 s, 1 h] in whole seconds', () => {
  assert.equal(ok({ 'scale-to-zero-grace-period': '1ms' }).scaleToZeroGracePeriodSeconds, 0.001);
  bad({ 'scale-to-zero-grace-period': '-1s' }, 'scale-to-zero-grace-period');
  assert.equal(ok({ 'scale-to-zero-pod-retention-period': '0s' }).scaleToZeroPodRetentionPeriodSeconds, 0);
  bad({ 'scale-to-zero-pod-retention-period': '-1s' }, 'scale-to-zero-pod-retention-period');
  assert.equal(ok({ 'scale-down-delay': '0s' }).scaleDownDelaySeconds, 0);
  bad({ 'scale-down-delay': '-1s' }, 'scale-down-delay');
  bad({ 'scale-down-delay': '1500ms' }, 'scale-down-delay');
  assert.equal(ok({ 'stable-window': '6s' }).stableWindowSeconds, 6);
  assert.equal(ok({ 'stable-window': '1h' }).stableWindowSeconds, 3600);
  bad({ 'stable-window': '3601s' }, 'stable-window');
  bad({ 'stable-window': '5s' }, 'stable-window');
});

test('scales: initial ≥ 1 (0 only when allowed), min ≥ 0, max in [0, limit] and non-zero under a limit, min ≤ max', () => {
  bad({ 'initial-scale': '-1', 'allow-zero-initial-scale': 'true' }, 'initial-scale');
  assert.equal(ok({ 'initial-scale': '1' }).initialScale, 1);
  bad({ 'initial-scale': '1.5' }, 'initial-scale');
  assert.equal(ok({ 'min-scale': '0' }).minScale, 0);
  bad({ 'min-scale': '-1' }, 'min-scale');
  bad({ 'max-scale': '-1' }, 'max-scale');
  bad({ 'max-scale-limit': '-1' }, 'max-scale-limit');
  assert.equal(ok({ 'max-scale': '10', 'max-scale-limit': '10' }).maxScale, 10);
  bad({ 'max-scale': '11', 'max-scale-limit': '10' }, 'max-scale');
  bad({ 'max-scale': '0', 'max-scale-limit': '10' }, 'max-scale');
  // a limit of 1 is a limit: max-scale must then be exactly 1
  bad({ 'max-scale': '0', 'max-scale-limit': '1' }, 'max-scale');
  bad({ 'max-scale': '2', 'max-scale-limit': '1' }, 'max-scale');
  assert.equal(ok({ 'max-scale': '1', 'max-scale-limit': '1' }).maxScale, 1);
  assert.equal(ok({ 'max-scale': '0', 'max-scale-limit': '0' }).maxScale, 0);
  assert.equal(ok({ 'min-scale': '5', 'max-scale': '5' }).minScale, 5);
  bad({ 'min-scale': '6', 'max-scale': '5' }, 'min-scale');
  assert.equal(ok({ 'min-scale': '6', 'max-scale': '0' }).minScale, 6, 'max 0 = unlimited');
});

test('malformed values: numbers, integers, booleans, durations', () => {
  bad({ 'max-scale-up-rate': '' }, 'max-scale-up-rate');
  bad({ 'max-scale-up-rate': 'fast' }, 'max-scale-up-rate');
  bad({ 'max-scale-up-rate': 'Infinity' }, 'max-scale-up-rate');
  bad({ 'enable-scale-to-zero': 'yes' }, 'enable-scale-to-zero');
  bad({ 'stable-window': '60' }, 'stable-window');
  assert.equal(ok({ 'enable-scale-to-zero': 'True' }).enableScaleToZero, true);
});

test('Go durations: units, fractions, sums and signs', () => {
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration(' 0 '), 0);
  assert.equal(parseGoDuration('1h'), 3600);
  assert.equal(parseGoDuration('2m'), 120);
  assert.equal(parseGoDuration('1.5s'), 1.5);
  assert.equal(parseGoDuration('.5s'), 0.5);
  assert.equal(parseGoDuration('500ms'), 0.5);
  assert.equal(parseGoDuration('250us'), 0.00025);
  assert.equal(parseGoDuration('250µs'), 0.00025);
  assert.equal(parseGoDuration('1000000ns'), 0.001);
  assert.equal(parseGoDuration('1h1m1s'), 3661);
  assert.equal(parseGoDuration('-1m'), -60);
  assert.equal(parseGoDuration('+1m'), 60);
  assert.equal(parseGoDuration('0.1s0.2s'), 0.3, 'rounded to the nanosecond, not 0.30000000000000004');
  for (const badText of ['', '1', 's', '1d', '1 s', '--1s', '1s-']) assert.equal(parseGoDuration(badText), null, badText);
});

test('hard-coded upstream constants: 2 s decider tick, 1 s metric buckets', async () => {
  const { TICK_INTERVAL_MS, BUCKET_SIZE_MS } = await import('../../../src/deciders/kpa/config.ts');
  assert.equal(TICK_INTERVAL_MS, 2000);
  assert.equal(BUCKET_SIZE_MS, 1000);
});

test('more edges: a malformed retention is refused (not read as 0), max-scale 1 under a limit is fine, sums round to the nanosecond', () => {
  assert.throws(() => kpaConfigFromMap({ 'scale-to-zero-pod-retention-period': 'abc' }), /not a duration/);
  assert.equal(ok({ 'max-scale': '1', 'max-scale-limit': '10' }).maxScale, 1);
  assert.equal(parseGoDuration('0.1s0.7s'), 0.8);
});
