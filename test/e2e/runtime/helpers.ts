// Helpers for the local-runtime e2e tests: write a manifest around test/fixtures/tiny-server.mjs,
// run the real `tide up` CLI as a child process on loopback with ephemeral ports, talk to its
// control API, and make sure no process survives the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;
export const FIXTURE = join(ROOT, 'test/fixtures/tiny-server.mjs');
export const TIDE = join(ROOT, 'bin/tide.js');

export interface DeploymentOpts {
  name?: string;
  replicas?: number;
  env?: Record<string, string>;
  command?: string[];
  cpuRequest?: string | null;
  readiness?: boolean;
  grace?: number;
  extraContainerYaml?: string;
}

export function deploymentYaml(o: DeploymentOpts = {}): string {
  const name = o.name ?? 'tiny';
  const cmd = o.command ?? [process.execPath, FIXTURE];
  const env = Object.entries(o.env ?? {}).map(([k, v]) => `        - {name: ${k}, value: ${JSON.stringify(v)}}`).join('\n');
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${o.replicas ?? 1}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
      annotations: {tide.dev/probe-period: "100ms"}
    spec:
      terminationGracePeriodSeconds: ${o.grace ?? 5}
      containers:
      - name: app
        image: example/ignored:latest
        command: ${JSON.stringify(cmd)}
        ports: [{containerPort: 8080, name: http}]
${env ? `        env:\n${env}\n` : ''}${o.cpuRequest === null ? '' : `        resources: {requests: {cpu: ${o.cpuRequest ?? '100m'}}}\n`}${o.readiness === false ? '' : '        readinessProbe: {httpGet: {path: /health, port: http}, failureThreshold: 1}\n'}${o.extraContainerYaml ?? ''}`;
}

export function serviceYaml(name = 'tiny', port = 8080): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [{port: ${port}, targetPort: http}]
`;
}

export function hpaYaml(o: { name?: string; min?: number; max?: number; cpu?: number; downWindow?: number } = {}): string {
  const name = o.name ?? 'tiny';
  return `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ${name}}
  minReplicas: ${o.min ?? 1}
  maxReplicas: ${o.max ?? 3}
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: ${o.cpu ?? 50}}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: ${o.downWindow ?? 3}}
`;
}

export interface Up {
  dir: string;
  stateDir: string;
  proc: ChildProcess;
  output(): string;
  /** The control API's bearer token (<stateDir>/api-token). */
  token(): string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  serviceUrl(name?: string): Promise<string>;
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function httpGet(url: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent, timeout: timeoutMs, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    req.on('timeout', () => { req.destroy(new Error('client timeout')); });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.end();
  });
}

export function runCli(args: string[], cwd: string, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [TIDE, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}

/** Pids of live processes whose environment holds `entry` (to prove nothing was orphaned). */
export function pidsWithEnv(entry: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${e}/stat`, 'utf8'))) continue;
      if (readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(entry)) out.push(Number(e));
    } catch { /* gone or not ours */ }
  }
  return out;
}

export async function sleep(ms: number): Promise<void> { await new Promise((r) => setTimeout(r, ms)); }

export async function tideUp(manifest: string, flags: string[] = [], opts: { waitReady?: boolean; nofile?: number; dir?: string } = {}): Promise<Up> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tide-e2e-'));
  const stateDir = join(dir, '.tide');
  writeFileSync(join(dir, 'app.yaml'), manifest);
  const argv = [TIDE, 'up', 'app.yaml', '--ephemeral-ports', '--sync-period', '1s', '--metric-resolution', '500ms', ...flags];
  const env = { ...process.env, TIDE_E2E_MARKER: dir };
  // nofile: run the daemon under `ulimit -n` (the shell execs node, so the pid is the daemon's)
  const proc = opts.nofile
    ? spawn('/bin/sh', ['-c', `ulimit -n ${opts.nofile} && exec "$0" "$@"`, process.execPath, ...argv], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env })
    : spawn(process.execPath, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  let exited = false;
  proc.on('exit', () => { exited = true; });
  const deadline = Date.now() + 15_000;
  // (a daemon.json left by a daemon killed earlier in the same folder does not count)
  const ours = () => { try { return JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')).pid === proc.pid; } catch { return false; } };
  while (!ours()) {
    if (exited) break;
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error(`tide up did not start:\n${out}`); }
    await sleep(50);
  }
  const info = () => JSON.parse(readFileSync(join(stateDir, 'daemon.json'), 'utf8')) as { port: number };
  const up: Up = {
    dir, stateDir, proc,
    output: () => out,
    token: () => readFileSync(join(stateDir, 'api-token'), 'utf8').trim(),
    async api(method, path, body) {
      const port = info().port;
      const token = up.token();
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (data) headers['content-type'] = 'application/json';
        const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
          let text = '';
          res.on('data', (c) => { text += c; });
          res.on('end', () => { try { resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }); } catch { resolve({ status: res.statusCode ?? 0, json: text as any }); } });
        });
        req.on('error', reject);
        if (data) req.write(data);
        req.end();
      });
    },
    cli: (args) => runCli(args, dir),
    async serviceUrl(name = 'tiny') {
      const { json } = await up.api<{ name: string; url: string }[]>('GET', '/v1/services');
      const s = json.find((x) => x.name === name);
      if (!s?.url) throw new Error(`service ${name} has no url: ${JSON.stringify(json)}`);
      return s.url;
    },
    async waitFor(what, fn, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v !== undefined && v !== false) return v as never;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- tide up output ---\n${out}`);
        await sleep(100);
      }
    },
    async stop() {
      if (!exited) {
        proc.kill('SIGINT');
        const t = Date.now() + 15_000;
        while (!exited && Date.now() < t) await sleep(50);
        if (!exited) proc.kill('SIGKILL');
      }
      // nothing started by this daemon may survive it
      // (the daemon's watchdog and replicas may take a moment to be reaped after the daemon exits)
      let left = pidsWithEnv(`TIDE_E2E_MARKER=${dir}`);
      for (let i = 0; left.length && i < 40; i++) { await sleep(50); left = pidsWithEnv(`TIDE_E2E_MARKER=${dir}`); }
      rmSync(dir, { recursive: true, force: true });
      if (left.length) throw new Error(`orphan processes left: ${left.join(', ')}`);
    },
  };
  if (exited) return up;
  if (opts.waitReady !== false) {
    await up.waitFor('a ready replica', async () => {
      const { json } = await up.api<{ ready: boolean }[]>('GET', '/v1/pods');
      return Array.isArray(json) && json.some((p) => p.ready);
    });
  }
  return up;
}
