// Trace readers. Files are streamed (line by line, or through `bzip2 -dc` for .tbz2/.bz2) into
// compact typed arrays, so multi-week traces stay small in memory.
//
// Formats understood:
// - azure:    Azure LLM inference trace CSV: TIMESTAMP,ContextTokens,GeneratedTokens (timestamps UTC).
// - twitter:  whitespace-separated per-second request counts (workload.txt, or workload.tbz2).
// - alibaba:  Alibaba GenAI lora_request_trace.csv: gmt_create (1 s resolution), exec_time_seconds, ...
// - log:      users' own access logs, CSV `timestamp[,service_ms]` (optional header line) or JSONL
//             `{"timestamp": ..., "service_ms": ...}`. timestamp: epoch seconds (< 1e11), epoch ms,
//             or an ISO 8601 date-time. Lines may be out of order; they are sorted.
// - counts:   CSV `second,count` or one count per line (per-second counts).
// - servegen: the shipped ServeGen fixtures (servegen.ts): per-tenant measured rates and fitted
//             inter-arrival distributions, requests reconstructed with a seed.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import type { CountsTrace, RequestsTrace, Trace } from '../workload.ts';
import { readServeGen } from './servegen.ts';

export type TraceFormat = 'azure' | 'twitter' | 'alibaba' | 'log' | 'counts' | 'servegen';

export function detectFormat(file: string, firstLine: string): TraceFormat {
  if (/servegen[^/]*\.csv(\.gz)?$/i.test(file) || /^# ServeGen/.test(firstLine)) return 'servegen';
  if (/\.(tbz2|bz2)$/.test(file) || /^\s*\d+(\s+\d+){5,}/.test(firstLine)) return 'twitter';
  if (/^TIMESTAMP,ContextTokens,GeneratedTokens/i.test(firstLine)) return 'azure';
  if (/^gmt_create,/.test(firstLine)) return 'alibaba';
  if (/^\s*\d+\s*,\s*\d+\s*$/.test(firstLine) && /counts?/.test(file)) return 'counts';
  return 'log';
}

function openText(file: string): Readable {
  if (/\.(tbz2|bz2)$/.test(file)) {
    // stderr ignored: stopping early (--limit) makes bzip2 complain about the closed pipe
    const child = spawn('bzip2', ['-dc', file], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.on('error', () => { /* reported through the stream */ });
    // a .tbz2 holds a tar archive: the text follows a 512-byte header; stripTar drops headers/padding
    return /\.tbz2$|\.tar\.bz2$/.test(file) ? stripTar(child.stdout) : child.stdout;
  }
  const s = createReadStream(file);
  return /\.gz$/.test(file) ? s.pipe(createGunzip()) : s;
}

/** Yields the bytes of the first regular file of a tar stream. */
async function* tarFirstFile(src: Readable): AsyncGenerator<Buffer> {
  let buf: Buffer = Buffer.alloc(0);
  let remaining = -1;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (remaining < 0) {
      if (buf.length < 512) continue;
      const sizeField = buf.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim();
      remaining = parseInt(sizeField, 8) || 0;
      buf = buf.subarray(512);
    }
    if (remaining === 0) break;
    const take = Math.min(remaining, buf.length);
    if (take > 0) {
      yield buf.subarray(0, take);
      remaining -= take;
      buf = buf.subarray(take);
    }
    if (remaining === 0) break;
  }
  src.destroy();
}

function stripTar(src: Readable): Readable {
  return Readable.from(tarFirstFile(src), { objectMode: false });
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = createInterface({ input: openText(file), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

/** The start of the first line (at most 4 KiB: some traces are one very long line). */
async function firstLine(file: string): Promise<string> {
  if (/\.(tbz2|bz2)$/.test(file)) return '';
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let text = buf.subarray(0, bytesRead).toString('utf8');
    if (/\.gz$/.test(file)) text = '';
    const nl = text.indexOf('\n');
    return nl >= 0 ? text.slice(0, nl) : text;
  } finally {
    await fh.close();
  }
}

class F64Builder {
  a = new Float64Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): Float64Array { return this.a.slice(0, this.n); }
}

/** Parse "2023-11-16 18:15:46.6805900" (UTC) or ISO, or epoch seconds / ms. */
export function parseTimestamp(s: string): number {
  const t = s.trim().replace(/^"|"$/g, '');
  if (/^\d+(\.\d+)?$/.test(t)) {
    const v = Number(t);
    return v < 1e11 ? v * 1000 : v;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (m) {
    const frac = m[7] ? Number('0' + m[7]) * 1000 : 0;
    let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + frac;
    if (m[8] && m[8] !== 'Z') {
      const sign = m[8][0] === '-' ? -1 : 1;
      const hh = Number(m[8].slice(1, 3));
      const mm = Number(m[8].slice(-2));
      ms -= sign * (hh * 60 + mm) * 60_000;
    }
    return ms;
  }
  const d = Date.parse(t);
  if (Number.isNaN(d)) throw new Error(`unreadable timestamp "${s}"`);
  return d;
}

export interface ReadOptions {
  format?: TraceFormat;
  /** Keep only the first `limitSeconds` of the trace. */
  limitSeconds?: number;
  /** Skip the first `skipSeconds`. */
  skipSeconds?: number;
  /** Seed of traces that are reconstructed rather than read (servegen; default 1). */
  seed?: number;
}

export async function readTrace(file: string, opts: ReadOptions = {}): Promise<Trace> {
  const fmt = opts.format ?? detectFormat(file, await firstLine(file));
  switch (fmt) {
    case 'twitter': return readCounts(file, opts, 'twitter');
    case 'counts': return readCounts(file, opts, 'counts');
    case 'azure': return readAzure(file, opts);
    case 'alibaba': return readAlibaba(file, opts);
    case 'log': return readAccessLog(file, opts);
    case 'servegen': return readServeGen(file, opts);
  }
}

/** Per-second counts: whitespace/newline separated integers, or `second,count` lines. */
export async function readCounts(file: string, opts: ReadOptions = {}, label = 'counts'): Promise<CountsTrace> {
  const out = new F64Builder();
  const skip = opts.skipSeconds ?? 0;
  const limit = opts.limitSeconds ?? Infinity;
  let idx = 0;
  let cur = -1; // digits being accumulated across chunk boundaries
  const stream = openText(file);
  const take = (v: number): boolean => {
    if (idx++ >= skip) out.push(v);
    return out.n < limit;
  };
  let more = true;
  outer: for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c >= 48 && c <= 57) cur = (cur < 0 ? 0 : cur * 10) + (c - 48);
      else if (c === 44) cur = -1; // "second,count": drop the second
      else if (cur >= 0) {
        more = take(cur);
        cur = -1;
        if (!more) break outer;
      }
    }
  }
  if (more && cur >= 0) take(cur);
  if (typeof (stream as Readable).destroy === 'function') (stream as Readable).destroy();
  return { kind: 'counts', name: `${label} ${basename(file)}`, startMs: 0, stepMs: 1000, counts: out.done() };
}

