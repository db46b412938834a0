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
const SPECIAL = new Set([...HOP, 'x-forwarded-for', 'content-length', 'host']);
const SPECIAL_LEN = new Set([...SPECIAL].map((h) => h.length));

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

function parseFields(rows: string[], isRequest: boolean): Common {
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
    if (line.includes('\n') || line.includes('\r')) throw new HttpError(isRequest ? 400 : 502, 'bare CR or LF in header line');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpError(400, 'malformed header line');
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) throw new HttpError(400, 'obsolete header folding');
    const name = line.slice(0, colon);
    if (!SPECIAL_LEN.has(name.length) && name.length !== 6) {
      if (name.includes(' ') || name.includes('\t')) throw new HttpError(400, 'whitespace in header name');
      lines.push(line);
      continue;
    }
    const lower = name.toLowerCase();
    if (!SPECIAL.has(lower) && lower !== 'expect') {
      if (!TOKEN.test(name)) throw new HttpError(400, 'bad header name');
      lines.push(line);
      continue;
    }
    const value = line.slice(colon + 1).trim();
    switch (lower) {
      case 'content-length': {
        if (!/^\d+$/.test(value)) throw new HttpError(400, 'bad content-length');
        const n = Number(value);
        if (contentLength !== -1 && contentLength !== n) throw new HttpError(400, 'conflicting content-length');
        contentLength = n;
        lines.push(line);
        break;
      }
      case 'transfer-encoding': {
        sawTE = true;
        const codings = value.toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
        if (codings.length !== 1 || codings[0] !== 'chunked') throw new HttpError(isRequest ? 501 : 502, `unsupported transfer-encoding "${value}"`);
        chunked = true;
        break;
      }
      case 'connection':
        for (const t of value.toLowerCase().split(',')) {
          const tok = t.trim();
          if (tok === 'close') connClose = true;
          else if (tok === 'keep-alive') connKeepAlive = true;
          else if (tok !== '') (connTokens ??= []).push(tok);
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
    if (isRequest) throw new HttpError(400, 'both transfer-encoding and content-length');
    // a response with both: transfer-encoding wins (RFC 9112 §6.3); drop the length
    contentLength = -1;
    for (let i = lines.length - 1; i >= 0; i--) if (lines[i].slice(0, 15).toLowerCase() === 'content-length:') lines.splice(i, 1);
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
  if (!TOKEN.test(method) || target === '' || /[\s\x00-\x1f\x7f]/.test(target)) throw new HttpError(400, 'malformed request line');
  if (method === 'CONNECT') throw new HttpError(405, 'CONNECT is not supported');
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
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(first);
  if (!m) throw new HttpError(502, 'malformed status line from the replica');
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
const S_DATA = 2;
const S_DATA_END = 3;
const S_TRAILER = 4;
const S_DONE = 5;

/**
 * Scans a chunked body to find where it ends, optionally handing out the payload (for de-chunking to
 * HTTP/1.0 clients). Framing errors throw.
 */
export class ChunkedScanner {
  private state = S_SIZE;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineLen = 0;
  private total = 0;
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
            if (++this.digits > 12) throw new HttpError(400, 'chunk size too large');
            this.size = this.size * 16 + v;
          } else if (c === LF) {
            if (this.digits === 0) throw new HttpError(400, 'bad chunk size');
            this.startChunk();
          } else if (c === CR) {
            // wait for LF
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            if (this.digits === 0) throw new HttpError(400, 'bad chunk size');
            this.state = S_EXT;
          } else throw new HttpError(400, 'bad chunk size');
          break;
        }
        case S_EXT: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0) {
            this.lineLen += n - i;
            if (this.lineLen > 4096) throw new HttpError(400, 'chunk extension too long');
            i = n;
          } else {
            i = lf + 1;
            this.lineLen = 0;
            this.startChunk();
          }
          break;
        }
        case S_DATA: {
          const take = Math.min(this.remaining, n - i);
          if (onPayload) onPayload(buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = S_DATA_END;
          break;
        }
        case S_DATA_END: {
          const c = buf[i++];
          if (c === LF) {
            this.state = S_SIZE;
            this.size = 0;
            this.digits = 0;
          } else if (c !== CR) throw new HttpError(400, 'missing CRLF after chunk data');
          break;
        }
        case S_TRAILER: {
          const c = buf[i++];
          if (c === LF) {
            if (this.lineLen === 0) {
              this.state = S_DONE;
              return i;
            }
            this.lineLen = 0;
          } else if (c !== CR) {
            if (++this.lineLen > MAX_HEAD) throw new HttpError(400, 'trailer too long');
          }
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
      this.lineLen = 0;
      return;
    }
    this.total += this.size;
    this.remaining = this.size;
    this.state = S_DATA;
  }
}
