// Issue 3 acceptance on the Python FastAPI variant of the example: `examples/fastapi-server/setup.sh`
// builds `.venv` from PyPI once (kept in the example folder, gitignored, reused by later runs), then
// `tide up examples/fastapi-server/manifests/app-short.yaml` serves /predict through the proxy and the
// HPA reports a real CPU utilization (never `<unknown>`: the manifest has CPU requests), which rises
// under load. Skipped, loudly, only when this machine's python3 cannot create virtual environments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployment, getHpa, REQUEST_BODY, ROOT, serviceUrl, upExample } from './helpers.ts';

const EXAMPLE = join(ROOT, 'examples/fastapi-server');
const VENV_PY = join(EXAMPLE, '.venv/bin/python');

function venvReady(): boolean {
  return existsSync(join(EXAMPLE, '.venv/bin/uvicorn'))
    && spawnSync(VENV_PY, ['-c', 'import fastapi, uvicorn, prometheus_client'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
}

/** null when the venv is usable (built now if needed), else why the test must be skipped. */
function ensureVenv(): string | null {
  if (venvReady()) return null;
  const probe = spawnSync('python3', ['-c', 'import venv, ensurepip'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error || probe.status !== 0) return `python3 with venv/ensurepip is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}); install python3-venv to run this test`;
  const setup = spawnSync(join(EXAMPLE, 'setup.sh'), { encoding: 'utf8', timeout: 240_000 });
  assert.equal(setup.status, 0, `examples/fastapi-server/setup.sh failed (${setup.error?.message ?? setup.status}):\n${setup.stdout}\n${setup.stderr}`);
  assert.ok(venvReady(), 'setup.sh succeeded but the venv cannot import fastapi/uvicorn/prometheus_client');
  return null;
}

const skip = ensureVenv();
if (skip) {
  console.error(`\n!!!!!!!!!! SKIPPING the FastAPI example e2e test: ${skip} !!!!!!!!!!\n`);
}

test('FastAPI mlp-server under tide up: /predict through the proxy, a real CPU value in the HPA', { timeout: 90_000, skip: skip ?? false }, async () => {
  const ex = await upExample('examples/fastapi-server/manifests/app-short.yaml',
    ['--sync-period', '1s', '--metric-resolution', '500ms', '--probe-period', '250ms']);
  try {
    const url = await serviceUrl(ex, 'fastapi-server');
    await ex.waitFor('a ready fastapi-server replica', async () => (await deployment(ex, 'fastapi-server'))?.ready === 1, 40_000);

    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(REQUEST_BODY), signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.match(res.headers.get('server') ?? '', /uvicorn/, 'answered by uvicorn');
    const json = JSON.parse(body);
    assert.equal(json.predictions.length, 1);
    assert.ok(['idle', 'normal', 'degraded', 'fault'].includes(json.predictions[0].class), body);
    assert.equal(json.predictions[0].probabilities.length, 4);

    // a real CPU utilization, then a higher one under load (pure-Python inference is CPU-bound)
    const cpuOf = (h: any): number | undefined => {
      const u = h?.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
      return typeof u === 'number' ? u : undefined;
    };
    const idle = await ex.waitFor('a CPU value in tide get hpa', async () => cpuOf(await getHpa(ex, 'fastapi-server')) !== undefined, 20_000);
    assert.ok(idle);
    const load = ex.load(['--host', url, '--path', '/predict', '-X', 'POST', '--body', `@${REQUEST_BODY}`, '-H', 'content-type: application/json', '--users', '4', '--run-time', '6s']);
    const busy = await ex.waitFor('CPU utilization above 50% under load', async () => {
      const h = await getHpa(ex, 'fastapi-server');
      const c = cpuOf(h);
      return c !== undefined && c > 50 ? h : undefined;
    }, 20_000);
    assert.equal(busy.spec.metrics[0].resource.name, 'cpu');
    assert.equal(busy.spec.metrics[0].resource.target.averageUtilization, 50);
    const table = await ex.cli(['get', 'hpa']);
    assert.equal(table.code, 0, table.stderr);
    assert.doesNotMatch(table.stdout, /<unknown>/);
    assert.match(table.stdout, /fastapi-server\s+Deployment\/fastapi-server\s+cpu: \d+%\/50%, \S+\/4\s+1\s+8\s+\d+/);
    const l = await load.done;
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.report?.errors?.total, 0, `load errors: ${JSON.stringify(l.report?.errors)} ${l.stderr}`);
    assert.ok(l.report.requests > 10, `only ${l.report.requests} requests`);
  } finally {
    await ex.stop();
  }
});
