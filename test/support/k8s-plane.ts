// A private Kubernetes control plane per test file: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok (fake nodes/kubelet) and optionally metrics-server, started by
// test/k8s/plane/start.sh on free 127.0.0.1 ports (a random port base, retried when taken, so several
// planes run side by side), stopped by process group at the end (and on process exit).
//
// Binaries come from test/k8s/plane/build.sh (cached under $K8S_TESTBED_HOME, default
// ~/.cache/tide-k8s-testbed). Missing binaries: a loud SKIP locally (startPlane returns null), an
// error under CI=true (there .ci/run builds them first, so the tests must run).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PLANE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../k8s/plane');

export function testbedHome(): string {
  return process.env.K8S_TESTBED_HOME || join(homedir(), '.cache/tide-k8s-testbed');
}

export interface PlaneOptions {
  /** Start metrics-server (serves metrics.k8s.io from kwok's simulated usage). */
  metrics?: boolean;
  /**
   * Start the custom/external metrics adapter (sigs.k8s.io/custom-metrics-apiserver's test provider,
   * test/k8s/plane/custom-metrics-adapter/): custom.metrics.k8s.io + external.metrics.k8s.io on the
   * aggregator; Plane.writeMetric sets a value.
   */
  customMetrics?: boolean;
  /** Keep kube-controller-manager's own HPA controller on (shadow-mode tests). Default off. */
  upstreamHpa?: boolean;
  /** --horizontal-pod-autoscaler-sync-period of the upstream controller, e.g. '5s'. */
  hpaSync?: string;
  /** --horizontal-pod-autoscaler-cpu-initialization-period / initial-readiness-delay. */
  hpaCpuInit?: string;
  hpaReadyDelay?: string;
  /** metrics-server --metric-resolution (>= 10s), default 15s. */
  metricResolution?: string;
  /** Install kwok's ClusterResourceUsage/ResourceUsage CRDs: usage set by API objects per namespace. */
  kwokCrds?: boolean;
  nodes?: number;
  apiserverArgs?: string;
  kcmArgs?: string;
}

export interface Plane {
  state: string;
  kubeconfig: string;
  api: string;
  ca: string;
  token: string;
  bin: string;
  /** Environment for child processes: KUBECONFIG and PATH with the plane's kubectl. */
  env: NodeJS.ProcessEnv;
  /** Run the plane's real kubectl; resolves with stdout, rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** `kubectl apply -f -` of a YAML text. */
  apply(yaml: string, namespace?: string): Promise<string>;
  /** Stop one component (SIGTERM to its process group, SIGKILL after 10 s); startComponent brings it back. */
  stopComponent(name: PlaneComponent): Promise<void>;
  /** Start a component stopped by stopComponent, with the same command line or `edit(argv)`'s. */
  startComponent(name: PlaneComponent, edit?: (argv: string[]) => string[]): Promise<void>;
  /** The pid of a running component. */
  pid(name: PlaneComponent): number;
  /**
   * With customMetrics: set a custom metric of an object through the adapter's write endpoint, e.g.
   * writeMetric('ns', 'pods', 'web-abc', 'requests_per_second', '300m').
   */
  writeMetric(namespace: string, resource: string, name: string, metric: string, quantity: string): Promise<void>;
  /** Last lines of a component's log. */
  log(name: PlaneComponent, lines?: number): string;
  stop(): Promise<void>;
}

export type PlaneComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'metrics-server' | 'custom-metrics-adapter';

const REQUIRED = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok'];
/** Offsets start.sh adds to the port base. */
const PORT_OFFSETS = [247, 257, 259, 379, 380, 443, 444, 445, 446];

