// tuneKubeConfig: one connection pool per cluster + credentials (client-node 2.x makes a new undici
// Agent, i.e. a new TLS connection, per request) and Tide's User-Agent on every request, API clients
// and watches alike, checked against a real HTTPS server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { MERGE_PATCH, TIDE_USER_AGENT, apiCode, apiMessage, makeApis, tuneKubeConfig } from '../../../src/runtime/kubernetes/client.ts';

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tide-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

function kubeConfig(server: string, ca: string, token = 't0'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: Buffer.from(ca).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

test('the same dispatcher for every request, a new one only when the credentials change', async () => {
  const kc = tuneKubeConfig(kubeConfig('https://127.0.0.1:1', 'not a real CA'), TIDE_USER_AGENT, { authCacheMs: 0 });
  assert.equal(tuneKubeConfig(kc), kc); // idempotent
  const ctx = () => new k8s.RequestContext('https://127.0.0.1:1/api', k8s.HttpMethod.GET);
  const a = ctx(); const b = ctx();
  await kc.applySecurityAuthentication(a);
  await kc.applySecurityAuthentication(b);
  assert.ok(a.getDispatcher());
  assert.equal(a.getDispatcher(), b.getDispatcher());
  assert.equal(a.getHeaders()['User-Agent'], TIDE_USER_AGENT);
  assert.equal(a.getHeaders().Authorization, 'Bearer t0');
  // a later User-Agent (client-node's own middleware) does not replace Tide's
  a.setHeaderParam('User-Agent', 'kubernetes-client-javascript/2.0.1');
  a.setHeaderParam('X-Other', '1');
  assert.equal(a.getHeaders()['User-Agent'], TIDE_USER_AGENT);
  assert.equal(a.getHeaders()['X-Other'], '1');
  // a rotated token keeps the pool; another CA gets its own
  (kc.getCurrentUser() as { token?: string }).token = 't1';
  const c = ctx();
  await kc.applySecurityAuthentication(c);
  assert.equal(c.getHeaders().Authorization, 'Bearer t1');
  assert.equal(c.getDispatcher(), a.getDispatcher());
  (kc.getCurrentCluster() as { caData?: string }).caData = Buffer.from('another CA').toString('base64');
  const d = ctx();
  await kc.applySecurityAuthentication(d);
  assert.notEqual(d.getDispatcher(), a.getDispatcher());
});

test('API calls reuse one TLS connection and carry Tide\'s User-Agent', async () => {
  const tls = selfSigned();
  const agents: string[] = [];
  let connections = 0;
  const bodies: { method: string; url: string; type: string; body: string }[] = [];
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    agents.push(String(req.headers['user-agent']));
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      bodies.push({ method: req.method!, url: req.url!, type: String(req.headers['content-type']), body });
      if (req.url?.startsWith('/api/v1/namespaces/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'namespaces "missing" not found', reason: 'NotFound', code: 404 }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'PATCH' ? JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { a: 'b' } } }) : JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: {}, items: [] }));
    });
  });
  server.on('secureConnection', () => { connections++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const apis = makeApis(kubeConfig(`https://127.0.0.1:${port}`, tls.cert));
    for (let i = 0; i < 20; i++) await apis.core.listNamespace();
    assert.equal(agents.length, 20);
    // errors are client-node's ApiException (code, Status message), bodies and content types arrive intact
    await assert.rejects(apis.core.readNamespace({ name: 'missing' }), (e) => apiCode(e) === 404 && apiMessage(e) === 'namespaces "missing" not found');
    const ns = await apis.core.patchNamespace({ name: 'x', body: { metadata: { labels: { a: 'b' } } } }, MERGE_PATCH);
    assert.equal(ns.metadata?.labels?.a, 'b');
    const patch = bodies.find((b) => b.method === 'PATCH')!;
    assert.equal(patch.type, 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(patch.body), { metadata: { labels: { a: 'b' } } });
    assert.deepEqual([...new Set(agents)], [TIDE_USER_AGENT]);
    assert.equal(agents.length, 22);
    // client-node alone opens one per request; a pool may keep a second one while the first is released
    assert.ok(connections <= 3, `20 sequential requests over ${connections} TLS connections`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('authentication is read once per authCacheMs, not per request', async () => {
  const kc = tuneKubeConfig(kubeConfig('https://127.0.0.1:1', 'ca'), TIDE_USER_AGENT, { authCacheMs: 60_000 });
  const ctx = () => new k8s.RequestContext('https://127.0.0.1:1/api', k8s.HttpMethod.GET);
  const a = ctx();
  await kc.applySecurityAuthentication(a);
  (kc.getCurrentUser() as { token?: string }).token = 't1';
  const b = ctx();
  await kc.applySecurityAuthentication(b);
  assert.equal(b.getHeaders().Authorization, 'Bearer t0', 'within the cache time the first reading holds');
  assert.equal(b.getDispatcher(), a.getDispatcher());
  assert.equal(b.getHeaders()['User-Agent'], TIDE_USER_AGENT);
});
