// Differential test of the proxy's HTTP/1.1 framing against Node's own parser (llhttp).
//
// A seeded corpus (seed printed; TIDE_DIFF_SEED=<n> replays one, TIDE_DIFF_SEED=random draws one) of client byte streams: valid
// requests, pipelined batches, the classic CL.TE / TE.CL / TE.TE smuggling shapes, every class of
// head and chunked-body anomaly the proxy was found to accept, and random mutations of valid heads
// and chunked bodies; each paired with replica responses (valid framings, response-side smuggling
// shapes, interim responses, broken heads, mutations).
//
// 1. In-process: the raw engine's head parser and chunked scanner against llhttp on every head of
//    the corpus and more mutations: whatever llhttp rejects, the raw engine rejects too.
// 2. Through real sockets, for both engines: the bytes the replica receives, parsed by llhttp, are
//    exactly the requests llhttp parses from the client's bytes (a prefix of them when the proxy is
//    stricter, never one more): same count, methods, targets, headers minus hop-by-hop, bodies; and
//    the bytes the client receives parse into exactly the replica's responses (or a 502 / a cut when
//    the replica's response is broken).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { llparse } from './llhttp.ts';
import type { Msg } from './llhttp.ts';
import { ChunkedScanner, HttpError, parseRequestHead, parseResponseHead } from '../../../src/runtime/local/proxy-http1.ts';
import { createProxy } from '../../../src/runtime/local/proxy.ts';
import type { ReplicaProxy } from '../../../src/runtime/local/proxy-types.ts';

// A fixed corpus by default, so a run is repeatable (a random one per run made CI a lottery: seed
// 171208979 found the HTTP/0.9 request line); TIDE_DIFF_SEED=random explores a new one.
const SEED_ENV = process.env.TIDE_DIFF_SEED;
const SEED = SEED_ENV === 'random' ? (Date.now() % 1_000_000_007) >>> 0 : SEED_ENV ? Number(SEED_ENV) : 171208979;
console.log(`differential corpus seed ${SEED} (TIDE_DIFF_SEED=${SEED} replays it)`);

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

// ---------------------------------------------------------------- corpus

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH'] as const;

function chunked(body: string, sizes: number[] = [], ext = ''): string {
  let out = '';
  let off = 0;
  let k = 0;
  while (off < body.length) {
    const n = Math.min(body.length - off, sizes[k++ % Math.max(1, sizes.length)] ?? body.length);
    out += `${n.toString(16)}${ext}\r\n${body.slice(off, off + n)}\r\n`;
    off += n;
  }
  return `${out}0\r\n\r\n`;
}

function body(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + ((i * 7 + n) % 26));
  return s;
}

/** A valid request, sometimes with a body (fixed length or chunked). */
function validRequest(): string {
  const m = pick(METHODS);
  const path = pick(['/', '/predict', '/a/b?x=1&y=2', '/%20x', '/v1/models/m:predict']);
  let h = `${m} ${path} HTTP/1.1\r\nHost: ${pick(['svc', 'svc:8080', '127.0.0.1'])}\r\n`;
  if (rand() < 0.3) h += `X-Forwarded-For: 10.0.0.${int(255)}\r\n`;
  if (rand() < 0.3) h += `User-Agent: t/${int(9)}\r\n`;
  if (rand() < 0.2) h += 'Connection: keep-alive\r\n';
  if (rand() < 0.1) h += 'Connection: x-hop\r\nX-Hop: 1\r\n';
  const kind = rand();
  if (kind < 0.4) return `${h}\r\n`;
  const b = body(int(40));
  if (kind < 0.7) return `${h}Content-Length: ${b.length}\r\n\r\n${b}`;
  return `${h}Transfer-Encoding: chunked\r\n\r\n${chunked(b, [1 + int(9), 1 + int(9)], rand() < 0.2 ? ';a=b' : '')}`;
}

