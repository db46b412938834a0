// The example inference servers as real processes: predict works, health gates on model load, the
// Prometheus metrics the HPA manifests use are exposed; and the model itself is a real classifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { makeData, predict } from '../../../examples/mlp-server/model.ts';
import type { ModelFile } from '../../../examples/mlp-server/model.ts';
import { createProxy } from '../../../src/runtime/local/proxy.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function startServer(cmd: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? /Uvicorn running on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', () => {
      const m = /Uvicorn running on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

async function call(port: number, method: string, path: string, body?: unknown) {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    method: method as 'GET',
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function untilHealthy(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await call(port, 'GET', '/health')).status === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('never healthy');
}

test('the committed MLP weights classify held-out data well', () => {
  const m = JSON.parse(readFileSync(`${root}examples/mlp-server/weights.json`, 'utf8')) as ModelFile;
  const d = makeData(1000, 4242);
  let ok = 0;
  d.x.forEach((x, i) => {
    const p = predict(m, x);
    if (p.indexOf(Math.max(...p)) === d.y[i]) ok++;
  });
  assert.ok(ok / 1000 > 0.95, `accuracy ${ok / 1000}`);
});

test('mlp-server: health gates on model load; predict; metrics; through the proxy', async () => {
  const s = await startServer(process.execPath, ['server.ts'], `${root}examples/mlp-server`, { STARTUP_DELAY_MS: '300', TTA_SAMPLES: '20' });
  try {
    assert.equal((await call(s.port, 'GET', '/health')).status, 503);
    await untilHealthy(s.port);
    const d = makeData(5, 99);
    const one = await call(s.port, 'POST', '/predict', { features: d.x[0] });
    assert.equal(one.status, 200);
    const p = JSON.parse(one.text);
    assert.equal(p.predictions.length, 1);
    assert.ok(['idle', 'normal', 'degraded', 'fault'].includes(p.predictions[0].class));
    assert.ok(Math.abs(p.predictions[0].probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-3);
    const many = JSON.parse((await call(s.port, 'POST', '/predict', { instances: d.x })).text);
    assert.deepEqual(many.predictions.map((x: { index: number }) => x.index), d.y);
    assert.equal((await call(s.port, 'POST', '/predict', { features: [1, 2] })).status, 400);
    assert.equal((await call(s.port, 'POST', '/predict', 'not json')).status, 400);

    // through Tide's proxy with a concurrency cap
    const proxy = await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 100, requestTimeoutMs: 10_000, containerConcurrency: 2 });
    proxy.addReplica('a', { host: '127.0.0.1', port: s.port });
    proxy.setReady('a', true);
    const res = await Promise.all(Array.from({ length: 20 }, () => call(proxy.port, 'POST', '/predict', { features: d.x[1] })));
    assert.ok(res.every((r) => r.status === 200));
    await proxy.close();

    const metrics = (await call(s.port, 'GET', '/metrics')).text;
    assert.match(metrics, /^# TYPE inference_queue_depth gauge$/m);
    assert.match(metrics, /^inference_queue_depth 0$/m);
    assert.match(metrics, /^inference_requests_total\{code="200"\} 22$/m);
    assert.match(metrics, /^inference_requests_total\{code="400"\} 2$/m);
    assert.match(metrics, /^inference_request_duration_seconds_count 24$/m);
    assert.match(metrics, /^process_cpu_seconds_total /m);
  } finally {
    await s.stop();
  }
});

const venvPython = `${root}examples/fastapi-server/.venv/bin/python`;
test('fastapi-server (when its venv exists): same endpoints and metrics', { skip: !existsSync(venvPython) && 'run examples/fastapi-server/setup.sh first' }, async () => {
  const check = spawnSync(venvPython, ['-c', 'import fastapi, uvicorn, prometheus_client']);
  assert.equal(check.status, 0, 'venv is incomplete');
  const s = await startServer(venvPython, ['-m', 'uvicorn', 'server:app', '--host', '127.0.0.1', '--port', '0'], `${root}examples/fastapi-server`, { TTA_SAMPLES: '4' });
  try {
    await untilHealthy(s.port);
    const d = makeData(3, 7);
    const r = JSON.parse((await call(s.port, 'POST', '/predict', { instances: d.x })).text);
    assert.deepEqual(r.predictions.map((x: { index: number }) => x.index), d.y);
    assert.equal((await call(s.port, 'POST', '/predict', { features: [1] })).status, 400);
    const metrics = (await call(s.port, 'GET', '/metrics')).text;
    assert.match(metrics, /^inference_queue_depth 0\.0$/m);
    assert.match(metrics, /^inference_requests_total\{code="200"\} 1\.0$/m);
  } finally {
    await s.stop();
  }
});
