// `tide decide --feature-gates`: Kubernetes v1.37 by default, older releases' HPA behaviour on request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'tide.js');

function tide(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: worker}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: worker}
  minReplicas: 0
  maxReplicas: 10
  metrics:
  - type: External
    external: {metric: {name: queue_depth}, target: {type: Value, value: "100"}}
  behavior:
    scaleUp: {tolerance: "0.5"}
    scaleDown: {stabilizationWindowSeconds: 0}
`;
const scenario = JSON.stringify({
  policy: hpa,
  replicas: 2,
  steps: [
    { at: 0, metrics: [{ values: [130] }] }, // 1.3: within a 50% scale-up tolerance, outside 10%
    { at: 15, metrics: [{ values: [0] }] }, // empty queue: scale to zero
  ],
});

test('default (v1.37): minReplicas 0 is valid, the HPA scales to zero and says so; behavior tolerance applies', () => {
  const r = tide(['decide', '-'], scenario);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(recs.map((x) => x.desiredReplicas), [2, 0]);
  const z = recs[1].conditions.find((c: { type: string }) => c.type === 'ScaledToZero');
  assert.deepEqual([z.status, z.reason], ['True', 'ScaledToZero']);
});

test('--feature-gates HPAConfigurableTolerance=false ignores behavior tolerances (v1.33/v1.34)', () => {
  const r = tide(['decide', '-', '--feature-gates', 'HPAConfigurableTolerance=false,SomeOtherGate=true'], scenario);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs[0].desiredReplicas, 3); // ceil(1.3 × 2 ready pods)
  assert.deepEqual(recs[0].inputs.config.featureGates, { HPAConfigurableTolerance: false });
});

test('--feature-gates HPAScaleToZero=false rejects minReplicas 0 (Kubernetes ≤ 1.36)', () => {
  const r = tide(['decide', '-', '--feature-gates', 'HPAScaleToZero=false'], scenario);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.minReplicas: must be greater than or equal to 1 \(minReplicas: 0 needs the HPAScaleToZero feature gate/);
  const bad = tide(['decide', '-', '--feature-gates', 'HPAScaleToZero=maybe'], scenario);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--feature-gates: HPAScaleToZero: expected true or false, got "maybe"/);
});