/** Hand-written shapes: smuggling classics and each anomaly class from issue 9. */
function shapes(): string[] {
  const s = 'POST / HTTP/1.1\r\nHost: a\r\n';
  const smug = 'GET /smuggled HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
  const out = [
    // hop-by-hop tokens naming framing headers or Host (issue 9, item 1)
    `${s}Connection: content-length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`,
    `GET / HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`,
    `HEAD / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`,
    `DELETE / HTTP/1.1\r\nHost: a\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`,
    `OPTIONS / HTTP/1.1\r\nHost: a\r\nConnection: close, content-length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`,
    `${s}Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(smug)}`,
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: host\r\n\r\n',
    // CL.TE, TE.CL, TE.TE
    `${s}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`,
    `${s}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${smug}\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    `${s} Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${s}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
    `${s}X: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${s}X: y\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    // Content-Length variants
    `${s}Content-Length: +3\r\n\r\nabc`,
    `${s}Content-Length: 3 \r\n\r\nabc`,
    `${s}Content-Length: 03\r\n\r\nabc`,
    `${s}Content-Length: 3, 3\r\n\r\nabc`,
    `${s}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    `${s}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
    `${s}Content-Length: 9007199254740993\r\n\r\nabc`,
    `${s}Content-Length: 18446744073709551616\r\n\r\nabc`,
    `${s}Content-Length: -1\r\n\r\n`,
    `${s}Content-Length: 0x3\r\n\r\nabc`,
    `${s}Content-Length: \r\n\r\n`,
    `${s}Content-Length: 3\x00\r\n\r\nabc`,
    // head anomalies (issue 9, item 2)
    'GET / HTTP/1.1\nHost: a\n\n',
    'GET / HTTP/1.1\r\nHost: a\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x00\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-\x00A: 1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: \x01\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: \x7f\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xe9\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n',
    'FOO / HTTP/1.1\r\nHost: a\r\n\r\n',
    'get / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1 \r\nHost: a\r\n\r\n',
    'GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET x HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.0\r\n\r\n',
    'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    '\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n',
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(9000)}\r\n\r\n`,
    // chunked body anomalies
    `${s}Transfer-Encoding: chunked\r\n\r\n005\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n0000000000000000005\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\nA\r\nhelloworld\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\t\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5;a\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5;a=b;c="d e"\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5;a=\x00\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5 ;a=b\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\n\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT\x00: 1\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n1\r\r\nh\r\n0\r\n\r\n`,
    `${s}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\r\n0\r\n\r\n`,
  ];
  return out;
}

/** Random byte-level mutations of a valid request (heads and chunked bodies). */
function mutate(src: string): string {
  const specials = ['\x00', '\r', '\n', ' ', '\t', ':', ',', ';', '\x0b', '\xa0', '\x7f', '0', 'a', 'F', '"', '\r\n', '\r\n\r\n', '-', 'chunked'];
  let s = src;
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const i = int(s.length + 1);
    const op = int(5);
    if (op === 0) s = s.slice(0, i) + pick(specials) + s.slice(i + 1);
    else if (op === 1) s = s.slice(0, i) + pick(specials) + s.slice(i);
    else if (op === 2) s = s.slice(0, i) + s.slice(i + 1 + int(3));
    else if (op === 3) {
      // duplicate a line
      const lines = s.split('\r\n');
      const j = int(lines.length);
      lines.splice(j, 0, lines[j]);
      s = lines.join('\r\n');
    } else s = s.slice(0, i) + String.fromCharCode(int(256)) + s.slice(i + 1);
  }
  return s;
}

interface Resp {
  bytes: string;
  /** The replica closes the connection after it (close-delimited body). */
  close: boolean;
}

