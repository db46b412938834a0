// Helpers for the end-to-end tests on the real example services (examples/*): run the real CLI
// (`tide up <example manifest> --state-dir <tmp>`, `tide load … --json`, `tide get/describe/decide`)
// as child processes on loopback with ephemeral ports, and make sure nothing survives a test: each
// child gets its own process group, killed at the end, and every process started for the test carries
// an environment marker that is checked (and killed by pid) afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidsWithEnv, ROOT, runCli, sleep, TIDE } from '../runtime/helpers.ts';

export { ROOT, sleep };

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try { process.kill(-p.pid, signal); } catch { /* already gone */ }
}

export interface Example {
  stateDir: string;
  output(): string;
  api<T = any>(path: string): Promise<T>;
  /** the real CLI against this daemon (`--state-dir` appended unless `stateDir: false`) */
  cli(args: string[], opts?: { timeoutMs?: number; stateDir?: boolean }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T>;
  load(args: string[]): LoadRun;
  decisions(): any[];
  stop(): Promise<void>;
}

export interface LoadRun {
  startedAt: number;
  done: Promise<{ code: number | null; report: any; stderr: string; endedAt: number }>;
  kill(): void;
}

/** `tide up <manifest> --state-dir <tmp> --ephemeral-ports …` as a child process; resolves once the control API is up. */
export async function upExample(manifest: string, flags: string[] = []): Promise<Example> {
  const tmp = mkdtempSync(join(tmpdir(), 'tide-example-e2e-'));
  const stateDir = join(tmp, 'state');
  const marker = `TIDE_E2E_MARKER=${tmp}`;
  const env = { ...process.env, TIDE_E2E_MARKER: tmp };
  const children: ChildProcess[] = [];
  const proc = spawn(process.execPath, [TIDE, 'up', join(ROOT, manifest), '--state-dir', stateDir, '--ephemeral-ports', ...flags],
    { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  let exited = false;
  proc.on('exit', () => { exited = true; });

  const stop = async (): Promise<void> => {
    for (const c of children) if (c !== proc && c.exitCode === null && c.signalCode === null) killGroup(c, 'SIGKILL');
    if (!exited) {
      proc.kill('SIGINT'); // graceful: tide drains and stops its replicas
      const end = Date.now() + 20_000;
      while (!exited && Date.now() < end) await sleep(50);
      if (!exited) killGroup(proc, 'SIGKILL');
    }
    killGroup(proc, 'SIGKILL'); // anything left in tide's own process group
    let left = pidsWithEnv(marker);
    for (let i = 0; left.length && i < 40; i++) { await sleep(50); left = pidsWithEnv(marker); }
    for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    rmSync(tmp, { recursive: true, force: true });
    if (left.length) throw new Error(`orphan processes were left behind (killed now): ${left.join(', ')}\n--- tide up output ---\n${out}`);
  };

  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(stateDir, 'daemon.json'))) {
      if (exited) throw new Error(`tide up exited:\n${out}`);
      if (Date.now() > deadline) throw new Error(`tide up did not start in 30 s:\n${out}`);
      await sleep(100);
    }
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  const port = (JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as { port: number }).port;

  const ex: Example = {
    stateDir,
    output: () => out,
    async api(path) {
      const token = readFileSync(join(stateDir, 'api-token'), 'utf8').trim();
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`control API ${path}: ${res.status} ${await res.text()}`);
      return res.json() as never;
    },
    cli: (args, opts = {}) => runCli(opts.stateDir === false ? args : [...args, '--state-dir', stateDir], ROOT, opts.timeoutMs ?? 30_000),
    async waitFor(what, fn, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn().catch(() => undefined);
        if (v !== undefined && v !== false) return v as never;
        if (exited) throw new Error(`tide up exited while waiting for ${what}\n--- tide up output ---\n${out}`);
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- tide up output ---\n${out}`);
        await sleep(200);
      }
    },
    load(args) {
      const p = spawn(process.execPath, [TIDE, 'load', '--json', '-q', ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(p);
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (d) => { stdout += d; });
      p.stderr!.on('data', (d) => { stderr += d; });
      const startedAt = Date.now();
      const done = new Promise<{ code: number | null; report: any; stderr: string; endedAt: number }>((resolve) => {
        p.on('close', (code) => {
          let report: any = null;
          try { report = JSON.parse(stdout); } catch { /* reported by the caller */ }
          resolve({ code, report, stderr: stderr || stdout, endedAt: Date.now() });
        });
      });
      return { startedAt, done, kill: () => killGroup(p, 'SIGKILL') };
    },
    decisions() {
      const f = join(stateDir, 'decisions.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    stop,
  };
  return ex;
}

export interface Deployment { name: string; replicas: number; ready: number; terminating: number }

export async function deployment(ex: Example, name: string): Promise<Deployment | undefined> {
  const list = await ex.api<Deployment[]>('/v1/deployments');
  return list.find((d) => d.name === name);
}

export async function serviceUrl(ex: Example, name: string): Promise<string> {
  return ex.waitFor(`a URL for service ${name}`, async () => {
    const list = await ex.api<{ name: string; url: string | null }[]>('/v1/services');
    return list.find((s) => s.name === name)?.url ?? undefined;
  }, 20_000);
}

/** `tide get hpa NAME -o json` through the real CLI: the autoscaling/v2 HorizontalPodAutoscaler with its status. */
export async function getHpa(ex: Example, name: string): Promise<any> {
  const r = await ex.cli(['get', 'hpa', name, '-o', 'json']);
  if (r.code !== 0) throw new Error(`tide get hpa failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export const REQUEST_BODY = join(ROOT, 'examples/mlp-server/request.json');
