// `tide get hpa,pods` (several types, or several names) against a cluster: a stand-in API server
// on 127.0.0.1 and a kubeconfig pointing at it; the output is kubectl's: one table per type, a blank
// line between them, kind-prefixed NAMEs; one List for -o json; NotFound on stderr, exit status 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { clusterGetMany } from '../../../src/cli/cluster/views.ts';
import { parseTargets } from '../../../src/cli/commands/get.ts';

const created = '2026-01-01T00:00:00Z';
const NOW = Date.parse(created) + 3_600_000;
const hpa = {
  metadata: { name: 'web', namespace: 'default', creationTimestamp: created, uid: 'u1' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
  status: { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20, averageValue: '40m' } } }] },
};
const pod = (name: string) => ({
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { containers: [{ name: 'app' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }] },
});

const server = createServer((req, res) => {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  const send = (code: number, body: unknown) => { const t = JSON.stringify(body); res.writeHead(code, { 'content-type': 'application/json' }); res.end(t); };
  if (p === '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers') return send(200, { kind: 'HorizontalPodAutoscalerList', metadata: { resourceVersion: '1' }, items: [hpa] });
  if (p === '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web') return send(200, hpa);
  if (p === '/api/v1/namespaces/default/pods') return send(200, { kind: 'PodList', metadata: { resourceVersion: '1' }, items: [pod('web-1'), pod('web-2')] });
  if (p === '/api/v1/namespaces/default/pods/web-1') return send(200, pod('web-1'));
  if (p === '/api/v1/namespaces/default/services') return send(200, { kind: 'ServiceList', metadata: { resourceVersion: '1' }, items: [] });
  if (p === '/api/v1/namespaces/default/events') return send(200, { kind: 'EventList', metadata: {}, items: [] });
  const name = p.split('/').pop();
  send(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: `pods "${name}" not found`, details: { name, kind: 'pods' } });
});

async function withCluster(fn: (kubeconfig: string) => Promise<void>): Promise<void> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'tide-get-many-'));
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`);
  try { await fn(kubeconfig); } finally { server.close(); rmSync(dir, { recursive: true, force: true }); }
}

const run = async (kubeconfig: string, args: string[], extra: Record<string, unknown> = {}) => {
  const out: string[] = [];
  const reqs = parseTargets(args).map((r) => ({ kind: r.kind.kind, names: r.names }));
  const code = await clusterGetMany(reqs, { kubeconfig, print: (t) => out.push(t), now: () => NOW, ...extra });
  return { code, text: out.join('\n') };
};

test('several types and names on a cluster, as kubectl prints them', async () => {
  await withCluster(async (kubeconfig) => {
    const both = await run(kubeconfig, ['hpa,pods']);
    assert.equal(both.code, 0);
    const lines = both.text.split('\n');
    assert.match(lines[0], /^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE/);
    assert.match(lines[1], /^horizontalpodautoscaler\.autoscaling\/web +Deployment\/web +cpu: 20%\/50% +1 +5 +2 +60m/);
    assert.equal(lines[2], '', 'a blank line between the tables');
    assert.match(lines[3], /^NAME +READY +STATUS +RESTARTS +AGE$/);
    assert.match(lines[4], /^pod\/web-1 +1\/1 +Running +0 +60m$/);
    assert.match(lines[5], /^pod\/web-2 /);
    assert.equal(lines.length, 6);
    // each table is aligned on its own: the pod table's columns do not follow the HPA's long names
    assert.ok(lines[3].indexOf('READY') < lines[0].indexOf('REFERENCE'));

    // an empty type prints nothing (no header); several names of one type: no prefix
    const withEmpty = await run(kubeconfig, ['svc,pods']);
    assert.match(withEmpty.text.split('\n')[0], /^NAME +READY/);
    assert.match(withEmpty.text.split('\n')[1], /^pod\/web-1/);
    const names = await run(kubeconfig, ['pods', 'web-1', 'web-9']);
    assert.equal(names.code, 1, 'NotFound: exit status 1, the rest printed');
    assert.match(names.text, /^NAME +READY +STATUS +RESTARTS +AGE\nweb-1 +1\/1/);

    const asName = await run(kubeconfig, ['hpa,pods'], { output: 'name' });
    assert.equal(asName.text, 'horizontalpodautoscaler.autoscaling/web\npod/web-1\npod/web-2');
    const asJson = JSON.parse((await run(kubeconfig, ['hpa/web', 'pod/web-1'], { output: 'json' })).text);
    assert.equal(asJson.kind, 'List');
    assert.deepEqual(asJson.items.map((i: { kind: string; metadata: { name: string } }) => `${i.kind}/${i.metadata.name}`), ['HorizontalPodAutoscaler/web', 'Pod/web-1']);
    await assert.rejects(run(kubeconfig, ['hpa,pods'], { watch: true }), /watches one TYPE/);
  });
});