function validResponse(): Resp {
  const b = body(int(30));
  const k = int(6);
  const extra = rand() < 0.3 ? 'X-App: 1\r\n' : '';
  if (k === 0) return { bytes: `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${b.length}\r\n\r\n${b}`, close: false };
  if (k === 1) return { bytes: `HTTP/1.1 200 OK\r\n${extra}Transfer-Encoding: chunked\r\n\r\n${chunked(b, [1 + int(7)])}`, close: false };
  if (k === 2) return { bytes: `HTTP/1.1 204 No Content\r\n${extra}\r\n`, close: false };
  if (k === 3) return { bytes: `HTTP/1.1 200 OK\r\n${extra}Connection: close\r\n\r\n${b}`, close: true };
  if (k === 4) return { bytes: `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: ${b.length}\r\n\r\n${b}`, close: false };
  return { bytes: `HTTP/1.1 404 Not Found\r\nContent-Length: ${b.length}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${b}`, close: false };
}

function responseShapes(): Resp[] {
  const smug = 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\npoison!';
  const r = (bytes: string, close = false): Resp => ({ bytes, close });
  return [
    r(`HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: ${smug.length}\r\n\r\n${smug}`),
    r('HTTP/1.1 200 OK\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
    r('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
    r('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'),
    r('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx', true),
    r('HTTP/1.1 200 OK\nContent-Length: 2\n\nhi'),
    r('HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 2\r\n\r\nhi'),
    r('HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nhi'),
    r('HTTP/1.1 200 O\x00K\r\nContent-Length: 2\r\n\r\nhi'),
    r('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n'),
    r('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'),
    r('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n'),
    r('HTTP/1.1 304 Not Modified\r\n\r\n'),
    r('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n'),
    r('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n'),
    r('SSH-2.0-x\r\n\r\n'),
  ];
}

interface Case {
  id: number;
  client: string;
  responses: Resp[];
}

function corpus(n: number): Case[] {
  const cases: Case[] = [];
  const heads = shapes();
  const rshapes = responseShapes();
  const responses = (k: number) =>
    Array.from({ length: k }, () => {
      const x = rand();
      if (x < 0.55) return validResponse();
      if (x < 0.85) return pick(rshapes);
      const v = validResponse();
      return { bytes: mutate(v.bytes), close: v.close };
    });
  for (const h of heads) cases.push({ id: cases.length, client: h, responses: responses(2) });
  for (const h of heads) cases.push({ id: cases.length, client: `${validRequest()}${h}`, responses: responses(3) });
  for (const rs of rshapes) cases.push({ id: cases.length, client: `${validRequest()}GET /next HTTP/1.1\r\nHost: a\r\n\r\n`, responses: [rs, validResponse()] });
  while (cases.length < n) {
    const x = rand();
    let client: string;
    if (x < 0.25) client = Array.from({ length: 1 + int(3) }, validRequest).join('');
    else if (x < 0.75) client = mutate(validRequest()) + (rand() < 0.5 ? validRequest() : '');
    else client = validRequest() + mutate(pick(heads));
    cases.push({ id: cases.length, client, responses: responses(4) });
  }
  return cases;
}

const CASES = corpus(Number(process.env.TIDE_DIFF_CASES ?? 2200));

// ---------------------------------------------------------------- 1. parser, in-process

/** The raw engine's verdict on a client byte stream: the requests it would accept, then stop. */
function rawParse(bytes: Buffer): { heads: number; rejected: boolean } {
  let buf = bytes;
  let heads = 0;
  for (;;) {
    let s = 0;
    while (s + 1 < buf.length && buf[s] === 13 && buf[s + 1] === 10) s += 2;
    buf = buf.subarray(s);
    if (buf.length === 0) return { heads, rejected: false };
    const idx = buf.indexOf('\r\n\r\n');
    let lf = buf.indexOf(10);
    while (lf > 0 && buf[lf - 1] === 13) lf = buf.indexOf(10, lf + 1);
    if (lf === 0 || (lf > 0 && (idx < 0 || lf < idx))) return { heads, rejected: true };
    if (idx < 0) return { heads, rejected: false };
    try {
      const h = parseRequestHead(buf.toString('latin1', 0, idx));
      let rest = buf.subarray(idx + 4);
      if (h.chunked) {
        const sc = new ChunkedScanner();
        const end = sc.feed(rest, 0);
        if (end < 0) return { heads, rejected: false };
        rest = rest.subarray(end);
      } else if (h.contentLength > 0) {
        if (rest.length < h.contentLength) return { heads, rejected: false };
        rest = rest.subarray(h.contentLength);
      }
      // counted once complete: a request cut in its body is never a whole request at the replica
      heads++;
      buf = rest;
      // after a request that closes the connection, nothing more is read
      if (!h.keepAlive) return { heads, rejected: buf.length > 0 };
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      return { heads, rejected: true };
    }
  }
}

test('raw engine parser rejects whatever llhttp rejects (corpus plus mutations, in-process)', () => {
  let rejectedByBoth = 0;
  let checked = 0;
  const inputs = CASES.map((c) => c.client);
  for (let i = 0; i < 20_000; i++) inputs.push(mutate(validRequest()));
  for (const input of inputs) {
    const bytes = Buffer.from(input, 'latin1');
    const ref = llparse('request', bytes);
    const raw = rawParse(bytes);
    checked++;
    if (ref.error !== null) {
      // llhttp parsed ref.msgs.length requests, then rejected: the raw engine must stop at or before
      assert.ok(raw.rejected || raw.heads <= ref.msgs.length, `llhttp rejects (${ref.error}) but the raw engine accepts: ${JSON.stringify(input)}`);
      assert.ok(raw.heads <= ref.msgs.length, `raw engine accepted more requests than llhttp before its error: ${JSON.stringify(input)}`);
      if (raw.rejected) rejectedByBoth++;
    } else {
      assert.ok(raw.heads <= ref.msgs.length + (ref.partial ? 1 : 0), `raw engine sees more requests than llhttp: ${JSON.stringify(input)}`);
    }
  }
  assert.ok(checked >= 20_000 && rejectedByBoth > 1000, `coverage: ${rejectedByBoth} inputs rejected by both of ${checked}`);
});

// ---------------------------------------------------------------- 2. through both engines

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const PROTECTED = new Set(['content-length', 'transfer-encoding', 'host']);

/** Header multiset the next hop must see: hop-by-hop and Connection-named (never framing/Host) removed. */
function endToEnd(m: Msg, ignore: Set<string>): string[] {
  const named = new Set<string>();
  for (const [n, v] of m.headers) if (n === 'connection') for (const t of v.split(',')) named.add(t.trim().toLowerCase());
  const out: string[] = [];
  for (const [n, v] of m.headers) {
    if (HOP.has(n) || ignore.has(n) || (named.has(n) && !PROTECTED.has(n))) continue;
    out.push(`${n}: ${v}`);
  }
  return out.sort();
}

const REQ_IGNORE = new Set(['x-forwarded-for', 'content-length', 'host']);
const RESP_IGNORE = new Set(['content-length', 'date', 'x-tide-cold-start']);

interface Lane {
  proxy: ReplicaProxy;
  replica: net.Server;
  /** Requests the replica parsed for the current case, and its own parse errors. */
  got: Msg[];
  sent: Resp[];
  replicaErrors: string[];
  current: Case | null;
}

async function startLane(engine: 'raw' | 'node-http'): Promise<Lane> {
  const lane = { got: [], sent: [], replicaErrors: [], current: null } as unknown as Lane;
  lane.replica = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let answered = 0;
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = llparse('request', buf);
      while (answered < r.msgs.length) {
        const m = r.msgs[answered++];
        lane.got.push(m);
        const c = lane.current;
        const resp = c?.responses[lane.sent.length] ?? { bytes: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', close: false };
        lane.sent.push(resp);
        const rb = Buffer.from(resp.bytes, 'latin1');
        sock.write(rb);
        // a close-delimited body (by llhttp's reading) ends when the replica closes, as real ones do;
        // a broken replica closes after its garbage too (so no case waits for the request timeout)
        const self = llparse('response', rb, { methods: [m.method] });
        if (resp.close || self.partial || self.error !== null) {
          sock.end();
          return;
        }
      }
      if (r.error !== null) {
        lane.replicaErrors.push(`${r.error} in ${JSON.stringify(buf.toString('latin1'))}`);
        sock.destroy();
      }
    });
  });
  await new Promise<void>((res) => lane.replica.listen(0, '127.0.0.1', res));
  lane.proxy = await createProxy({
    host: '127.0.0.1',
    port: 0,
    queueLimit: 100,
    requestTimeoutMs: 2000,
    retryIdempotent: false,
    headersTimeoutMs: 5000,
    bodyTimeoutMs: 5000,
    engine,
  });
  lane.proxy.addReplica('r', { host: '127.0.0.1', port: (lane.replica.address() as AddressInfo).port });
  lane.proxy.setReady('r', true);
  return lane;
}

