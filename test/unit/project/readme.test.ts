// The README's samples match the example they describe: the `get hpa` row is what the views print
// for examples/mlp-server/manifests/app.yaml's HPA, and the load command is one copy-pasteable line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { HPA_COLUMNS, hpaRow, printTable, type HorizontalPodAutoscaler } from '../../../src/views/kubectl/index.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(`${ROOT}README.md`, 'utf8');

test('README get hpa sample = the views on the example\'s HPA (MAXPODS, metric names, spacing)', () => {
  const docs = parseAllDocuments(readFileSync(`${ROOT}examples/mlp-server/manifests/app.yaml`, 'utf8')).map((d) => d.toJS());
  const spec = docs.find((d) => d?.kind === 'HorizontalPodAutoscaler');
  const hpa: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: spec.metadata.name, creationTimestamp: new Date(Date.now() - 180_000).toISOString() },
    spec: spec.spec,
    status: {
      currentReplicas: 2, desiredReplicas: 2,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 23, averageValue: '46m' } } },
        { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, current: { averageValue: '0' } } },
      ],
    },
  };
  const expected = printTable(HPA_COLUMNS, [hpaRow(hpa, Date.now())]).replace(/ +$/gm, '');
  assert.ok(readme.includes(expected), `README should contain:\n${expected}`);
});

test('README load command is one line', () => {
  const line = readme.split('\n').find((l) => l.startsWith('npx tide load --host'));
  assert.ok(line, 'a line starting with `npx tide load --host`');
  assert.match(line, /--run-time \S+$/);
  assert.ok(!readme.includes('--path /predict --method POST\n'), 'no wrapped load command');
});
