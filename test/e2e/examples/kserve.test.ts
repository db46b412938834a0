// Issue 3/4 acceptance on the KServe flavour of the real example
// (`examples/mlp-server/manifests/inferenceservice.yaml`: minReplicas 0, concurrency target 4,
// containerConcurrency 8, 10 s window, no scale-to-zero retention): idle, it goes to zero; a cold
// request through the proxy is held by the activator while a replica starts and answers 200 with an
// `X-Tide-Cold-Start` header; idle again, it returns to zero after the short windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deployment, REQUEST_BODY, serviceUrl, upExample } from './helpers.ts';

const DEPLOYMENT = 'mlp-server-predictor';

test('KServe mlp-server: scale to zero, a cold request gets 200 + X-Tide-Cold-Start, back to zero', { timeout: 90_000 }, async (t) => {
  // the cluster-wide scale-to-zero grace period (30 s by default) is a config-autoscaler setting, not
  // a per-service annotation: shortened here for the test
  const ex = await upExample('examples/mlp-server/manifests/inferenceservice.yaml',
    ['--sync-period', '1s', '--metric-resolution', '500ms', '--kpa-config', 'scale-to-zero-grace-period=2s']);
  try {
    const url = await serviceUrl(ex, 'mlp-server');
    const atZero = async () => { const d = await deployment(ex, DEPLOYMENT); return d !== undefined && d.replicas === 0 && d.terminating === 0; };
    await ex.waitFor('the idle service to scale to zero', atZero, 40_000);
    const toZero = ex.decisions().find((r) => r.rescale && r.desiredReplicas === 0);
    assert.ok(toZero, 'a scale-to-zero decision was recorded');
    assert.equal(toZero.decider, 'kpa');

    // cold request: no replica exists; the activator holds it until one is ready
    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(REQUEST_BODY), signal: AbortSignal.timeout(60_000) });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    const cold = res.headers.get('x-tide-cold-start');
    assert.ok(cold !== null, `no X-Tide-Cold-Start header: ${JSON.stringify([...res.headers])}`);
    assert.match(cold, /^\d+(\.\d+)?$/);
    assert.ok(Number(cold) > 0, `cold start of ${cold} ms`);
    const json = JSON.parse(body);
    assert.equal(json.predictions.length, 1);
    assert.ok(['idle', 'normal', 'degraded', 'fault'].includes(json.predictions[0].class), body);
    const d = await deployment(ex, DEPLOYMENT);
    assert.ok(d && d.replicas >= 1, `scaled from zero: ${JSON.stringify(d)}`);

    // a warm request does not carry the header
    const warm = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(REQUEST_BODY), signal: AbortSignal.timeout(30_000) });
    await warm.text();
    assert.equal(warm.status, 200);
    assert.equal(warm.headers.get('x-tide-cold-start'), null);

    // idle again: back to zero after the 10 s window and the 2 s grace period, not before
    const idleSince = Date.now();
    await ex.waitFor('the service to return to zero', atZero, 40_000);
    const idleMs = Date.now() - idleSince;
    assert.ok(idleMs >= 8_000, `returned to zero after only ${idleMs} ms (window 10 s)`);
    t.diagnostic(`cold start ${cold} ms; back to zero ${idleMs} ms after the last request`);
    const recs = ex.decisions();
    const fromZero = recs.findIndex((r) => r.rescale && r.currentReplicas === 0 && r.desiredReplicas >= 1);
    assert.ok(fromZero >= 0, 'a scale-from-zero decision was recorded');
    assert.ok(recs.slice(fromZero + 1).some((r) => r.rescale && r.desiredReplicas === 0), 'a second scale-to-zero decision was recorded');
  } finally {
    await ex.stop();
  }
});
