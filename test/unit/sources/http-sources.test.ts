// Prometheus (real server scraping a tiny exporter), metrics-api (local HTTP), cron, gpu, resource.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { chmodSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPrometheus, type Service } from '../../support/services.ts';
import { PrometheusSource, prometheusFromKeda } from '../../../src/sources/prometheus.ts';
import { metricsApiFromKeda, valueAtPath } from '../../../src/sources/metrics-api.ts';
import { cronFromKeda, cronWindowActive } from '../../../src/sources/cron.ts';
import { GpuSource, parseNvidiaSmi } from '../../../src/sources/gpu.ts';
import { ResourceSource } from '../../../src/sources/resource.ts';
import { createTriggerSource, triggerTargets } from '../../../src/sources/index.ts';
import { outageScenario } from './outage.ts';

let exporter: Server;
let exporterPort = 0;
let queueDepth = 42;
let prom: Service | null = null;
let jsonDoc: unknown = { components: { worker: { tasks: 17, load: '250m' } }, items: [{ v: 1 }, { v: 9 }] };

before(async () => {
  exporter = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(`# TYPE tide_queue_depth gauge\ntide_queue_depth{queue="a"} ${queueDepth}\ntide_queue_depth{queue="b"} 8\ngpu_utilization_avg 61.5\n`);
    } else if (req.url === '/api/stats') {
      if (req.headers.authorization !== 'Bearer t0ken') { res.statusCode = 401; res.end(); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jsonDoc));
    } else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  exporterPort = (exporter.address() as { port: number }).port;
  prom = await startPrometheus([`127.0.0.1:${exporterPort}`]);
});
after(async () => {
  await prom?.dispose();
  await new Promise((r) => exporter.close(r));
});

async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < end) {
    try { last = await f(); if (ok(last)) return last; } catch (e) { lastErr = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`condition not met; last=${JSON.stringify(last)} err=${String(lastErr)}`);
}

test('prometheus: single-sample query, empty result, multiple elements, vector mode', { timeout: 40_000 }, async (t) => {
  if (!prom) return t.skip('prometheus not installed');
  const server = `http://127.0.0.1:${prom.port}`;
  const one = prometheusFromKeda({ serverAddress: server, query: 'sum(tide_queue_depth)', threshold: '10' }, {});
  const got = await until(() => one.read(Date.now()), (s) => s[0].value === 50);
  assert.equal(got.length, 1);
  const empty = new PrometheusSource({ serverAddress: server, query: 'nothing_here', ignoreNullValues: true });
  assert.deepEqual((await empty.read(Date.now())).map((s) => s.value), [0]);
  const strict = prometheusFromKeda({ serverAddress: server, query: 'nothing_here', ignoreNullValues: 'false' }, {});
  await assert.rejects(strict.read(Date.now()), /target may be lost, the result is empty/);
  const multi = new PrometheusSource({ serverAddress: server, query: 'tide_queue_depth' });
  await assert.rejects(multi.read(Date.now()), /returned multiple elements/);
  const vec = new PrometheusSource({ serverAddress: server, query: 'tide_queue_depth', mode: 'vector' });
  const all = await vec.read(Date.now());
  assert.deepEqual(all.map((s) => [s.labels?.queue, s.value]).sort(), [['a', 42], ['b', 8]]);
  const bad = new PrometheusSource({ serverAddress: server, query: 'sum(' });
  await assert.rejects(bad.read(Date.now()), /query failed|status: 400/);
  assert.deepEqual(triggerTargets('prometheus', { serverAddress: server, query: 'x', threshold: '10', activationThreshold: '2.5' }, 1), { target: 10, activationTarget: 2.5, metricName: 's1-prometheus' });
});

test('prometheus outage: error → fallback → restart → recovery', { timeout: 60_000 }, async (t) => {
  if (!prom) return t.skip('prometheus not installed');
  queueDepth = 42;
  const src = createTriggerSource('prometheus', { serverAddress: `http://127.0.0.1:${prom.port}`, query: 'max(tide_queue_depth)' }, { env: {} });
  await until(() => src.read(Date.now()), (s) => s[0].value === 42);
  await outageScenario({
    type: 'prometheus', source: src, service: prom, expected: 42,
    errorPattern: /^prometheus http:\/\/127\.0\.0\.1:\d+\/?: unreachable: connection refused/,
    reseed: async () => { await until(() => src.read(Date.now()), (s) => s[0].value === 42); return 42; },
  });
});