/** Send one case's client bytes; collect what comes back until the proxy closes (or we end after the expected responses). */
async function runCase(lane: Lane, c: Case, expected: number, methods: string[], partial: boolean): Promise<Buffer> {
  lane.current = c;
  lane.got = [];
  lane.sent = [];
  const s = net.connect(lane.proxy.port, '127.0.0.1');
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(c.client, 'latin1');
  let ended = false;
  const done = new Promise<void>((resolve) => {
    const guard = setTimeout(() => {
      chunks.push(Buffer.from('\n<<case timed out>>'));
      s.destroy();
    }, 4000);
    s.on('close', () => {
      clearTimeout(guard);
      resolve();
    });
  });
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    chunks.push(d);
    if (ended) return;
    const r = llparse('response', Buffer.concat(chunks), { methods });
    if (r.msgs.filter((m) => m.status >= 200).length >= expected || r.error !== null) {
      ended = true;
      // a client that sent an unfinished request gives up on it; the others just close their side
      if (partial) s.destroy();
      else s.end();
    }
  });
  await new Promise<void>((res) => s.once('connect', () => res()));
  if (bytes.length > 1 && c.id % 3 === 0) {
    const cut = 1 + (c.id % (bytes.length - 1));
    s.write(bytes.subarray(0, cut));
    await new Promise((r) => setImmediate(r));
    s.write(bytes.subarray(cut));
  } else s.write(bytes);
  if (expected === 0) {
    // nothing to wait for: give the proxy a moment to reject (or forward) before ending our side
    await new Promise((r) => setTimeout(r, 20));
    if (!ended) {
      ended = true;
      if (partial) s.destroy();
      else s.end();
    }
  }
  await done;
  // let the replica side settle (a forwarded request would be parsed by now or never)
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  lane.current = null;
  return Buffer.concat(chunks);
}

