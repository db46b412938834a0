// Randomised traffic through the proxy over raw sockets: pipelined batches of requests with random
// methods, fixed-length or chunked bodies cut at random points, and random response framings
// (content-length, chunked, 204, HEAD). Every response must arrive in order with the exact body.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { startUpstream, proxyWith, ENGINES, setEngine } from './helpers.ts';
import type { Upstream } from './helpers.ts';
import type { ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';
import { ChunkedScanner, parseResponseHead } from '../../../src/runtime/local/proxy-http1.ts';

interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE';
  body: number; // bytes; 0 = none
  chunked: boolean;
  resp: 'cl' | 'chunked' | 'nocontent';
  respSize: number;
}

function bytesFor(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let h = createHash('sha256').update(seed).digest();
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0 && i > 0) h = createHash('sha256').update(h).digest();
    out[i] = h[i % 32];
  }
  return out;
}

function encode(r: Req, i: number): Buffer {
  const body = bytesFor(`req${i}`, r.body);
  const path = `/x?i=${i}&resp=${r.resp}&size=${r.respSize}`;
  let head = `${r.method} ${path} HTTP/1.1\r\nHost: test\r\nX-I: ${i}\r\n`;
  if (r.body === 0) return Buffer.from(`${head}\r\n`);
  if (!r.chunked) return Buffer.concat([Buffer.from(`${head}Content-Length: ${r.body}\r\n\r\n`), body]);
  head += 'Transfer-Encoding: chunked\r\n\r\n';
  const parts: Buffer[] = [Buffer.from(head)];
  for (let off = 0; off < body.length; off += 7777) {
    const c = body.subarray(off, off + 7777);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function expectedBody(r: Req, i: number): Buffer {
  if (r.method === 'HEAD' || r.resp === 'nocontent') return Buffer.alloc(0);
  const sha = createHash('sha256').update(bytesFor(`req${i}`, r.body)).digest('hex');
  return Buffer.concat([Buffer.from(`${sha}\n`), bytesFor(`resp${i}`, r.respSize)]);
}

/** Read `reqs.length` responses from the socket, in order. */
function readResponses(s: net.Socket, reqs: Req[]): Promise<Array<{ status: number; body: Buffer }>> {
  return new Promise((resolve, reject) => {
    const out: Array<{ status: number; body: Buffer }> = [];
    let buf = Buffer.alloc(0);
    let cur: { status: number; mode: 'none' | 'cl' | 'chunked'; left: number; sc: ChunkedScanner | null; parts: Buffer[] } | null = null;
    const step = () => {
      for (;;) {
        if (out.length === reqs.length) {
          resolve(out);
          return;
        }
        if (cur === null) {
          const idx = buf.indexOf('\r\n\r\n');
          if (idx < 0) return;
          const h = parseResponseHead(buf.toString('latin1', 0, idx));
          buf = buf.subarray(idx + 4);
          const r = reqs[out.length];
          const mode = r.method === 'HEAD' || h.status === 204 ? 'none' : h.chunked ? 'chunked' : 'cl';
          cur = { status: h.status, mode, left: h.contentLength, sc: mode === 'chunked' ? new ChunkedScanner() : null, parts: [] };
        }
        const c = cur;
        if (c.mode === 'none') {
          out.push({ status: c.status, body: Buffer.alloc(0) });
          cur = null;
          continue;
        }
        if (c.mode === 'cl') {
          const take = Math.min(c.left, buf.length);
          c.parts.push(buf.subarray(0, take));
          buf = buf.subarray(take);
          c.left -= take;
          if (c.left > 0) return;
        } else {
          const end = c.sc!.feed(buf, 0, (p) => c.parts.push(Buffer.from(p)));
          if (end < 0) {
            buf = Buffer.alloc(0);
            return;
          }
          buf = buf.subarray(end);
        }
        out.push({ status: c.status, body: Buffer.concat(c.parts) });
        cur = null;
      }
    };
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      try {
        step();
      } catch (e) {
        reject(e);
      }
    });
    s.on('close', () => reject(new Error(`connection closed after ${out.length}/${reqs.length} responses`)));
    s.on('error', () => {});
  });
}

const reqArb: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom('GET' as const, 'POST' as const, 'PUT' as const, 'HEAD' as const, 'DELETE' as const),
  body: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1000, max: 120_000 })),
  chunked: fc.boolean(),
  resp: fc.constantFrom('cl' as const, 'chunked' as const, 'nocontent' as const),
  respSize: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 10_000, max: 150_000 })),
});

function defineTests(): void {
  let up: Upstream;
  let p: ReplicaProxy;
  before(async () => {
    up = await startUpstream((req, res) => {
      const u = new URL(req.url!, 'http://x');
      const i = Number(u.searchParams.get('i'));
      const resp = u.searchParams.get('resp');
      const size = Number(u.searchParams.get('size'));
      const h = createHash('sha256');
      req.on('data', (c: Buffer) => h.update(c));
      req.on('end', () => {
        if (resp === 'nocontent') {
          res.writeHead(204).end();
          return;
        }
        const body = Buffer.concat([Buffer.from(`${h.digest('hex')}\n`), bytesFor(`resp${i}`, size)]);
        if (resp === 'cl') {
          res.writeHead(200, { 'content-length': body.length });
          res.end(req.method === 'HEAD' ? undefined : body);
        } else {
          res.writeHead(200);
          if (req.method === 'HEAD') return void res.end();
          for (let off = 0; off < body.length; off += 5000) res.write(body.subarray(off, off + 5000));
          res.end();
        }
      });
    });
    // batches cut into pieces of a few bytes take seconds to send on a loaded machine: a request timeout
    // well above that, so a slow run is never a 504 (and never a fast-check shrink of 504s)
    p = await proxyWith([up], { containerConcurrency: 4, requestTimeoutMs: 120_000 });
  });
  after(async () => {
    await p.close();
    await up.close();
  });

  test('random pipelined batches arrive in order with exact bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reqArb, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), async (reqs, cuts) => {
        const wire = Buffer.concat(reqs.map((r, i) => encode(r, i)));
        const s = net.connect(p.port, '127.0.0.1');
        s.setNoDelay(true);
        const got = readResponses(s, reqs);
        // send the whole batch cut at random points, with a turn of the event loop between pieces
        let off = 0;
        let k = 0;
        while (off < wire.length) {
          const n = cuts[k++ % cuts.length];
          s.write(wire.subarray(off, off + n));
          off += n;
          await new Promise((r) => setImmediate(r));
        }
        const res = await got;
        s.destroy();
        res.forEach((r, i) => {
          assert.equal(r.status, reqs[i].resp === 'nocontent' ? 204 : 200, `request ${i}`);
          assert.ok(r.body.equals(expectedBody(reqs[i], i)), `body of request ${i} (${reqs[i].method}, resp ${reqs[i].resp})`);
        });
      }),
      { numRuns: 25, seed: 42 },
    );
    assert.equal(p.stats().inFlight, 0);
  });
}

for (const engine of ENGINES) {
  describe(`random traffic, engine ${engine}`, () => {
    before(() => setEngine(engine));
    defineTests();
  });
}
