// `tide load`: a small locust-like load generator for trying autoscaling locally.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { runLoad, formatProgress, formatReport } from '../../load/runner.ts';
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
        mode = { kind: 'users', users, spawnRate };
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
        o.quiet ? undefined : (p) => process.stderr.write(tty ? `\r\x1b[K${formatProgress(p)}` : `${formatProgress(p)}\n`),
      );
      if (tty && !o.quiet) process.stderr.write('\n');
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatReport(report)}\n`);
    });
}
