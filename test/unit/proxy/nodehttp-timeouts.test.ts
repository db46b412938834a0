// The node:http engine's body and write timeouts on an injected clock, swept by hand (no real
// waiting), as the raw engine's in raw-engine.test.ts. Its head and idle timeouts are node:http's
// own (headersTimeout, keepAliveTimeout), checked here with short real timeouts on events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy } from '../../../src/runtime/local/proxy.ts';
import type { ProxyOptions, ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';

interface NodeHttp extends ReplicaProxy { sweep(): void; timed: Set<unknown> }

let now = 1_000_000;
const clock = () => now;

async function replica(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function proxy(port: number, over: Partial<ProxyOptions> = {}): Promise<NodeHttp> {
  const p = (await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 30_000, clock, sweepIntervalMs: 0, engine: 'node-http', ...over } as ProxyOptions & { engine: 'node-http' })) as unknown as NodeHttp;
  p.addReplica('r', { host: '127.0.0.1', port });
  p.setReady('r', true);
  return p;
}

function client(port: number): { s: net.Socket; closed: Promise<boolean>; until(pred: (d: string) => boolean): Promise<string> } {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiters: Array<() => void> = [];
  s.on('data', (d) => { buf += d.toString('latin1'); for (const w of waiters.splice(0)) w(); });
  let reset = false;
  s.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNRESET') reset = true; });
  const closed = new Promise<boolean>((r) => s.on('close', () => { for (const w of waiters.splice(0)) w(); r(reset); }));
  const until = async (pred: (d: string) => boolean) => {
    while (!pred(buf)) {
      if (s.destroyed) throw new Error(`closed with ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    return buf;
  };
  return { s, closed, until };
}

async function settle(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !pred(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(pred(), 'condition not reached');
}

test('node-http: a stalled request body gets 408 after bodyTimeoutMs (injected clock) and frees the replica slot', async () => {
  let seen = 0;
  const rep = await replica((q) => { seen++; q.resume(); });
  const p = await proxy(rep.port, { bodyTimeoutMs: 20_000, containerConcurrency: 1 });
  const c = client(p.port);
  c.s.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
  await settle(() => p.stats().inFlight === 1);
  await new Promise((r) => setTimeout(r, 20));
  now += 19_000;
  p.sweep();
  assert.equal(p.stats().inFlight, 1, 'still within the timeout');
  c.s.write('more');
  await settle(() => p.timed.size === 1);
  await new Promise((r) => setTimeout(r, 20));
  now += 19_000; // a read restarts the body timeout: 19 s since the last read
  p.sweep();
  assert.equal(p.stats().inFlight, 1, 'a read restarted the body timeout');
  now += 2000;
  p.sweep();
  assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 408 /);
  await settle(() => p.stats().inFlight === 0);
  assert.ok(seen <= 1);
  await p.close();
  await rep.close();
});

test('node-http: a client that reads nothing of a big response is cut after writeTimeoutMs (injected clock), the slot freed', async () => {
  const big = Buffer.alloc(16 << 20, 120);
  const rep = await replica((_q, s) => { s.writeHead(200, { 'content-length': big.length }); s.end(big); });
  const p = await proxy(rep.port, { writeTimeoutMs: 30_000, containerConcurrency: 1 });
  const c = client(p.port);
  c.s.pause();
  c.s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => p.timed.size === 1);
  p.sweep();
  assert.equal(p.stats().inFlight, 1, 'held while the client has time left');
  now += 31_000;
  p.sweep();
  await settle(() => p.stats().inFlight === 0);
  assert.equal(p.stats().replicas[0].inFlight, 0, 'slot freed');
  c.s.destroy();
  await p.close();
  await rep.close();
});

test('node-http: head timeout (408, total) and idle keep-alive timeout (FIN) are node:http\'s own', async () => {
  const rep = await replica((_q, s) => s.end('ok'));
  const p = await proxy(rep.port, { headersTimeoutMs: 300, idleTimeoutMs: 300 });
  const slow = client(p.port);
  slow.s.write('GET / HTTP/1.1\r\nHo');
  assert.match(await slow.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 408 /);
  await slow.closed;
  const idle = client(p.port);
  idle.s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await idle.until((d) => d.endsWith('ok'));
  assert.equal(await idle.closed, false, 'an idle keep-alive connection is closed without a reset');
  await p.close();
  await rep.close();
});
