// The kind → module registry: every built-in kind is there, and a toy kind can come and go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoscalerFactory, autoscalerKinds, createAutoscaler, registerAutoscaler, unregisterAutoscaler } from '../../../src/autoscalers/factory.ts';
import { createHpaAutoscaler } from '../../../src/autoscalers/hpa.ts';
import { createKpaAutoscaler } from '../../../src/autoscalers/kpa.ts';
import { createKedaAutoscaler } from '../../../src/autoscalers/keda.ts';
import { createTideAutoscaler } from '../../../src/autoscalers/tide.ts';
import type { Autoscaler, AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { fakePort } from './helpers.ts';

test('every built-in kind is registered with its module', () => {
  assert.deepEqual(autoscalerKinds().sort(), ['hpa', 'keda', 'kpa', 'tide']);
  assert.equal(autoscalerFactory('hpa'), createHpaAutoscaler);
  assert.equal(autoscalerFactory('kpa'), createKpaAutoscaler);
  assert.equal(autoscalerFactory('keda'), createKedaAutoscaler);
  assert.equal(autoscalerFactory('tide'), createTideAutoscaler);
  assert.equal(autoscalerFactory('nope'), undefined);
});

test('a registered kind is built with the spec, port and options; unregistered, it is unknown again', () => {
  const spec = { kind: 'toy', name: 'web', target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, policy: {} } as unknown as AutoscalerSpec;
  const port = fakePort();
  const built = { toy: true } as unknown as Autoscaler;
  const calls: unknown[][] = [];
  registerAutoscaler('toy', (...args) => { calls.push(args); return built; });
  try {
    assert.equal(createAutoscaler(spec, port, { syncPeriodMs: 5 }), built);
    assert.deepEqual(calls, [[spec, port, { syncPeriodMs: 5 }]]);
    assert.ok(autoscalerKinds().includes('toy'));
  } finally {
    unregisterAutoscaler('toy');
  }
  assert.equal(autoscalerFactory('toy'), undefined);
  assert.throws(() => createAutoscaler(spec, port), /no autoscaler for kind "toy" \(known: hpa, kpa, keda, tide\)/);
});
