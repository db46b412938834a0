// `tide load`: a small locust-like load generator for trying autoscaling locally.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { runLoad, formatProgress, formatReport, statsCsv, failuresCsv, HISTORY_HEADER, historyRow } from '../../load/runner.ts';
import type { LoadMode } from '../../load/runner.ts';
import { readTrace } from '../../load/trace.ts';

/** "30s", "2m", "500ms", "1h", or a bare number of seconds → ms. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new UserError(`bad duration "${s}" (use e.g. 500ms, 30s, 2m, 1h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

/** "--wait 50ms..200ms" (uniform, like locust's between) or "--wait 1s" (constant) → [min, max] ms. */
export function parseWait(s: string): [number, number] {
  const parts = s.split('..');
  if (parts.length > 2) throw new UserError(`--wait "${s}": expected MIN..MAX (e.g. 50ms..200ms) or one duration`);
  const [a, b] = parts.map((p) => parseDuration(p));
  const lo = a;
  const hi = b ?? a;
  if (hi < lo) throw new UserError(`--wait "${s}": the maximum is below the minimum`);
  return [lo, hi];
}

/** --fail-ratio: a fraction 0..1, or a percentage "5%". */
export function parseRatio(s: string): number {
  const pct = s.trim().endsWith('%');
  const n = Number(pct ? s.trim().slice(0, -1) : s);
  const r = pct ? n / 100 : n;
  if (!Number.isFinite(r) || r < 0 || r > 1) throw new UserError(`--fail-ratio must be between 0 and 1 (or 0%..100%), got "${s}"`);
  return r;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--${name} must be a positive number, got "${v}"`);
  return n;
}

interface Flags {
  host?: string;
  users?: string;
  spawnRate?: string;
  rate?: string;
  trace?: string;
  speedup: string;
  runTime: string;
  path: string;
  method: string;
  body?: string;
  header: string[];
  timeout: string;
  connections?: string;
  json?: boolean;
  quiet?: boolean;
  wait?: string;
  failRatio: string;
  csv?: string;
}

export function register(program: Command): void {
  program
    .command('load')
    .description('generate HTTP load (closed-loop users, fixed rate, or trace replay) and report latency and errors')
    .requiredOption('--host <url>', 'base URL of the service, e.g. http://127.0.0.1:8080')
    .option('-u, --users <n>', 'closed loop: number of concurrent users (default 1)')
    .option('-r, --spawn-rate <n>', 'closed loop: users started per second (default: all at once)')
    .option('--rate <n>', 'open loop: fixed request rate (req/s), independent of responses')
    .option('--trace <file>', 'open loop: replay arrival times from a CSV or JSONL trace (relative offsets)')
    .option('--speedup <x>', 'trace replay time compression factor', '1')
    .option('-t, --run-time <duration>', 'stop after this long (e.g. 30s, 2m)', '30s')
    .option('--path <path>', 'request path', '/')
    .option('-X, --method <method>', 'HTTP method', 'GET')
    .option('-d, --body <body>', 'request body, or @file to read it from a file')
    .option('-H, --header <header>', 'extra header "Name: value" (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--timeout <duration>', 'per-request timeout', '30s')
    .option('--connections <n>', 'open loop: max connections (default 1024)')
    .option('--wait <min..max>', 'closed loop: think time between a user\'s requests, uniform in MIN..MAX (locust between()), e.g. 50ms..200ms, or one duration')
    .option('--fail-ratio <r>', 'exit with status 1 when more than this fraction of requests failed (0.05 or 5%); 0: any failure, like locust', '0')
    .option('--csv <prefix>', 'write locust-style PREFIX_stats.csv, PREFIX_stats_history.csv and PREFIX_failures.csv')
    .option('--json', 'print the final report as JSON on stdout')
    .option('-q, --quiet', 'no live progress line')
    .action(async (o: Flags) => {
      let host = o.host!;
      if (!/^https?:\/\//.test(host)) host = `http://${host}`;
      try {
        new URL(host);
      } catch {
        throw new UserError(`--host: not a URL: ${o.host}`);
      }
      if (o.wait !== undefined && (o.rate !== undefined || o.trace !== undefined)) throw new UserError('--wait is think time between a user\'s requests: it applies to --users (closed loop), not to --rate or --trace');
      const failRatio = parseRatio(o.failRatio);
      const modes = [o.users !== undefined || o.spawnRate !== undefined, o.rate !== undefined, o.trace !== undefined].filter(Boolean).length;
      if (modes > 1) throw new UserError('choose one of --users/--spawn-rate (closed loop), --rate (open loop) or --trace (replay)');
      let mode: LoadMode;
      if (o.rate !== undefined) mode = { kind: 'rate', rate: positive('rate', o.rate) };
      else if (o.trace !== undefined) {
        let offsetsMs: number[];
        try {
          offsetsMs = readTrace(o.trace);
        } catch (err) {
          throw new UserError(`--trace ${(err as Error).message}`);
        }
        if (offsetsMs.length === 0) throw new UserError(`--trace ${o.trace}: no arrivals`);
        mode = { kind: 'trace', offsetsMs, speedup: positive('speedup', o.speedup) };
      } else {
        const users = o.users === undefined ? 1 : Math.floor(positive('users', o.users));
        const spawnRate = o.spawnRate === undefined ? 0 : positive('spawn-rate', o.spawnRate);
        mode = { kind: 'users', users, spawnRate, ...(o.wait !== undefined ? { waitMs: parseWait(o.wait) } : {}) };
      }
      const headers: Record<string, string> = {};
      for (const h of o.header) {
        const i = h.indexOf(':');
        if (i <= 0) throw new UserError(`--header "${h}": expected "Name: value"`);
        headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      let body: Buffer | string | undefined;
      if (o.body !== undefined) {
        if (o.body.startsWith('@')) {
          try {
            body = readFileSync(o.body.slice(1));
          } catch (err) {
            throw new UserError(`--body ${o.body}: ${(err as Error).message}`);
          }
        } else body = o.body;
        if (!headers['content-type']) {
          const looksJson = /^\s*[[{]/.test(body.toString('utf8', 0, 64));
          headers['content-type'] = looksJson ? 'application/json' : 'application/octet-stream';
        }
      }
      const tty = process.stderr.isTTY;
      const history = o.csv ? `${o.csv}_stats_history.csv` : undefined;
      if (history) {
        try { writeFileSync(history, HISTORY_HEADER.join(',') + '\n'); } catch (e) { throw new UserError(`--csv ${o.csv}: ${(e as Error).message}`); }
      }
      const report = await runLoad(
        {
          host,
          path: o.path,
          method: o.method,
          body,
          headers,
          runTimeMs: parseDuration(o.runTime),
          timeoutMs: parseDuration(o.timeout),
          mode,
          connections: o.connections ? Math.floor(positive('connections', o.connections)) : undefined,
        },
        (p) => {
          if (history) appendFileSync(history, historyRow(p) + '\n');
          if (!o.quiet) process.stderr.write(tty ? `\r\x1b[K${formatProgress(p)}` : `${formatProgress(p)}\n`);
        },
      );
      if (tty && !o.quiet) process.stderr.write('\n');
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatReport(report)}\n`);
      if (o.csv) {
        writeFileSync(`${o.csv}_stats.csv`, statsCsv(report));
        writeFileSync(`${o.csv}_failures.csv`, failuresCsv(report));
      }
      // CI gate, like locust's exit code: failures beyond --fail-ratio, or nothing answered at all
      if (report.requests === 0) {
        process.stderr.write(`tide load: no request completed against ${report.target}\n`);
        process.exitCode = 1;
      } else if (report.failRatio > failRatio) {
        process.stderr.write(`tide load: ${(report.failRatio * 100).toFixed(2)}% of requests failed (${report.errors.total} of ${report.requests}), more than --fail-ratio ${failRatio}: exit status 1\n`);
        process.exitCode = 1;
      }
    });
}
