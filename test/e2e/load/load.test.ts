// `tide load` against a local server: request counts, statuses, errors and report fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { runLoad } from '../../../src/load/runner.ts';

let server: http.Server;
let base = '';
let hits = 0;
const bodies: string[] = [];
const seenHeaders: http.IncomingHttpHeaders[] = [];
let maxActive = 0;
let active = 0;
const dir = mkdtempSync(join(tmpdir(), 'tide-load-'));

before(async () => {
  server = http.createServer((req, res) => {
    hits++;
    active++;
    maxActive = Math.max(maxActive, active);
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (req.url === '/echo') {
        bodies.push(body);
        seenHeaders.push(req.headers);
      }
      const done = () => {
        active--;
        if (req.url === '/fail') res.writeHead(503).end('no');
        else res.end('ok');
      };
      if (req.url === '/slow') setTimeout(done, 20);
      else done();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const common = { method: 'GET', headers: {}, timeoutMs: 5000 };

test('closed loop: N users, never more than N in flight, report adds up', async () => {
  hits = 0;
  maxActive = 0;
  const r = await runLoad({ ...common, host: base, path: '/slow', runTimeMs: 600, mode: { kind: 'users', users: 4, spawnRate: 0 } });
  assert.ok(r.requests > 10, `only ${r.requests} requests`);
  assert.equal(r.statuses['200'], r.requests);
  assert.equal(r.errors.total, 0);
  assert.ok(maxActive <= 4);
  assert.ok(hits >= r.requests && hits <= r.requests + r.unfinished);
  assert.ok(r.latencyMs.p50 >= 20 && r.latencyMs.p50 <= r.latencyMs.p90 && r.latencyMs.p90 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max);
  assert.ok(Math.abs(r.durationS - 0.6) < 0.5);
  assert.ok(Math.abs(r.rps - r.requests / r.durationS) < 1e-6);
});

test('open loop fixed rate sends about rate x duration requests; errors counted by status', async () => {
  hits = 0;
  const r = await runLoad({ ...common, host: base, path: '/fail', runTimeMs: 1000, mode: { kind: 'rate', rate: 100 } });
  assert.ok(r.scheduled! >= 90 && r.scheduled! <= 100, `scheduled ${r.scheduled}`);
  assert.equal(r.requests + r.unfinished, r.scheduled);
  assert.equal(r.errors.byStatus['503'], r.requests);
  assert.equal(r.errors.total, r.requests);
});

test('connection errors are reported by code', async () => {
  const s = http.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  const r = await runLoad({ ...common, host: `http://127.0.0.1:${port}`, path: '/', runTimeMs: 300, mode: { kind: 'rate', rate: 20 } });
  assert.ok(r.requests > 0);
  assert.equal(r.errors.byCode['ECONNREFUSED'], r.requests);
});

test('trace replay honours offsets and ends with the trace', async () => {
  hits = 0;
  const f = join(dir, 't.jsonl');
  writeFileSync(f, [0, 0.1, 0.1, 0.2, 0.3].map((t) => JSON.stringify({ timestamp: 1700000000 + t })).join('\n'));
  const { readTrace } = await import('../../../src/load/trace.ts');
  const r = await runLoad({ ...common, host: base, path: '/', runTimeMs: 5000, mode: { kind: 'trace', offsetsMs: readTrace(f), speedup: 1 } });
  assert.equal(r.requests, 5);
  assert.equal(hits, 5);
  assert.ok(r.durationS >= 0.3 && r.durationS < 2, `duration ${r.durationS}`);
});

test('the CLI: body from a file, headers, JSON report', async () => {
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, '{"features":[1,2,3]}');
  bodies.length = 0;
  seenHeaders.length = 0;
  const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, ['bin/tide.js', 'load', '--host', base, '--path', '/echo', '-X', 'POST', '--body', `@${bodyFile}`,
      '-H', 'X-Test: 1', '--users', '2', '--run-time', '700ms', '--json'], { cwd: new URL('../../../', import.meta.url).pathname });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(out.code, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  for (const k of ['target', 'mode', 'durationS', 'requests', 'rps', 'latencyMs', 'statuses', 'errors', 'unfinished']) assert.ok(k in r, k);
  for (const k of ['p50', 'p90', 'p99', 'max']) assert.equal(typeof r.latencyMs[k], 'number');
  assert.ok(r.requests > 0);
  assert.equal(r.errors.total, 0);
  assert.ok(bodies.length >= r.requests);
  assert.ok(bodies.every((b) => b === '{"features":[1,2,3]}'));
  assert.equal(seenHeaders[0]['x-test'], '1');
  assert.equal(seenHeaders[0]['content-type'], 'application/json');
});

test('the CLI rejects conflicting modes with a clear message', async () => {
  const out = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, ['bin/tide.js', 'load', '--host', base, '--users', '2', '--rate', '5'], { cwd: new URL('../../../', import.meta.url).pathname });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /choose one of/);
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['bin/tide.js', 'load', ...args], { cwd: new URL('../../../', import.meta.url).pathname });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('exit status: 100% errors against a dead port is 1; failures beyond --fail-ratio are 1, within it 0', async () => {
  const dead = http.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const d = await cli(['--host', `http://127.0.0.1:${port}`, '--users', '1', '--run-time', '300ms', '-q']);
  assert.equal(d.code, 1, d.stderr);
  assert.match(d.stderr, /100\.00% of requests failed|no request completed/);
  const f = await cli(['--host', base, '--path', '/fail', '--users', '1', '--run-time', '300ms', '-q', '--fail-ratio', '5%']);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /more than --fail-ratio 0\.05/);
  const ok = await cli(['--host', base, '--path', '/fail', '--users', '1', '--run-time', '300ms', '-q', '--fail-ratio', '1']);
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await cli(['--host', base, '--fail-ratio', '2']);
  assert.match(bad.stderr, /--fail-ratio must be between 0 and 1/);
});

test('--wait: think time between a user\'s requests (locust between) bounds the rate', async () => {
  const r = await runLoad({ ...common, host: base, path: '/', runTimeMs: 1000, mode: { kind: 'users', users: 2, spawnRate: 0, waitMs: [100, 200] } });
  // each user: at most one request per 100 ms → at most ~2 x 10 (+1 each) in one second
  assert.ok(r.requests >= 2 && r.requests <= 22, `${r.requests} requests`);
  assert.match(r.mode, /wait 100\.\.200 ms/);
  const { parseWait } = await import('../../../src/cli/commands/load.ts');
  assert.deepEqual(parseWait('50ms..200ms'), [50, 200]);
  assert.deepEqual(parseWait('1s'), [1000, 1000]);
  assert.throws(() => parseWait('2s..1s'), /below the minimum/);
});

test('--csv writes locust-style stats, history and failures files', async () => {
  const prefix = join(dir, 'run');
  const out = await cli(['--host', base, '--path', '/fail', '--users', '2', '--run-time', '1200ms', '-q', '--csv', prefix, '--fail-ratio', '1']);
  assert.equal(out.code, 0, out.stderr);
  const { readFileSync } = await import('node:fs');
  const stats = readFileSync(`${prefix}_stats.csv`, 'utf8').trim().split('\n');
  assert.equal(stats[0], 'Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%');
  assert.match(stats[1], /^GET,\/fail,(\d+),\1,/);
  assert.match(stats[2], /^,Aggregated,\d+,/);
  const failures = readFileSync(`${prefix}_failures.csv`, 'utf8').trim().split('\n');
  assert.deepEqual(failures[0], 'Method,Name,Error,Occurrences');
  assert.match(failures[1], /^GET,\/fail,HTTPError\('503'\),\d+$/);
  const hist = readFileSync(`${prefix}_stats_history.csv`, 'utf8').trim().split('\n');
  assert.match(hist[0], /^Timestamp,User Count,Type,Name,Requests\/s/);
  assert.ok(hist.length >= 2, 'one history row per second');
});
