// Node's own HTTP/1 parser (llhttp, as node:http servers and clients use it: no lenient flags) driven
// in-process, as the reference the proxy's framing is compared against.
// node:_http_common is Node's internal-but-importable home of the parser binding node:http uses
const common = 'node:_http_common';
const { HTTPParser, methods: METHOD_NAMES } = (await import(common)) as { HTTPParser: unknown; methods: string[] };

export interface Msg {
  method: string;
  url: string;
  status: number;
  /** [lowercased name, value] in order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface Parsed {
  msgs: Msg[];
  /** llhttp rejected the bytes (after `msgs`). */
  error: string | null;
  /** Bytes of an unfinished message after the last complete one (no error yet). */
  partial: boolean;
}

/**
 * Parse `bytes` as a stream of requests (kind 'request') or responses ('response'; `methods[i]` is
 * the method of the request the i-th response answers, so HEAD responses have no body). `eof`: the
 * stream ended there (close-delimited bodies end).
 */
export function llparse(kind: 'request' | 'response', bytes: Buffer, opts: { methods?: string[]; eof?: boolean; maxHeaderSize?: number } = {}): Parsed {
  const P = HTTPParser as any;
  const p = new P();
  const msgs: Msg[] = [];
  let cur: Msg | null = null;
  let pendingHeaders: string[] = [];
  let pendingUrl = '';
  let bodies: Buffer[] = [];
  let inMessage = false;
  const begin = () => {
    inMessage = true;
  };
  p[P.kOnMessageBegin] = begin;
  p[P.kOnHeaders] = (h: string[], url: string) => {
    pendingHeaders = pendingHeaders.concat(h);
    pendingUrl += url ?? '';
  };
  p[P.kOnHeadersComplete] = (_maj: number, _min: number, h: string[] | undefined, method: number | undefined, url: string | undefined, status: number | undefined) => {
    inMessage = true;
    const all = h ? pendingHeaders.concat(h) : pendingHeaders;
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < all.length; i += 2) headers.push([all[i].toLowerCase(), all[i + 1]]);
    cur = { method: method !== undefined ? METHOD_NAMES[method] : '', url: (url ?? '') || pendingUrl, status: status ?? 0, headers, body: Buffer.alloc(0) };
    pendingHeaders = [];
    pendingUrl = '';
    bodies = [];
    // interim (1xx) responses do not answer a request of their own
    if (kind === 'response' && opts.methods?.[msgs.filter((m) => m.status >= 200).length] === 'HEAD' && (status ?? 0) >= 200) return 1;
    return 0;
  };
  p[P.kOnBody] = (b: Buffer) => {
    bodies.push(Buffer.from(b));
  };
  p[P.kOnMessageComplete] = () => {
    if (cur !== null) {
      cur.body = Buffer.concat(bodies);
      msgs.push(cur);
    }
    cur = null;
    pendingHeaders = [];
    pendingUrl = '';
    inMessage = false;
  };
  p[P.kOnExecute] = () => {};
  p.initialize(kind === 'request' ? P.REQUEST : P.RESPONSE, {}, opts.maxHeaderSize ?? 64 * 1024, 0);
  let error: string | null = null;
  const r = p.execute(bytes);
  if (r instanceof Error) error = (r as NodeJS.ErrnoException).code ?? r.message;
  else if (opts.eof) {
    const f = p.finish();
    if (f instanceof Error) error = (f as NodeJS.ErrnoException).code ?? f.message;
  }
  const partial = error === null && (inMessage || cur !== null);
  p.close?.();
  return { msgs, error, partial };
}
