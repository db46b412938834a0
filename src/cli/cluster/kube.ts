// The CLI's connection to a Kubernetes cluster, chosen with kubectl's own flags: --kubeconfig (else
// $KUBECONFIG, else ~/.kube/config), --context, -n/--namespace (else the context's namespace, else
// "default"), -A. Objects come back as the API server's JSON (RFC 3339 strings, quantity strings),
// the shape the kubectl views in src/views/kubectl take. @kubernetes/client-node is loaded only here,
// on first use, so local `tide` commands do not pay for it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import { UserError } from '../../core/errors.ts';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  cluster?: boolean;
}

/** The user agent of every request `tide get|describe` makes (apiserver audit logs, metrics). */
export const CLI_USER_AGENT = 'tide-cli';

/**
 * Whether `tide get|describe` talks to a cluster rather than the local `tide up` daemon: any of
 * --cluster, --kubeconfig, --context selects the cluster; --state-dir selects the daemon;
 * otherwise the daemon when its daemon.json exists, else the cluster when a kubeconfig exists
 * ($KUBECONFIG or ~/.kube/config), else the daemon (whose error says how to start one).
 * (-n / -A scope either one: the daemon's objects live in "default".)
 */
export function wantsCluster(flags: ClusterFlags, localStateDirGiven: boolean, daemonFile: string): boolean {
  if (flags.cluster || flags.kubeconfig || flags.context) return true;
  if (localStateDirGiven) return false;
  if (existsSync(daemonFile)) return false;
  const kubeconfigs = (process.env.KUBECONFIG ?? '').split(':').filter(Boolean);
  return kubeconfigs.some((f) => existsSync(f)) || existsSync(join(homedir(), '.kube', 'config'));
}

export interface KubeList<T> { apiVersion?: string; kind?: string; metadata?: { resourceVersion?: string }; items: T[] }

export interface WatchEvent<T> { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T }

export interface Cluster {
  /** Namespace from -n, else the context's, else "default". */
  namespace: string;
  allNamespaces: boolean;
  server: string;
  /** GET a path; the parsed JSON. NotFound/Forbidden/... become kubectl-like UserErrors. */
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  /** Watch a collection path from resourceVersion; resolves when the watch ends (call again to go on). */
  watch<T>(path: string, resourceVersion: string | undefined, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void>;
}

let k8sModule: Promise<typeof K8s> | undefined;
function loadClientNode(): Promise<typeof K8s> {
  k8sModule ??= import('@kubernetes/client-node');
  return k8sModule;
}

interface StatusBody { kind?: string; message?: string; reason?: string; code?: number; details?: { name?: string; group?: string; kind?: string } }

/** kubectl's wording: `Error from server (NotFound): horizontalpodautoscalers.autoscaling "x" not found`. */
export function serverError(status: number, body: string): UserError {
  let s: StatusBody | undefined;
  try { s = JSON.parse(body) as StatusBody; } catch { /* not a Status */ }
  if (status === 401) return new UserError('error: You must be logged in to the server (Unauthorized)');
  const reason = s?.reason ?? (status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : `HTTP ${status}`);
  return new UserError(`Error from server (${reason}): ${s?.message ?? (body.trim().slice(0, 300) || `HTTP ${status}`)}`);
}

export async function connect(flags: ClusterFlags): Promise<Cluster> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  const file = flags.kubeconfig;
  try {
    if (file) {
      if (!existsSync(file)) throw new UserError(`error: stat ${file}: no such file or directory`);
      kc.loadFromFile(file);
    } else kc.loadFromDefault();
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`error: loading kubeconfig${file ? ` ${file}` : ''}: ${(e as Error).message}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) throw new UserError(`error: context was not found for specified context: ${flags.context}`);
    kc.setCurrentContext(flags.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new UserError('error: no cluster configured: pass --kubeconfig / --context, set $KUBECONFIG, or write ~/.kube/config');
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const namespace = flags.namespace || ctx?.namespace || 'default';
  const https = process.getBuiltinModule('node:https') as typeof import('node:https');
  const http = process.getBuiltinModule('node:http') as typeof import('node:http');
  const base = cluster.server.replace(/\/$/, '');

  /** One request with the kubeconfig's credentials (client cert, token, CA: applyToHTTPSOptions). */
  const request = async (path: string, query: Record<string, string | undefined>, signal?: AbortSignal): Promise<import('node:http').IncomingMessage> => {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const opts: import('node:https').RequestOptions = { method: 'GET', headers: { accept: 'application/json', 'user-agent': CLI_USER_AGENT } };
    await kc.applyToHTTPSOptions(opts);
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise((res, rej) => {
      const req = mod.request(url, { ...opts, signal }, res);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.name === 'AbortError') rej(e);
        else rej(new UserError(`error: the server could not be reached (${cluster.server}): ${e.code ? `${e.code} ` : ''}${e.message}`));
      });
      req.end();
    });
  };
  const readAll = (res: import('node:http').IncomingMessage): Promise<string> => new Promise((ok, fail) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { text += d; });
    res.on('end', () => ok(text));
    res.on('error', fail);
  });

  return {
    namespace,
    allNamespaces: !!flags.allNamespaces,
    server: cluster.server,
    async get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
      const res = await request(path, query);
      const text = await readAll(res);
      if ((res.statusCode ?? 500) >= 400) throw serverError(res.statusCode ?? 500, text);
      return JSON.parse(text) as T;
    },
    async watch<T>(path: string, resourceVersion: string | undefined, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
      const [p, q] = path.split('?');
      const query: Record<string, string | undefined> = { ...Object.fromEntries(new URLSearchParams(q ?? '')), watch: 'true', resourceVersion, allowWatchBookmarks: 'true' };
      let res: import('node:http').IncomingMessage;
      try { res = await request(p, query, signal); } catch (e) { if ((e as Error).name === 'AbortError') return; throw e; }
      if ((res.statusCode ?? 500) >= 400) throw serverError(res.statusCode ?? 500, await readAll(res));
      res.setEncoding('utf8');
      let buf = '';
      await new Promise<void>((done, fail) => {
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) {
              try { onEvent(JSON.parse(line) as WatchEvent<T>); } catch (e) { fail(e); return; }
            }
          }
        });
        res.on('end', () => done());
        res.on('close', () => done());
        res.on('error', (e) => ((e as Error).name === 'AbortError' ? done() : fail(e)));
      });
    },
  };
}

/** The collection path of a namespaced resource: all namespaces with -A. */
export function collectionPath(c: Pick<Cluster, 'namespace' | 'allNamespaces'>, groupVersion: string, resource: string): string {
  const base = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
  return c.allNamespaces ? `${base}/${resource}` : `${base}/namespaces/${encodeURIComponent(c.namespace)}/${resource}`;
}
