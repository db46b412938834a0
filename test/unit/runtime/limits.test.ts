import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultReplicaLimits, openFileLimit, overLimit, resolveReplicaLimits } from '../../../src/runtime/local/limits.ts';

test('the default replica cap comes from the scarcest of fds, memory and cores', () => {
  const GiB = 1024 ** 3;
  assert.equal(defaultReplicaLimits({ cores: 2, memoryBytes: 64 * GiB, nofile: 1_000_000 }).total, 110);
  assert.equal(defaultReplicaLimits({ cores: 16, memoryBytes: 128 * GiB, nofile: 1_000_000 }).total, 800);
  assert.equal(defaultReplicaLimits({ cores: 16, memoryBytes: 128 * GiB, nofile: 1024 }).total, 120);
  assert.equal(defaultReplicaLimits({ cores: 16, memoryBytes: 1 * GiB, nofile: 1_000_000 }).total, 32);
  assert.equal(defaultReplicaLimits({ cores: 1, memoryBytes: 1, nofile: 10 }).total, 1);
  assert.match(defaultReplicaLimits({ cores: 2, memoryBytes: 8 * GiB, nofile: 4096 }).basis, /2 cores, 8\.0 GiB memory, ulimit -n 4096/);
  const n = openFileLimit();
  assert.ok(n === undefined || n > 0);
});

test('flags override; the per-Deployment cap never exceeds the total', () => {
  assert.deepEqual([resolveReplicaLimits({ perDeployment: 5, total: 8 }).perDeployment, resolveReplicaLimits({ perDeployment: 5, total: 8 }).total], [5, 8]);
  assert.equal(resolveReplicaLimits({ perDeployment: 50, total: 8 }).perDeployment, 8);
  assert.equal(resolveReplicaLimits({ perDeployment: 100_000 }).total, 100_000);
});

test('overLimit says which cap and what is allowed', () => {
  const l = { perDeployment: 10, total: 15, basis: 'test' };
  assert.equal(overLimit(l, 10, 5), undefined);
  assert.match(overLimit(l, 11, 0)!, /11 replicas is more than the cap of 10 per Deployment \(at most 10; test; raise it with --max-replicas\)/);
  assert.match(overLimit(l, 8, 10)!, /would make 18 in total, more than the cap of 15 for all Deployments \(at most 5 here/);
});
