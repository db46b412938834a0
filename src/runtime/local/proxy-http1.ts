// HTTP/1.1 message-head parsing and body framing for the raw proxy engine (./proxy.ts). Pure and
// allocation-light: heads are parsed from latin1 strings, bodies are never copied, only scanned for
// their end (content-length countdown or the chunked framing state machine), so they can be forwarded
// byte for byte.

export const MAX_HEAD = 64 * 1024;

/** Hop-by-hop headers (RFC 9110 §7.6.1 plus legacy ones): never forwarded as they are. */
export const HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
/**
 * Headers a `Connection` token can never remove: the message framing and Host (removing them would
 * change how the next hop splits the byte stream into messages: request smuggling).
 */
export const PROTECTED = new Set(['content-length', 'transfer-encoding', 'host']);
const SPECIAL = new Set([...HOP, 'x-forwarded-for', 'content-length', 'host', 'expect']);
const SPECIAL_LEN = new Set([...SPECIAL].map((h) => h.length));

/**
 * Request methods forwarded: those Node's own parser (llhttp) knows, minus CONNECT (answered 405).
 * Anything else is answered 400 (llhttp rejects unknown methods too).
 */
export const METHODS = new Set([
  'ACL', 'BIND', 'CHECKOUT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE', 'MKACTIVITY',
  'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT',
  'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
]);

/** Longest Content-Length accepted (digits): 15 digits stay exact in a double (< 2^53). */
const MAX_CL_DIGITS = 15;

export interface RequestHead {
  method: string;
  target: string;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version: number;
  /** Raw header lines to forward ("Name: value"), hop-by-hop and X-Forwarded-For removed. */
  lines: string[];
  xff: string | undefined;
  host: string | undefined;
  /** -1 = no length given. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
}

export interface ResponseHead {
  status: number;
  reason: string;
  version: number;
  lines: string[];
  contentLength: number;
  chunked: boolean;
  /** The upstream will close after this response (Connection: close or HTTP/1.0 without keep-alive). */
  close: boolean;
  /** Keep-Alive: timeout=N hint (seconds), or -1. */
  keepAliveTimeoutS: number;
}

export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