test('metrics-api: JSON path, quantities, bearer token from env, errors', { timeout: 10_000 }, async () => {
  const url = `http://127.0.0.1:${exporterPort}/api/stats`;
  assert.throws(() => metricsApiFromKeda({ url, valueLocation: 'a', authMode: 'bearer', token: 't0ken' }, {}), /tokenFromEnv/);
  const mk = (valueLocation: string) => metricsApiFromKeda({ url, valueLocation, authMode: 'bearer', tokenFromEnv: 'TOK' }, { TOK: 't0ken' });
  assert.equal((await mk('components.worker.tasks').read(0))[0].value, 17);
  assert.equal((await mk('components.worker.load').read(0))[0].value, 0.25);
  assert.equal((await mk('items.1.v').read(0))[0].value, 9);
  await assert.rejects(mk('components.nope').read(0), /valueLocation components\.nope not found/);
  const noAuth = metricsApiFromKeda({ url, valueLocation: 'items.0.v' }, {});
  await assert.rejects(noAuth.read(0), /returned status 401/);
  const prom = metricsApiFromKeda({ url: `http://127.0.0.1:${exporterPort}/metrics`, valueLocation: 'tide_queue_depth{queue="b"}', format: 'prometheus' }, {});
  assert.equal((await prom.read(0))[0].value, 8);
  const down = metricsApiFromKeda({ url: 'http://127.0.0.1:1/x', valueLocation: 'a' }, {});
  await assert.rejects(down.read(0), /metrics-api http:\/\/127\.0\.0\.1:1\/x: unreachable/);
  assert.equal(valueAtPath({ a: [1, 2, 3] }, 'a.#'), 3);
});

test('cron: window in an IANA time zone, spanning midnight, DST-safe', () => {
  const src = cronFromKeda({ timezone: 'Europe/Paris', start: '0 8 * * *', end: '0 18 * * *', desiredReplicas: '4' }, {});
  // 2026-07-01 07:30 UTC = 09:30 Paris (UTC+2): inside
  const inside = Date.UTC(2026, 6, 1, 7, 30);
  const outside = Date.UTC(2026, 6, 1, 17, 0); // 19:00 Paris
  assert.equal(cronWindowActive(src.opts, inside), true);
  assert.equal(cronWindowActive(src.opts, outside), false);
  // 06:30 UTC in winter = 07:30 Paris (UTC+1): outside; in summer = 08:30: inside
  assert.equal(cronWindowActive(src.opts, Date.UTC(2026, 0, 15, 6, 30)), false);
  assert.equal(cronWindowActive(src.opts, Date.UTC(2026, 6, 15, 6, 30)), true);
  const night = cronFromKeda({ timezone: 'America/New_York', start: '0 22 * * *', end: '0 6 * * *', desiredReplicas: '2' }, {});
  assert.equal(cronWindowActive(night.opts, Date.UTC(2026, 2, 10, 4, 0)), true); // 00:00 NY
  assert.equal(cronWindowActive(night.opts, Date.UTC(2026, 2, 10, 16, 0)), false); // 12:00 NY
  assert.throws(() => cronFromKeda({ timezone: 'Mars/Olympus', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: '1' }, {}), /unknown time zone/);
  assert.throws(() => cronFromKeda({ timezone: 'UTC', start: 'nope', end: '0 9 * * *', desiredReplicas: '1' }, {}), /not a valid cron expression/);
  assert.deepEqual(triggerTargets('cron', { timezone: 'UTC', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: '3' }, 0).target, 1);
});

test('cron source value is desiredReplicas inside the window and 0 outside', async () => {
  const src = cronFromKeda({ timezone: 'UTC', start: '0 8 * * *', end: '0 18 * * *', desiredReplicas: '4' }, {});
  assert.equal((await src.read(Date.UTC(2026, 6, 1, 9)))[0].value, 4);
  assert.equal((await src.read(Date.UTC(2026, 6, 1, 19)))[0].value, 0);
});

