// Wire behaviours both engines must share (issue 16's list), each run on 'raw' and 'node-http':
// 431 for an oversized head, 502 for a malformed replica response or a 101, 103 passed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy, type ProxyEngine } from '../../../src/runtime/local/proxy.ts';
import type { ProxyOptions, ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';

async function proxy(engine: ProxyEngine, port: number, over: Partial<ProxyOptions> = {}): Promise<ReplicaProxy> {
  const p = await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 30_000, sweepIntervalMs: 0, engine, ...over } as ProxyOptions & { engine: ProxyEngine });
  p.addReplica('r', { host: '127.0.0.1', port });
  p.setReady('r', true);
  return p;
}

function client(port: number): { s: net.Socket; until(pred: (d: string) => boolean): Promise<string> } {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiters: Array<() => void> = [];
  s.on('data', (d) => { buf += d.toString('latin1'); for (const w of waiters.splice(0)) w(); });
  s.on('error', () => {});
  s.on('close', () => { for (const w of waiters.splice(0)) w(); });
  const until = async (pred: (d: string) => boolean) => {
    while (!pred(buf)) {
      if (s.destroyed) throw new Error(`closed with ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    return buf;
  };
  return { s, until };
}

for (const engine of ['raw', 'node-http'] as const) {
  test(`${engine}: a head larger than the limit gets 431 and never reaches the replica`, async () => {
    let seen = 0;
    const rep = http.createServer((_q, s) => { seen++; s.end(); });
    await new Promise<void>((r) => rep.listen(0, '127.0.0.1', r));
    const p = await proxy(engine, (rep.address() as AddressInfo).port);
    const c = client(p.port);
    c.s.write(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(119_000)}\r\n\r\n`);
    assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 431 /);
    assert.equal(seen, 0);
    c.s.destroy();
    await p.close();
    rep.closeAllConnections();
    await new Promise<void>((r) => rep.close(() => r()));
  });

  test(`${engine}: replica answers: a malformed one or a 101 gives 502; a 103 is passed on without hop-by-hop fields`, async () => {
    const rep = net.createServer((s) => {
      s.on('data', (d) => {
        const path = d.toString().split(' ')[1];
        if (path === '/bad') s.end('HTTP/1.1 200 O\x00K\r\nContent-Length: 2\r\n\r\nhi');
        else if (path === '/garbage') s.end('SSH-2.0-OpenSSH\r\n\r\n');
        else if (path === '/upgrade') s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n');
        else s.write('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nConnection: x-hop\r\nX-Hop: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => rep.listen(0, '127.0.0.1', r));
    const p = await proxy(engine, (rep.address() as AddressInfo).port, { retryIdempotent: false });
    for (const path of ['/bad', '/garbage', '/upgrade']) {
      const c = client(p.port);
      c.s.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
      assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 502 /, path);
      c.s.destroy();
    }
    const c = client(p.port);
    c.s.write('GET /hints HTTP/1.1\r\nHost: a\r\n\r\n');
    const got = await c.until((d) => d.endsWith('hi'));
    assert.match(got, /^HTTP\/1\.1 103 Early Hints\r\nLink: <\/a>\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.ok(!got.includes('X-Hop'));
    c.s.destroy();
    await p.close();
    await new Promise<void>((r) => rep.close(() => r()));
  });

  test(`${engine}: Expect: 100-continue gets exactly one 100 Continue, then the body goes through`, async () => {
    const rep = http.createServer((q, s) => {
      let body = '';
      q.on('data', (d) => (body += d));
      q.on('end', () => s.end(`got ${body}`));
    });
    await new Promise<void>((r) => rep.listen(0, '127.0.0.1', r));
    const p = await proxy(engine, (rep.address() as AddressInfo).port);
    const c = client(p.port);
    c.s.write('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    assert.match(await c.until((d) => d.includes('\r\n\r\n')), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    c.s.write('hello');
    const got = await c.until((d) => d.endsWith('got hello'));
    assert.equal(got.split('HTTP/1.1 100 ').length - 1, 1);
    assert.match(got, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    c.s.destroy();
    await p.close();
    rep.closeAllConnections();
    await new Promise<void>((r) => rep.close(() => r()));
  });
}