interface Common {
  lines: string[];
  contentLength: number;
  chunked: boolean;
  connClose: boolean;
  connKeepAlive: boolean;
  xff: string | undefined;
  host: string | undefined;
  expectContinue: boolean;
  keepAliveTimeoutS: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * One header line: a token name, a colon, then field-content: visible ASCII, SP, HTAB and obs-text
 * (RFC 9110 §5.5). No CTL (NUL, VT, bare CR or LF …), no whitespace before the colon.
 */
const FIELD_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/;
const DIGITS = /^[0-9]+$/;
/** Visible ASCII only (request target). */
const TARGET = /^[\x21-\x7e]+$/;
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Trim optional whitespace (SP and HTAB only: NBSP, VT and friends are not whitespace in HTTP). */
export function trimOWS(v: string): string {
  let a = 0;
  let b = v.length;
  while (a < b && (v.charCodeAt(a) === 32 || v.charCodeAt(a) === 9)) a++;
  while (b > a && (v.charCodeAt(b - 1) === 32 || v.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === v.length ? v : v.slice(a, b);
}

function parseFields(rows: string[], isRequest: boolean): Common {
  const bad = isRequest ? 400 : 502;
  const lines: string[] = [];
  let contentLength = -1;
  let chunked = false;
  let sawTE = false;
  let connClose = false;
  let connKeepAlive = false;
  let xff: string | undefined;
  let host: string | undefined;
  let expectContinue = false;
  let keepAliveTimeoutS = -1;
  let connTokens: string[] | null = null;
  for (let i = 1; i < rows.length; i++) {
    const line = rows[i];
    if (!FIELD_LINE.test(line)) {
      const c0 = line.charCodeAt(0);
      throw new HttpError(bad, c0 === 32 || c0 === 9 ? 'obsolete header folding' : 'malformed header line');
    }
    const colon = line.indexOf(':');
    if (!SPECIAL_LEN.has(colon)) {
      lines.push(line);
      continue;
    }
    const lower = line.slice(0, colon).toLowerCase();
    if (!SPECIAL.has(lower)) {
      lines.push(line);
      continue;
    }
    const raw = line.slice(colon + 1);
    const value = trimOWS(raw);
    // llhttp takes no HTAB after a framing value: neither do we
    if ((lower === 'content-length' || lower === 'transfer-encoding') && raw.charCodeAt(raw.length - 1) === 9) {
      throw new HttpError(bad, `bad ${lower}`);
    }
    switch (lower) {
      case 'content-length': {
        if (!DIGITS.test(value)) throw new HttpError(bad, 'bad content-length');
        if (value.length > MAX_CL_DIGITS) throw new HttpError(isRequest ? 413 : 502, 'content-length too large');
        const n = Number(value);
        if (contentLength !== -1) throw new HttpError(bad, 'duplicate content-length');
        contentLength = n;
        lines.push(line);
        break;
      }
      case 'transfer-encoding': {
        // exactly one Transfer-Encoding: chunked (the only coding a proxy must understand)
        if (sawTE) throw new HttpError(bad, 'duplicate transfer-encoding');
        sawTE = true;
        if (value.length !== 7 || value.toLowerCase() !== 'chunked') {
          throw new HttpError(isRequest ? 501 : 502, `unsupported transfer-encoding ${JSON.stringify(value)}`);
        }
        chunked = true;
        break;
      }
      case 'connection':
        for (const t of value.toLowerCase().split(',')) {
          const tok = trimOWS(t);
          if (tok === 'close') connClose = true;
          else if (tok === 'keep-alive') connKeepAlive = true;
          else if (tok !== '' && !PROTECTED.has(tok)) (connTokens ??= []).push(tok);
        }
        break;
      case 'keep-alive': {
        const m = /timeout\s*=\s*(\d+)/i.exec(value);
        if (m) keepAliveTimeoutS = Number(m[1]);
        break;
      }
      case 'x-forwarded-for':
        if (isRequest) xff = xff === undefined ? value : `${xff}, ${value}`;
        else lines.push(line);
        break;
      case 'host':
        if (isRequest) {
          if (host !== undefined) throw new HttpError(400, 'duplicate host');
          host = value;
        }
        lines.push(line);
        break;
      case 'expect':
        if (isRequest && value.toLowerCase() === '100-continue') expectContinue = true;
        lines.push(line);
        break;
      default:
        // the other hop-by-hop headers are dropped
        break;
    }
  }
  if (sawTE && contentLength !== -1) {
    // RFC 9112 §6.3: a request with both is a smuggling attempt; a response with both is broken
    throw new HttpError(bad, 'both transfer-encoding and content-length');
  }
  if (connTokens !== null) {
    const drop = new Set(connTokens);
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i];
      if (drop.has(l.slice(0, l.indexOf(':')).toLowerCase())) lines.splice(i, 1);
    }
  }
  return { lines, contentLength, chunked, connClose, connKeepAlive, xff, host, expectContinue, keepAliveTimeoutS };
}

function parseVersion(v: string): number {
  if (v === 'HTTP/1.1') return 11;
  if (v === 'HTTP/1.0') return 10;
  throw new HttpError(505, `unsupported protocol "${v}"`);
}

/** Parse a request head (without the final CRLFCRLF). Throws HttpError with the status to answer. */
export function parseRequestHead(head: string): RequestHead {
  const rows = head.split('\r\n');
  const first = rows[0];
  const sp1 = first.indexOf(' ');
  const sp2 = first.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1) throw new HttpError(400, 'malformed request line');
  const method = first.slice(0, sp1);
  const target = first.slice(sp1 + 1, sp2);
  if (!TOKEN.test(method) || !TARGET.test(target)) throw new HttpError(400, 'malformed request line');
  if (method === 'CONNECT') throw new HttpError(405, 'CONNECT is not supported');
  if (!METHODS.has(method)) throw new HttpError(400, `unknown method ${JSON.stringify(method)}`);
  const t0 = target.charCodeAt(0);
  // origin-form, asterisk-form (OPTIONS only) or absolute-form
  if (t0 !== 47 /* / */ && !(target === '*' && method === 'OPTIONS') && !/^https?:\/\/[^/?#]/i.test(target)) {
    throw new HttpError(400, 'malformed request target');
  }
  const version = parseVersion(first.slice(sp2 + 1));
  const f = parseFields(rows, true);
  if (version === 11 && f.host === undefined) throw new HttpError(400, 'missing host header');
  return {
    method,
    target,
    version,
    lines: f.lines,
    xff: f.xff,
    host: f.host,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: version === 11 ? !f.connClose : f.connKeepAlive && !f.connClose,
    expectContinue: f.expectContinue,
  };
}

/** Parse a response head (without the final CRLFCRLF). Throws HttpError(502) when it is not HTTP/1.x. */
export function parseResponseHead(head: string): ResponseHead {
  const rows = head.split('\r\n');
  const first = rows[0];
  const m = /^(HTTP\/1\.[01]) ([1-9]\d\d)(?: (.*))?$/.exec(first);
  if (!m || (m[3] !== undefined && !REASON.test(m[3]))) throw new HttpError(502, 'malformed status line from the replica');
  const version = m[1] === 'HTTP/1.1' ? 11 : 10;
  const f = parseFields(rows, false);
  return {
    status: Number(m[2]),
    reason: m[3] ?? '',
    version,
    lines: f.lines,
    contentLength: f.contentLength,
    chunked: f.chunked,
    close: version === 11 ? f.connClose : !f.connKeepAlive || f.connClose,
    keepAliveTimeoutS: f.keepAliveTimeoutS,
  };
}

const CR = 13;
const LF = 10;

const S_SIZE = 0;
const S_EXT = 1;
const S_SIZE_LF = 2;
const S_DATA = 3;
const S_DATA_CR = 4;
const S_DATA_LF = 5;
const S_TRAILER = 6;
const S_TRAILER_LF = 7;
const S_DONE = 8;

/** Longest chunk-size line (size digits plus extensions) and largest chunk accepted. */
const MAX_CHUNK_LINE = 4096;
const MAX_CHUNK_SIZE = 2 ** 48;

/**
 * Chunk extensions (RFC 9112 §7.1.1): `;name` or `;name=value`, value a token or a quoted-string,
 * no whitespace (llhttp accepts no more than that either).
 */
const CHUNK_EXT = /^(?:;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t\x20-\x7e\x80-\xff])*"))?)*$/;

