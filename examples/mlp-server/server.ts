// Example inference server: the spiral-sensors MLP (weights.json, trained offline by train.ts) behind
// a tiny HTTP API, the way a seed user's model server looks to an autoscaler:
//   POST /predict  {"features":[16 numbers]} or {"instances":[[...], ...]}  → predictions
//   GET  /health   200 once the model is loaded (readiness), 503 before
//   GET  /metrics  Prometheus: inference_queue_depth, inference_requests_total, latency histogram, process
// Requests are served one at a time from an explicit FIFO (one model worker, like a single-threaded
// runtime), so inference_queue_depth is the real backlog. Env: PORT (8080), HOST (127.0.0.1),
// TTA_SAMPLES (test-time augmentation samples per instance; sets the CPU cost, default 200),
// STARTUP_DELAY_MS (simulated model load time, default 0), MAX_QUEUE (default 1000; beyond → 429).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import client from 'prom-client';
import { predictTTA } from './model.ts';
import type { ModelFile } from './model.ts';

const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST ?? '127.0.0.1';
const TTA = Math.max(1, Number(process.env.TTA_SAMPLES ?? 200));
const STARTUP_DELAY_MS = Number(process.env.STARTUP_DELAY_MS ?? 0);
const MAX_QUEUE = Number(process.env.MAX_QUEUE ?? 1000);
const MAX_BODY = 1 << 20;

const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });
const queueDepth = new client.Gauge({ name: 'inference_queue_depth', help: 'Requests waiting for or in inference', registers: [registry] });
const requests = new client.Counter({ name: 'inference_requests_total', help: 'Inference requests by outcome', labelNames: ['code'], registers: [registry] });
const latency = new client.Histogram({
  name: 'inference_request_duration_seconds',
  help: 'Time from request arrival to response, including queueing',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const inferenceTime = new client.Histogram({
  name: 'inference_compute_seconds',
  help: 'Model compute time per request',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers: [registry],
});

let model: ModelFile | null = null;
let requestSeq = 0;

interface Job {
  instances: number[][];
  res: http.ServerResponse;
  t0: number;
}
const queue: Job[] = [];
let working = false;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function finish(job: Job, status: number, body: unknown): void {
  send(job.res, status, body);
  requests.inc({ code: String(status) });
  latency.observe((performance.now() - job.t0) / 1000);
}

/** Run queued jobs one at a time, yielding to the event loop between jobs so arrivals are counted. */
function work(): void {
  if (working) return;
  const job = queue.shift();
  if (!job) return;
  working = true;
  const m = model!;
  const t = performance.now();
  const predictions = job.instances.map((x) => {
    const probs = predictTTA(m, x, TTA, 0.02, ++requestSeq);
    const best = probs.indexOf(Math.max(...probs));
    return { class: m.classes[best], index: best, probabilities: probs.map((p) => Math.round(p * 1e4) / 1e4) };
  });
  inferenceTime.observe((performance.now() - t) / 1000);
  working = false;
  queueDepth.set(queue.length);
  if (!job.res.destroyed) finish(job, 200, { model: m.name, predictions });
  if (queue.length > 0) setImmediate(work);
}

function parseInstances(body: string, inputs: number): number[][] | string {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const d = data as { features?: unknown; instances?: unknown };
  const list = d.features !== undefined ? [d.features] : d.instances;
  if (!Array.isArray(list) || list.length === 0) return 'expected {"features":[...]} or {"instances":[[...],...]}';
  if (list.length > 64) return 'at most 64 instances per request';
  for (const x of list) {
    if (!Array.isArray(x) || x.length !== inputs || !x.every((v) => typeof v === 'number' && Number.isFinite(v)))
      return `each instance must be an array of ${inputs} finite numbers`;
  }
  return list as number[][];
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/health') {
    if (model) send(res, 200, { status: 'ok', model: model.name });
    else send(res, 503, { status: 'loading' });
    return;
  }
  if (req.method === 'GET' && url === '/metrics') {
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: Error) => send(res, 500, { error: err.message }),
    );
    return;
  }
  if (url === '/predict' && req.method === 'POST') {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const job = { instances: [], res, t0 } as Job;
      if (!model) return finish(job, 503, { error: 'model is loading' });
      if (size > MAX_BODY) return finish(job, 413, { error: 'body too large' });
      const parsed = parseInstances(Buffer.concat(chunks).toString('utf8'), model.inputs);
      if (typeof parsed === 'string') return finish(job, 400, { error: parsed });
      if (queue.length >= MAX_QUEUE) return finish(job, 429, { error: 'queue full' });
      job.instances = parsed;
      queue.push(job);
      queueDepth.set(queue.length + (working ? 1 : 0));
      setImmediate(work);
    });
    return;
  }
  send(res, 404, { error: 'not found', endpoints: ['POST /predict', 'GET /health', 'GET /metrics'] });
});

server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => {
  const { port } = server.address() as import('node:net').AddressInfo;
  console.log(`mlp-server listening on http://${HOST}:${port} (tta=${TTA})`);
});
setTimeout(() => {
  model = JSON.parse(readFileSync(new URL('./weights.json', import.meta.url), 'utf8')) as ModelFile;
  console.log(`model ${model.name} loaded (test accuracy ${(model.trainedOn.testAccuracy * 100).toFixed(1)}%)`);
}, STARTUP_DELAY_MS);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
