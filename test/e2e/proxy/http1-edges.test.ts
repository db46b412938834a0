// HTTP/1.x edge cases through the proxy, spoken over raw sockets: pipelining, HTTP/1.0 clients, HEAD,
// 204, close-delimited replica responses, interim 100 Continue, smuggling-prone heads, and stale
// keep-alive connections to replicas.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startUpstream, proxyWith, defaults, ENGINES, setEngine, client, get } from './helpers.ts';
import { createProxy } from '../../../src/runtime/local/proxy.ts';

after(() => client.close());

/** Write `data` to the proxy and collect everything until the proxy closes the connection. */
function exchange(port: number, data: string | string[], limitMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`connection not closed by the proxy; got: ${JSON.stringify(out)}`));
    }, limitMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => {});
    const parts = Array.isArray(data) ? data : [data];
    let i = 0;
    const next = () => {
      if (i < parts.length) {
        s.write(parts[i++]);
        setTimeout(next, 20);
      }
    };
    next();
  });
}

function defineTests(): void {
  test('pipelined requests are answered in order on one connection', async () => {
    const up = await startUpstream((req, res) => setTimeout(() => res.end(`path=${req.url}`), req.url === '/a' ? 30 : 0));
    const p = await proxyWith([up]);
    try {
      const out = await exchange(p.port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const bodies = [...out.matchAll(/path=\/(\w)/g)].map((m) => m[1]);
      assert.deepEqual(bodies, ['a', 'b', 'c']);
      assert.equal(out.match(/HTTP\/1\.1 200/g)?.length, 3);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('HTTP/1.0 client gets a de-chunked body and the connection closes', async () => {
    const up = await startUpstream((_q, res) => {
      res.write('hello ');
      setImmediate(() => res.end('world'));
    });
    const p = await proxyWith([up]);
    try {
      const out = await exchange(p.port, 'GET / HTTP/1.0\r\n\r\n');
      const [head, body] = out.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.[01] 200/);
      assert.doesNotMatch(head, /transfer-encoding/i);
      assert.equal(body, 'hello world');
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('HEAD and 204 responses have no body and keep the connection usable', async () => {
    const up = await startUpstream((req, res) => {
      if (req.url === '/204') {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'content-length': '5', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const p = await proxyWith([up]);
    try {
      const out = await exchange(p.port, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
      assert.deepEqual(statuses, ['200', '204', '200']);
      assert.ok(out.endsWith('hello'));
      assert.equal(out.split('hello').length, 2, 'only the GET carries a body');
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('a close-delimited replica response reaches the client whole', async () => {
    const raw = net.createServer((s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close body'));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const p = await createProxy(defaults());
    p.addReplica('raw', { host: '127.0.0.1', port: (raw.address() as AddressInfo).port });
    p.setReady('raw', true);
    try {
      const r = await get(p.port);
      assert.equal(r.status, 200);
      assert.equal(r.text, 'until-close body');
    } finally {
      await p.close();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  test('Expect: 100-continue gets an interim 100 before the final response', async () => {
    const up = await startUpstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`got ${n}`));
    });
    const p = await proxyWith([up]);
    try {
      const out = await exchange(p.port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n', 'abcd']);
      assert.match(out, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200/);
      assert.ok(out.endsWith('got 4'));
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('a request with both Content-Length and Transfer-Encoding is refused with 400', async () => {
    const up = await startUpstream((_q, res) => res.end('should not be reached'));
    const p = await proxyWith([up]);
    try {
      const out = await exchange(p.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      assert.match(out, /^HTTP\/1\.1 400/);
      assert.equal(up.served, 0);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('keep-alive connections the replica closed while idle are not reused', async () => {
    const up = await startUpstream((_q, res) => res.end('ok'));
    up.server.keepAliveTimeout = 100;
    const p = await proxyWith([up]);
    try {
      assert.equal((await get(p.port)).status, 200);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await get(p.port, '/', { method: 'POST' })).status, 200);
    } finally {
      await p.close();
      await up.close();
    }
  });
}

for (const engine of ENGINES) {
  describe(`http/1 edges, engine ${engine}`, () => {
    before(() => setEngine(engine));
    defineTests();
  });
}

test('raw engine: a reused connection found dead is retried once on a fresh one, even for a bodiless POST', async () => {
  setEngine('raw');
  // a replica that serves one request per connection and then silently drops the next one on it
  const served = new WeakMap<net.Socket, number>();
  const raw = net.createServer((s) => {
    s.on('data', () => {
      const n = (served.get(s) ?? 0) + 1;
      served.set(s, n);
      if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.destroy();
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const p = await createProxy(defaults());
  p.addReplica('raw', { host: '127.0.0.1', port: (raw.address() as AddressInfo).port });
  p.setReady('raw', true);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await get(p.port, '/', { method: 'POST' });
      assert.equal(r.status, 200);
      assert.equal(r.text, 'ok');
    }
    assert.equal(p.stats().replicas[0].errorsTotal, 0);
  } finally {
    await p.close();
    await new Promise<void>((r) => raw.close(() => r()));
  }
});
