// Helpers for the end-to-end tests on the private test plane: run `tide controller` as a child
// process (its own process group), read its /api/hpas, drive kwok usage per namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plane } from '../support/k8s-plane.ts';
import { until } from '../support/k8s-plane.ts';
import { installTide, type TideCredentials } from '../support/k8s-rbac.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SEED = join(ROOT, 'examples/manifests/seed');

export interface RunningController {
  url: string;
  proc: ChildProcess;
  decisions: string;
  output(): string;
  api(): Promise<{ rounds: number; ready: boolean; leader?: { identity: string; leading: boolean; leader: string } | null; hpas: any[]; requests: Record<string, number>; informers: any }>;
  hpa(ns: string, name: string): Promise<any | undefined>;
  metrics(): Promise<string>;
  stop(): Promise<number | null>;
}

const credentials = new Map<string, Promise<TideCredentials>>();
/** deploy/kubernetes/ applied once per plane, and the tide-controller ServiceAccount's token-only kubeconfig. */
export function controllerCredentials(plane: Plane): Promise<TideCredentials> {
  let c = credentials.get(plane.state);
  if (!c) { c = installTide(plane); credentials.set(plane.state, c); }
  return c;
}

/**
 * `tide controller` as a child process. It runs with ONLY the tide-controller ServiceAccount token
 * of deploy/kubernetes (so every e2e test also proves the RBAC is sufficient), unless `kubeconfig`
 * says otherwise.
 */
export async function startController(plane: Plane, args: string[], opts: { kubeconfig?: string; /** false: return at once (a controller that cannot sync never says "listening") */ waitListening?: boolean } = {}): Promise<RunningController> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-ctl-'));
  const decisions = join(dir, 'decisions.jsonl');
  const kubeconfig = opts.kubeconfig ?? (await controllerCredentials(plane)).kubeconfig;
  const proc = spawn(process.execPath, [join(ROOT, 'bin/tide.js'), 'controller', '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--decisions', decisions, '--log-format', 'text', ...args], {
    cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = opts.waitListening === false ? '' : await until('controller listening', () => {
    if (proc.exitCode !== null) throw new Error(`controller exited ${proc.exitCode}:\n${out}`);
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
    return m ? m[1] : undefined;
  }, 90_000, 100);
  const get = async (path: string) => {
    const r = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
    return r;
  };
  const c: RunningController = {
    url,
    proc,
    decisions,
    output: () => out,
    api: async () => (await (await get('/api/hpas')).json()) as any,
    hpa: async (ns, name) => (await c.api()).hpas.find((h: any) => h.namespace === ns && h.name === name),
    metrics: async () => (await get('/metrics')).text(),
    stop: async () => {
      if (proc.exitCode === null) { try { process.kill(-proc.pid!, 'SIGTERM'); } catch { /* gone */ } }
      const t = setTimeout(() => { try { process.kill(-proc.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  return c;
}

export async function getJson(plane: Plane, args: string[]): Promise<any> {
  return JSON.parse(await plane.kubectl([...args, '-o', 'json']));
}

/** One kwok ClusterResourceUsage per namespace: every pod of `ns` uses `cpu` (e.g. "80m"). */
export async function setUsage(plane: Plane, ns: string, cpu: string, memory = '32Mi'): Promise<void> {
  await plane.apply(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterResourceUsage
metadata: {name: load-${ns}}
spec:
  selector: {matchNamespaces: [${ns}]}
  usages:
  - usage:
      cpu: {value: "${cpu}"}
      memory: {value: "${memory}"}
`);
}

/** Pod metrics (millicores) of a namespace from metrics.k8s.io, by pod name. */
export async function podCpu(plane: Plane, ns: string, selector: string): Promise<Map<string, number>> {
  const raw = JSON.parse(await plane.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`]));
  const out = new Map<string, number>();
  for (const it of raw.items ?? []) {
    let m = 0;
    for (const c of it.containers ?? []) {
      const q = String(c.usage?.cpu ?? '0');
      m += q.endsWith('n') ? Number(q.slice(0, -1)) / 1e6 : q.endsWith('u') ? Number(q.slice(0, -1)) / 1e3 : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
    }
    out.set(it.metadata.name, m);
  }
  return out;
}

export async function specReplicas(plane: Plane, ns: string, deploy: string): Promise<number> {
  return (await getJson(plane, ['-n', ns, 'get', 'deployment', deploy])).spec.replicas;
}

export async function readyPods(plane: Plane, ns: string, selector: string): Promise<number> {
  const pods = await getJson(plane, ['-n', ns, 'get', 'pods', '-l', selector]);
  return pods.items.filter((p: any) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
}

export async function events(plane: Plane, ns: string, name: string): Promise<{ reason: string; message: string; type: string; source?: { component?: string }; count?: number }[]> {
  const ev = await getJson(plane, ['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${name},involvedObject.kind=HorizontalPodAutoscaler`]);
  return ev.items;
}

export function decisionsOf(file: string): any[] {
  try { return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)); } catch { return []; }
}

export function seed(file: string): string {
  return readFileSync(join(SEED, file), 'utf8');
}

export { until };
