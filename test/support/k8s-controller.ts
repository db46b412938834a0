// `tide controller` as a child process for e2e tests and benchmarks: out of cluster, with the
// kubeconfig it is given (normally the ServiceAccount-token-only one from k8s-rbac.ts), its own
// /metrics,/healthz,/readyz port, its logs kept for assertions and failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './services.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningController {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** stdout + stderr so far. */
  log(): string;
  /** Resolves once the log matches (rejects after timeoutMs, quoting the log's tail). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export async function startController(o: { kubeconfig: string; args?: string[]; env?: NodeJS.ProcessEnv; waitReady?: boolean }): Promise<RunningController> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/tide.js'), 'controller', '--kubeconfig', o.kubeconfig, '--listen', `127.0.0.1:${port}`, ...(o.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: '', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => { out += d.toString(); if (out.length > 4_000_000) out = out.slice(-2_000_000); for (const w of waiters) w(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { for (const w of waiters) w(); r(code); }));
  const rc: RunningController = {
    child,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => out,
    waitForLog(re, timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = re.exec(out);
          if (m) { waiters.delete(check); clearTimeout(t); res(m[0]); return true; }
          if (child.exitCode !== null) { waiters.delete(check); clearTimeout(t); rej(new Error(`controller exited (${child.exitCode}) before ${re}; log tail:\n${out.slice(-3000)}`)); return true; }
          return false;
        };
        const t = setTimeout(() => { waiters.delete(check); rej(new Error(`timed out after ${timeoutMs} ms waiting for ${re} in the controller log; tail:\n${out.slice(-3000)}`)); }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  process.once('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  if (o.waitReady !== false) {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`tide controller exited (${child.exitCode}):\n${out.slice(-3000)}`);
      try {
        const r = await fetch(`${rc.url}/readyz`);
        if (r.ok) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) { await rc.stop(); throw new Error(`tide controller not ready after 90 s:\n${out.slice(-3000)}`); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return rc;
}
