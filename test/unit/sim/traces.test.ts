// Trace readers on small slices: temporary files in each format, and the shipped traces (when present).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readTrace, readColdStarts, parseTimestamp } from '../../../src/sim/traces/read.ts';
import { traceRequestCount, traceDurationMs, ArrivalStream } from '../../../src/sim/workload.ts';

const dir = mkdtempSync(join(tmpdir(), 'tide-traces-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('parseTimestamp: Azure style (UTC), ISO with offset, epoch s and ms', () => {
  assert.equal(parseTimestamp('2023-11-16 18:15:46.6805900'), Date.UTC(2023, 10, 16, 18, 15, 46) + 680.59);
  assert.equal(parseTimestamp('2024-01-01T01:00:00+01:00'), Date.UTC(2024, 0, 1, 0, 0, 0));
  assert.equal(parseTimestamp('1700000000'), 1_700_000_000_000);
  assert.equal(parseTimestamp('1700000000123'), 1_700_000_000_123);
  assert.throws(() => parseTimestamp('yesterday'));
});

test('Azure LLM CSV: token columns drive the service time', async () => {
  const f = join(dir, 'azure.csv');
  writeFileSync(f, 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.5000000,100,10\n2023-11-16 18:15:47.2500000,200,20\n2023-11-16 18:15:49.0000000,300,30\n');
  const t = await readTrace(f);
  assert.equal(t.kind, 'requests');
  if (t.kind !== 'requests') return;
  assert.deepEqual(Array.from(t.times), [500, 1250, 3000]);
  assert.deepEqual(Array.from(t.promptTokens!), [100, 200, 300]);
  const a = new ArrivalStream(t, { dist: { kind: 'fixed', ms: 1 }, tokens: { baseMs: 10, prefillMsPerToken: 1, decodeMsPerToken: 10 } }, 1);
  assert.ok(a.next());
  assert.equal(a.s, 10 + 100 + 100);
});

test('Alibaba CSV: exec_time_seconds is the service time; same-second requests are spread', async () => {
  const f = join(dir, 'lora.csv');
  writeFileSync(f, 'gmt_create,predict_type,predict_status,exec_time_seconds,groupId\n2024-11-15 16:57:50,TXT_2_IMG,SUCCEED,32.0,G0\n2024-11-15 16:57:50,TXT_2_IMG,SUCCEED,,G0\n2024-11-15 16:58:00,IMG_2_IMG,SUCCEED,10.0,G1\n');
  const t = await readTrace(f);
  if (t.kind !== 'requests') throw new Error('kind');
  assert.deepEqual(Array.from(t.times), [250, 750, 10_500]);
  // missing exec time: the median of the known ones
  assert.deepEqual(Array.from(t.serviceMs!), [32_000, 21_000, 10_000]);
});

test('Twitter counts: plain text and .tbz2 give the same per-second counts; --limit stops early', async () => {
  const f = join(dir, 'workload.txt');
  writeFileSync(f, '5 0 7 12 3 3 9 10 ');
  const a = await readTrace(f);
  assert.equal(a.kind, 'counts');
  if (a.kind !== 'counts') return;
  assert.deepEqual(Array.from(a.counts), [5, 0, 7, 12, 3, 3, 9, 10]);
  assert.equal(traceRequestCount(a), 49);
  assert.equal(traceDurationMs(a), 8000);
  execFileSync('tar', ['cjf', join(dir, 'workload.tbz2'), '-C', dir, 'workload.txt']);
  const b = await readTrace(join(dir, 'workload.tbz2'), { limitSeconds: 4 });
  if (b.kind !== 'counts') throw new Error('kind');
  assert.deepEqual(Array.from(b.counts), [5, 0, 7, 12]);
  // the arrivals of a counts trace: exactly count arrivals inside each second, sorted
  const s = new ArrivalStream(a, { dist: { kind: 'fixed', ms: 1 } }, 3);
  const perSec = new Array(8).fill(0);
  let last = -1;
  while (s.next()) { assert.ok(s.t >= last); last = s.t; perSec[Math.floor(s.t / 1000)]++; }
  assert.deepEqual(perSec, [5, 0, 7, 12, 3, 3, 9, 10]);
});

test('access logs: CSV with header and JSONL, epoch or ISO, unsorted input is sorted', async () => {
  const c = join(dir, 'log.csv');
  writeFileSync(c, 'timestamp,service_ms\n1700000002.5,120\n1700000000,80\n1700000001,\n');
  const t = await readTrace(c);
  if (t.kind !== 'requests') throw new Error('kind');
  assert.deepEqual(Array.from(t.times), [0, 1000, 2500]);
  assert.deepEqual(Array.from(t.serviceMs!), [80, 100, 120]); // missing: the median
  const j = join(dir, 'log.jsonl');
  writeFileSync(j, '{"timestamp":"2024-05-01T00:00:01Z"}\n{"timestamp":"2024-05-01T00:00:00.250Z"}\n');
  const u = await readTrace(j);
  if (u.kind !== 'requests') throw new Error('kind');
  assert.deepEqual(Array.from(u.times), [250, 1000]);
  assert.equal(u.serviceMs, undefined);
  writeFileSync(join(dir, 'bad.jsonl'), '{"timestamp": "soon"}\n');
  await assert.rejects(readTrace(join(dir, 'bad.jsonl')), /bad\.jsonl:1: unreadable timestamp/);
});

// small excerpts of the public traces, shipped with the tests (test/fixtures/traces/README.md)
const fixtures = new URL('../../fixtures/traces/', import.meta.url).pathname;
test('shipped trace excerpts and the bundled cold starts read and look sane', async () => {
  const az = await readTrace(join(fixtures, 'azure-llm-conv-excerpt.csv'), { limitSeconds: 60 });
  assert.equal(az.kind, 'requests');
  assert.ok(traceRequestCount(az) > 50 && traceRequestCount(az) < 2000);
  const tw = await readTrace(join(fixtures, 'twitter-workload-excerpt.tbz2'), { limitSeconds: 3600 });
  assert.equal(tw.kind, 'counts');
  if (tw.kind === 'counts') assert.equal(tw.counts.length, 3600);
  const ali = await readTrace(join(fixtures, 'alibaba-lora-request-excerpt.csv'), { limitSeconds: 86400 });
  assert.ok(traceRequestCount(ali) > 10);
  const cs = await readColdStarts(new URL('../../../src/sim/data/basemodel_update_latency_anon.tar.gz', import.meta.url).pathname);
  assert.ok(cs.length > 7000);
  assert.ok(cs.every((v) => v > 0 && v < 600_000));
});
