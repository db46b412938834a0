import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttp } from 'node:http';
import { createServer as createTcp } from 'node:net';
import { ProbeTracker, ProbeWorker, resolveProbe, runProbe, type ProbeContext } from '../../../src/runtime/local/probes.ts';

test('Kubernetes defaults, liveness/startup forced to successThreshold 1, Tide sub-second override', () => {
  const r = resolveProbe({ httpGet: { path: '/health', port: 8080 } }, 'readiness');
  assert.deepEqual([r.initialDelayMs, r.periodMs, r.timeoutMs, r.successThreshold, r.failureThreshold], [0, 10_000, 1000, 1, 3]);
  assert.equal(resolveProbe({ exec: { command: ['true'] }, successThreshold: 3 }, 'liveness').successThreshold, 1);
  assert.equal(resolveProbe({ exec: { command: ['true'] }, successThreshold: 3 }, 'readiness').successThreshold, 3);
  assert.equal(resolveProbe({ tcpSocket: { port: 1 }, periodSeconds: 5 }, 'readiness', { periodMs: 100 }).periodMs, 100);
  assert.equal(resolveProbe({ tcpSocket: { port: 1 }, initialDelaySeconds: 10 }, 'readiness', { timeScale: 0.01 }).initialDelayMs, 100);
  assert.throws(() => resolveProbe({}, 'readiness'), /exactly one handler/);
  assert.throws(() => resolveProbe({ exec: { command: ['x'] }, tcpSocket: { port: 1 } }, 'readiness'), /exactly one handler/);
});

test('tracker: readiness starts false and needs successThreshold successes; flips back after failureThreshold failures', () => {
  const t = new ProbeTracker({ kind: 'readiness', successThreshold: 2, failureThreshold: 3 });
  assert.equal(t.value, false);
  assert.equal(t.record(true), false);
  assert.equal(t.record(false), false);
  assert.equal(t.record(true), false);
  assert.equal(t.record(true), true);
  assert.equal(t.value, true);
  t.record(false); t.record(false);
  assert.equal(t.value, true);
  t.record(true); t.record(false); t.record(false);
  assert.equal(t.value, true, 'a success in between resets the failure count');
  assert.equal(t.record(false), true);
  assert.equal(t.value, false);
  const l = new ProbeTracker({ kind: 'liveness', successThreshold: 1, failureThreshold: 1 });
  assert.equal(l.value, true);
  assert.equal(l.record(false), true);
});

const ctx = (port: number): ProbeContext => ({ host: '127.0.0.1', resolvePort: (p) => (p === 'http' || p === 8080 ? port : Number(p)) });

test('httpGet: 200..399 succeed, others fail; headers and named ports; timeouts fail', async () => {
  let seen: string | undefined;
  const srv = createHttp((req, res) => {
    seen = req.headers['x-probe'] as string | undefined;
    if (req.url === '/slow') return void setTimeout(() => res.end(), 500);
    res.statusCode = Number(req.url!.slice(1)) || 200;
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    assert.equal((await runProbe({ httpGet: { path: '/200', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, ctx(port), 1000)).ok, true);
    assert.equal(seen, 'yes');
    assert.equal((await runProbe({ httpGet: { path: '/399', port: 8080 } }, ctx(port), 1000)).ok, true);
    const r500 = await runProbe({ httpGet: { path: '/500', port: 8080 } }, ctx(port), 1000);
    assert.equal(r500.ok, false);
    assert.match(r500.message, /statuscode: 500/);
    assert.equal((await runProbe({ httpGet: { path: '/404', port: 8080 } }, ctx(port), 1000)).ok, false);
    assert.equal((await runProbe({ httpGet: { path: '/slow', port: 8080 } }, ctx(port), 100)).ok, false);
  } finally { srv.closeAllConnections(); srv.close(); }
});

test('tcpSocket: connect succeeds on a listening port, fails on a closed one', async () => {
  const srv = createTcp((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  assert.equal((await runProbe({ tcpSocket: { port } }, ctx(port), 1000)).ok, true);
  await new Promise<void>((r) => srv.close(() => r()));
  assert.equal((await runProbe({ tcpSocket: { port } }, ctx(port), 1000)).ok, false);
});

test('exec: exit 0 succeeds, non-zero fails, missing command and timeout fail', async () => {
  const c = ctx(1);
  assert.equal((await runProbe({ exec: { command: ['sh', '-c', 'exit 0'] } }, c, 2000)).ok, true);
  const f = await runProbe({ exec: { command: ['sh', '-c', 'echo nope; exit 3'] } }, c, 2000);
  assert.equal(f.ok, false);
  assert.match(f.message, /3.*nope/);
  assert.equal((await runProbe({ exec: { command: ['/no/such/binary'] } }, c, 2000)).ok, false);
  assert.equal((await runProbe({ exec: { command: ['sleep', '5'] } }, c, 100)).ok, false);
});

test('worker honours the failure threshold with a scripted runner', async () => {
  const script = [true, false, false, false, true];
  const flips: boolean[] = [];
  let calls = 0;
  const done = new Promise<void>((resolve) => {
    const w = new ProbeWorker(resolveProbe({ exec: { command: ['x'] }, failureThreshold: 3 }, 'readiness', { periodMs: 1 }), ctx(1),
      (_r, changed, value) => { if (changed) flips.push(value); if (calls >= script.length) { w.stop(); resolve(); } },
      async () => ({ ok: script[calls++] ?? true, message: '' }));
    w.start();
  });
  await done;
  assert.deepEqual(flips, [true, false, true]);
});

test('a probe Tide could not run (EMFILE) is Unknown: not counted, value kept, and a runner that throws is contained', async () => {
  // liveness, failureThreshold 1: one real failure would restart the container
  const script: (boolean | 'emfile' | 'throw')[] = ['emfile', 'emfile', 'throw', true, false];
  const seen: { unknown?: string; changed: boolean; value: boolean }[] = [];
  let calls = 0;
  await new Promise<void>((resolve) => {
    const w = new ProbeWorker(resolveProbe({ httpGet: { port: 1 }, failureThreshold: 1 }, 'liveness', { periodMs: 1 }), ctx(1),
      (r, changed, value) => { seen.push({ unknown: r.unknown, changed, value }); if (calls >= script.length) { w.stop(); resolve(); } },
      async () => {
        const s = script[calls++];
        if (s === 'throw') throw new Error('boom');
        if (s === 'emfile') return { ok: false, unknown: 'EMFILE', message: 'probe not run' };
        return { ok: s ?? true, message: '' };
      });
    w.start();
  });
  assert.deepEqual(seen, [
    { unknown: 'EMFILE', changed: false, value: true },
    { unknown: 'EMFILE', changed: false, value: true },
    { unknown: 'error', changed: false, value: true },
    { unknown: undefined, changed: false, value: true },
    { unknown: undefined, changed: true, value: false },
  ]);
});
