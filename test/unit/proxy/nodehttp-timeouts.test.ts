// The node:http engine's connection timeouts (head, idle, body, write) on an injected clock, swept by
// hand (no real waiting), as the raw engine's in raw-engine.test.ts; the head and idle ones are run on
// both engines side by side, which must answer alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy, type ProxyEngine } from '../../../src/runtime/local/proxy.ts';
import type { ProxyOptions, ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';

interface NodeHttp extends ReplicaProxy { sweep(): void; timed: Set<unknown> }
/** Either engine, with the proxy-side client sockets it holds (raw: clients, node-http: conns). */
interface Either extends ReplicaProxy { sweep(): void; clients?: Set<{ socket: net.Socket }>; conns?: Map<net.Socket, unknown> }

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

/** Exchanges the proxy has finished (its observer): settle on it before moving the clock past one. */
let done = 0;

async function either(engine: ProxyEngine, port: number | null, over: Partial<ProxyOptions> = {}): Promise<Either> {
  done = 0;
  const p = (await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 30_000, clock, sweepIntervalMs: 0, engine, ...over } as ProxyOptions & { engine: ProxyEngine }, { onRequestDone: () => { done++; } })) as unknown as Either;
  if (port !== null) {
    p.addReplica('r', { host: '127.0.0.1', port });
    p.setReady('r', true);
  }
  return p;
}

/** The proxy's side of its client connections. */
function sockets(p: Either): net.Socket[] {
  return p.clients ? [...p.clients].map((c) => c.socket) : [...p.conns!.keys()];
}
/** The proxy has answered and closed (or cut) every client connection: synchronous with the sweep. */
const finished = (p: Either) => sockets(p).every((s) => s.writableEnded || s.destroyed);

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

const HEAD_408 = 'HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\nConnection: close\r\n\r\nrequest head timeout\n';

/**
 * A partial head waits behind a response that is owed: no head timeout 30 s on; `release` answers
 * the first request ('one'), and the head timeout then runs from the end of that response: nothing
 * 1 ms before it, and the clock is left at exactly headersTimeoutMs (10 s) after it, swept.
 */
async function answeredThenHeadTimeout(p: Either, c: ReturnType<typeof client>, release: () => void): Promise<void> {
  now += 30_000;
  p.sweep();
  assert.equal(finished(p), false, 'no head timeout while a response is owed');
  release();
  await c.until((d) => d.endsWith('one'));
  await settle(() => done === 1);
  now += 9999;
  p.sweep();
  assert.equal(finished(p), false, '1 ms before the head timeout');
  now += 1;
  p.sweep();
}