export async function readAzure(file: string, opts: ReadOptions = {}): Promise<RequestsTrace> {
  const times = new F64Builder();
  const pt = new F64Builder();
  const ot = new F64Builder();
  let first = true;
  for await (const line of lines(file)) {
    if (first) { first = false; if (/^TIMESTAMP/i.test(line)) continue; }
    if (!line.trim()) continue;
    const [ts, ctx, gen] = line.split(',');
    times.push(parseTimestamp(ts));
    pt.push(Number(ctx));
    ot.push(Number(gen));
  }
  return finishRequests(`azure ${basename(file)}`, times.done(), opts, { promptTokens: pt.done(), outputTokens: ot.done() });
}

export async function readAlibaba(file: string, opts: ReadOptions = {}): Promise<RequestsTrace> {
  const times = new F64Builder();
  const svc = new F64Builder();
  let header: string[] | null = null;
  let iT = 0, iE = 3;
  for await (const line of lines(file)) {
    if (!header) {
      header = line.split(',');
      iT = header.indexOf('gmt_create');
      iE = header.indexOf('exec_time_seconds');
      continue;
    }
    if (!line.trim()) continue;
    const f = line.split(',');
    const e = Number(f[iE]);
    times.push(parseTimestamp(f[iT]));
    svc.push(Number.isFinite(e) && e > 0 ? e * 1000 : NaN);
  }
  const t = times.done();
  const s = svc.done();
  // Timestamps have 1 s resolution: spread requests sharing a second evenly inside it.
  spreadWithinSecond(t);
  // unknown exec times: the median of the known ones
  const known = Array.from(s).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const med = known.length ? median(known) : 1000;
  for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) s[i] = med;
  return finishRequests(`alibaba ${basename(file)}`, t, opts, { serviceMs: s });
}

