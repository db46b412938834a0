// The HTTP/1 framing code at its edges: optional whitespace, status codes per direction, HTTP/1.0 vs
// 1.1 connection rules on responses, Expect, hex chunk sizes in both cases, extension and trailer
// limits, and the exact end offset of a chunked body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedScanner, HttpError, MAX_HEAD, parseRequestHead, parseResponseHead, trimOWS } from '../../../src/runtime/local/proxy-http1.ts';

const status = (f: () => unknown): number => {
  try { f(); } catch (e) { if (e instanceof HttpError) return e.status; throw e; }
  return 0;
};

test('trimOWS strips spaces and tabs at both ends only, and returns the same string when nothing to strip', () => {
  assert.equal(trimOWS(' \t a b \t '), 'a b');
  assert.equal(trimOWS('\ta'), 'a');
  assert.equal(trimOWS('a\t'), 'a');
  assert.equal(trimOWS('a b'), 'a b');
  assert.equal(trimOWS('   '), '');
  assert.equal(trimOWS(''), '');
  assert.equal(trimOWS('x '), 'x');
});

test('MAX_HEAD is 64 KiB', () => {
  assert.equal(MAX_HEAD, 65536);
});

test('header errors are 400 on a request and 502 on a response', () => {
  assert.equal(status(() => parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nBad Header: x')), 400);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nBad Header: x')), 502);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1')), 502);
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1')), 400);
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456')), 413);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456')), 502);
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 123456789012345').contentLength, 123456789012345);
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip')), 501);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip')), 502);
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked')), 400);
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\t')), 400);
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  7  ').contentLength, 7);
});

test('responses: HTTP/1.1 closes only on Connection: close, HTTP/1.0 unless keep-alive; keep-alive timeout; x-forwarded-for kept', () => {
  assert.equal(parseResponseHead('HTTP/1.1 200 OK').close, false);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close').close, true);
  assert.equal(parseResponseHead('HTTP/1.0 200 OK').close, true);
  assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive').close, false);
  assert.equal(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive, close').close, true);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK').version, 11);
  assert.equal(parseResponseHead('HTTP/1.0 204 No Content').version, 10);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=7, max=3').keepAliveTimeoutS, 7);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK').keepAliveTimeoutS, -1);
  assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\nX-Forwarded-For: 1.2.3.4').lines, ['X-Forwarded-For: 1.2.3.4']);
  assert.equal(parseResponseHead('HTTP/1.1 200').reason, '');
  assert.equal(parseResponseHead('HTTP/1.1 503 Busy').status, 503);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked').chunked, true);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked').contentLength, -1);
});

test('requests: HTTP/1.1 keep-alive unless close; 1.0 only with keep-alive; Expect: 100-continue; Host required once', () => {
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a').keepAlive, true);
  assert.equal(parseRequestHead('GET / HTTP/1.0\r\nConnection: keep-alive, close').keepAlive, false);
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1').expectContinue, true);
  assert.deepEqual(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1').lines, ['Host: a', 'Expect: 100-continue', 'Content-Length: 1']);
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\nContent-Length: 1').expectContinue, false);
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a').expectContinue, false);
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost:  svc ').host, 'svc');
  assert.equal(status(() => parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nHost: b')), 400);
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a').version, 11);
  assert.equal(parseRequestHead('GET / HTTP/1.0').version, 10);
  // a long non-special header with the same name length as a special one is kept as is
  assert.deepEqual(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\nX-Abc: 1\r\nAbcd: 2').lines, ['Host: a', 'X-Abc: 1', 'Abcd: 2']);
});

test('chunk sizes: hex digits in both cases; the end offset is exact; data after the body is not consumed', () => {
  const body = 'A\r\n0123456789\r\nb\r\nabcdefghijk\r\nF\r\n0123456789abcde\r\n0\r\n\r\n';
  const got: Buffer[] = [];
  const sc = new ChunkedScanner();
  const end = sc.feed(Buffer.from(body + 'NEXT'), 0, (b) => got.push(Buffer.from(b)));
  assert.equal(end, body.length);
  assert.equal(Buffer.concat(got).toString(), '0123456789abcdefghijk0123456789abcde');
  assert.ok(sc.done);
  // a start offset is honoured
  const s2 = new ChunkedScanner();
  assert.equal(s2.feed(Buffer.from('xx1\r\na\r\n0\r\n\r\n'), 2), 13);
  // digits outside 0-9a-fA-F are refused: 'g', 'G', '/', ':', '@', '`'
  for (const c of ['g', 'G', '/', ':', '@', '`']) assert.throws(() => new ChunkedScanner().feed(Buffer.from(`${c}\r\n`), 0), HttpError, c);
  // 16 hex digits: 2^48 limit
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1000000000001\r\n'), 0), HttpError);
  assert.equal(new ChunkedScanner().feed(Buffer.from('1000000000000\r\n'), 0), -1, '2^48 itself is allowed');
});

test('chunk extensions and trailers: accepted when well-formed, refused past their limits', () => {
  const withExt = '1;a=b\r\nx\r\n0\r\nX-T: 1\r\n\r\n';
  assert.equal(new ChunkedScanner().feed(Buffer.from(withExt), 0), withExt.length);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1;=\r\n'), 0), HttpError);
  // extension line limit 4096 (digits + extension)
  const ok = `1;${'a'.repeat(4096 - 2)}\r\nx\r\n0\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(ok), 0), ok.length);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from(`1;${'a'.repeat(4096 - 1)}\r\n`), 0), HttpError);
  // trailers: up to MAX_HEAD bytes counting CRLFs, then refused
  const line = `X-T: ${'v'.repeat(1000)}`;
  const many = Array.from({ length: 70 }, () => line).join('\r\n');
  assert.throws(() => new ChunkedScanner().feed(Buffer.from(`0\r\n${many}\r\n\r\n`), 0), HttpError);
  const fewer = Array.from({ length: 60 }, () => line).join('\r\n');
  const okT = `0\r\n${fewer}\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(okT), 0), okT.length);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('0\r\nBad Trailer\r\n\r\n'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('0\r\nX: 1\rZ'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1\rZ'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1\r\nx\rZ'), 0), HttpError);
  // a chunk split right after its data, then the CRLF in the next piece
  const s = new ChunkedScanner();
  assert.equal(s.feed(Buffer.from('3\r\nabc'), 0), -1);
  assert.equal(s.feed(Buffer.from('\r\n0\r\n\r\n'), 0), 7);
});

test('header values: no space needed after the colon; a trailing tab is refused only on framing headers', () => {
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost:svc').host, 'svc');
  assert.equal(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nContent-Length:12').contentLength, 12);
  // OWS (a tab) after Host or Connection is just whitespace …
  assert.equal(parseRequestHead('GET / HTTP/1.1\r\nHost: a\t').host, 'a');
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close\t').close, true);
  // … but llhttp refuses it after Transfer-Encoding, as after Content-Length
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\t')), 400);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t')), 502);
});

