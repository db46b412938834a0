// What the local runtime needs from a Deployment and a Service, read from the manifest objects
// (plain objects as YAML gives them, validated by src/spec). Only the fields that matter locally.
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { ProbeSpec } from './probes.ts';
import type { NormalizedDeployment, NormalizedProbe, NormalizedService } from '../../manifests/types.ts';

export interface ContainerPort { name?: string; containerPort: number }

export interface LocalContainer {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** Env vars that could not be resolved locally (valueFrom secrets etc.): name → reason. */
  unresolvedEnv: Record<string, string>;
  ports: ContainerPort[];
  workingDir: string;
  /** resources.requests in milli-units (cpu millicores, memory millibytes). */
  requests: Record<string, number>;
  readinessProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
}

export interface LocalDeployment {
  name: string;
  replicas: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  container: LocalContainer;
  /** Containers beyond the first (not run locally; reported). */
  ignoredContainers: string[];
  terminationGracePeriodSeconds: number;
  /** containerConcurrency from the annotation / KServe field, 0 = unlimited. */
  containerConcurrency: number;
  /** Short hash of the pod template, as pod-template-hash. */
  templateHash: string;
  source?: { file?: string; line?: number };
}

export interface LocalService {
  name: string;
  port: number;
  targetPort?: number | string;
  selector: Record<string, string>;
  source?: { file?: string; line?: number };
}

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

/** Kubernetes quantity → milli-units (rounded up, as MilliValue()). */
export function quantityToMilli(q: string | number): number {
  if (typeof q === 'number') return Math.ceil(q * 1000);
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?\d+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(String(q).trim());
  if (!m) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  const base = Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1) * SUFFIX[m[3] ?? ''];
  return Math.ceil(Math.round(base * 1000 * 1e6) / 1e6);
}

type Obj = Record<string, any>;
const asArr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries((v as Obj) ?? {})) out[k] = String(x);
  return out;
};

export function containerFromObject(c: Obj, baseDir: string): LocalContainer {
  const command = [...asArr(c.command), ...asArr(c.args)].map(String);
  const env: Record<string, string> = {};
  const unresolvedEnv: Record<string, string> = {};
  for (const e of asArr(c.env)) {
    if (!e?.name) continue;
    if (e.value !== undefined) env[e.name] = expandEnv(String(e.value), env);
    else if (e.valueFrom) {
      const fromHost = process.env[e.name];
      if (fromHost !== undefined) env[e.name] = fromHost;
      else unresolvedEnv[e.name] = `valueFrom ${Object.keys(e.valueFrom).join(',')} is not available locally; set ${e.name} in Tide's environment`;
    } else env[e.name] = '';
  }
  const requests: Record<string, number> = {};
  for (const [k, v] of Object.entries(c.resources?.requests ?? {})) requests[k] = quantityToMilli(v as string);
  return {
    name: String(c.name ?? 'app'),
    command,
    env,
    unresolvedEnv,
    ports: asArr(c.ports).map((p) => ({ name: p.name, containerPort: Number(p.containerPort) })),
    workingDir: c.workingDir ? resolve(baseDir, String(c.workingDir)) : baseDir,
    requests,
    readinessProbe: c.readinessProbe,
    livenessProbe: c.livenessProbe,
    startupProbe: c.startupProbe,
  };
}

/** $(VAR) expansion of earlier env entries, as Kubernetes does. */
function expandEnv(v: string, env: Record<string, string>): string {
  return v.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) => (m === '$$' ? '$' : name && name in env ? env[name] : m));
}

export function deploymentFromObject(obj: Obj, file?: string, line?: number): LocalDeployment {
  const name = String(obj.metadata?.name);
  const tpl = obj.spec?.template ?? {};
  const containers = asArr(tpl.spec?.containers);
  if (!containers.length) throw new Error(`Deployment ${name}: spec.template.spec.containers is empty`);
  const baseDir = file ? dirname(resolve(file)) : process.cwd();
  const container = containerFromObject(containers[0], baseDir);
  if (!container.command.length) {
    throw new Error(`Deployment ${name}: container ${container.name} has no command/args; locally the image is ignored, so set command (and args) to what the image would run`);
  }
  const annotations = { ...strMap(obj.metadata?.annotations), ...strMap(tpl.metadata?.annotations) };
  const ccAnn = annotations['autoscaling.knative.dev/container-concurrency'] ?? annotations['tide.dev/container-concurrency'];
  const cc = tpl.spec?.containerConcurrency ?? (ccAnn !== undefined ? Number(ccAnn) : 0);
  const templateHash = createHash('sha256').update(JSON.stringify(tpl)).digest('hex').slice(0, 10)
    .replace(/[0-9a-f]/g, (ch) => 'bcdfghjklmnpqrstvwxz'[parseInt(ch, 16)]);
  return {
    name,
    replicas: obj.spec?.replicas ?? 1,
    labels: strMap(tpl.metadata?.labels),
    annotations,
    container,
    ignoredContainers: containers.slice(1).map((c) => String(c.name)),
    terminationGracePeriodSeconds: tpl.spec?.terminationGracePeriodSeconds ?? 30,
    containerConcurrency: Number(cc) || 0,
    templateHash,
    source: file ? { file, line } : undefined,
  };
}