/** Users' access logs: CSV `timestamp[,service_ms]` or JSONL with timestamp / service_ms keys. */
export async function readAccessLog(file: string, opts: ReadOptions = {}): Promise<RequestsTrace> {
  const times = new F64Builder();
  const svc = new F64Builder();
  let anySvc = false;
  let lineNo = 0;
  for await (const raw of lines(file)) {
    lineNo++;
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    let ts: string | number;
    let sv: number = NaN;
    if (line.startsWith('{')) {
      let o: Record<string, unknown>;
      try { o = JSON.parse(line) as Record<string, unknown>; } catch { throw new Error(`${file}:${lineNo}: not valid JSON`); }
      const t = o.timestamp ?? o.ts ?? o.time;
      if (typeof t !== 'string' && typeof t !== 'number') throw new Error(`${file}:${lineNo}: timestamp missing (use "timestamp")`);
      ts = t;
      const s = o.service_ms ?? o.duration_ms ?? o.latency_ms;
      if (typeof s === 'number') sv = s;
    } else {
      const f = line.split(',');
      if (lineNo === 1 && !/\d/.test(f[0])) continue; // header
      ts = f[0];
      if (f.length > 1 && f[1].trim() !== '') sv = Number(f[1]);
    }
    let t: number;
    try { t = typeof ts === 'number' ? (ts < 1e11 ? ts * 1000 : ts) : parseTimestamp(ts); } catch (e) {
      throw new Error(`${file}:${lineNo}: ${(e as Error).message} (epoch seconds, epoch ms or ISO 8601)`);
    }
    times.push(t);
    svc.push(sv);
    if (!Number.isNaN(sv)) anySvc = true;
  }
  let t = times.done();
  let s: Float64Array | undefined = svc.done();
  // sort by time, keeping service times attached
  let sorted = true;
  for (let i = 1; i < t.length; i++) if (t[i] < t[i - 1]) { sorted = false; break; }
  if (!sorted) {
    const idx = Array.from(t.keys()).sort((a, b) => t[a] - t[b]);
    t = Float64Array.from(idx, (i) => t[i]);
    s = Float64Array.from(idx, (i) => s![i]);
  }
  if (anySvc) {
    const known = Array.from(s).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    const med = median(known);
    for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) s[i] = med;
  } else s = undefined;
  return finishRequests(`log ${basename(file)}`, t, opts, s ? { serviceMs: s } : {});
}

function spreadWithinSecond(t: Float64Array): void {
  let i = 0;
  while (i < t.length) {
    let j = i;
    while (j < t.length && t[j] === t[i]) j++;
    const n = j - i;
    for (let k = 0; k < n; k++) t[i + k] += ((k + 0.5) / n) * 1000;
    i = j;
  }
}

function finishRequests(
  name: string,
  abs: Float64Array,
  opts: ReadOptions,
  cols: { serviceMs?: Float64Array; promptTokens?: Float64Array; outputTokens?: Float64Array },
): RequestsTrace {
  // make sure times are sorted (stable for equal times)
  let sorted = true;
  for (let i = 1; i < abs.length; i++) if (abs[i] < abs[i - 1]) { sorted = false; break; }
  let order: number[] | null = null;
  if (!sorted) order = Array.from(abs.keys()).sort((a, b) => abs[a] - abs[b] || a - b);
  const pick = (a?: Float64Array): Float64Array | undefined => (a && order ? Float64Array.from(order, (i) => a[i]) : a);
  const t = order ? Float64Array.from(order, (i) => abs[i]) : abs;
  const c = { serviceMs: pick(cols.serviceMs), promptTokens: pick(cols.promptTokens), outputTokens: pick(cols.outputTokens) };
  const origin = t.length ? Math.floor(t[0] / 1000) * 1000 : 0;
  const startMs = origin + (opts.skipSeconds ?? 0) * 1000;
  const endMs = opts.limitSeconds !== undefined ? startMs + opts.limitSeconds * 1000 : Infinity;
  let lo = 0;
  while (lo < t.length && t[lo] < startMs) lo++;
  let hi = lo;
  while (hi < t.length && t[hi] < endMs) hi++;
  const times = new Float64Array(hi - lo);
  for (let i = lo; i < hi; i++) times[i - lo] = t[i] - startMs;
  const out: RequestsTrace = { kind: 'requests', name, startMs, times };
  if (c.serviceMs) out.serviceMs = c.serviceMs.slice(lo, hi);
  if (c.promptTokens) out.promptTokens = c.promptTokens.slice(lo, hi);
  if (c.outputTokens) out.outputTokens = c.outputTokens.slice(lo, hi);
  return out;
}

/** Cold-start (model load) times from the Alibaba basemodel_update_latency file (ms, column "value"). */
export async function readColdStarts(file: string): Promise<Float64Array> {
  const out = new F64Builder();
  let header: string[] | null = null;
  let iv = 1;
  const src = /\.tar\.gz$|\.tgz$/.test(file) ? tarLines(file) : lines(file);
  for await (const line of src) {
    if (!header) { header = line.split(','); iv = Math.max(0, header.indexOf('value')); continue; }
    const v = Number(line.split(',')[iv]);
    if (Number.isFinite(v) && v > 0) out.push(v);
  }
  return out.done();
}

async function* tarLines(file: string): AsyncGenerator<string> {
  const gz = createReadStream(file).pipe(createGunzip());
  const rl = createInterface({ input: Readable.from(tarFirstFile(gz), { objectMode: false }), crlfDelay: Infinity });
  for await (const l of rl) yield l;
}

function basename(p: string): string {
  return p.split('/').pop() ?? p;
}

/** Median of a sorted array (mean of the two middle values for an even length). */
function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
