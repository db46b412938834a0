// makeKpaPolicy / resolveMetricTarget / initialScaleOf as knative's MakeDecider, ResolveMetricTarget
// and GetInitialScale resolve them (own numbers): containerConcurrency 1, the target annotation
// capped by it, initial-scale annotation vs cluster default, and every cluster default that applies
// when the revision says nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialScaleOf, makeKpaPolicy, resolveMetricTarget } from '../../../src/deciders/kpa/policy.ts';
import { defaultKpaConfig, kpaConfigFromMap } from '../../../src/deciders/kpa/config.ts';

test('containerConcurrency 1 is a hard limit: total 1, and a larger target annotation is capped at 1', () => {
  const cfg = defaultKpaConfig();
  assert.deepEqual(resolveMetricTarget('concurrency', 1, {}, cfg), { targetValue: 0.7, totalValue: 1 });
  assert.equal(resolveMetricTarget('concurrency', 1, { target: 5 }, cfg).totalValue, 1);
  assert.equal(resolveMetricTarget('concurrency', 0, { target: 5 }, cfg).totalValue, 5, 'cc 0 = unlimited: the annotation counts');
  assert.equal(resolveMetricTarget('rps', 1, { target: 5 }, cfg).totalValue, 5, 'rps is never capped by cc');
  // targets never go below 0.01
  assert.equal(resolveMetricTarget('concurrency', 0, { target: 0.001 }, cfg).targetValue, 0.01);
  assert.equal(resolveMetricTarget('concurrency', 0, { targetUtilizationPercentage: 50 }, cfg).targetValue, 50);
});

test('initial scale: the annotation wins, except 0 without allow-zero-initial-scale', () => {
  const cfg = kpaConfigFromMap({ 'initial-scale': '3' });
  assert.equal(initialScaleOf({ initialScale: 1 }, cfg), 1);
  assert.equal(initialScaleOf({ initialScale: 5 }, cfg), 5);
  assert.equal(initialScaleOf({ initialScale: 0 }, cfg), 3);
  assert.equal(initialScaleOf({}, cfg), 3);
  const zero = kpaConfigFromMap({ 'initial-scale': '3', 'allow-zero-initial-scale': 'true' });
  assert.equal(initialScaleOf({ initialScale: 0 }, zero), 0);
  assert.equal(initialScaleOf({ initialScale: 2 }, zero), 2);
});

test('a revision that says nothing gets the cluster defaults', () => {
  const cfg = kpaConfigFromMap({ 'scale-down-delay': '30s', 'max-scale': '7', 'panic-threshold-percentage': '300', 'min-scale': '1' });
  const p = makeKpaPolicy({ name: 'r', target: 'Deployment/r' }, cfg);
  assert.equal(p.containerConcurrency, 0);
  assert.equal(p.scaleDownDelaySeconds, 30);
  assert.equal(p.maxScale, 7);
  assert.equal(p.minScale, 1);
  assert.equal(p.panicThreshold, 3);
  assert.equal(p.activationScale, 0);
  assert.equal(p.aggregation, 'linear');
  assert.equal(p.reachable, true);
  assert.equal(p.metric, 'concurrency');
  assert.equal('namespace' in p, false);
  const q = makeKpaPolicy({
    name: 'r', namespace: 'ns', target: 'Deployment/r', reachable: false,
    annotations: { scaleDownDelaySeconds: 0, maxScale: 2, activationScale: 4, metricAggregationAlgorithm: 'weighted-exponential', panicThresholdPercentage: 150, metric: 'rps' },
  }, cfg);
  assert.equal(q.namespace, 'ns');
  assert.equal(q.scaleDownDelaySeconds, 0);
  assert.equal(q.maxScale, 2);
  assert.equal(q.activationScale, 4);
  assert.equal(q.aggregation, 'weighted-exponential');
  assert.equal(q.panicThreshold, 1.5);
  assert.equal(q.reachable, false);
  assert.equal(q.metric, 'rps');
});