test('transfer-encoding: a 7-letter coding other than chunked is refused; Transfer-Encoding is not a Connection list', () => {
  assert.equal(status(() => parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate')), 501);
  assert.equal(status(() => parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate')), 502);
  // "chunked" names a coding, not a header to drop
  assert.deepEqual(parseRequestHead('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nChunked: 1').lines, ['Host: a', 'Chunked: 1']);
});

test('keep-alive hint only from Keep-Alive: timeout=N; Connection and Keep-Alive without timeout give none', () => {
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nKeep-Alive: max=5').keepAliveTimeoutS, -1);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: timeout=5').keepAliveTimeoutS, -1);
  assert.equal(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=9').keepAliveTimeoutS, 9);
});

test('Host on a response is an ordinary header: forwarded, never a duplicate-Host error', () => {
  assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\nHost: a\r\nHost: b').lines, ['Host: a', 'Host: b']);
});

test('Connection-named headers are dropped wherever they are, the first line included', () => {
  assert.deepEqual(parseRequestHead('GET / HTTP/1.1\r\nX-Hop: 1\r\nHost: a\r\nConnection: X-Hop').lines, ['Host: a']);
  assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\nX-Hop: 1\r\nX-Keep: 2\r\nConnection: x-hop').lines, ['X-Keep: 2']);
});

test('asterisk-form is OPTIONS * only: another method with *, or OPTIONS with a bare word, is refused', () => {
  assert.equal(status(() => parseRequestHead('GET * HTTP/1.1\r\nHost: a')), 400);
  assert.equal(status(() => parseRequestHead('OPTIONS foo HTTP/1.1\r\nHost: a')), 400);
  assert.equal(parseRequestHead('OPTIONS /x HTTP/1.1\r\nHost: a').target, '/x');
  assert.equal(parseRequestHead('GET http://svc/x HTTP/1.1\r\nHost: a').target, 'http://svc/x');
});

test('status line: the reason phrase is kept as sent', () => {
  assert.equal(parseResponseHead('HTTP/1.1 503 Service Unavailable').reason, 'Service Unavailable');
  assert.equal(parseResponseHead('HTTP/1.1 200 ').reason, '');
});

test('chunked scanner is done only after the final CRLF of the trailer section', () => {
  const sc = new ChunkedScanner();
  assert.equal(sc.done, false);
  assert.equal(sc.feed(Buffer.from('0\r\nX: 1\r'), 0), -1);
  assert.equal(sc.done, false);
  assert.equal(sc.feed(Buffer.from('\n\r'), 0), -1);
  assert.equal(sc.done, false);
  assert.equal(sc.feed(Buffer.from('\nrest'), 0), 1);
  assert.equal(sc.done, true);
});

test('chunk sizes: lowercase f is a digit; 4096 digits (leading zeros) are the longest size line', () => {
  const f = `f\r\n${'x'.repeat(15)}\r\n0\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(f), 0), f.length);
  const longest = `${'0'.repeat(4095)}1\r\nx\r\n0\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(longest), 0), longest.length);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from(`${'0'.repeat(4096)}1\r\n`), 0), HttpError);
});

test('each chunk-size line starts afresh: an empty or extension-only size line after a chunk is refused', () => {
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1\r\na\r\n\r\n\r\n'), 0), HttpError);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from('1\r\na\r\n;x\r\n\r\n'), 0), HttpError);
  // the digit count is per line, not per body: 2000 chunks with 3-digit sizes are fine
  const many = `${'001\r\na\r\n'.repeat(2000)}0\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(many), 0), many.length);
});

test('trailer section limit: exactly MAX_HEAD bytes (each line with its CRLF, and the final CRLF) is accepted, one more is refused', () => {
  // one trailer line of L bytes counts L + 2, the empty line ending the section 2 more
  const at = (extra: number) => `0\r\nX: ${'v'.repeat(MAX_HEAD - 4 - 3 + extra)}\r\n\r\n`;
  assert.equal(new ChunkedScanner().feed(Buffer.from(at(0)), 0), at(0).length);
  assert.throws(() => new ChunkedScanner().feed(Buffer.from(at(1)), 0), HttpError);
});