/** Index of the CR ending a line at or after i (-1: none yet); a bare LF before it throws. */
function lineEnd(buf: Buffer, i: number): number {
  const n = buf.length;
  for (let k = i; k < n; k++) {
    const c = buf[k];
    if (c === CR) return k;
    if (c === LF) throw new HttpError(400, 'bare LF in chunked framing');
  }
  return -1;
}

/**
 * Scans a chunked body to find where it ends, optionally handing out the payload (for de-chunking to
 * HTTP/1.0 clients). Strict: every line ends in CRLF, chunk sizes are hex (leading zeros allowed),
 * extensions and trailer fields are validated; framing errors throw HttpError(400).
 */
export class ChunkedScanner {
  private state = S_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineLen = 0;
  private line = '';
  private trailerBytes = 0;
  get done(): boolean {
    return this.state === S_DONE;
  }

  /**
   * Consume buf[start..]; returns the index just after the body's last byte when it ends inside this
   * buffer, else -1 (everything consumed). `onPayload` receives payload slices in order.
   */
  feed(buf: Buffer, start: number, onPayload?: (b: Buffer) => void): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case S_SIZE: {
          const c = buf[i++];
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            this.size = this.size * 16 + v;
            if (++this.digits > MAX_CHUNK_LINE || this.size > MAX_CHUNK_SIZE) throw new HttpError(400, 'chunk size too large');
          } else if (this.digits === 0) throw new HttpError(400, 'bad chunk size');
          else if (c === CR) this.state = S_SIZE_LF;
          else if (c === 59 /* ; */) {
            this.state = S_EXT;
            this.line = ';';
            this.lineLen = this.digits + 1;
          } else throw new HttpError(400, 'bad chunk size');
          break;
        }
        case S_EXT: {
          const cr = lineEnd(buf, i);
          const end = cr < 0 ? n : cr;
          this.lineLen += end - i;
          if (this.lineLen > MAX_CHUNK_LINE) throw new HttpError(400, 'chunk extension too long');
          this.line += buf.toString('latin1', i, end);
          i = end;
          if (cr >= 0) {
            if (!CHUNK_EXT.test(this.line)) throw new HttpError(400, 'bad chunk extension');
            this.line = '';
            i++;
            this.state = S_SIZE_LF;
          }
          break;
        }
        case S_SIZE_LF: {
          if (buf[i++] !== LF) throw new HttpError(400, 'bad chunk size line');
          this.startChunk();
          break;
        }
        case S_DATA: {
          const take = Math.min(this.remaining, n - i);
          if (onPayload) onPayload(buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = S_DATA_CR;
          break;
        }
        case S_DATA_CR: {
          if (buf[i++] !== CR) throw new HttpError(400, 'missing CRLF after chunk data');
          this.state = S_DATA_LF;
          break;
        }
        case S_DATA_LF: {
          if (buf[i++] !== LF) throw new HttpError(400, 'missing CRLF after chunk data');
          this.state = S_SIZE;
          this.size = 0;
          this.digits = 0;
          break;
        }
        case S_TRAILER: {
          const cr = lineEnd(buf, i);
          const end = cr < 0 ? n : cr;
          this.trailerBytes += end - i + 2;
          if (this.trailerBytes > MAX_HEAD) throw new HttpError(400, 'trailer section too long');
          this.line += buf.toString('latin1', i, end);
          i = end;
          if (cr >= 0) {
            i++;
            this.state = S_TRAILER_LF;
          }
          break;
        }
        case S_TRAILER_LF: {
          if (buf[i++] !== LF) throw new HttpError(400, 'bad trailer line');
          const line = this.line;
          this.line = '';
          if (line === '') {
            this.state = S_DONE;
            return i;
          }
          if (!FIELD_LINE.test(line)) throw new HttpError(400, 'bad trailer field');
          this.state = S_TRAILER;
          break;
        }
        default:
          return i;
      }
    }
    return -1;
  }

  private startChunk(): void {
    if (this.size === 0) {
      this.state = S_TRAILER;
      this.line = '';
      return;
    }
    this.remaining = this.size;
    this.state = S_DATA;
  }
}
