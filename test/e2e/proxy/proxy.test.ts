// The proxy against real sockets on 127.0.0.1: balancing, admission, queue, timeouts, streaming,
// draining, failures and the activator. Upstreams run in-process except where a real kill is needed.
import { test, after, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { startUpstream, gate, proxyWith, get, until, client, defaults, ENGINES, setEngine } from './helpers.ts';
import { createProxy, COLD_START_HEADER } from '../../../src/runtime/local/proxy.ts';

after(() => client.close());

function defineTests(): void {
  test('least outstanding requests spreads held requests evenly over ready replicas', async () => {
    const g = gate();
    const ups = await Promise.all([0, 1, 2].map(() => startUpstream((_q, res) => void g.wait().then(() => res.end('ok')))));
    const p = await proxyWith(ups);
    try {
      const all = Array.from({ length: 30 }, () => get(p.port));
      await until(() => p.stats().inFlight === 30, '30 in flight');
      assert.deepEqual(p.stats().replicas.map((r) => r.inFlight), [10, 10, 10]);
      g.open();
      const res = await Promise.all(all);
      assert.ok(res.every((r) => r.status === 200));
      assert.deepEqual(ups.map((u) => u.served), [10, 10, 10]);
    } finally {
      await p.close();
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  test('only ready, non-draining replicas receive requests', async () => {
    const ups = await Promise.all([0, 1, 2].map((i) => startUpstream((_q, res) => res.end(`r${i}`))));
    const p = await proxyWith(ups);
    p.setReady('r1', false);
    void p.drain('r2', 1000);
    try {
      for (let i = 0; i < 20; i++) assert.equal((await get(p.port)).text, 'r0');
      p.setReady('r1', true);
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add((await get(p.port)).text);
      assert.deepEqual([...seen].sort(), ['r0', 'r1']);
    } finally {
      await p.close();
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  test('containerConcurrency is never exceeded under load; excess waits and succeeds', async () => {
    let n = 0;
    const ups = await Promise.all(
      [0, 1].map(() => startUpstream((_q, res) => void setTimeout(() => res.end('ok'), (n++ % 5) + 1))),
    );
    let maxSeen = 0;
    const p = await proxyWith(ups, { containerConcurrency: 3, queueLimit: 1000 });
    const sampler = setInterval(() => {
      for (const r of p.stats().replicas) maxSeen = Math.max(maxSeen, r.inFlight);
    }, 1);
    try {
      const res = await Promise.all(Array.from({ length: 200 }, () => get(p.port)));
      assert.ok(res.every((r) => r.status === 200));
      assert.ok(ups.every((u) => u.maxActive <= 3), `max per replica ${ups.map((u) => u.maxActive)}`);
      assert.ok(maxSeen <= 3);
      assert.equal(ups[0].served + ups[1].served, 200);
      assert.equal(p.stats().queued, 0);
      assert.equal(p.stats().inFlight, 0);
    } finally {
      clearInterval(sampler);
      await p.close();
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  test('queue full gives 503 with Retry-After; queued requests still succeed', async () => {
    const g = gate();
    const up = await startUpstream((_q, res) => void g.wait().then(() => res.end('ok')));
    const p = await proxyWith([up], { containerConcurrency: 1, queueLimit: 2, retryAfterSeconds: 3 });
    try {
      const held = [get(p.port), get(p.port), get(p.port)];
      await until(() => p.stats().queued === 2 && p.stats().inFlight === 1, '1 in flight, 2 queued');
      const rejected = await get(p.port);
      assert.equal(rejected.status, 503);
      assert.equal(rejected.headers['retry-after'], '3');
      g.open();
      assert.deepEqual((await Promise.all(held)).map((r) => r.status), [200, 200, 200]);
      assert.equal(up.maxActive, 1);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('a request whose whole body arrived while it waited in the queue is forwarded with that body (POST and HEAD)', async () => {
    // regression: the node:http engine's body-timeout 'data' listener let a queued request's body flow
    // away before it was piped upstream; the replica then waited forever for the promised bytes
    const g = gate();
    const up = await startUpstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => void (req.url === '/hold' ? g.wait() : Promise.resolve()).then(() => res.writeHead(200, { 'x-got': String(n), 'content-length': 0 }).end()));
    });
    const p = await proxyWith([up], { containerConcurrency: 1 });
    const raw = (wire: string) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(p.port, '127.0.0.1');
        let buf = '';
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          if (buf.includes('\r\n\r\n')) {
            s.destroy();
            resolve(buf);
          }
        });
        s.on('error', reject);
        s.on('close', () => reject(new Error(`closed without a response: ${JSON.stringify(buf)}`)));
        s.write(wire); // head and body in one write: both parsed while the request is queued
      });
    try {
      const held = get(p.port, '/hold');
      await until(() => p.stats().inFlight === 1, 'first request in flight');
      const body = 'b'.repeat(201);
      const post = raw(`POST /q HTTP/1.1\r\nHost: t\r\nContent-Length: 201\r\n\r\n${body}`);
      const head = raw(`HEAD /q HTTP/1.1\r\nHost: t\r\nContent-Length: 201\r\n\r\n${body}`);
      await until(() => p.stats().queued === 2, '2 queued');
      await new Promise((r) => setTimeout(r, 20)); // let the queued bodies be read by the proxy
      g.open();
      assert.equal((await held).status, 200);
      for (const r of await Promise.all([post, head])) {
        assert.match(r, /^HTTP\/1\.1 200 /);
        assert.match(r, /\r\nx-got: 201\r\n/i);
      }
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('request timeout gives 504, both waiting upstream and waiting in the queue', async () => {
    const up = await startUpstream(() => {}); // never answers
    const p = await proxyWith([up], { requestTimeoutMs: 150, containerConcurrency: 1 });
    const done: number[] = [];
    try {
      const [a, b] = await Promise.all([get(p.port), get(p.port)]);
      assert.equal(a.status, 504);
      assert.equal(b.status, 504);
      await until(() => p.stats().inFlight === 0 && p.stats().queued === 0, 'slots freed');
      await until(() => up.active === 0, 'upstream request aborted');
    } finally {
      await p.close();
      await up.close();
    }
    void done;
  });

  test('SSE stream passes through byte-exact and unbuffered', async () => {
    const events = ['event: a\ndata: 1\n\n', 'data: {"tok":"héllo"}\n\n', ': comment\n\n', 'data: end\n\n'];
    const step = Array.from({ length: events.length }, () => gate());
    const up = await startUpstream(async (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (let i = 0; i < events.length; i++) {
        res.write(events[i]);
        await step[i].wait(); // the next event is only written once the client saw this one
      }
      res.end();
    });
    const p = await proxyWith([up]);
    try {
      const res = await request(`http://127.0.0.1:${p.port}/stream`, { dispatcher: client });
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let got = Buffer.alloc(0);
      let next = 0;
      let expected = Buffer.from(events[0]);
      for await (const chunk of res.body) {
        got = Buffer.concat([got, chunk as Buffer]);
        while (next < events.length && got.length >= expected.length) {
          step[next].open();
          next++;
          if (next < events.length) expected = Buffer.concat([expected, Buffer.from(events[next])]);
        }
      }
      assert.equal(got.toString(), events.join(''));
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('large request and response bodies pass through untouched (fixed length and chunked)', async () => {
    const up = await startUpstream((req, res) => {
      const h = createHash('sha256');
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        h.update(c);
        parts.push(c);
      });
      req.on('end', () => {
        res.setHeader('x-sha', h.digest('hex'));
        res.setHeader('x-te', String(req.headers['transfer-encoding'] ?? ''));
        const body = Buffer.concat(parts);
        // echo back in many chunks, no content-length: chunked to the proxy
        for (let i = 0; i < body.length; i += 65536) res.write(body.subarray(i, i + 65536));
        res.end();
      });
    });
    const p = await proxyWith([up]);
    try {
      const body = randomBytes(8 * 1024 * 1024 + 17);
      const sha = createHash('sha256').update(body).digest('hex');
      const r1 = await get(p.port, '/echo', { method: 'POST', body });
      assert.equal(r1.status, 200);
      assert.equal(r1.headers['x-sha'], sha);
      assert.ok(r1.body.equals(body));
      // chunked request body from a node:http client
      const r2 = await new Promise<{ sha: string; te: string; body: Buffer }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: p.port, method: 'PUT', path: '/echo' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ sha: String(res.headers['x-sha']), te: String(res.headers['x-te']), body: Buffer.concat(parts) }));
        });
        req.on('error', reject);
        for (let i = 0; i < body.length; i += 100_000) req.write(body.subarray(i, i + 100_000));
        req.end();
      });
      assert.equal(r2.te, 'chunked');
      assert.equal(r2.sha, sha);
      assert.ok(r2.body.equals(body));
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('hop-by-hop headers are dropped both ways and X-Forwarded-For is appended', async () => {
    const up = await startUpstream((req, res) => {
      res.setHeader('connection', 'keep-alive, x-secret');
      res.setHeader('x-secret', 'no');
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('x-kept', 'yes');
      res.end(JSON.stringify(req.headers));
    });
    const p = await proxyWith([up]);
    try {
      // node:http client: undici refuses custom Connection tokens
      const r = await new Promise<{ text: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port: p.port, path: '/h',
          headers: { 'x-forwarded-for': '10.0.0.1', 'proxy-authorization': 'Basic x', te: 'trailers', 'x-app': 'v', connection: 'keep-alive, x-hop', 'x-hop': '1' },
        }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ text, headers: res.headers }));
        });
        req.on('error', reject);
        req.end();
      });
      const seen = JSON.parse(r.text) as Record<string, string>;
      assert.equal(seen['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
      assert.equal(seen['x-app'], 'v');
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen['te'], undefined);
      assert.equal(seen['x-hop'], undefined);
      assert.equal(r.headers['x-kept'], 'yes');
      assert.equal(r.headers['x-secret'], undefined);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('drain stops new traffic, waits for in-flight requests, and reports abandonment after grace', async () => {
    const g = gate();
    const ups = await Promise.all(
      [0, 1].map((i) => startUpstream((req, res) => (req.url === '/slow' ? void g.wait().then(() => res.end(`r${i}`)) : res.end(`r${i}`)))),
    );
    const p = await proxyWith(ups);
    try {
      const slow = get(p.port, '/slow');
      await until(() => p.stats().inFlight === 1, 'one in flight');
      const victim = p.stats().replicas.find((r) => r.inFlight === 1)!.id;
      const other = victim === 'r0' ? 'r1' : 'r0';
      let drained: { drained: boolean; abandoned: number } | undefined;
      const d = p.drain(victim, 10_000).then((v) => (drained = v));
      for (let i = 0; i < 10; i++) assert.equal((await get(p.port)).text, other);
      assert.equal(drained, undefined, 'drain must wait for the in-flight request');
      g.open();
      assert.equal((await slow).text, victim);
      await d;
      assert.deepEqual(drained, { drained: true, abandoned: 0 });

      // grace expiry with a request still running
      const g2 = gate();
      const up3 = await startUpstream((_q, res) => void g2.wait().then(() => res.end('late')));
      ups.push(up3);
      p.addReplica('r3', { host: '127.0.0.1', port: up3.port });
      p.setReady('r3', true);
      p.setReady(other, false);
      const stuck = get(p.port);
      await until(() => p.stats().inFlight === 1, 'stuck request in flight');
      assert.deepEqual(await p.drain('r3', 50), { drained: false, abandoned: 1 });
      g2.open();
      assert.equal((await stuck).status, 200);
    } finally {
      await p.close();
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  test('replica failing before headers: idempotent GET retried on another replica, POST gets 502', async () => {
    const dead = await startUpstream((req) => req.socket.destroy());
    const good = await startUpstream((_q, res) => res.end('good'));
    const p = await proxyWith([dead, good]);
    try {
      for (let i = 0; i < 10; i++) {
        const r = await get(p.port);
        assert.equal(r.status, 200);
        assert.equal(r.text, 'good');
      }
      p.setReady('r1', false);
      assert.equal((await get(p.port)).status, 502, 'no other replica: GET fails with 502');
      p.setReady('r1', true);
      const posts = await Promise.all(Array.from({ length: 10 }, () => get(p.port, '/', { method: 'POST', body: 'x' })));
      assert.ok(posts.some((r) => r.status === 502));
      assert.ok(posts.every((r) => r.status === 502 || r.text === 'good'));
      assert.ok(p.stats().replicas[0].errorsTotal > 0);
      assert.equal(p.stats().inFlight, 0);
    } finally {
      await p.close();
      await dead.close();
      await good.close();
    }
  });

  test('replica dying after headers cuts the client connection (error, never a hang)', async () => {
    const up = await startUpstream((_q, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    const p = await proxyWith([up]);
    try {
      await assert.rejects(get(p.port));
      await until(() => p.stats().inFlight === 0, 'slot freed');
      assert.equal(p.stats().replicas[0].errorsTotal, 1);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('a replica process killed mid-request: GET is retried on another replica', async () => {
    const script = `require('http').createServer((q,s)=>{ if(q.url==='/hang') return; s.end('child') }).listen(0,'127.0.0.1',function(){console.log(this.address().port)})`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const childPort = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('error', reject);
      });
      const g = gate();
      const backup = await startUpstream((_q, res) => void g.wait().then(() => res.end('backup')));
      const p = await createProxy(defaults({ containerConcurrency: 1 }));
      p.addReplica('child', { host: '127.0.0.1', port: childPort });
      p.setReady('child', true);
      try {
        const pending = get(p.port, '/hang');
        await until(() => p.stats().inFlight === 1, 'request on the child');
        p.addReplica('backup', { host: '127.0.0.1', port: backup.port });
        p.setReady('backup', true);
        child.kill('SIGKILL');
        g.open();
        const r = await pending;
        assert.equal(r.status, 200);
        assert.equal(r.text, 'backup');
        assert.equal(p.stats().replicas.find((x) => x.id === 'child')!.errorsTotal, 1);
      } finally {
        await p.close();
        await backup.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('client going away frees the slot and aborts the upstream request', async () => {
    const up = await startUpstream(() => {});
    const p = await proxyWith([up], { containerConcurrency: 1 });
    try {
      const req = http.request({ host: '127.0.0.1', port: p.port, path: '/' });
      req.on('error', () => {});
      req.end();
      await until(() => up.active === 1, 'upstream got it');
      req.destroy();
      await until(() => p.stats().inFlight === 0 && up.active === 0, 'slot freed and upstream aborted');
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('activator: held at zero replicas, one poke, released into the first replica within its cap', async () => {
    let pokes = 0;
    const done: Array<{ coldStart: boolean; status: number }> = [];
    const p = await createProxy(defaults({ containerConcurrency: 2, queueLimit: 50 }), {
      onColdRequest: () => pokes++,
      onRequestDone: (i) => done.push({ coldStart: i.coldStart, status: i.status }),
    });
    const up = await startUpstream((_q, res) => void setTimeout(() => res.end('warm'), 2));
    try {
      const held = Array.from({ length: 20 }, () => get(p.port, '/predict'));
      await until(() => p.stats().queued === 20, '20 held');
      assert.equal(pokes, 1, 'the first held request pokes once');
      assert.equal(up.served, 0);
      p.addReplica('a', { host: '127.0.0.1', port: up.port });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(up.served, 0, 'not released before ready');
      p.setReady('a', true);
      const res = await Promise.all(held);
      assert.ok(res.every((r) => r.status === 200 && r.text === 'warm'));
      assert.ok(res.every((r) => Number(r.headers[COLD_START_HEADER.toLowerCase()]) >= 0));
      assert.ok(up.maxActive <= 2, `first replica got ${up.maxActive} at once`);
      await until(() => done.length === 20, 'observer saw all');
      assert.ok(done.every((d) => d.coldStart && d.status === 200));
      // warm traffic: no header, no new poke
      const warm = await get(p.port, '/predict');
      assert.equal(warm.headers[COLD_START_HEADER.toLowerCase()], undefined);
      assert.equal(pokes, 1);
      // back to zero: a new cold episode pokes again
      p.setReady('a', false);
      const again = get(p.port);
      await until(() => pokes === 2, 'second episode poke');
      p.setReady('a', true);
      assert.equal((await again).status, 200);
    } finally {
      await p.close();
      await up.close();
    }
  });

  test('activator: held requests time out with 504, and a placeholder answers after its wait', async () => {
    const p = await createProxy(defaults({ requestTimeoutMs: 100 }));
    const q = await createProxy(defaults({ requestTimeoutMs: 5000, coldPlaceholder: { afterMs: 50, status: 503, body: 'loading' } }));
    try {
      assert.equal((await get(p.port)).status, 504);
      assert.equal(p.stats().queued, 0);
      const r = await get(q.port);
      assert.equal(r.status, 503);
      assert.equal(r.text, 'loading');
      assert.equal(r.headers['retry-after'], '1');
      assert.ok(Number(r.headers[COLD_START_HEADER.toLowerCase()]) >= 50);
      assert.equal(q.stats().queued, 0);
    } finally {
      await p.close();
      await q.close();
    }
  });
}

for (const engine of ENGINES) {
  describe(`proxy engine ${engine}`, () => {
    before(() => setEngine(engine));
    defineTests();
  });
}
