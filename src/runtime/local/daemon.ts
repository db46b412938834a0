// `tide up` as a library: start the runtime and its control API, publish <stateDir>/daemon.json,
// and stop everything (no orphan processes) on SIGINT/SIGTERM or when the daemon exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { startApi } from './api.ts';
import { ApiAuth, TOKEN_FILE, writePrivateFile } from './auth.ts';
import { LocalRuntime, type RuntimeOptions } from './controller.ts';
import { HOST, reapLeftovers } from './supervisor.ts';

export interface DaemonInfo {
  pid: number;
  host: string;
  port: number;
  url: string;
  startedAt: number;
  stateDir: string;
  files: string[];
  /** The file (mode 0600) holding this run's bearer token for the control API. */
  tokenFile: string;
}

export interface Daemon {
  runtime: LocalRuntime;
  api: Server;
  auth: ApiAuth;
  info: DaemonInfo;
  /** A one-time dashboard login link (valid 10 minutes). */
  dashboardLink(): string;
  stop(): Promise<void>;
}

export async function startDaemon(opts: RuntimeOptions & { apiPort?: number }): Promise<Daemon> {
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  try {
    const prev = JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as DaemonInfo;
    let alive = false;
    try { process.kill(prev.pid, 0); alive = prev.pid !== process.pid; } catch { /* stale file */ }
    if (alive) throw new UserError(`a Tide daemon is already running for ${stateDir} (pid ${prev.pid}, ${prev.url}); stop it (Ctrl-C) or use another --state-dir`);
  } catch (e) {
    if (e instanceof UserError) throw e;
  }
  const reaped = reapLeftovers(stateDir);
  if (reaped) opts.log?.(`killed ${reaped} leftover replica process(es) of a previous daemon for ${stateDir} that did not stop cleanly`);
  const watchdog = startWatchdog(stateDir, opts.log);
  const runtime = new LocalRuntime({ ...opts, stateDir });
  const onExit = () => runtime.killAll();
  process.on('exit', onExit);
  // Last resort: an error nobody caught is logged and counted (tide_uncaught_errors_total), and the
  // daemon keeps supervising its replicas. Every such log line is a bug to fix at its cause.
  const onUncaught = (kind: 'exception' | 'rejection') => (e: unknown) => {
    runtime.metrics.uncaught.inc({ kind });
    const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
    (opts.log ?? console.error)(`BUG: uncaught ${kind} (the daemon keeps running): ${text}`);
  };
  const onException = onUncaught('exception');
  const onRejection = onUncaught('rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  const offSafetyNet = () => { process.off('uncaughtException', onException); process.off('unhandledRejection', onRejection); };
  try {
    await runtime.start();
  } catch (e) {
    await runtime.stop().catch(() => {});
    process.off('exit', onExit);
    offSafetyNet();
    await stopWatchdog(watchdog);
    throw e;
  }
  let api: Server | undefined;
  const auth = new ApiAuth();
  try {
    api = (await startApi(runtime, opts.apiPort ?? 0, auth)).server;
    auth.writeToken(stateDir);
  } catch (e) {
    api?.close();
    await runtime.stop();
    process.off('exit', onExit);
    offSafetyNet();
    await stopWatchdog(watchdog);
    throw e;
  }
  const port = (api.address() as { port: number }).port;
  const info: DaemonInfo = { pid: process.pid, host: HOST, port, url: `http://${HOST}:${port}`, startedAt: runtime.startedAt, stateDir, files: opts.files, tokenFile: join(stateDir, TOKEN_FILE) };
  const infoPath = join(stateDir, 'daemon.json');
  writePrivateFile(infoPath, JSON.stringify(info, null, 2) + '\n');
  let stopping: Promise<void> | undefined;
  return {
    runtime,
    api,
    auth,
    info,
    dashboardLink: () => `${info.url}/dashboard/login?code=${auth.loginCode().code}`,
    stop() {
      stopping ??= (async () => {
        api.closeAllConnections();
        await new Promise<void>((r) => api.close(() => r()));
        await runtime.stop();
        try {
          const cur = JSON.parse(readFileSync(infoPath, 'utf8')) as DaemonInfo;
          if (cur.pid === process.pid && cur.port === port) { rmSync(infoPath, { force: true }); rmSync(info.tokenFile, { force: true }); }
        } catch { /* already gone */ }
        process.off('exit', onExit);
        offSafetyNet();
        await stopWatchdog(watchdog);
      })();
      return stopping;
    },
  };
}

/**
 * The watchdog (reaper.ts): kills this state folder's replicas when the daemon dies without cleaning
 * up. Its stdin is the daemon's end of a pipe; nothing else holds it (Node opens it close-on-exec).
 */
function startWatchdog(stateDir: string, log?: (m: string) => void): ChildProcess | undefined {
  try {
    const script = fileURLToPath(new URL('./reaper.ts', import.meta.url));
    const env = { ...process.env };
    delete env.TIDE_REPLICA_OF;
    const child = spawn(process.execPath, [script, stateDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
    child.on('error', (e) => log?.(`warning: replica watchdog not started (${e.message}): replicas outlive a crashed daemon until the next \`tide up\``));
    child.stdin?.on('error', () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch (e) {
    log?.(`warning: replica watchdog not started (${(e as Error).message})`);
    return undefined;
  }
}

async function stopWatchdog(w: ChildProcess | undefined): Promise<void> {
  if (!w || w.exitCode !== null || w.signalCode !== null) return;
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  w.stdin?.end();
  const t = setTimeout(() => { try { w.kill('SIGKILL'); } catch { /* gone */ } }, 3000);
  await exited;
  clearTimeout(t);
}
