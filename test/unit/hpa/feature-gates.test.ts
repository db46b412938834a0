import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFeatureGates } from '../../../src/deciders/hpa/feature-gates.ts';
import { resolveHpaFeatureGates } from '../../../src/deciders/hpa/decide.ts';
import { UserError } from '../../../src/core/errors.ts';

test('--feature-gates: kube syntax, HPA gates kept, other gates ignored, errors are UserErrors', () => {
  assert.deepEqual(parseFeatureGates('HPAScaleToZero=false, HPAConfigurableTolerance=TRUE,PodLevelResources=true'), { HPAScaleToZero: false, HPAConfigurableTolerance: true });
  assert.deepEqual(parseFeatureGates(''), {});
  assert.throws(() => parseFeatureGates('HPAScaleToZero'), (e: unknown) => e instanceof UserError && /expected Name=true\|false, got "HPAScaleToZero"/.test((e as Error).message));
  assert.throws(() => parseFeatureGates('HPAScaleToZero=1'), (e: unknown) => e instanceof UserError && /HPAScaleToZero: expected true or false, got "1"/.test((e as Error).message));
});

test('feature gates default to Kubernetes v1.37 and merge per gate', () => {
  assert.deepEqual(resolveHpaFeatureGates(undefined), { HPAScaleToZero: true, HPAConfigurableTolerance: true });
  assert.deepEqual(resolveHpaFeatureGates({ HPAScaleToZero: false }), { HPAScaleToZero: false, HPAConfigurableTolerance: true });
});