export function serviceFromObject(obj: Obj, file?: string, line?: number): LocalService {
  const p = asArr(obj.spec?.ports)[0] ?? {};
  return {
    name: String(obj.metadata?.name),
    port: Number(p.port),
    targetPort: p.targetPort,
    selector: strMap(obj.spec?.selector),
    source: file ? { file, line } : undefined,
  };
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** Parse "15s", "500ms", "2m", "1h" or a bare number of seconds into ms. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const s = String(v).trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s) * 1000;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    consumed += m[0].length;
  }
  if (consumed !== s.length || !s) throw new Error(`invalid duration ${JSON.stringify(v)} (e.g. 15s, 500ms, 2m)`);
  return total;
}

// ---- adapters from src/spec's normalized kinds ----

function probeFromNormalized(p: NormalizedProbe | undefined): ProbeSpec | undefined {
  if (!p) return undefined;
  const t = { initialDelaySeconds: p.initialDelaySeconds, periodSeconds: p.periodSeconds, timeoutSeconds: p.timeoutSeconds, successThreshold: p.successThreshold, failureThreshold: p.failureThreshold };
  const h = p.handler;
  switch (h.type) {
    case 'httpGet': return { ...t, httpGet: { path: h.path, port: h.port, host: h.host, scheme: h.scheme, httpHeaders: h.headers } };
    case 'tcpSocket': return { ...t, tcpSocket: { port: h.port, host: h.host } };
    case 'exec': return { ...t, exec: { command: h.command } };
    case 'grpc': return { ...t, tcpSocket: { port: h.port } }; // no gRPC health client locally: a TCP connect stands in
  }
}

export function deploymentFromNormalized(d: NormalizedDeployment, file?: string, line?: number): LocalDeployment {
  const baseDir = file ? dirname(resolve(file)) : process.cwd();
  const c = d.containers[0];
  const command = [...(c.command ?? []), ...(c.args ?? [])];
  if (!command.length) throw new Error(`Deployment ${d.name}: container ${c.name} has no command/args; locally the image is ignored, so set command (and args) to what the image would run`);
  const env: Record<string, string> = {};
  const unresolvedEnv: Record<string, string> = {};
  for (const e of c.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.fieldPath === 'metadata.name') env[e.name] = '$(POD_NAME)';
    else if (e.fieldPath === 'status.podIP') env[e.name] = '127.0.0.1';
    else if (process.env[e.name] !== undefined) env[e.name] = process.env[e.name]!;
    else unresolvedEnv[e.name] = `${e.from ?? 'valueFrom'} is not available locally; set ${e.name} in Tide's environment`;
  }
  const annotations = { ...d.annotations, ...d.podAnnotations };
  const ccAnn = annotations['autoscaling.knative.dev/container-concurrency'] ?? annotations['tide.dev/container-concurrency'];
  const templateHash = createHash('sha256').update(JSON.stringify({ l: d.podLabels, a: d.podAnnotations, c: d.containers })).digest('hex').slice(0, 10)
    .replace(/[0-9a-f]/g, (ch) => 'bcdfghjklmnpqrstvwxz'[parseInt(ch, 16)]);
  return {
    name: d.name,
    replicas: d.replicas,
    labels: d.podLabels,
    annotations,
    container: {
      name: c.name,
      command,
      env,
      unresolvedEnv,
      ports: c.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
      workingDir: c.workingDir ? resolve(baseDir, c.workingDir) : baseDir,
      requests: c.requests,
      readinessProbe: probeFromNormalized(c.readinessProbe),
      livenessProbe: probeFromNormalized(c.livenessProbe),
      startupProbe: probeFromNormalized(c.startupProbe),
    },
    ignoredContainers: d.containers.slice(1).map((x) => x.name),
    terminationGracePeriodSeconds: d.terminationGracePeriodSeconds,
    containerConcurrency: ccAnn !== undefined ? Number(ccAnn) || 0 : 0,
    templateHash,
    source: file ? { file, line } : undefined,
  };
}

export function serviceFromNormalized(s: NormalizedService, file?: string, line?: number): LocalService {
  const p = s.ports[0];
  return { name: s.name, port: p.port, targetPort: p.targetPort, selector: s.selector, source: file ? { file, line } : undefined };
}