/**
 * The proxy may be stricter than llhttp on replica responses too (and answer 502): the raw engine
 * refuses heads its own parser refuses, node:http refuses to write reasons with CTLs or obs-text.
 */
function refusedByProxy(bytes: string, engine: 'raw' | 'node-http'): boolean {
  let rest = bytes;
  for (;;) {
    const idx = rest.indexOf('\r\n\r\n');
    if (idx < 0) return true;
    const head = rest.slice(0, idx);
    if (engine === 'node-http') {
      const reason = /^HTTP\/1\.[01] \d{3} ?(.*)/.exec(head.split('\r\n')[0])?.[1] ?? '';
      if (/[^\t\x20-\x7e]/.test(reason)) return true;
    }
    let h;
    try {
      h = parseResponseHead(head);
    } catch {
      return engine === 'raw';
    }
    if (h.status >= 200 || h.status === 101) return h.status === 101;
    rest = rest.slice(idx + 4);
  }
}

function check(c: Case, got: Msg[], sent: Resp[], received: Buffer, replicaErrors: string[], engine: 'raw' | 'node-http', expected: number): void {
  const ctx = () => `case ${c.id} (seed ${SEED}): client ${JSON.stringify(c.client)}\nreplica got ${got.length}: ${JSON.stringify(got.map((m) => `${m.method} ${m.url}`))}\nreplica sent ${JSON.stringify(sent.map((r) => r.bytes))}\nclient received ${JSON.stringify(received.toString('latin1'))}`;
  const ref = llparse('request', Buffer.from(c.client, 'latin1'));
  // bodies stream: the start of a body the proxy then finds broken may reach the replica (which
  // then fails to parse it, as llhttp fails on the client's bytes); otherwise it must always parse
  if (ref.error === null) assert.deepEqual(replicaErrors, [], `the replica could not parse what the proxy sent: ${ctx()}`);
  assert.ok(got.length <= ref.msgs.length, `the replica received more requests than the client sent: ${ctx()}`);
  const same = (a: Msg, b: Msg, i: number, strict: boolean): boolean => {
    const hostsA = a.headers.filter(([n]) => n === 'host');
    const hostsB = b.headers.filter(([n]) => n === 'host');
    const ok = (cond: boolean, what: string) => {
      if (strict) assert.ok(cond, `${what} of request ${i}: ${ctx()}`);
      return cond;
    };
    return (
      ok(b.method === a.method, 'method') &&
      ok(b.url === a.url, 'target') &&
      ok(JSON.stringify(endToEnd(b, REQ_IGNORE)) === JSON.stringify(endToEnd(a, REQ_IGNORE)), 'headers') &&
      ok(b.body.equals(a.body), 'body') &&
      ok(hostsA.length > 0 ? JSON.stringify(hostsB) === JSON.stringify(hostsA) : hostsB.length === 1, 'Host')
    );
  };
  // order[i]: which replica request is the client's i-th (-1: not forwarded). The raw engine forwards
  // pipelined requests one by one, in order; node:http's forwards them concurrently on several
  // upstream connections, so the replica may see them in another order.
  const order: number[] = [];
  if (engine === 'raw') {
    for (let i = 0; i < got.length; i++) {
      same(ref.msgs[i], got[i], i, true);
      order.push(i);
    }
  } else {
    const used = new Set<number>();
    for (let i = 0; i < ref.msgs.length; i++) {
      let j = got.findIndex((g, k) => !used.has(k) && same(ref.msgs[i], g, i, false));
      if (j >= 0) used.add(j);
      order.push(j);
    }
    assert.equal(used.size, got.length, `the replica received a request the client never sent: ${ctx()}`);
  }
  // response side: the client's i-th response is exactly the replica's i-th (when that one is valid)
  const methods = ref.msgs.map((m) => m.method);
  const client = llparse('response', received, { methods, eof: true });
  for (let i = 0; i < order.length && i < expected; i++) {
    const j = order[i];
    if (j < 0 || j >= sent.length) break;
    const replicaBytes = Buffer.from(sent[j].bytes, 'latin1');
    // eof: a close-delimited body ends when the replica closes or the exchange is cut, for both sides
    const rr = llparse('response', replicaBytes, { methods: [methods[i]], eof: true });
    // interim responses are parsed as messages of their own by llhttp: compare final responses
    const finals = rr.msgs.filter((m) => m.status >= 200);
    const clientFinals = client.msgs.filter((m) => m.status >= 200);
    const cm = clientFinals[i];
    // valid: llhttp parses a final response (after 100/103 interim ones) before any error; bytes
    // after it are the replica's problem (the proxy drops that connection)
    const firstFinal = rr.msgs.findIndex((m) => m.status >= 200);
    const interimOk = firstFinal >= 0 && rr.msgs.slice(0, firstFinal).every((m) => m.status === 100 || m.status === 103);
    const valid = interimOk && rr.error === null && !rr.partial && finals.length === 1;
    const same = (m: Msg | undefined) =>
      m !== undefined && m.status === finals[0].status && m.body.equals(finals[0].body) && JSON.stringify(endToEnd(m, RESP_IGNORE)) === JSON.stringify(endToEnd(finals[0], RESP_IGNORE));
    if (!valid && interimOk && same(cm)) continue; // garbage after a good response: forwarding the good one is fine
    if (valid && !(cm?.status === 502 && refusedByProxy(sent[j].bytes, engine))) {
      assert.ok(cm !== undefined, `response ${i} missing at the client: ${ctx()}`);
      assert.equal(cm.status, finals[0].status, `status of response ${i}: ${ctx()}`);
      assert.deepEqual(endToEnd(cm, RESP_IGNORE), endToEnd(finals[0], RESP_IGNORE), `headers of response ${i}: ${ctx()}`);
      assert.ok(cm.body.equals(finals[0].body), `body of response ${i}: ${ctx()}`);
    } else {
      // a broken replica response: a 502 (504 when it never ends; the connection may go on) or a
      // cut (nothing after it)
      if (cm === undefined) break;
      assert.ok(cm.status === 502 || (cm.status === 504 && firstFinal < 0), `broken replica response ${i} answered ${cm.status}: ${ctx()}`);
    }
  }
  // what the proxy answered on its own (beyond what it forwarded) is an error status
  const finals = client.msgs.filter((m) => m.status >= 200);
  for (let i = got.length; i < finals.length; i++) assert.ok(finals[i].status >= 400, `local response ${i} is ${finals[i].status}: ${ctx()}`);
}

