// Connecting to a cluster the way every Kubernetes client does (in-cluster service account, else
// --kubeconfig / $KUBECONFIG / ~/.kube/config, with --context), the API groups Tide uses, and the
// small helpers around @kubernetes/client-node 2.x's error shapes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { UserError } from '../../core/errors.ts';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Use the pod's service account even when a kubeconfig is around. */
  inCluster?: boolean;
}

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Load a KubeConfig: explicit file, else in-cluster (when running in a pod), else $KUBECONFIG / ~/.kube/config. */
export function loadKubeConfig(opts: ConnectOptions = {}): { kc: k8s.KubeConfig; source: string } {
  const kc = new k8s.KubeConfig();
  let source: string;
  if (!opts.kubeconfig && (opts.inCluster || (process.env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN) && !process.env.KUBECONFIG))) {
    kc.loadFromCluster();
    source = 'in-cluster service account';
  } else {
    const file = opts.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.kube/config');
    if (!existsSync(file)) throw new UserError(`kubeconfig ${file} not found (use --kubeconfig, $KUBECONFIG, or run in a pod with a service account)`);
    try { kc.loadFromFile(file); } catch (e) { throw new UserError(`kubeconfig ${file}: ${(e as Error).message}`); }
    source = file;
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) throw new UserError(`context ${JSON.stringify(opts.context)} not found in ${source} (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new UserError(`no current cluster in ${source} (set current-context or pass --context)`);
  return { kc, source };
}

/** The User-Agent of every request Tide's controller makes (the apiserver's audit log and metrics tell it apart). */
export const TIDE_USER_AGENT = 'tide-controller/0.1.0';

const TUNED = Symbol('tide.tuned');
/** The TLS options (and their digest) applySecurityAuthentication chose for a request. */
const TLS = Symbol('tide.tls');
type TlsChoice = { key: string; opts: Record<string, unknown> };

/**
 * Make a KubeConfig fit for a controller, in place:
 * - one HTTP dispatcher (connection pool) per cluster + credentials instead of client-node 2.x's new
 *   undici Agent per request, which costs a TCP + TLS handshake (and a parse of the CA) on every
 *   API call and leaves each agent's idle socket open until its keep-alive timeout;
 * - `userAgent` on every request (API clients, watches), so the apiserver's audit log and
 *   per-client accounting show Tide and not `kubernetes-client-javascript` / `undici`.
 * Credentials are read again every `authCacheMs` (10 s; rotated service-account tokens keep working);
 * a change of CA or client certificate gets a new dispatcher.
 */
export function tuneKubeConfig(kc: k8s.KubeConfig, userAgent = TIDE_USER_AGENT, opts: { authCacheMs?: number } = {}): k8s.KubeConfig {
  const authCacheMs = opts.authCacheMs ?? 10_000;
  const t = kc as unknown as { [TUNED]?: boolean; createDispatcher: (cluster: unknown, opts: Record<string, unknown>) => unknown };
  if (t[TUNED]) return kc;
  t[TUNED] = true;
  const create = t.createDispatcher.bind(kc);
  const pool = new Map<string, unknown>();
  let last: TlsChoice | undefined;
  t.createDispatcher = (cluster, opts) => {
    const h = createHash('sha256');
    const c = cluster as { name?: string; server?: string; proxyUrl?: string } | null;
    h.update(JSON.stringify([c?.name, c?.server, c?.proxyUrl, opts.rejectUnauthorized, opts.servername, opts.passphrase]));
    for (const k of ['ca', 'cert', 'key', 'pfx']) { const v = opts[k]; h.update(`\0${k}\0`); if (v !== undefined) h.update(v as Buffer | string); }
    const key = h.digest('hex');
    last = { key, opts };
    if (!pool.has(key)) {
      if (pool.size >= 4) pool.delete(pool.keys().next().value!); // rotated credentials: the old pool idles out
      pool.set(key, create(cluster, opts));
    }
    return pool.get(key);
  };
  const apply = kc.applySecurityAuthentication.bind(kc);
  // what authentication sets on a request (headers, dispatcher, TLS), reused for authCacheMs: client-node
  // reads the CA and client certificate files again for every request
  let auth: { at: number; headers: Record<string, string>; dispatcher: unknown; tls: TlsChoice | undefined } | undefined;
  kc.applySecurityAuthentication = async (ctx: k8s.RequestContext) => {
    const now = Date.now();
    if (!auth || now - auth.at >= authCacheMs || now < auth.at) {
      const probe = new k8s.RequestContext(ctx.getUrl(), k8s.HttpMethod.GET);
      last = undefined;
      await apply(probe);
      auth = { at: now, headers: { ...probe.getHeaders() }, dispatcher: probe.getDispatcher(), tls: last };
    }
    for (const [k, v] of Object.entries(auth.headers)) ctx.setHeaderParam(k, v);
    if (auth.dispatcher !== undefined) ctx.setDispatcher(auth.dispatcher as Parameters<k8s.RequestContext['setDispatcher']>[0]);
    (ctx as unknown as { [TLS]?: TlsChoice })[TLS] = auth.tls;
    const set = ctx.setHeaderParam.bind(ctx);
    set('User-Agent', userAgent);
    // the API clients' middleware sets client-node's own User-Agent after authentication: keep ours
    ctx.setHeaderParam = (key: string, value: string) => { if (key.toLowerCase() !== 'user-agent') set(key, value); };
  };
  return kc;
}

/**
 * The generated API clients' transport over node:https with keep-alive HTTP/1.1 connections (one
 * agent per TLS identity), instead of undici's fetch: the fetch path (WHATWG streams, HTTP/2
 * framing, Request/Response objects) cost a few CPU-milliseconds per small request, the biggest
 * part of a sync round at 1,000 HPAs. Authentication is still applied per request by the
 * KubeConfig (tuneKubeConfig); watches keep client-node's own (long-lived) fetch.
 */
export class NodeHttpsLibrary {
  private readonly agents = new Map<string, HttpsAgent>();

  private agent(tls: TlsChoice | undefined): HttpsAgent | undefined {
    if (!tls) return undefined;
    let a = this.agents.get(tls.key);
    if (!a) {
      const o = tls.opts;
      a = new HttpsAgent({
        keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 32, maxFreeSockets: 32,
        ...(o.ca !== undefined ? { ca: o.ca as Buffer } : {}), ...(o.cert !== undefined ? { cert: o.cert as Buffer } : {}),
        ...(o.key !== undefined ? { key: o.key as Buffer } : {}), ...(o.pfx !== undefined ? { pfx: o.pfx as Buffer } : {}),
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase as string } : {}),
        ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized as boolean } : {}),
        ...(o.servername !== undefined ? { servername: o.servername as string } : {}),
      });
      if (this.agents.size >= 4) { const [k, old] = this.agents.entries().next().value!; this.agents.delete(k); old.destroy(); }
      this.agents.set(tls.key, a);
    }
    return a;
  }

  send(ctx: k8s.RequestContext): k8s.Observable<k8s.ResponseContext> {
    const p = new Promise<k8s.ResponseContext>((resolve, reject) => {
      const body = ctx.getBody() as unknown;
      if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) { reject(new Error('NodeHttpsLibrary: only string bodies are supported')); return; }
      const url = new URL(ctx.getUrl());
      const headers: Record<string, string> = { ...ctx.getHeaders() };
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body as string));
      const agent = this.agent((ctx as unknown as { [TLS]?: TlsChoice })[TLS]);
      const signal = ctx.getSignal() as AbortSignal | undefined;
      const req = httpsRequest(url, { method: ctx.getHttpMethod().toString(), headers, ...(agent ? { agent } : {}), ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve(new k8s.ResponseContext(res.statusCode ?? 0, h, {
            text: async () => buf.toString('utf8'),
            binary: async () => buf,
          } as unknown as ConstructorParameters<typeof k8s.ResponseContext>[2]));
        });
      });
      req.setTimeout(60_000, () => req.destroy(new Error('request timed out after 60 s')));
      req.on('error', reject);
      req.end(body as string | Buffer | undefined);
    });
    return new k8s.Observable(p);
  }
}

/** An API client of client-node on the node:https transport (kc tuned), or client-node's default through a proxy. */
export function makeClient<T>(kc: k8s.KubeConfig, Type: new (config: k8s.Configuration) => T, lib?: NodeHttpsLibrary): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return kc.makeApiClient(Type as unknown as Parameters<k8s.KubeConfig["makeApiClient"]>[0]) as unknown as T;
  tuneKubeConfig(kc);
  return new Type(k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi: lib ?? new NodeHttpsLibrary(),
  }));
}

/** KubernetesObjectApi's discovery (kind -> resource), made public. */
export class Discovery extends k8s.KubernetesObjectApi {
  async lookup(apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }
}

export interface Apis {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  autoscaling: k8s.AutoscalingV2Api;
  custom: k8s.CustomObjectsApi;
  apis: k8s.ApisApi;
  discovery: Discovery;
  /** Counts API requests by verb (for /metrics and the benchmark). */
  requests: Map<string, number>;
}

export function makeApis(kc: k8s.KubeConfig): Apis {
  tuneKubeConfig(kc);
  const lib = new NodeHttpsLibrary();
  return {
    kc,
    core: makeClient(kc, k8s.CoreV1Api, lib),
    autoscaling: makeClient(kc, k8s.AutoscalingV2Api, lib),
    custom: makeClient(kc, k8s.CustomObjectsApi, lib),
    apis: makeClient(kc, k8s.ApisApi, lib),
    discovery: makeClient(kc, Discovery, lib),
    requests: new Map(),
  };
}

export const MERGE_PATCH = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** HTTP status of an ApiException (undefined for transport errors). */
export function apiCode(e: unknown): number | undefined {
  return e instanceof k8s.ApiException ? e.code : undefined;
}

/** A Status object's message from an ApiException, or the transport error's cause, for conditions and logs. */
export function apiMessage(e: unknown): string {
  if (e instanceof k8s.ApiException) {
    let body: { message?: string; reason?: string } | undefined;
    try { body = typeof e.body === 'string' ? JSON.parse(e.body) : (e.body as typeof body); } catch { /* not JSON */ }
    if (body?.message) return body.message;
    if (e.code === 401) return 'Unauthorized';
    if (e.code === 403) return 'Forbidden';
    return `HTTP ${e.code}`;
  }
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.cause?.code) return `${err.message} (${err.cause.code})`;
  return err?.message ?? String(e);
}

export function isTransportError(e: unknown): boolean {
  return !(e instanceof k8s.ApiException);
}

// ---- label selectors in their string form (scale.status.selector) ----

type Req = { key: string; op: 'in' | 'notin' | 'exists' | '!exists' | '=' | '!='; values: string[] };

/** Parse "app=x,tier in (a,b),!legacy" (the string form labels.Selector prints). */
export function parseSelector(s: string): Req[] {
  const reqs: Req[] = [];
  let i = 0;
  const src = s.trim();
  const ws = () => { while (i < src.length && src[i] === ' ') i++; };
  const word = () => {
    ws();
    const m = /^[A-Za-z0-9._\-/]*/.exec(src.slice(i))![0];
    i += m.length;
    return m;
  };
  while (i < src.length) {
    ws();
    let neg = false;
    if (src[i] === '!') { neg = true; i++; }
    const key = word();
    if (!key) throw new Error(`invalid selector ${JSON.stringify(s)}`);
    ws();
    if (neg) reqs.push({ key, op: '!exists', values: [] });
    else if (src.startsWith('!=', i)) { i += 2; reqs.push({ key, op: '!=', values: [word()] }); }
    else if (src.startsWith('==', i)) { i += 2; reqs.push({ key, op: '=', values: [word()] }); }
    else if (src[i] === '=') { i += 1; reqs.push({ key, op: '=', values: [word()] }); }
    else if (/^(in|notin)\s*\(/.test(src.slice(i))) {
      const op = src.startsWith('notin', i) ? 'notin' : 'in';
      i = src.indexOf('(', i) + 1;
      const end = src.indexOf(')', i);
      if (end < 0) throw new Error(`invalid selector ${JSON.stringify(s)}`);
      reqs.push({ key, op, values: src.slice(i, end).split(',').map((v) => v.trim()).filter(Boolean) });
      i = end + 1;
    } else reqs.push({ key, op: 'exists', values: [] });
    ws();
    if (i < src.length) {
      if (src[i] !== ',') throw new Error(`invalid selector ${JSON.stringify(s)}`);
      i++;
    }
  }
  return reqs;
}

/**
 * A LabelSelector in the string form the apiserver puts in a /scale status.selector (what
 * metav1.LabelSelectorAsSelector(...).String() prints): requirements sorted by key, `k=v` for
 * matchLabels, `k in (a,b)` / `k notin (a,b)` with sorted values, `k` (Exists), `!k` (DoesNotExist).
 * An empty or missing selector prints as "" (it selects everything).
 */
export function formatLabelSelector(sel: { matchLabels?: Record<string, string> | undefined; matchExpressions?: { key: string; operator: string; values?: string[] | undefined }[] | undefined } | undefined): string {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case 'In': reqs.push({ key: e.key, text: `${e.key} in (${vals.join(',')})` }); break;
      case 'NotIn': reqs.push({ key: e.key, text: `${e.key} notin (${vals.join(',')})` }); break;
      case 'Exists': reqs.push({ key: e.key, text: e.key }); break;
      case 'DoesNotExist': reqs.push({ key: e.key, text: `!${e.key}` }); break;
      default: throw new Error(`invalid label selector operator ${JSON.stringify(e.operator)}`);
    }
  }
  // a stable sort by key (Go's sort.Sort of ByKey is not stable either, but keys of matchLabels are unique)
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

export function selectorMatchesLabels(reqs: Req[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case '=': if (l[r.key] !== r.values[0]) return false; break;
      case '!=': if (has && l[r.key] === r.values[0]) return false; break;
      case 'in': if (!has || !r.values.includes(l[r.key])) return false; break;
      case 'notin': if (has && r.values.includes(l[r.key])) return false; break;
      case 'exists': if (!has) return false; break;
      case '!exists': if (has) return false; break;
    }
  }
  return true;
}

/** A V1MicroTime for now (events.k8s.io and Lease fields need exactly 6 fraction digits). */
export function microNow(): k8s.V1MicroTime {
  return new k8s.V1MicroTime();
}

export function toMs(t: unknown): number | undefined {
  if (t === undefined || t === null) return undefined;
  if (t instanceof Date) return t.getTime();
  const ms = Date.parse(String(t));
  return Number.isNaN(ms) ? undefined : ms;
}
