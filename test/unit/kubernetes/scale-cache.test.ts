// A Deployment's or StatefulSet's scale from an informer's object (no GET /scale): the same
// replicas, selector string and resourceVersion the apiserver's /scale subresource answers with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLabelSelector, parseSelector, selectorMatchesLabels } from '../../../src/runtime/kubernetes/client.ts';
import { cachedKind, getScale, scaleOfObject, type ScaleSource } from '../../../src/runtime/kubernetes/scale.ts';
import { DecisionLog } from '../../../src/runtime/kubernetes/decision-log.ts';
import type { Apis } from '../../../src/runtime/kubernetes/client.ts';

test('label selectors print as metav1.LabelSelectorAsSelector(...).String() does', () => {
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  // sorted by key across matchLabels and matchExpressions; values sorted (not deduplicated, as upstream)
  assert.equal(formatLabelSelector({
    matchLabels: { tier: 'front', app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'canary', 'prod'] },
      { key: 'legacy', operator: 'DoesNotExist' },
      { key: 'track', operator: 'Exists' },
      { key: 'zone', operator: 'NotIn', values: ['b', 'a'] },
    ],
  }), 'app=web,env in (canary,prod,prod),!legacy,tier=front,track,zone notin (a,b)');
  assert.equal(formatLabelSelector(undefined), '');
  assert.equal(formatLabelSelector({}), '');
  assert.throws(() => formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] }), /operator/);
  // what it prints, the controller's selector parser reads back
  const reqs = parseSelector(formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['a', 'b'] }, { key: 'old', operator: 'DoesNotExist' }] }));
  assert.ok(selectorMatchesLabels(reqs, { app: 'web', env: 'b' }));
  assert.ok(!selectorMatchesLabels(reqs, { app: 'web', env: 'c' }));
  assert.ok(!selectorMatchesLabels(reqs, { app: 'web', env: 'a', old: '1' }));
});

test('only apps/v1 Deployments and StatefulSets come from the cache', () => {
  assert.equal(cachedKind({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' }), 'deployments');
  assert.equal(cachedKind({ kind: 'StatefulSet', name: 'x' }), 'statefulsets');
  assert.equal(cachedKind({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x' }), undefined);
  assert.equal(cachedKind({ apiVersion: 'example.com/v1', kind: 'Deployment', name: 'x' }), undefined);
  assert.equal(cachedKind({ apiVersion: 'apps/v1beta1', kind: 'Deployment', name: 'x' }), undefined);
});

test("a cached object's scale is spec.replicas, status.replicas, the selector string and the object's resourceVersion", () => {
  const s = scaleOfObject('deployments', {
    metadata: { resourceVersion: '4711' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
    status: { replicas: 4 },
  });
  assert.deepEqual(s, { group: 'apps', version: 'v1', plural: 'deployments', specReplicas: 3, statusReplicas: 4, selector: 'app=web', resourceVersion: '4711', fromCache: true });
  // a new object without a status yet: status.replicas 0 (as /scale answers)
  assert.equal(scaleOfObject('statefulsets', { spec: { replicas: 2, selector: { matchLabels: { a: 'b' } } } }).statusReplicas, 0);
});

test('getScale answers from the cache without a request, and asks the apiserver when the cache cannot', async () => {
  const calls: string[] = [];
  const apis = {
    requests: new Map<string, number>(),
    discovery: { lookup: async (apiVersion: string, kind: string) => { calls.push(`discovery ${apiVersion} ${kind}`); return { name: 'widgets', kind, namespaced: true, singularName: '', verbs: [] }; } },
    custom: { getNamespacedCustomObjectScale: async (a: { group: string; plural: string; name: string }) => { calls.push(`get ${a.group}/${a.plural}/${a.name}/scale`); return { metadata: { resourceVersion: '9' }, spec: { replicas: 5 }, status: { replicas: 5, selector: 'app=w' } }; } },
  } as unknown as Apis;
  const cache: ScaleSource = { get: (ns, ref) => (ns === 'n' && ref.name === 'web' && cachedKind(ref) ? scaleOfObject('deployments', { spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } }, status: { replicas: 2 } }) : undefined) };
  const hit = await getScale(apis, 'n', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, cache);
  assert.equal(hit.specReplicas, 2);
  assert.equal(hit.fromCache, true);
  assert.deepEqual(calls, []);
  assert.equal(apis.requests.size, 0);
  const miss = await getScale(apis, 'n', { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w' }, cache);
  assert.equal(miss.specReplicas, 5);
  assert.equal(miss.fromCache, undefined);
  assert.deepEqual(calls, ['discovery example.com/v1 Widget', 'get example.com/widgets/w/scale']);
});

test('the decision log appends one JSON line per record through one descriptor, and reopens after close', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-declog-'));
  try {
    const warnings: string[] = [];
    const log = new DecisionLog(join(dir, 'sub', 'decisions.jsonl'), (m) => warnings.push(m));
    log.append({ a: 1 });
    log.append({ b: 'x\ny' });
    log.close();
    log.append({ c: true });
    log.close();
    const lines = readFileSync(join(dir, 'sub', 'decisions.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, [{ a: 1 }, { b: 'x\ny' }, { c: true }]);
    assert.deepEqual(warnings, []);
    const badWarnings: string[] = [];
    const bad = new DecisionLog(join(dir, 'sub', 'decisions.jsonl', 'nested'), (m) => badWarnings.push(m));
    bad.append({ d: 1 });
    assert.equal(badWarnings.length, 1);
    assert.match(badWarnings[0]!, /cannot append to/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