for (const engine of ['raw', 'node-http'] as const) {
  test(`${engine} engine: replica and client see exactly what llhttp parses (${CASES.length} cases, 4 lanes)`, async () => {
    const lanes = await Promise.all([0, 1, 2, 3].map(() => startLane(engine)));
    let forwarded = 0;
    let rejected = 0;
    const slow: string[] = [];
    try {
      let next = 0;
      await Promise.all(
        lanes.map(async (lane) => {
          while (next < CASES.length) {
            const c = CASES[next++];
            const ref = llparse('request', Buffer.from(c.client, 'latin1'));
            // a close-delimited or broken response ends the exchange early: expect no more after it
            let expected = ref.msgs.length;
            for (let i = 0; i < c.responses.length && i < expected; i++) {
              const r = c.responses[i];
              const rr = llparse('response', Buffer.from(r.bytes, 'latin1'), { methods: [ref.msgs[i].method] });
              if (r.close || rr.error !== null || rr.partial) {
                expected = i + 1;
                break;
              }
            }
            lane.replicaErrors = [];
            const t0 = performance.now();
            const received = await runCase(lane, c, expected, ref.msgs.map((m) => m.method), ref.partial);
            const ms = performance.now() - t0;
            if (ms > 300) slow.push(`${c.id}:${ms.toFixed(0)}ms`);
            if (ms > 1500) console.log(`slow case ${c.id} ${engine}: ${JSON.stringify(c.client)} responses ${JSON.stringify(lane.sent.map((r) => r.bytes))}`);
            check(c, lane.got, lane.sent, received, lane.replicaErrors, engine, expected);
            forwarded += lane.got.length;
            if (lane.got.length < ref.msgs.length || ref.error !== null) rejected++;
          }
        }),
      );
    } finally {
      await Promise.all(lanes.map(async (l) => {
        await l.proxy.close();
        await new Promise<void>((r) => l.replica.close(() => r()));
      }));
    }
    console.log(`${engine}: ${CASES.length} cases, ${forwarded} requests forwarded, ${rejected} cases stopped early; slow cases: ${slow.length} ${slow.slice(0, 10).join(' ')}`);
    assert.ok(forwarded > CASES.length / 2 && rejected > CASES.length / 10, 'the corpus exercises both forwarding and rejection');
  });
}
