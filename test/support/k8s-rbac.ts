// Tide's deploy/kubernetes/ on a test plane, and a kubeconfig that holds ONLY the tide-controller
// ServiceAccount's token (minted through the TokenRequest API): a controller run with it has exactly
// the ClusterRole's rights, which is how the e2e tests prove that the RBAC is sufficient.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

/** What these helpers need of a test plane (test/support/k8s-plane.ts's Plane has it). */
export interface PlaneLike {
  api: string;
  ca: string;
  kubectl(args: string[], input?: string): Promise<string>;
}
type Plane = PlaneLike;

async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { return await fn(); } catch (e) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy/kubernetes');
export const TIDE_NAMESPACE = 'tide-system';
export const TIDE_SA = 'tide-controller';
export const TIDE_USER = `system:serviceaccount:${TIDE_NAMESPACE}:${TIDE_SA}`;

export interface PolicyRule { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }

/** The rules of deploy/kubernetes' ClusterRole, as written. */
export function clusterRoleRules(): PolicyRule[] {
  for (const f of readdirSync(DEPLOY_DIR).filter((x) => x.endsWith('.yaml'))) {
    for (const d of parseAllDocuments(readFileSync(join(DEPLOY_DIR, f), 'utf8'))) {
      const o = d.toJS() as { kind?: string; rules?: PolicyRule[] } | null;
      if (o?.kind === 'ClusterRole') return o.rules ?? [];
    }
  }
  throw new Error(`no ClusterRole in ${DEPLOY_DIR}`);
}

export interface TideCredentials {
  /** A kubeconfig with the plane's CA and the ServiceAccount token, nothing else. */
  kubeconfig: string;
  token: string;
  user: string;
}

/** `kubectl apply -f deploy/kubernetes/` (as the plane's admin). */
export async function applyDeployManifests(plane: Plane): Promise<string> {
  return plane.kubectl(['apply', '-f', DEPLOY_DIR]);
}

/** Replace the ClusterRole's rules (e.g. all but one) as the admin; RBAC applies them at once. */
export async function setClusterRoleRules(plane: Plane, rules: PolicyRule[]): Promise<void> {
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: TIDE_SA, labels: { 'app.kubernetes.io/name': 'tide', 'app.kubernetes.io/component': 'controller' } }, rules };
  await plane.kubectl(['apply', '-f', '-'], stringify(role));
}

/** A token for the ServiceAccount from the TokenRequest API (`kubectl create token`), in a kubeconfig of its own. */
export async function mintControllerCredentials(plane: Plane, durationSeconds = 7200): Promise<TideCredentials> {
  // the ServiceAccount exists as soon as it is applied; retry covers a slow apiserver
  const token = (await retry('kubectl create token (TokenRequest API)', () => plane.kubectl(['-n', TIDE_NAMESPACE, 'create', 'token', TIDE_SA, `--duration=${durationSeconds}s`]), 30_000)).trim();
  const dir = mkdtempSync(join(tmpdir(), 'tide-sa-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'plane', cluster: { server: plane.api, 'certificate-authority': plane.ca } }],
    users: [{ name: TIDE_SA, user: { token } }],
    contexts: [{ name: 'tide-controller', context: { cluster: 'plane', user: TIDE_SA } }],
    'current-context': 'tide-controller',
  }), { mode: 0o600 });
  return { kubeconfig, token, user: TIDE_USER };
}

/** Apply deploy/kubernetes/ and mint the controller's credentials: what every controller e2e test runs with. */
export async function installTide(plane: Plane): Promise<TideCredentials> {
  await applyDeployManifests(plane);
  return mintControllerCredentials(plane);
}
