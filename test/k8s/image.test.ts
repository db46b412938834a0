// The controller image, without a container engine (none on these machines, so it is never built):
// what the Dockerfile puts in it — package.json + bin/ + src/ + `npm ci --omit=dev --ignore-scripts`,
// Node 24 at the distroless path /nodejs/bin/node — is laid out in a fresh root, and its entrypoint
// runs there as the Deployment runs the container (test/e2e/image/image-rootfs.sh): read-only root,
// uid/gid 65532, only /tmp and /var/lib/tide writable, the mapping ConfigMap at /etc/tide, an empty
// environment but the image's ENV and the Deployment's, and the in-cluster configuration (the
// ServiceAccount token from the TokenRequest API at /var/run/secrets/kubernetes.io/serviceaccount,
// KUBERNETES_SERVICE_HOST/PORT) of a real plane. It must come up, answer its probes, and reconcile.
// Needs root (a private mount namespace and chroot); CI runs as root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { planeSkip, startPlane, until, type Plane } from '../support/k8s-plane.ts';
import { controllerCredentials, ROOT } from './helpers.ts';

const isRoot = process.getuid?.() === 0;
const skip = planeSkip({}) || (!isRoot && process.env.CI !== 'true' ? 'needs root (mount namespace + chroot)' : false);
const NS = 'image-check';

let plane: Plane | null = null;
let proc: ChildProcess | undefined;
let out = '';

function deploymentDoc(): any {
  for (const d of parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/40-deployment.yaml'), 'utf8'))) {
    const o = d.toJS();
    if (o?.kind === 'Deployment') return o;
  }
  throw new Error('no Deployment in deploy/kubernetes/40-deployment.yaml');
}

before(async () => {
  if (skip) return;
  plane = await startPlane({});
  if (!plane) return;
  const creds = await controllerCredentials(plane);
  const work = mkdtempSync(join(tmpdir(), 'tide-image-'));
  // /app as the Dockerfile builds it
  const app = join(work, 'app');
  mkdirSync(app);
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(app, f));
  const npm = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, encoding: 'utf8' });
  assert.equal(npm.status, 0, `npm ci --omit=dev: ${npm.stderr}`);
  cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'src'), join(app, 'src'), { recursive: true });
  // the pod's ServiceAccount volume and the ConfigMap volume
  const sa = join(work, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), creds.token);
  cpSync(plane.ca, join(sa, 'ca.crt'));
  writeFileSync(join(sa, 'namespace'), 'tide-system');
  const cm = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/30-configmap.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o?.kind === 'ConfigMap');
  const mapping = join(work, 'tide-metrics.yaml');
  writeFileSync(mapping, cm.data['tide-metrics.yaml']);
  const root = join(work, 'rootfs');
  mkdirSync(root);

  const dep = deploymentDoc();
  const c = dep.spec.template.spec.containers[0];
  // the Deployment's args, on a free loopback port instead of 0.0.0.0:8080
  const args: string[] = c.args.map((a: string) => (a.startsWith('--listen=') ? '--listen=127.0.0.1:0' : a));
  const api = new URL(plane.api);
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', // the distroless image's PATH (the script's own tools resolve on the host)
    NODE_ENV: 'production', // the Dockerfile's ENV
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    NODE_BIN: process.execPath,
  };
  for (const e of c.env ?? []) env[e.name] = e.value;
  proc = spawn('bash', [join(ROOT, 'test/e2e/image/image-rootfs.sh'), root, app, sa, mapping, '--', '/app/bin/tide.js', ...args, '--log-format', 'text'], {
    env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
}, { timeout: 400_000 });

after(async () => {
  if (proc && proc.exitCode === null) {
    try { process.kill(-proc.pid!, 'SIGTERM'); } catch { /* gone */ }
    await new Promise<void>((r) => { const t = setTimeout(() => { try { process.kill(-proc!.pid!, 'SIGKILL'); } catch { /* gone */ } r(); }, 10_000); proc!.on('exit', () => { clearTimeout(t); r(); }); });
  }
  await plane?.stop();
});

test('the image entrypoint runs from its own files on a read-only root as uid 65532 with the in-cluster config', { skip, timeout: 300_000 }, async () => {
  if (!plane) return;
  const url = await until('controller listening', () => {
    if (proc!.exitCode !== null) throw new Error(`exited ${proc!.exitCode}:\n${out}`);
    return /listening on (http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
  }, 120_000, 200);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  await until('/readyz ok', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000, 500);
  // it reconciles an HPA of the cluster (the shipped default mode: shadow)
  await plane.kubectl(['create', 'namespace', NS]);
  await plane.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example.com/web:1, resources: {requests: {cpu: 100m}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`);
  const h = await until('the HPA is synced', async () => {
    const j = (await (await fetch(`${url}/api/hpas`)).json()) as { hpas: { namespace: string; name: string; syncs: number; mode: string }[] };
    return j.hpas.find((x) => x.namespace === NS && x.name === 'web' && x.syncs > 0);
  }, 120_000, 1000);
  assert.equal(h.mode, 'shadow');
  // it ran as 65532 and nothing tried to write outside /tmp and /var/lib/tide
  assert.doesNotMatch(out, /EROFS|EACCES|read-only file system/i, out);
  const pid = spawnSync('pgrep', ['-f', '-g', String(proc!.pid), '^/nodejs/bin/node /app/bin/tide.js'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  assert.ok(pid, 'the node process of the entrypoint');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
  assert.match(status, /^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
  assert.match(status, /^Groups:\s+65532\s*$/m);
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  assert.match(status, /^CapEff:\s+0+$/m);
});
