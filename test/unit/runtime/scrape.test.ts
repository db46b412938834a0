import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { matchesSelector, parsePrometheusText, scrapeText, selectMetric } from '../../../src/runtime/local/scrape.ts';

const TEXT = `# HELP inference_queue_depth Requests waiting
# TYPE inference_queue_depth gauge
inference_queue_depth{model="resnet",stage="pre"} 3
inference_queue_depth{model="bert",stage="pre"} 4.5
inference_queue_depth{model="a \\"quoted\\" , name",stage="post"} 1 1700000000000
inference_queue_depth 2
http_requests_total{code="200"} 1027 1395066363000
weird_metric{} NaN
bad line here {
latency_seconds_bucket{le="+Inf"} +Inf
`;

test('parses labels with escapes, timestamps, NaN and +Inf; skips malformed lines', () => {
  const s = parsePrometheusText(TEXT);
  const q = s.filter((x) => x.name === 'inference_queue_depth');
  assert.equal(q.length, 4);
  assert.equal(q[2].labels.model, 'a "quoted" , name');
  assert.equal(q[2].timestamp, 1700000000000);
  assert.deepEqual(q[3].labels, {});
  assert.ok(Number.isNaN(s.find((x) => x.name === 'weird_metric')!.value));
  assert.equal(s.find((x) => x.name === 'latency_seconds_bucket')!.value, Infinity);
  assert.ok(!s.some((x) => x.name === 'bad'));
});

test('selectMetric sums matching series; label selectors follow Kubernetes semantics', () => {
  const s = parsePrometheusText(TEXT);
  assert.equal(selectMetric(s, 'inference_queue_depth'), 10.5);
  assert.equal(selectMetric(s, 'inference_queue_depth', { matchLabels: { stage: 'pre' } }), 7.5);
  assert.equal(selectMetric(s, 'inference_queue_depth', { matchExpressions: [{ key: 'model', operator: 'In', values: ['bert'] }] }), 4.5);
  assert.equal(selectMetric(s, 'inference_queue_depth', { matchExpressions: [{ key: 'model', operator: 'DoesNotExist' }] }), 2);
  assert.equal(selectMetric(s, 'inference_queue_depth', { matchExpressions: [{ key: 'model', operator: 'NotIn', values: ['bert', 'resnet'] }] }), 3);
  assert.equal(selectMetric(s, 'missing_metric'), null);
  assert.equal(selectMetric(s, 'weird_metric'), null);
  assert.equal(matchesSelector({ a: '1' }, { matchExpressions: [{ key: 'a', operator: 'Exists' }] }), true);
  assert.equal(matchesSelector({}, { matchLabels: { a: '1' } }), false);
});

test('scrapeText fetches a /metrics body and rejects on a non-2xx status', async () => {
  const srv = createServer((req, res) => {
    if (req.url === '/metrics') res.end('x 1\n');
    else { res.statusCode = 500; res.end(); }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    assert.equal(await scrapeText('127.0.0.1', port), 'x 1\n');
    await assert.rejects(scrapeText('127.0.0.1', port, '/nope'), /status 500/);
  } finally { srv.close(); }
});
