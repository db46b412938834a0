// How `tide get|describe` chooses between the local daemon and a cluster (docs/kubernetes.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wantsCluster } from '../../../src/cli/cluster/kube.ts';

const dir = mkdtempSync(join(tmpdir(), 'tide-select-'));
const daemonFile = join(dir, 'daemon.json');
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try { return fn(); } finally { for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v; }
}

test('kubectl\'s connection flags select the cluster, --state-dir the daemon', () => {
  for (const f of [{ kubeconfig }, { context: 'prod' }, { cluster: true }]) assert.equal(wantsCluster(f, false, daemonFile), true, JSON.stringify(f));
  assert.equal(wantsCluster({}, true, daemonFile), false);
});

test('without flags: the daemon when it runs, else the cluster when a kubeconfig exists, else the daemon', () => {
  withEnv({ KUBECONFIG: kubeconfig, HOME: dir }, () => assert.equal(wantsCluster({}, false, daemonFile), true));
  withEnv({ KUBECONFIG: join(dir, 'missing'), HOME: dir }, () => assert.equal(wantsCluster({}, false, daemonFile), false));
  writeFileSync(daemonFile, '{}');
  withEnv({ KUBECONFIG: kubeconfig, HOME: dir }, () => assert.equal(wantsCluster({}, false, daemonFile), false));
});
