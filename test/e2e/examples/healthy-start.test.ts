// A healthy start of the README's example must not look broken: by the first sync (15 s, the default
// period) every replica has a resource sample, so neither FailedGetResourceMetric nor
// FailedComputeMetricsReplicas appears, and the example's readiness probe does not record Unhealthy
// for the new replica. `get hpa` then shows real values in current kubectl's TARGETS form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upExample } from './helpers.ts';

test('mlp-server app.yaml: first sync has CPU samples, no warnings, TARGETS "cpu: N%/50%, 0/4" (kubectl 1.37 names only Resource metrics)', { timeout: 90_000 }, async () => {
  const ex = await upExample('examples/mlp-server/manifests/app.yaml');
  try {
    const first = await ex.waitFor('the first decision', async () => ex.decisions()[0], 60_000);
    assert.equal(first.proposals[0].error, undefined, JSON.stringify(first.proposals[0]));
    const events = await ex.api<{ type: string; reason: string; object: string; message: string }[]>('/v1/events');
    assert.deepEqual(events.filter((e) => e.type === 'Warning'), []);
    const get = await ex.cli(['get', 'hpa', 'mlp-server']);
    assert.match(get.stdout, /\nmlp-server\s+Deployment\/mlp-server\s+cpu: \d+%\/50%, 0\/4\s+1\s+8\s+1\s+\d+s\n/);
  } finally { await ex.stop(); }
});
