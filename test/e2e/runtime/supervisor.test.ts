// The supervisor on its own, with a recording fake proxy: scale-down picks the idle replica, drains it
// through the proxy before signalling it, and a liveness failure restarts the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Supervisor } from '../../../src/runtime/local/supervisor.ts';
import type { ReplicaProxy, ProxyStats } from '../../../src/runtime/local/proxy-types.ts';
import type { LocalDeployment } from '../../../src/runtime/local/workload.ts';
import { FIXTURE, sleep } from './helpers.ts';

function deployment(over: Partial<LocalDeployment['container']> = {}): LocalDeployment {
  return {
    name: 'sup', replicas: 2, labels: { app: 'sup' }, annotations: { 'tide.dev/probe-period': '100ms' },
    container: { name: 'app', command: [process.execPath, FIXTURE], env: {}, unresolvedEnv: {}, ports: [{ containerPort: 8080, name: 'http' }], workingDir: process.cwd(), requests: {}, readinessProbe: { httpGet: { path: '/health', port: 'http' }, failureThreshold: 1 }, ...over },
    ignoredContainers: [], terminationGracePeriodSeconds: 3, containerConcurrency: 0, templateHash: 'bcdfghjklm',
  };
}

function fakeProxy(inFlight: Map<string, number>, alive: (id: string) => boolean = () => true) {
  const calls: string[] = [];
  const ready = new Map<string, boolean>();
  const proxy: ReplicaProxy = {
    port: 0,
    addReplica: (id) => { calls.push(`add ${id}`); },
    setReady: (id, r) => { ready.set(id, r); },
    drain: async (id) => { calls.push(`drain ${id}`); await sleep(50); calls.push(`drained ${id} alive=${alive(id)}`); return { drained: true, abandoned: 0 }; },
    removeReplica: (id) => { calls.push(`remove ${id}`); },
    stats: (): ProxyStats => ({ now: Date.now(), queued: 0, inFlight: 0, requestsTotal: 0, replicas: [...ready].map(([id, r]) => ({ id, ready: r, draining: false, inFlight: inFlight.get(id) ?? 0, requestsTotal: 0, errorsTotal: 0 })) }),
    close: async () => {},
  };
  return { proxy, calls, ready };
}

test('scale-down drains the idle replica through the proxy, then stops it', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-sup-'));
  const sup = new Supervisor(deployment(), { stateDir: dir });
  const inFlight = new Map<string, number>();
  const fp = fakeProxy(inFlight, (id) => { const pid = sup.replicas.get(id)?.proc?.pid; try { return !!pid && process.kill(pid, 0); } catch { return false; } });
  sup.attachProxy(fp.proxy);
  try {
    await sup.scale(2);
    const deadline = Date.now() + 10_000;
    while ([...fp.ready.values()].filter(Boolean).length < 2 && Date.now() < deadline) await sleep(50);
    const [a, b] = [...sup.replicas.keys()];
    inFlight.set(a, 3);
    inFlight.set(b, 0);
    const pidB = sup.replicas.get(b)!.proc!.pid!;
    await sup.scale(1);
    assert.equal(sup.replicas.get(b)?.terminating, true);
    const t = Date.now() + 10_000;
    while (sup.replicas.has(b) && Date.now() < t) await sleep(50);
    assert.equal(sup.replicas.has(b), false);
    const order = fp.calls.filter((c) => c.includes(b));
    assert.deepEqual(order, [`add ${b}`, `drain ${b}`, `drained ${b} alive=true`, `remove ${b}`]);
    assert.throws(() => process.kill(pidB, 0), /ESRCH/, 'the victim process is gone');
    assert.ok(sup.replicas.get(a)!.proc, 'the busy replica keeps running');
    assert.match(sup.replicas.get(a)!.logs.lines.join('\n'), /listening on/);
  } finally {
    await sup.close(3000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing liveness probe restarts the replica (restartCount grows)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-live-'));
  const sup = new Supervisor(deployment({ livenessProbe: { httpGet: { path: '/health', port: 'http' }, failureThreshold: 2, initialDelaySeconds: 0.5 }, env: { NOT_READY: '1' }, readinessProbe: undefined }), { stateDir: dir });
  try {
    await sup.scale(1);
    const r = [...sup.replicas.values()][0];
    const deadline = Date.now() + 15_000;
    while (r.restartCount < 1 && Date.now() < deadline) await sleep(50);
    assert.ok(r.restartCount >= 1, 'restarted after liveness failures');
    assert.match(r.logs.lines.join('\n'), /failed liveness probe, will be restarted/);
    assert.match(r.logs.lines.join('\n'), /listening on/, 'it was killed while serving (503 on /health), not before listening');
  } finally {
    await sup.close(3000);
    rmSync(dir, { recursive: true, force: true });
  }
});
