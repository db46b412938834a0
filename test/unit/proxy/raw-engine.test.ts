// The raw engine's connection timeouts (injected clock, sweeps by hand: no real waiting), limits and
// wire behaviours, over loopback sockets. Regressions for issue 9 (items 1-4, 10) and issue 16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy, MAX_PENDING_BODY } from '../../../src/runtime/local/proxy.ts';
import type { ProxyOptions, ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';

interface Raw extends ReplicaProxy {
  sweep(): void;
  clients: Set<{ socket: net.Socket; x: { pendingBytes: number } | null; paused: boolean }>;
}

let now = 1_000_000;
const clock = () => now;

async function replica(handler: http.RequestListener): Promise<{ port: number; close(): Promise<void>; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function proxy(port: number | null, over: Partial<ProxyOptions> = {}): Promise<Raw> {
  const p = (await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 30_000, clock, sweepIntervalMs: 0, engine: 'raw', ...over } as ProxyOptions & { engine: 'raw' })) as Raw;
  if (port !== null) {
    p.addReplica('r', { host: '127.0.0.1', port });
    p.setReady('r', true);
  }
  return p;
}

/** A raw client that collects everything it receives. */
function client(port: number): { s: net.Socket; data(): string; closed: Promise<boolean>; until(pred: (d: string) => boolean): Promise<string> } {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiters: Array<() => void> = [];
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  let reset = false;
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ECONNRESET') reset = true;
  });
  const closed = new Promise<boolean>((r) => s.on('close', () => {
    for (const w of waiters.splice(0)) w();
    r(reset);
  }));
  const until = async (pred: (d: string) => boolean) => {
    while (!pred(buf)) {
      if (s.destroyed) throw new Error(`closed with ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    return buf;
  };
  return { s, data: () => buf, closed, until };
}

const tick = () => new Promise((r) => setImmediate(r));

async function settle(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !pred(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(pred(), 'condition not reached');
}

test('head timeout is total: empty lines trickled before the request line do not extend it (issue 9 #3)', async () => {
  const p = await proxy(null, { headersTimeoutMs: 10_000, idleTimeoutMs: 65_000 });
  const c = client(p.port);
  await new Promise((r) => c.s.once('connect', r));
  // one empty line every 3 s: each one is activity, but none may restart the head timer
  let elapsed = 0;
  for (let i = 0; i < 10 && c.data() === ''; i++) {
    c.s.write('\r\n');
    await settle(() => [...p.clients].length === 1);
    for (let k = 0; k < 5; k++) await tick();
    now += 3000;
    elapsed += 3000;
    p.sweep();
    await tick();
  }
  const got = await c.until((d) => d.includes('\r\n\r\n'));
  assert.ok(elapsed <= 15_000, `answered after ${elapsed} ms of trickling`);
  assert.match(got, /^HTTP\/1\.1 408 /);
  await c.closed;
  await p.close();
});

test('idle keep-alive connections are closed after idleTimeoutMs, busy ones are not', async () => {
  const rep = await replica((_q, s) => s.end('ok'));
  const p = await proxy(rep.port, { idleTimeoutMs: 5000 });
  const c = client(p.port);
  c.s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await c.until((d) => d.endsWith('ok'));
  now += 4000;
  p.sweep();
  assert.equal(c.s.destroyed, false);
  now += 1500;
  p.sweep();
  assert.equal(await c.closed, false, 'closed without a reset');
  await p.close();
  await rep.close();
});

test('a stalled request body gets 408 after bodyTimeoutMs and frees the replica slot (issue 9 #3)', async () => {
  let seen = 0;
  const rep = await replica((q) => {
    seen++;
    q.resume();
  });
  const p = await proxy(rep.port, { bodyTimeoutMs: 20_000, containerConcurrency: 1 });
  const c = client(p.port);
  c.s.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
  await settle(() => seen === 1 && p.stats().inFlight === 1);
  now += 19_000;
  p.sweep();
  assert.equal(p.stats().inFlight, 1);
  now += 2000;
  p.sweep();
  assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 408 /);
  assert.equal(p.stats().inFlight, 0, 'slot freed');
  await p.close();
  await rep.close();
});

test('a client that reads nothing of a big response is cut after writeTimeoutMs and the slot is freed (issue 9 #3)', async () => {
  const big = Buffer.alloc(16 << 20, 120);
  const rep = await replica((_q, s) => {
    s.writeHead(200, { 'content-length': big.length });
    s.end(big);
  });
  const p = await proxy(rep.port, { writeTimeoutMs: 30_000, containerConcurrency: 1 });
  const c = client(p.port);
  c.s.pause();
  c.s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => [...p.clients].some((k) => k.socket.writableNeedDrain));
  p.sweep();
  assert.equal(p.stats().inFlight, 1, 'held while the client has time left');
  now += 31_000;
  p.sweep();
  assert.equal(p.stats().inFlight, 0, 'slot freed');
  assert.equal(p.stats().replicas[0].inFlight, 0);
  await p.close();
  await rep.close();
});

test('a request body waiting in the queue is buffered up to 1 MiB, then the client is paused (issue 16)', async () => {
  let received = 0;
  const rep = await replica((q, s) => {
    q.on('data', (d: Buffer) => (received += d.length));
    q.on('end', () => s.end('done'));
  });
  const p = await proxy(null);
  p.addReplica('r', { host: '127.0.0.1', port: rep.port });
  const total = 4 * MAX_PENDING_BODY;
  const c = client(p.port);
  c.s.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
  c.s.write(Buffer.alloc(total, 97));
  await settle(() => [...p.clients].some((k) => k.paused));
  const k = [...p.clients][0];
  assert.ok(k.x !== null && k.x.pendingBytes <= MAX_PENDING_BODY + (1 << 16), `buffered ${k.x?.pendingBytes}`);
  p.setReady('r', true);
  await c.until((d) => d.endsWith('done'));
  assert.equal(received, total);
  await p.close();
  await rep.close();
});

test('a bare-LF head is answered 400 at once, not 408 after the head timeout (issue 9 #2)', async () => {
  const p = await proxy(null);
  const c = client(p.port);
  c.s.write('GET / HTTP/1.1\nHost: a\n\n');
  assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 400 /);
  await p.close();
});

test('Connection: content-length cannot smuggle a request nor poison the next client (issue 9 #1)', async () => {
  const seen: string[] = [];
  const rep = await replica((q, s) => {
    let body = '';
    q.on('data', (d) => (body += d));
    q.on('end', () => {
      seen.push(`${q.method} ${q.url} ${body.length}`);
      s.end(`for ${q.url}`);
    });
  });
  const p = await proxy(rep.port, { containerConcurrency: 1 });
  const smug = 'GET /smuggled HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
  const a = client(p.port);
  a.s.write(`POST /a HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`);
  assert.match(await a.until((d) => d.endsWith('for /a')), /^HTTP\/1\.1 200 /);
  const b = client(p.port);
  b.s.write('GET /b HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.ok((await b.until((d) => d.endsWith('for /b') || d.includes('smuggled'))).endsWith('for /b'));
  assert.deepEqual(seen, [`POST /a ${smug.length}`, 'GET /b 0']);
  await p.close();
  await rep.close();
});

/** One replica slot, no queue, and a client holding the slot: the next request gets a 503 at once. */
async function fullQueue(): Promise<{ hold: http.ServerResponse[]; rep: Awaited<ReturnType<typeof replica>>; p: Raw; busy: ReturnType<typeof client> }> {
  const hold: http.ServerResponse[] = [];
  const rep = await replica((q, s) => {
    q.resume();
    hold.push(s);
  });
  const p = await proxy(rep.port, { containerConcurrency: 1, queueLimit: 0 });
  const busy = client(p.port);
  busy.s.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => hold.length === 1);
  return { hold, rep, p, busy };
}

test('503 for a full queue keeps the connection when the body can be discarded (issue 9 #4)', async () => {
  const { hold, rep, p, busy } = await fullQueue();
  const c = client(p.port);
  const body = 'x'.repeat(50_000);
  c.s.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const first = await c.until((d) => d.includes('no capacity'));
  assert.match(first, /^HTTP\/1\.1 503 /);
  assert.ok(!/connection: close/i.test(first), 'kept alive');
  hold[0].end('freed');
  await busy.until((d) => d.endsWith('freed'));
  c.s.write('GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => hold.length === 2);
  hold[1].end('second');
  await c.until((d) => d.endsWith('second'));
  await p.close();
  await rep.close();
});

test('a request pipelined in the same read as the end of a body answered early is served, not dropped', async () => {
  const { hold, rep, p, busy } = await fullQueue();
  const c = client(p.port);
  c.s.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
  assert.match(await c.until((d) => d.includes('no capacity')), /^HTTP\/1\.1 503 /); // answered before its body
  hold[0].end('freed');
  await busy.until((d) => d.endsWith('freed'));
  // the body's end and the next request in one write
  c.s.write('0123456789GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => hold.length === 2);
  hold[1].end('second');
  assert.ok((await c.until((d) => d.endsWith('second'))).endsWith('second'));
  await p.close();
  await rep.close();
});

test('graceful close: stops accepting, closes idle connections, answers in-flight with Connection: close, no resets (issue 9 #10)', async () => {
  const hold: http.ServerResponse[] = [];
  const rep = await replica((q, s) => {
    q.resume();
    hold.push(s);
  });
  const p = await proxy(rep.port);
  const idle = client(p.port);
  idle.s.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => hold.length === 1);
  hold[0].end('one');
  await idle.until((d) => d.endsWith('one'));
  const busy = client(p.port);
  busy.s.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
  await settle(() => hold.length === 2);
  const port = p.port;
  const closing = p.close({ graceMs: 30_000 });
  assert.equal(await idle.closed, false, 'idle connection closed cleanly');
  const refused = await new Promise<boolean>((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => r(true));
    s.on('connect', () => {
      s.destroy();
      r(false);
    });
  });
  assert.ok(refused, 'no new connections');
  hold[1].end('two');
  const got = await busy.until((d) => d.endsWith('two'));
  assert.match(got, /connection: close/i);
  assert.equal(await busy.closed, false, 'no reset');
  await closing;
  await rep.close();
});
