// HTTP/1.1 head parsing and chunked framing used by the raw proxy engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkedScanner, HttpError, parseRequestHead, parseResponseHead } from '../../../src/runtime/local/proxy-http1.ts';

test('request head: hop-by-hop and Connection-named headers dropped, framing and keep-alive read', () => {
  const h = parseRequestHead(
    'POST /predict?x=1 HTTP/1.1\r\nHost: svc\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nContent-Length: 12\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nProxy-Authorization: x\r\nX-App: v',
  );
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/predict?x=1');
  assert.equal(h.version, 11);
  assert.equal(h.contentLength, 12);
  assert.equal(h.chunked, false);
  assert.equal(h.keepAlive, true);
  assert.equal(h.xff, '10.0.0.1, 10.0.0.2');
  assert.deepEqual(h.lines, ['Host: svc', 'Content-Length: 12', 'X-App: v']);
});

test('request head: HTTP/1.0 keep-alive rules, close, chunked', () => {
  assert.equal(parseRequestHead('GET / HTTP/1.0').keepAlive, false);
  assert.equal(parseRequestHead('GET / HTTP/1.0\r\nConnection: Keep-Alive').keepAlive, true);
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nConnection: close').keepAlive, false);
  const c = parseRequestHead('PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked');
  assert.equal(c.chunked, true);
  assert.deepEqual(c.lines, ['Host: a']);
});

test('request head: smuggling-prone and malformed requests are rejected with the right status', () => {
  const status = (head: string) => {
    try {
      parseRequestHead(head);
      return 0;
    } catch (e) {
      return (e as HttpError).status;
    }
  };
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked'), 501);
  assert.equal(status('GET / HTTP/1.1'), 400); // no Host
  assert.equal(status('GET / HTTP/2.0\r\nHost: a'), 505);
  assert.equal(status('GET /\r\nHost: a'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\n folded'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nBad Name: x'), 400);
  assert.equal(status('CONNECT a:443 HTTP/1.1\r\nHost: a'), 405);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5'), 400);
  // bare LF / CR could smuggle a header past us to a lenient replica
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\nTransfer-Encoding: chunked'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\rX-B: 2'), 400);
  assert.equal(status('GET /a\nX: y HTTP/1.1\r\nHost: a'), 400);
});

test('response head: status, framing, close and keep-alive hint', () => {
  const r = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive');
  assert.equal(r.status, 200);
  assert.equal(r.chunked, true);
  assert.equal(r.close, false);
  assert.equal(r.keepAliveTimeoutS, 5);
  assert.deepEqual(r.lines, ['Content-Type: text/plain']);
  // both framings in a response: handled as an error (RFC 9112 §6.3; llhttp rejects it too)
  assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked'), HttpError);
  assert.equal(parseResponseHead('HTTP/1.0 200 OK').close, true);
  assert.equal(parseResponseHead('HTTP/1.1 204 No Content\r\nConnection: close').close, true);
  assert.equal(parseResponseHead('HTTP/1.1 404').reason, '');
  assert.throws(() => parseResponseHead('SSH-2.0-OpenSSH'), HttpError);
});

/** Encode a payload as chunks of the given sizes, with optional extensions and trailers. */
function encodeChunked(payload: Buffer, sizes: number[], ext: boolean, trailers: string[]): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  for (const s of sizes) {
    if (off >= payload.length) break;
    const part = payload.subarray(off, off + s);
    off += part.length;
    parts.push(Buffer.from(`${part.length.toString(16)}${ext ? ';name=v' : ''}\r\n`), part, Buffer.from('\r\n'));
  }
  if (off < payload.length) {
    const part = payload.subarray(off);
    parts.push(Buffer.from(`${part.length.toString(16).toUpperCase()}\r\n`), part, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

test('chunked scanner finds the exact end and payload whatever the split points', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 10 }),
      fc.boolean(),
      fc.array(fc.constantFrom('X-Sum: 1', 'Server-Timing: a;dur=1'), { maxLength: 2 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
      fc.uint8Array({ maxLength: 20 }),
      (bytes, sizes, ext, trailers, cuts, after) => {
        const payload = Buffer.from(bytes);
        const body = encodeChunked(payload, sizes, ext, trailers);
        const stream = Buffer.concat([body, Buffer.from(after)]);
        const sc = new ChunkedScanner();
        const out: Buffer[] = [];
        let pos = 0;
        let end = -1;
        let ci = 0;
        while (pos < stream.length && end < 0) {
          const len = cuts[ci++ % cuts.length];
          const piece = stream.subarray(pos, Math.min(stream.length, pos + len));
          const e = sc.feed(piece, 0, (p) => out.push(Buffer.from(p)));
          if (e >= 0) end = pos + e;
          pos += piece.length;
        }
        assert.equal(end, body.length);
        assert.ok(sc.done);
        assert.ok(Buffer.concat(out).equals(payload));
      },
    ),
  );
});

test('chunked scanner rejects broken framing', () => {
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('zz\r\n'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('3\r\nabcX'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('\r\n'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('fffffffffffff\r\n'), 0), HttpError);
  assert.equal(new ChunkedScanner().feed(Buffer.from('3\r\nabc\r\n'), 0), -1);
});

// Regressions from issue 9 (each accepted by the parser before the fix).
test('issue 9: Connection tokens never remove framing headers or Host', () => {
  const h = parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nConnection: content-length, host, transfer-encoding, x-hop\r\nContent-Length: 5\r\nX-Hop: 1');
  assert.deepEqual(h.lines, ['Host: a', 'Content-Length: 5']);
  assert.equal(h.contentLength, 5);
  const r = parseResponseHead('HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 7');
  assert.deepEqual(r.lines, ['Content-Length: 7']);
});

test('issue 9: CTLs, unknown methods, huge lengths and TE variants are refused', () => {
  const status = (head: string) => {
    try {
      parseRequestHead(head);
      return 0;
    } catch (e) {
      return (e as HttpError).status;
    }
  };
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-\x01A: 1'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: \x0b'), 400);
  assert.equal(status('FOO / HTTP/1.1\r\nHost: a'), 400);
  assert.equal(status('GET x HTTP/1.1\r\nHost: a'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740993'), 413);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,'), 501);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \xa0chunked'), 501);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\xa0'), 501);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked'), 400);
  assert.equal(status('GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xe9'), 0, 'obs-text stays allowed');
  assert.equal(status('OPTIONS * HTTP/1.1\r\nHost: a'), 0);
  assert.throws(() => parseResponseHead('HTTP/1.1 200 O\x00K'), HttpError);
});

test('issue 9: chunk sizes with leading zeros are fine, lines must end in CRLF', () => {
  const sc = new ChunkedScanner();
  const body = Buffer.from('0000000000000005\r\nhello\r\n0\r\n\r\n');
  const out: Buffer[] = [];
  assert.equal(sc.feed(body, 0, (p) => out.push(Buffer.from(p))), body.length);
  assert.equal(Buffer.concat(out).toString(), 'hello');
  for (const bad of ['5\nhello\r\n0\r\n\r\n', '5\r\nhello\n0\r\n\r\n', '5\r\nhello\r\r\n', '1\r0\r\n', '5 \r\n', '5;a=\x00\r\n', '0\r\nT: 1\n', '0\r\nT\x00: 1\r\n\r\n']) {
    assert.throws(() => new ChunkedScanner().feed(Buffer.from(bad, 'latin1'), 0), HttpError, JSON.stringify(bad));
  }
  assert.equal(new ChunkedScanner().feed(Buffer.from('5;a=b;c="d e"\r\nhello\r\n0\r\nT: 1\r\n\r\n'), 0), 33);
});