for (const engine of ['node-http', 'raw'] as const) {
  test(`${engine}: head timeout is total, from the first byte (an empty line): trickling does not extend it; 408 and close at exactly headersTimeoutMs`, async () => {
    const p = await either(engine, null, { headersTimeoutMs: 10_000, idleTimeoutMs: 65_000 });
    const c = client(p.port);
    let sent = 0;
    const send = async (piece: string) => {
      c.s.write(piece);
      sent += piece.length;
      await settle(() => sockets(p).length === 1 && sockets(p)[0].bytesRead === sent);
    };
    await send('\r\n');
    // every piece is activity, and none completes the head
    for (const piece of ['\r\n', 'GET / HTTP/1.1\r\n', 'Ho', 'st: a\r\n']) {
      now += 2400;
      await send(piece);
      p.sweep();
      assert.equal(finished(p), false, 'within the head timeout');
    }
    now += 10_000 - 4 * 2400 - 1;
    p.sweep();
    assert.equal(finished(p), false, '1 ms before the head timeout');
    now += 1;
    p.sweep();
    assert.equal(finished(p), true, 'answered at the head timeout');
    assert.equal(await c.until((d) => d.length >= HEAD_408.length), HEAD_408);
    assert.equal(await c.closed, false, 'closed without a reset');
    await p.close();
  });

  test(`${engine}: idle keep-alive connections (after a response, or never used) close at idleTimeoutMs with a FIN; a busy one stays open`, async () => {
    let hold: (() => void) | null = null;
    const rep = await replica((q, s) => {
      if (q.url === '/slow') hold = () => s.end('slow');
      else s.end('ok');
    });
    const p = await either(engine, rep.port, { headersTimeoutMs: 60_000, idleTimeoutMs: 5000 });
    const used = client(p.port);
    used.s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const head = await used.until((d) => d.endsWith('ok'));
    await settle(() => done === 1);
    if (engine === 'node-http') assert.match(head, /\r\nKeep-Alive: timeout=5\r\n/i, 'the advertised keep-alive timeout is the idle timeout');
    const silent = client(p.port);
    await settle(() => sockets(p).length === 2);
    const busy = client(p.port);
    busy.s.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await settle(() => hold !== null);
    now += 4999;
    p.sweep();
    assert.equal(finished(p), false, 'nobody idle for idleTimeoutMs yet');
    now += 1;
    p.sweep();
    assert.equal(await used.closed, false, 'the used connection closed without a reset');
    assert.equal(await silent.closed, false, 'the never-used connection closed without a reset');
    now += 60_000;
    p.sweep();
    assert.equal(busy.s.destroyed, false, 'a connection waiting for its response is not idle');
    hold!();
    await busy.until((d) => d.endsWith('slow'));
    await settle(() => done === 2);
    now += 5000;
    p.sweep();
    assert.equal(await busy.closed, false, 'idle again after its response');
    await p.close();
    await rep.close();
  });

  test(`${engine}: a pipelined head left incomplete behind a response is timed from that response's end: 408 at headersTimeoutMs`, async () => {
    let hold: (() => void) | null = null;
    const rep = await replica((_q, s) => { hold = () => s.end('one'); });
    const p = await either(engine, rep.port, { headersTimeoutMs: 10_000, idleTimeoutMs: 65_000 });
    const c = client(p.port);
    const first = 'GET /one HTTP/1.1\r\nHost: a\r\n\r\n';
    c.s.write(first);
    await settle(() => hold !== null);
    c.s.write('GET /two HT');
    await settle(() => sockets(p)[0].bytesRead === first.length + 11);
    await answeredThenHeadTimeout(p, c, hold!);
    assert.ok((await c.until((d) => d.endsWith(HEAD_408))).endsWith(HEAD_408));
    await c.closed;
    await p.close();
    await rep.close();
  });

  // A request and the first bytes of the next head in ONE write (on loopback, one read on the proxy's
  // side): the partial head is timed from the end of the first response, as when it comes in a read
  // of its own (the test above).
  const sameRead: Array<[string, string, string]> = [
    ['a body-less GET', 'GET /one HTTP/1.1\r\nHost: a\r\n\r\n', ''],
    ['a POST whose Content-Length body ends', 'POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
    ['a POST whose chunked body ends', 'POST /one HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n', 'hello'],
  ];
  for (const [what, first, body] of sameRead) {
    test(`${engine}: ${what} in the same write as the start of a pipelined head: answered, then 408 at headersTimeoutMs after its response`, async (t) => {
      const bodies: string[] = [];
      let hold: (() => void) | null = null;
      const rep = await replica((q, s) => {
        let b = '';
        q.on('data', (d: Buffer) => { b += d.toString('latin1'); });
        q.on('end', () => { bodies.push(b); hold = () => s.end('one'); });
      });
      const p = await either(engine, rep.port, { headersTimeoutMs: 10_000, idleTimeoutMs: 65_000 });
      const c = client(p.port);
      t.after(async () => { c.s.destroy(); await p.close(); await rep.close(); });
      const next = 'GET /two HTTP/1.1\r\nHo';
      c.s.write(first + next);
      await settle(() => hold !== null && sockets(p).length === 1 && sockets(p)[0].bytesRead === first.length + next.length);
      assert.deepEqual(bodies, [body], 'the first request went through whole');
      await answeredThenHeadTimeout(p, c, hold!);
      assert.equal(finished(p), true, 'answered at the head timeout');
      const got = await c.until((d) => d.endsWith(HEAD_408));
      assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(got.slice(got.indexOf('\r\n\r\none') + 7), HEAD_408, 'the first response, then the 408 and nothing else');
      assert.equal(await c.closed, false, 'closed without a reset');
    });
  }

  test(`${engine}: the rest of a body answered early (503, queue full) is read while it keeps coming, and the connection is cut once it stalls for bodyTimeoutMs`, async () => {
    const p = await either(engine, null, { queueLimit: 0, bodyTimeoutMs: 20_000, idleTimeoutMs: 65_000 });
    const c = client(p.port);
    const head = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n012';
    c.s.write(head);
    assert.match(await c.until((d) => d.endsWith('\n')), /^HTTP\/1\.1 503 /);
    await settle(() => done === 1);
    now += 15_000;
    c.s.write('34');
    await settle(() => sockets(p)[0].bytesRead === head.length + 2);
    now += 19_999;
    p.sweep();
    assert.equal(finished(p), false, 'more of the body came 19.999 s ago');
    now += 1;
    p.sweep();
    await c.closed;
    await p.close();
  });
}
