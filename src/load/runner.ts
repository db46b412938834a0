// `tide load` engine: closed-loop users (locust-like), fixed-rate open loop, and trace replay, over
// undici. Always bounded by runTimeMs: at the deadline new requests stop and in-flight ones are
// aborted (counted as `unfinished`, not as errors). Open-loop and trace latencies are measured from the
// *intended* send time, so a slow server cannot hide its queueing (no coordinated omission).
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { Histogram } from './histogram.ts';

export type LoadMode =
  | { kind: 'users'; users: number; spawnRate: number; /** think time between one user's requests, uniform in [min, max] ms (locust's between()) */ waitMs?: [number, number] }
  | { kind: 'rate'; rate: number }
  | { kind: 'trace'; offsetsMs: number[]; speedup: number };

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 (a path in it is prefixed to `path`). */
  host: string;
  path: string;
  method: string;
  body?: Buffer | string;
  headers: Record<string, string>;
  runTimeMs: number;
  mode: LoadMode;
  /** Per-request timeout for headers and body (ms). */
  timeoutMs: number;
  /** Max TCP connections for open-loop modes (closed loop uses one per user). */
  connections?: number;
  /** Open loop: measure latency from the intended send time (default, no coordinated omission) or from the actual send. */
  measureFrom?: 'intended' | 'sent';
}

export interface Progress {
  elapsedS: number;
  users: number;
  inFlight: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Errors since the start. */
  errorsTotal: number;
  requests: number;
}

/** Response-time percentiles as locust's stats CSV has them (ms). */
export const PERCENTILES = [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1] as const;

export interface LoadReport {
  target: string;
  method: string;
  path: string;
  mode: string;
  durationS: number;
  /** Requests that completed (any response or a connection error). */
  requests: number;
  rps: number;
  latencyMs: { min: number; mean: number; p50: number; p90: number; p99: number; max: number };
  /** Locust's percentile columns: "50%" … "100%" → ms. */
  percentilesMs: Record<string, number>;
  /** Mean response body size (bytes, from content-length or the bytes read). */
  avgContentBytes: number;
  /** errors.total / requests (0 without requests). */
  failRatio: number;
  statuses: Record<string, number>;
  errors: { total: number; byStatus: Record<string, number>; byCode: Record<string, number> };
  /** Requests cut by the end of the run. */
  unfinished: number;
  /** Open-loop modes: requests that were due but could not be sent before the deadline. */
  scheduled?: number;
}