test('gpu: "nvidia-smi not found" when absent; parses nvidia-smi output when present', async () => {
  const absent = new GpuSource({ binary: 'nvidia-smi-definitely-missing' });
  await assert.rejects(absent.read(0), /gpu: nvidia-smi not found/);
  const dir = mkdtempSync(join(tmpdir(), 'tide-gpu-'));
  try {
    const fake = join(dir, 'nvidia-smi');
    writeFileSync(fake, '#!/bin/sh\necho "0, GPU-aaa, 30, 1024, 8192"\necho "1, GPU-bbb, 90, 4096, 8192"\n');
    chmodSync(fake, 0o755);
    const util = new GpuSource({ binary: fake });
    assert.deepEqual((await util.read(5)).map((s) => [s.labels?.gpu, s.value]), [['0', 30], ['1', 90]]);
    const mem = new GpuSource({ binary: fake, metric: 'memory-utilization', indices: [1] });
    assert.deepEqual((await mem.read(5)).map((s) => s.value), [50]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(parseNvidiaSmi('0, GPU-x, [N/A], 1, 2\n', 'utilization').map((s) => Number.isNaN(s.value)), [true]);
});

test('cpu/memory: per-replica samples from the runtime stats callback', async () => {
  const usage = () => [{ pod: 'a', cpuMillicores: 250, memoryBytes: 1e6 }, { pod: 'b', cpuMillicores: null, memoryBytes: 2e6 }];
  assert.deepEqual((await new ResourceSource('cpu', usage).read(1)).map((s) => [s.labels?.pod, s.value]), [['a', 0.25]]);
  assert.deepEqual((await new ResourceSource('memory', usage).read(1)).map((s) => s.value), [1e6, 2e6]);
  assert.throws(() => createTriggerSource('cpu', { value: '50' }, { env: {} }), /process stats/);
  assert.deepEqual(triggerTargets('memory', { value: '512Mi' }, 0), { target: 512 * 1024 * 1024, activationTarget: 0, metricName: 'memory' });
  assert.equal(triggerTargets('cpu', { value: '500m' }, 0).target, 0.5);
  assert.throws(() => triggerTargets('cpu', { value: 'lots' }, 0), /must be a number or quantity/);
});

test('tide-metrics.yaml / annotations map HPA External and Object metrics to PromQL', { timeout: 30_000 }, async (t) => {
  const { parseMetricMapping, mappingFromAnnotations, mergeMappings, queryFor, metricSourceFor, observeMappedMetric } = await import('../../../src/sources/metric-mapping.ts');
  const file = parseMetricMapping(`prometheus: http://127.0.0.1:1\nmetrics:\n  depth:\n    query: sum(tide_queue_depth{<<.LabelMatchers>>})\n  gpu: gpu_utilization_avg\n`);
  assert.deepEqual(queryFor(file, 'depth', { matchLabels: { queue: 'a' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['x', 'y.z'] }] }),
    { server: 'http://127.0.0.1:1', query: 'sum(tide_queue_depth{queue="a",zone=~"x|y\\\\.z"})' });
  assert.throws(() => queryFor(file, 'nope'), /add it to tide-metrics\.yaml .* metrics\.tide\.dev\/nope/);
  assert.throws(() => parseMetricMapping('metrics:\n  x: {qurey: up}\n'), /metrics\.x\.query: required/);
  if (!prom) return t.skip('prometheus not installed');
  const merged = mergeMappings(file, mappingFromAnnotations({ 'metrics.tide.dev/prometheus': `http://127.0.0.1:${prom.port}`, 'other/x': 'y' }));
  const ext = metricSourceFor(merged, 'depth');
  const o = await until(() => observeMappedMetric(ext, 'external', Date.now()), (x) => x.kind === 'external' && x.values[0] === 50_000);
  assert.deepEqual(o.kind === 'external' ? o.values : null, [50_000]);
  const obj = await observeMappedMetric(metricSourceFor(merged, 'gpu'), 'object', Date.now());
  assert.deepEqual(obj.kind === 'object' ? obj.value : obj, 61_500);
  const perQueue = metricSourceFor(mergeMappings(merged, { metrics: { q: { query: 'tide_queue_depth' } } }), 'q');
  const many = await observeMappedMetric(perQueue, 'object', Date.now());
  assert.equal(many.kind, 'error');
});

test('hpaMappedMetricReader: External/Object metrics of an HPA through tide-metrics.yaml next to the manifest', { timeout: 30_000 }, async (t) => {
  if (!prom) return t.skip('prometheus not installed');
  const { hpaMappedMetricReader } = await import('../../../src/sources/metric-mapping.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tide-map-'));
  try {
    writeFileSync(join(dir, 'tide-metrics.yaml'), `prometheus: http://127.0.0.1:${prom.port}\nmetrics:\n  queue_depth: {query: 'tide_queue_depth{<<.LabelMatchers>>}'}\n`);
    const reader = hpaMappedMetricReader([
      { type: 'External', external: { metric: { name: 'queue_depth', selector: { matchLabels: { queue: 'b' } } }, target: { type: 'AverageValue', averageValue: 1000 } } },
      { type: 'External', external: { metric: { name: 'unmapped' }, target: { type: 'Value', value: 1000 } } },
      { type: 'Object', object: { describedObject: { kind: 'Service', name: 's' }, metric: { name: 'gpu_util' }, target: { type: 'Value', value: 1000 } } },
    ], { manifestFile: join(dir, 'app.yaml'), annotations: { 'metrics.tide.dev/gpu_util': 'gpu_utilization_avg' } });
    const ext = await until(() => reader.observe(0, Date.now()), (o) => o.kind === 'external');
    assert.deepEqual(ext, { kind: 'external', values: [8000], timestamp: (ext as { timestamp: number }).timestamp });
    const un = await reader.observe(1, Date.now());
    assert.equal(un.kind, 'error');
    assert.match((un as { message: string }).message, /no PromQL for metric "unmapped"/);
    const obj = await reader.observe(2, Date.now());
    assert.deepEqual(obj.kind === 'object' ? obj.value : obj, 61_500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
