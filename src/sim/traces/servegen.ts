// ServeGen fixtures (src/sim/data/servegen-*.csv.gz, derived by bench/derive-servegen.ts from the
// public ServeGen release: Alibaba Cloud Model Studio production statistics, Apache-2.0).
//
// ServeGen does not publish request timestamps. It publishes, per client (tenant) and 10-minute
// window, the measured request rate, the coefficient of variation of inter-arrival times and the
// fitted inter-arrival distribution (Gamma or Weibull, shape and scale), and per client and 6-hour
// window the input/output token-count distributions. The requests are reconstructed from those
// measurements the way ServeGen's own generator does: ceil(rate x 600) arrivals per window whose
// inter-arrival gaps are drawn from the fitted distribution and rescaled to fill the window; token
// counts are drawn from the client's distribution for that time (stored as 16 quantiles, sampled by
// linear interpolation between them). Each window has its own seeded stream, so a slice of days is
// the same requests as in the whole trace, and the same seed gives the same trace everywhere.
//
// File lines (gzip CSV, '#' comments):
//   w,client,start_s,rate_per_s,cv,pattern,shape,scale
//   q,client,start_s,field,<16 quantiles at QUANTILES>   field: input_tokens (or, multimodal, text_tokens
//                                                        and image_tokens, drawn independently and added), output_tokens
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Rng } from '../rng.ts';
import type { RequestsTrace } from '../workload.ts';

export const QUANTILES = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1];
const WINDOW_S = 600;
const INPUT_FIELDS = ['input_tokens', 'text_tokens', 'image_tokens'];

export interface ServeGenOptions {
  /** Keep only the first `limitSeconds` (after `skipSeconds`). */
  limitSeconds?: number;
  skipSeconds?: number;
  /** Seed of the reconstruction (default 1). */
  seed?: number;
  /** Only these clients (default: all in the file). */
  clients?: number[];
}

interface Window { client: number; startS: number; rate: number; pattern: 'Gamma' | 'Weibull'; shape: number; scale: number }

export interface ServeGenData {
  windows: Window[];
  /** client -> field -> sorted [start_s, quantiles] */
  tokens: Map<number, Map<string, [number, number[]][]>>;
}

export function parseServeGen(text: string, file = 'servegen'): ServeGenData {
  const windows: Window[] = [];
  const tokens = new Map<number, Map<string, [number, number[]][]>>();
  let n = 0;
  for (const raw of text.split('\n')) {
    n++;
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const f = line.split(',');
    if (f[0] === 'w' && f.length === 8) {
      const [client, startS, rate, , shape, scale] = [f[1], f[2], f[3], f[4], f[6], f[7]].map(Number);
      const pattern = f[5];
      if (pattern !== 'Gamma' && pattern !== 'Weibull') throw new Error(`${file}:${n}: pattern "${pattern}" (Gamma or Weibull)`);
      if (![client, startS, rate, shape, scale].every(Number.isFinite) || rate < 0 || shape <= 0 || scale <= 0) throw new Error(`${file}:${n}: unreadable window line`);
      windows.push({ client, startS, rate, pattern, shape, scale });
    } else if (f[0] === 'q' && f.length === 4 + QUANTILES.length) {
      const client = Number(f[1]);
      const startS = Number(f[2]);
      const q = f.slice(4).map(Number);
      if (!Number.isFinite(client) || !Number.isFinite(startS) || !q.every(Number.isFinite)) throw new Error(`${file}:${n}: unreadable quantile line`);
      let m = tokens.get(client);
      if (!m) tokens.set(client, (m = new Map()));
      let l = m.get(f[3]);
      if (!l) m.set(f[3], (l = []));
      l.push([startS, q]);
    } else throw new Error(`${file}:${n}: expected a "w" line (8 fields) or a "q" line (${4 + QUANTILES.length} fields)`);
  }
  for (const m of tokens.values()) for (const l of m.values()) l.sort((a, b) => a[0] - b[0]);
  windows.sort((a, b) => a.startS - b.startS || a.client - b.client);
  return { windows, tokens };
}

