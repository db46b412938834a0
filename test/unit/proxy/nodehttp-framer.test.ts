// The node:http engine's RequestFramer: after each read node:http has parsed, does it know whether
// bytes of a head (or empty lines before one) are left past the last complete message? Checked on
// generated request streams (body-less, Content-Length and chunked requests, empty lines, bodies full
// of CR LF, a partial head at the end) that llhttp reads without error, split into random reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestFramer } from '../../../src/runtime/local/proxy-nodehttp.ts';
import { llparse } from './llhttp.ts';

/** One message of a stream: its bytes, where its head ends, and its body's framing as node:http reads it. */
interface Part {
  bytes: string;
  /** Offsets in `bytes`: the first byte after leading empty lines, just past the head's CRLF CRLF. */
  headStart: number;
  headEnd: number;
  framing: number;
}

const bodyChar = fc.constantFrom('a', 'G', ' ', ':', '0', '\r', '\n');
const bodyText = (max: number) => fc.array(bodyChar, { maxLength: max }).map((a) => a.join(''));
const lead = fc.array(fc.constantFrom('\r\n', '\n'), { maxLength: 3 }).map((a) => a.join(''));
const fields = fc.array(fc.constantFrom('X-A: 1\r\n', 'Accept: */*\r\n', 'X-B: a b\r\n'), { maxLength: 3 }).map((a) => a.join(''));

const part: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ lead, fields, method: fc.constantFrom('GET', 'HEAD', 'DELETE') }).map(({ lead, fields, method }) => {
    const head = `${method} /x HTTP/1.1\r\nHost: a\r\n${fields}\r\n`;
    return { bytes: lead + head, headStart: lead.length, headEnd: lead.length + head.length, framing: 0 };
  }),
  fc.record({ lead, fields, body: bodyText(40) }).map(({ lead, fields, body }) => {
    const head = `POST /x HTTP/1.1\r\nHost: a\r\n${fields}Content-Length: ${body.length}\r\n\r\n`;
    return { bytes: lead + head + body, headStart: lead.length, headEnd: lead.length + head.length, framing: body.length };
  }),
  fc.record({
    lead,
    fields,
    chunks: fc.array(fc.record({ data: bodyText(20).filter((d) => d.length > 0), ext: fc.constantFrom('', ';a=b', ';q="x y"') }), { maxLength: 4 }),
    trailers: fc.constantFrom('', 'X-T: 1\r\n', 'X-T: 1\r\nX-U: 2\r\n'),
  }).map(({ lead, fields, chunks, trailers }) => {
    const head = `POST /x HTTP/1.1\r\nHost: a\r\n${fields}Transfer-Encoding: chunked\r\n\r\n`;
    const body = chunks.map((c) => `${c.data.length.toString(16)}${c.ext}\r\n${c.data}\r\n`).join('') + `0\r\n${trailers}\r\n`;
    return { bytes: lead + head + body, headStart: lead.length, headEnd: lead.length + head.length, framing: RequestFramer.CHUNKED };
  }),
);

/** What follows the last message: nothing, empty lines, or the start of a head (and empty lines before it). */
const tail = fc.oneof(
  fc.constant(''),
  lead,
  fc.record({ lead, n: fc.integer({ min: 1, max: 40 }) }).map(({ lead, n }) => lead + 'POST /y HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n'.slice(0, n)),
);

test('RequestFramer: after every read, a head is open exactly when bytes past the last complete message are there (llhttp-valid streams, random reads)', () => {
  // read sizes: a byte or a few at a time (splitting CRLF CRLF), or larger
  const readSizes = fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 200 })), { minLength: 1, maxLength: 60 });
  fc.assert(
    fc.property(fc.array(part, { maxLength: 5 }), tail, readSizes, (parts, rest, sizes) => {
      const stream = parts.map((p) => p.bytes).join('') + rest;
      // the stream is what node:http's parser reads without error, with the messages meant
      const parsed = llparse('request', Buffer.from(stream, 'latin1'));
      assert.equal(parsed.error, null);
      assert.equal(parsed.msgs.length, parts.length);
      // absolute offsets: [end of the previous message, head end) is where a head is open
      const heads: Array<{ from: number; end: number; framing: number }> = [];
      let at = 0;
      for (const p of parts) {
        heads.push({ from: at, end: at + p.headEnd, framing: p.framing });
        at += p.bytes.length;
      }
      const messagesEnd = at;
      const openAt = (pos: number) => heads.some((h) => pos > h.from && pos < h.end) || pos > messagesEnd;
      // reads of the sizes given (the last one repeated), up to the end of the stream
      const points: number[] = [];
      for (let k = 0, pos = 0; pos < stream.length; k++) points.push((pos = Math.min(stream.length, pos + sizes[Math.min(k, sizes.length - 1)])));
      const f = new RequestFramer();
      let prev = 0;
      for (const cut of points) {
        // node:http emits 'request' for each head that ends in this read, before the framer sees it
        for (const h of heads) if (h.end > prev && h.end <= cut) f.heads.push(h.framing);
        const open = f.read(Buffer.from(stream.slice(prev, cut), 'latin1'));
        assert.equal(open, openAt(cut), `read ${prev}..${cut} of ${JSON.stringify(stream)}`);
        prev = cut;
      }
      assert.equal(f.lost, false);
    }),
    { numRuns: 2000 },
  );
});

test('RequestFramer: a read whose heads do not match what node:http read leaves it lost (null)', () => {
  // a head ends in the read but node:http read none (it answered or refused the request itself)
  const a = new RequestFramer();
  assert.equal(a.read(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), null);
  assert.equal(a.lost, true);
  // node:http read a head that does not end in the read
  const b = new RequestFramer();
  b.heads.push(0);
  assert.equal(b.read(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n')), null);
  // a chunked body that does not frame
  const c = new RequestFramer();
  c.heads.push(RequestFramer.CHUNKED);
  assert.equal(c.read(Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')), null);
  // the head's CRLF CRLF split over four reads, one byte each, then a body and the next head's first byte
  const d = new RequestFramer();
  assert.equal(d.read(Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2')), true);
  for (const b of ['\r', '\n', '\r']) assert.equal(d.read(Buffer.from(b)), true);
  d.heads.push(2);
  assert.equal(d.read(Buffer.from('\n')), false);
  assert.equal(d.read(Buffer.from('\r\n')), false, 'a body of CR LF is not a head');
  assert.equal(d.read(Buffer.from('G')), true);
});