export async function runLoad(opts: LoadOptions, onProgress?: (p: Progress) => void): Promise<LoadReport> {
  const url = new URL(opts.host);
  const base = url.pathname.replace(/\/$/, '');
  const path = base + (opts.path.startsWith('/') ? opts.path : `/${opts.path}`);
  const closed = opts.mode.kind === 'users';
  const pool = new Pool(url.origin, {
    connections: closed ? Math.max(1, (opts.mode as { users: number }).users) : (opts.connections ?? 1024),
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const ac = new AbortController();
  const all = new Histogram();
  const win = new Histogram();
  const statuses: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  let errors = 0;
  let winErrors = 0;
  let inFlight = 0;
  let unfinished = 0;
  let users = 0;
  let stopped = false;
  let scheduled = 0;
  let contentBytes = 0;

  const t0 = performance.now();
  const deadline = t0 + opts.runTimeMs;
  const method = opts.method.toUpperCase();
  const body = opts.body;
  const headers = opts.headers;

  /** One request; resolves false when it failed at the connection level. */
  async function one(startedAt: number): Promise<boolean> {
    inFlight++;
    try {
      const res = await pool.request({ path, method: method as 'GET', headers, body, signal: ac.signal });
      let size = 0;
      for await (const c of res.body) size += (c as Buffer).length;
      contentBytes += size;
      const ms = performance.now() - startedAt;
      all.record(ms);
      win.record(ms);
      const s = String(res.statusCode);
      statuses[s] = (statuses[s] ?? 0) + 1;
      if (res.statusCode >= 400) {
        errors++;
        winErrors++;
        byStatus[s] = (byStatus[s] ?? 0) + 1;
      }
      return true;
    } catch (err) {
      if (stopped) {
        unfinished++;
      } else {
        const e = err as { code?: string; name?: string };
        const code = e.code ?? e.name ?? 'ERROR';
        byCode[code] = (byCode[code] ?? 0) + 1;
        errors++;
        winErrors++;
        const ms = performance.now() - startedAt;
        all.record(ms);
        win.record(ms);
      }
      return false;
    } finally {
      inFlight--;
    }
  }

  let lastTick = t0;
  let lastCount = 0;
  const progress = setInterval(() => {
    const now = performance.now();
    const dt = (now - lastTick) / 1000;
    const p: Progress = {
      elapsedS: (now - t0) / 1000,
      users,
      inFlight,
      rps: (all.count - lastCount) / dt,
      p50: win.quantile(0.5),
      p99: win.quantile(0.99),
      errors: winErrors,
      errorsTotal: errors,
      requests: all.count,
    };
    lastTick = now;
    lastCount = all.count;
    win.reset();
    winErrors = 0;
    onProgress?.(p);
  }, 1000);

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, Math.max(0, ms));
      ac.signal.addEventListener('abort', () => {
        clearTimeout(t);
        r();
      }, { once: true });
    });
  const stopTimer = setTimeout(() => {
    stopped = true;
    ac.abort();
  }, opts.runTimeMs);

  const work: Promise<void>[] = [];
  let cutByDeadline = false;
  const mode = opts.mode;
  if (mode.kind === 'users') {
    const userLoop = async () => {
      users++;
      // a user whose request failed at the connection level (service down) waits 10 ms before the
      // next one instead of spinning the CPU
      const wait = mode.waitMs;
      while (!stopped) {
        const ok = await one(performance.now());
        if (stopped) break;
        if (wait) await sleep(wait[0] + Math.random() * (wait[1] - wait[0]));
        else if (!ok) await sleep(10);
      }
    };
    const perUserMs = mode.spawnRate > 0 ? 1000 / mode.spawnRate : 0;
    for (let i = 0; i < mode.users && !stopped; i++) {
      if (i > 0 && perUserMs > 0) await sleep(t0 + i * perUserMs - performance.now());
      if (stopped) break;
      work.push(userLoop());
    }
  } else {
    // Open loop: requests due at fixed instants, fired on time whatever the responses do.
    const due: (k: number) => number =
      mode.kind === 'rate' ? (k) => k * (1000 / mode.rate) : (k) => mode.offsetsMs[k] / mode.speedup;
    const fromSent = opts.measureFrom === 'sent';
    const total = mode.kind === 'rate' ? Infinity : mode.offsetsMs.length;
    let k = 0;
    const live = new Set<Promise<void>>();
    while (!stopped && k < total) {
      const now = performance.now();
      let at = t0 + due(k);
      while (at <= now && k < total && at < deadline) {
        const p = one(fromSent ? performance.now() : at).then(() => {});
        live.add(p);
        void p.then(() => live.delete(p));
        scheduled++;
        k++;
        at = k < total ? t0 + due(k) : Infinity;
      }
      if (at >= deadline) break;
      if (k < total) await sleep(Math.min(at - performance.now(), 50));
    }
    // trace exhausted (or deadline): wait for the stragglers, still bounded by the deadline
    if (k < total) cutByDeadline = true;
    work.push(...live);
  }
  await Promise.all(work);
  const end = cutByDeadline ? deadline : Math.min(performance.now(), deadline);
  if (!stopped && mode.kind === 'users') await sleep(deadline - performance.now());
  clearTimeout(stopTimer);
  stopped = true;
  clearInterval(progress);
  await pool.destroy().catch(() => {});

  const durationS = Math.max(1e-9, ((mode.kind === 'users' ? Math.min(performance.now(), deadline) : end) - t0) / 1000);
  return {
    target: url.origin + path,
    method,
    path,
    mode:
      mode.kind === 'users'
        ? `closed loop, ${mode.users} users, ${mode.spawnRate > 0 ? `spawn rate ${mode.spawnRate}/s` : 'all started at once'}${mode.waitMs ? `, wait ${mode.waitMs[0]}..${mode.waitMs[1]} ms` : ''}`
        : mode.kind === 'rate'
          ? `open loop, ${mode.rate} req/s`
          : `trace replay, ${mode.offsetsMs.length} arrivals, speedup ${mode.speedup}x`,
    durationS,
    requests: all.count,
    rps: all.count / durationS,
    latencyMs: {
      min: all.count ? all.min : 0,
      mean: all.mean(),
      p50: all.quantile(0.5),
      p90: all.quantile(0.9),
      p99: all.quantile(0.99),
      max: all.max,
    },
    percentilesMs: Object.fromEntries(PERCENTILES.map((q) => [`${+(q * 100).toFixed(2)}%`, all.count ? (q === 1 ? all.max : all.quantile(q)) : 0])),
    avgContentBytes: all.count ? contentBytes / all.count : 0,
    failRatio: all.count ? errors / all.count : 0,
    statuses,
    errors: { total: errors, byStatus, byCode },
    unfinished,
    ...(mode.kind !== 'users' ? { scheduled } : {}),
  };
}

