// What `tide get/describe/top` share: resource-type aliases as kubectl knows them and reading the
// daemon's Kubernetes-style paths (src/runtime/local/k8s-api.ts). Kept light: commands that only
// read start fast (bench/cli-startup.ts).
import { UserError } from '../core/errors.ts';
import { apiCall, readDaemonInfo } from '../runtime/local/client.ts';
import type { KubeList } from '../views/kubectl/types.ts';

export type KindName = 'hpa' | 'pods' | 'deployments' | 'services';

export interface KindInfo {
  kind: KindName;
  /** API path prefix before /namespaces/NS. */
  group: string;
  plural: string;
  /** "horizontalpodautoscaler.autoscaling": kubectl's prefix for names when several kinds are listed. */
  singular: string;
  qualified: string;
}

export const KINDS: Record<KindName, KindInfo> = {
  hpa: { kind: 'hpa', group: '/apis/autoscaling/v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler.autoscaling', qualified: 'horizontalpodautoscalers.autoscaling' },
  pods: { kind: 'pods', group: '/api/v1', plural: 'pods', singular: 'pod', qualified: 'pods' },
  deployments: { kind: 'deployments', group: '/apis/apps/v1', plural: 'deployments', singular: 'deployment.apps', qualified: 'deployments.apps' },
  services: { kind: 'services', group: '/api/v1', plural: 'services', singular: 'service', qualified: 'services' },
};

const ALIASES: Record<string, KindName> = {
  hpa: 'hpa', horizontalpodautoscaler: 'hpa', horizontalpodautoscalers: 'hpa', 'horizontalpodautoscalers.autoscaling': 'hpa', 'horizontalpodautoscaler.autoscaling': 'hpa',
  po: 'pods', pod: 'pods', pods: 'pods',
  deploy: 'deployments', deployment: 'deployments', deployments: 'deployments', 'deployment.apps': 'deployments', 'deployments.apps': 'deployments',
  svc: 'services', service: 'services', services: 'services',
};

export function kindOf(word: string): KindInfo {
  const k = ALIASES[word.toLowerCase()];
  if (!k) throw new UserError(`error: the server doesn't have a resource type "${word}" (Tide serves hpa, pods, deployments, svc)`);
  return KINDS[k];
}

export interface Scope { namespace: string; allNamespaces: boolean }

export function listPath(k: { group: string; plural: string }, scope: Scope, query = ''): string {
  const base = scope.allNamespaces ? `${k.group}/${k.plural}` : `${k.group}/namespaces/${encodeURIComponent(scope.namespace)}/${k.plural}`;
  return query ? `${base}?${query}` : base;
}

/** GET a Kubernetes-style path; a Status failure becomes kubectl's "Error from server (Reason): message". */
export async function kubeGet<T>(stateDir: string, path: string): Promise<T> {
  const info = readDaemonInfo(stateDir);
  const r = await apiCall(info, 'GET', path);
  let body: unknown;
  try { body = JSON.parse(r.body); } catch { throw new UserError(`unexpected answer from the daemon (${r.status}): ${r.body.slice(0, 200)}`); }
  if (r.status >= 400) {
    const s = body as { kind?: string; reason?: string; message?: string; error?: string };
    if (s.kind === 'Status') throw new UserError(`Error from server (${s.reason ?? 'Unknown'}): ${s.message ?? ''}`);
    if (r.status === 404 && s.error?.startsWith('no route')) throw new UserError(`the running daemon is older than this CLI (it has no ${path.split('?')[0]}); restart \`tide up\``);
    throw new UserError(`Error from server: ${s.error ?? r.body}`);
  }
  return body as T;
}

export async function kubeList<T>(stateDir: string, k: { group: string; plural: string }, scope: Scope, query = ''): Promise<T[]> {
  return (await kubeGet<KubeList<T>>(stateDir, listPath(k, scope, query))).items;
}

export function scopeOf(o: { namespace?: string; allNamespaces?: boolean }): Scope {
  return { namespace: o.namespace ?? 'default', allNamespaces: !!o.allNamespaces };
}
