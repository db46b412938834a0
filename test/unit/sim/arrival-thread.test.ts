// The worker-fed arrival stream must be the very stream the engine would draw itself: same
// arrivals, same service times, same end, across chunk and ring boundaries, and after a worker that
// dies (the engine then draws the rest itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openArrivals, workerArrivals, type ArrivalSource, type ArrivalThreadOptions } from '../../../src/sim/arrival-thread.ts';
import { ArrivalStream, generate, type RequestsTrace, type Trace } from '../../../src/sim/workload.ts';
import { simulate } from '../../../src/sim/engine.ts';
import { hpaController } from '../../../src/sim/controllers.ts';
import { hpaCpuBaseline } from '../../../src/sim/baselines.ts';
import { service } from './helpers.ts';

const svc = { dist: { kind: 'lognormal' as const, medianMs: 50, sigma: 0.6 } };
const counts = generate({ kind: 'diurnal', meanRps: 20, amplitude: 0.8, periodMs: 600_000 }, 1200_000, 4);

function drain(a: ArrivalSource): [number, number][] {
  const out: [number, number][] = [];
  while (a.next()) out.push([a.t, a.s]);
  a.close();
  return out;
}

/** Checks the worker-fed stream against the stream itself; returns how many arrivals the worker drew. */
function same(trace: Trace, endMs: number, o: ArrivalThreadOptions): number {
  const want = drain(new ArrivalStream(trace, svc, 11, endMs));
  const src = openArrivals(trace, svc, 11, endMs, o);
  const got = drain(src);
  assert.ok(want.length > 100);
  assert.equal(got.length, want.length);
  assert.deepEqual(got, want);
  return workerArrivals(src);
}

test('worker-fed counts stream = the stream itself, across many small chunks of a ring', () => {
  const n = same(counts, Infinity, { thread: true, chunk: 37, chunks: 3 });
  assert.ok(n > 100 && n % 37 !== 0, `${n}`); // all from the worker, the last chunk partial
});

test('worker-fed stream stops where the stream stops (endMs inside a chunk)', () => {
  assert.ok(same(counts, counts.startMs + 700_000.5, { thread: true, chunk: 64, chunks: 2 }) > 0);
});

test('worker-fed requests trace (per-request service times) = the stream itself', () => {
  const n = 500;
  const times = new Float64Array(n).map((_, i) => i * 37.5);
  const serviceMs = new Float64Array(n).map((_, i) => 10 + (i % 7));
  const tr: RequestsTrace = { kind: 'requests', name: 'r', startMs: 1000, times, serviceMs };
  assert.equal(same(tr, Infinity, { thread: true, chunk: 50, chunks: 4 }), n); // 10 full chunks, then an empty last one
});

test('without a worker: the buffered stream = the stream itself (4096-arrival buffers, an end inside one)', () => {
  assert.equal(same(counts, counts.startMs + 700_000.5, { thread: false }), 0);
  const fixed = { dist: { kind: 'fixed' as const, ms: 5 } }; // the per-arrival path of fill()
  const want = drain(new ArrivalStream(counts, fixed, 2, Infinity));
  assert.deepEqual(drain(openArrivals(counts, fixed, 2, Infinity, { thread: false })), want);
});

test('a worker that dies after two chunks: the rest is drawn in this thread, the same stream', () => {
  assert.equal(same(counts, Infinity, { thread: true, chunk: 100, chunks: 2, failAfterChunks: 2 }), 200);
});

test('a worker that dies before the first chunk: the whole stream is drawn in this thread', () => {
  assert.equal(same(counts, Infinity, { thread: true, chunk: 100, chunks: 2, failAfterChunks: 0 }), 0);
});

test('simulate gives identical results with and without the arrival thread', () => {
  const run = (arrivalThread: boolean) => simulate({ seed: 3, trace: counts, service: service(), sloMs: 500, initialReplicas: 2, arrivalThread },
    hpaController(hpaCpuBaseline(60)));
  const a = run(false);
  const b = run(true);
  assert.ok(a.summary.requests > 10_000);
  assert.deepEqual(b, a);
});