const f = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function formatProgress(p: Progress): string {
  return `[${p.elapsedS.toFixed(0).padStart(4)}s] ${p.users > 0 ? `users ${p.users} | ` : ''}in flight ${p.inFlight} | ${p.rps.toFixed(1)} req/s | p50 ${f(p.p50)} ms | p99 ${f(p.p99)} ms | errors ${p.errors} | total ${p.requests}`;
}

export function formatReport(r: LoadReport): string {
  const l = r.latencyMs;
  const lines = [
    `target     ${r.target}`,
    `mode       ${r.mode}`,
    `duration   ${r.durationS.toFixed(1)} s`,
    `requests   ${r.requests}  (${r.rps.toFixed(1)} req/s)${r.unfinished ? `, ${r.unfinished} cut at the end of the run` : ''}`,
    `latency    min ${f(l.min)}  mean ${f(l.mean)}  p50 ${f(l.p50)}  p90 ${f(l.p90)}  p99 ${f(l.p99)}  max ${f(l.max)}  (ms)`,
    `statuses   ${Object.entries(r.statuses).map(([s, n]) => `${s}: ${n}`).join('  ') || '-'}`,
    `errors     ${r.errors.total}${r.requests ? ` (${((100 * r.errors.total) / r.requests).toFixed(2)}%)` : ''}`,
  ];
  for (const [s, n] of Object.entries(r.errors.byStatus)) lines.push(`  HTTP ${s}  ${n}`);
  for (const [c, n] of Object.entries(r.errors.byCode)) lines.push(`  ${c}  ${n}`);
  return lines.join('\n');
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** locust --csv PREFIX_stats.csv: one row for the endpoint and the "Aggregated" row. */
export function statsCsv(r: LoadReport): string {
  const head = ['Type', 'Name', 'Request Count', 'Failure Count', 'Median Response Time', 'Average Response Time', 'Min Response Time', 'Max Response Time',
    'Average Content Size', 'Requests/s', 'Failures/s', ...Object.keys(r.percentilesMs)];
  const row = (type: string, name: string) => [type, name, String(r.requests), String(r.errors.total), num(r.latencyMs.p50), num(r.latencyMs.mean), num(r.latencyMs.min),
    num(r.latencyMs.max), num(r.avgContentBytes), num(r.rps), num(r.errors.total / r.durationS), ...Object.values(r.percentilesMs).map(num)];
  return [head, row(r.method, r.path), row('', 'Aggregated')].map((c) => c.map(csvCell).join(',')).join('\n') + '\n';
}

/** locust --csv PREFIX_failures.csv: Method, Name, Error, Occurrences. */
export function failuresCsv(r: LoadReport): string {
  const rows = [['Method', 'Name', 'Error', 'Occurrences']];
  for (const [s, n] of Object.entries(r.errors.byStatus)) rows.push([r.method, r.path, `HTTPError('${s}')`, String(n)]);
  for (const [c, n] of Object.entries(r.errors.byCode)) rows.push([r.method, r.path, c, String(n)]);
  return rows.map((c) => c.map(csvCell).join(',')).join('\n') + '\n';
}

export const HISTORY_HEADER = ['Timestamp', 'User Count', 'Type', 'Name', 'Requests/s', 'Failures/s', '50%', '99%', 'Total Request Count', 'Total Failure Count'];

/** One PREFIX_stats_history.csv row per progress tick (percentiles of that second). */
export function historyRow(p: Progress, at = Date.now()): string {
  return [String(Math.floor(at / 1000)), String(p.users), '', 'Aggregated', num(p.rps), num(p.errors), num(p.p50), num(p.p99), String(p.requests), String(p.errorsTotal)].map(csvCell).join(',');
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