/** Gamma(shape, scale) variate (Marsaglia–Tsang; shape < 1 through the U^(1/shape) boost). */
export function gammaSample(rng: Rng, shape: number, scale: number): number {
  if (shape < 1) return gammaSample(rng, shape + 1, scale) * Math.pow(rng.nextOpen(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do { x = rng.normal(); v = 1 + c * x; } while (v <= 0);
    v = v * v * v;
    const u = rng.nextOpen();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

export function weibullSample(rng: Rng, shape: number, scale: number): number {
  return scale * Math.pow(-Math.log(rng.nextOpen()), 1 / shape);
}

/** Inverse-CDF draw from quantile points (linear between them). */
export function fromQuantiles(q: number[], u: number): number {
  for (let i = 1; i < QUANTILES.length; i++) {
    if (u <= QUANTILES[i]) {
      const f = (u - QUANTILES[i - 1]) / (QUANTILES[i] - QUANTILES[i - 1]);
      return q[i - 1] + f * (q[i] - q[i - 1]);
    }
  }
  return q[q.length - 1];
}

function windowSeed(seed: number, client: number, startS: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(client + 1, 0x85ebca6b) ^ Math.imul(startS / WINDOW_S + 1, 0xc2b2ae35)) >>> 0;
}

/** The token quantiles of a client at time t: its latest window at or before t, else its first; else any client's. */
function tokenQuantiles(d: ServeGenData, client: number, field: string, tS: number): number[] | undefined {
  const l = d.tokens.get(client)?.get(field);
  if (l?.length) {
    let best = l[0][1];
    for (const [s, q] of l) if (s <= tS) best = q; else break;
    return best;
  }
  return undefined;
}

export function reconstruct(d: ServeGenData, name: string, opts: ServeGenOptions = {}): RequestsTrace {
  const seed = opts.seed ?? 1;
  const skip = opts.skipSeconds ?? 0;
  const end = opts.limitSeconds !== undefined ? skip + opts.limitSeconds : Infinity;
  const only = opts.clients ? new Set(opts.clients) : undefined;
  // a pool-wide fallback for clients without token data: the first client (by id) that has some
  const withTokens = [...d.tokens.keys()].sort((a, b) => a - b);
  const times: number[] = [];
  const prompt: number[] = [];
  const output: number[] = [];
  for (const w of d.windows) {
    if (only && !only.has(w.client)) continue;
    if (w.startS + WINDOW_S <= skip || w.startS >= end) continue;
    const n = Math.ceil(w.rate * WINDOW_S);
    if (n <= 0) continue;
    const rng = new Rng(windowSeed(seed, w.client, w.startS));
    const gaps = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      gaps[i] = w.pattern === 'Gamma' ? gammaSample(rng, w.shape, w.scale) : weibullSample(rng, w.shape, w.scale);
      sum += gaps[i];
    }
    // rescaled to fill the window (ServeGen's construction); a degenerate draw spreads evenly
    const k = sum > 0 ? WINDOW_S / sum : 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      t += k > 0 ? gaps[i] * k : WINDOW_S / n;
      // the last gap ends on the window's end: keep every arrival inside [start, start + 600)
      const at = w.startS + Math.min(t, WINDOW_S - 1e-3);
      if (at < skip || at >= end) { for (let j = 0; j <= INPUT_FIELDS.length; j++) rng.next(); continue; }
      const client = d.tokens.has(w.client) ? w.client : withTokens[0];
      // prompt: input_tokens, or (multimodal) text_tokens + image_tokens drawn independently
      let p = 0;
      for (const field of INPUT_FIELDS) {
        const q = tokenQuantiles(d, client, field, at);
        const u = rng.next();
        if (q) p += fromQuantiles(q, u);
      }
      const qo = tokenQuantiles(d, client, 'output_tokens', at);
      const u = rng.next();
      times.push(at * 1000 - skip * 1000);
      prompt.push(Math.max(1, Math.round(p)));
      output.push(qo ? Math.max(1, Math.round(fromQuantiles(qo, u))) : 1);
    }
  }
  // windows come in start order, so the arrivals are nearly sorted: a stable sort of indices is cheap
  const order = Array.from(times.keys()).sort((a, b) => times[a] - times[b] || a - b);
  return {
    kind: 'requests',
    name,
    startMs: skip * 1000,
    times: Float64Array.from(order, (i) => times[i]),
    promptTokens: Float64Array.from(order, (i) => prompt[i]),
    outputTokens: Float64Array.from(order, (i) => output[i]),
  };
}

export function readServeGen(file: string, opts: ServeGenOptions = {}): RequestsTrace {
  const buf = readFileSync(file);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  return reconstruct(parseServeGen(text, file), `servegen ${file.split('/').pop()}`, opts);
}