/** Why no plane can start here (missing binaries), or null when one can. */
export function planeMissing(opts: PlaneOptions = {}): string | null {
  const bin = join(testbedHome(), 'bin');
  const need = [...REQUIRED, ...(opts.metrics ? ['metrics-server'] : []), ...(opts.customMetrics ? ['custom-metrics-adapter'] : [])];
  const missing = need.filter((b) => !existsSync(join(bin, b)));
  if (opts.kwokCrds && !existsSync(join(testbedHome(), 'kwok-config/crd-clusterresourceusages.yaml'))) missing.push('kwok-config/crd-clusterresourceusages.yaml');
  return missing.length ? `missing ${missing.map((m) => join(bin, m)).join(', ')}` : null;
}

/** For node:test's `skip` option: a reason string when the plane cannot run here (never under CI). */
export function planeSkip(opts: PlaneOptions = {}): string | false {
  const why = planeMissing(opts);
  if (!why) return false;
  if (process.env.CI === 'true' || process.env.CI === '1') return false; // startPlane throws: CI must build the plane
  process.stderr.write(`\n${'!'.repeat(78)}\n!! SKIP: Kubernetes tests need the test plane: ${why}\n!! Run: ${opts.metrics ? 'WITH_METRICS_SERVER=1 ' : ''}bash test/k8s/plane/build.sh   (npm run test:all and .ci/run do it)\n${'!'.repeat(78)}\n`);
  return `test plane not built (${why})`;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function pickBase(): Promise<number> {
  // Below Linux's ephemeral range (32768+), so the planes do not race other tests' port-0 sockets.
  for (let i = 0; i < 50; i++) {
    const base = 10000 + 1000 * Math.floor(Math.random() * 22);
    const free = await Promise.all(PORT_OFFSETS.map((o) => portFree(base + o)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free port base for a test plane');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const c = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('error', (e) => { clearTimeout(t); rej(e); });
    c.on('close', (code) => { clearTimeout(t); res({ code: code ?? 1, stdout, stderr }); });
    c.stdin.end(input ?? '');
  });
}

const running = new Set<string>();
function killState(state: string, signal: NodeJS.Signals): void {
  const dir = join(state, 'pids');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
    if (pid > 1) { try { process.kill(-pid, signal); } catch { /* gone */ } }
  }
}
process.once('exit', () => { for (const s of running) killState(s, 'SIGKILL'); });

/** Start a private plane; null (after a SKIP line) when the binaries are missing outside CI. */
export async function startPlane(opts: PlaneOptions = {}): Promise<Plane | null> {
  const why = planeMissing(opts);
  if (why) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: the Kubernetes test plane is not built (${why}); .ci/run builds it with test/k8s/plane/build.sh`);
    planeSkip(opts);
    return null;
  }
  const home = testbedHome();
  const bin = join(home, 'bin');
  let lastErr = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const base = await pickBase();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      K8S_TESTBED_HOME: home,
      K8S_TESTBED_PORT_BASE: String(base),
      K8S_TESTBED_NODES: String(opts.nodes ?? 1),
      K8S_TESTBED_METRICS: opts.metrics ? '1' : '0',
      K8S_TESTBED_CUSTOM_METRICS: opts.customMetrics ? '1' : '0',
      K8S_TESTBED_HPA: opts.upstreamHpa ? '1' : '0',
      K8S_TESTBED_KWOK_CRDS: opts.kwokCrds ? '1' : '0',
      K8S_TESTBED_TIMEOUT: '180',
      ...(opts.hpaSync ? { K8S_TESTBED_HPA_SYNC: opts.hpaSync } : {}),
      ...(opts.hpaCpuInit ? { K8S_TESTBED_HPA_CPU_INIT: opts.hpaCpuInit } : {}),
      ...(opts.hpaReadyDelay ? { K8S_TESTBED_HPA_READY_DELAY: opts.hpaReadyDelay } : {}),
      ...(opts.metricResolution ? { K8S_TESTBED_MS_RESOLUTION: opts.metricResolution } : {}),
      ...(opts.apiserverArgs ? { K8S_TESTBED_APISERVER_ARGS: opts.apiserverArgs } : {}),
      ...(opts.kcmArgs ? { K8S_TESTBED_KCM_ARGS: opts.kcmArgs } : {}),
    };
    delete env.K8S_TESTBED_STATE; // always a fresh temp state dir
    const r = await run('bash', [join(PLANE_DIR, 'start.sh')], env, undefined, 300_000);
    if (r.code !== 0) {
      lastErr = r.stderr.slice(-3000);
      if (/port .* is in use/.test(r.stderr)) continue;
      throw new Error(`test plane did not start:\n${lastErr}`);
    }
    const state = r.stdout.trim().split('\n').pop()!;
    running.add(state);
    const vars: Record<string, string> = {};
    for (const line of readFileSync(join(state, 'env'), 'utf8').split('\n')) {
      const m = /^export (\w+)=(.*)$/.exec(line);
      if (m) vars[m[1]] = m[2];
    }
    const kubeconfig = vars.KUBECONFIG;
    const childEnv: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const argvOf = new Map<string, string[]>();
    const pidFile = (n: string) => join(state, 'pids', `${n}.pid`);
    const kubectl = async (args: string[], input?: string) => {
      const res = await run(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], childEnv, input, 120_000);
      if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr.trim()}`);
      return res.stdout;
    };
    const plane: Plane = {
      state,
      kubeconfig,
      api: vars.K8S_TESTBED_API,
      ca: vars.K8S_TESTBED_CA,
      token: vars.K8S_TESTBED_TOKEN,
      bin,
      env: childEnv,
      kubectl,
      apply: (yaml, ns) => kubectl([...(ns ? ['-n', ns] : []), 'apply', '-f', '-'], yaml),
      async stopComponent(name) {
        const pid = Number(readFileSync(pidFile(name), 'utf8').trim());
        argvOf.set(name, readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== ''));
        try { process.kill(-pid, 'SIGTERM'); } catch { return; }
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          try { process.kill(pid, 0); } catch { return; }
          await new Promise((r2) => setTimeout(r2, 100));
        }
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
        while (true) {
          try { process.kill(pid, 0); } catch { return; }
          await new Promise((r2) => setTimeout(r2, 50));
        }
      },
      async startComponent(name, edit) {
        const saved = argvOf.get(name);
        if (!saved) throw new Error(`${name} was not stopped through stopComponent`);
        const argv = edit ? edit([...saved]) : saved;
        const r2 = spawnSync('bash', ['-c', `setsid "$@" >> "${join(state, 'logs', `${name}.log`)}" 2>&1 < /dev/null & echo $!`, 'start', ...argv], { encoding: 'utf8' });
        const pid = r2.stdout.trim();
        writeFileSync(pidFile(name), `${pid}\n`);
      },
      pid(name) { return Number(readFileSync(pidFile(name), 'utf8').trim()); },
      async writeMetric(namespace, resource, name, metric, quantity) {
        const base = vars.K8S_TESTBED_CMA_WRITE;
        if (!base) throw new Error('the plane was started without customMetrics');
        const r = await fetch(`${base}/write-metrics/namespaces/${encodeURIComponent(namespace)}/${encodeURIComponent(resource)}/${encodeURIComponent(name)}/${encodeURIComponent(metric)}`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(quantity), signal: AbortSignal.timeout(10_000),
        });
        if (!r.ok) throw new Error(`write-metrics ${namespace}/${resource}/${name}/${metric}: HTTP ${r.status} ${await r.text()}`);
      },
      log(name, lines = 40) {
        try { return readFileSync(join(state, 'logs', `${name}.log`), 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
      },
      async stop() {
        if (!running.has(state)) return;
        running.delete(state);
        const res = await run('bash', [join(PLANE_DIR, 'stop.sh'), state], { ...process.env, K8S_TESTBED_HOME: home }, undefined, 120_000);
        if (res.code !== 0) killState(state, 'SIGKILL');
      },
    };
    return plane;
  }
  throw new Error(`test plane did not start (ports kept being taken):\n${lastErr}`);
}

/** Poll `fn` until it returns a truthy value; rejects with `what` (and the last error) after timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ''}`);
}
