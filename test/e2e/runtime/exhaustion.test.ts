// File-descriptor exhaustion must not kill the daemon or restart healthy replicas: the daemon runs
// under `ulimit -n 256`, and the test holds idle connections to its control API until every fd is
// taken. Probes then cannot open sockets or spawn (EMFILE), a crash-looping replica cannot be
// restarted (spawn EMFILE: Node returns a child without stdio pipes). Afterwards the daemon is alive,
// the healthy replica was never restarted, the exhaustion shows as events and a metric, and the
// replicas work again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { deploymentYaml, httpGet, serviceYaml, sleep, tideUp } from './helpers.ts';

const LIMIT = 256;

function fdCount(pid: number): number {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return -1; }
}

test('EMFILE in probes and spawn: the daemon survives, a healthy replica is not restarted', { timeout: 120_000 }, async () => {
  const live = deploymentYaml({
    name: 'live',
    readiness: false,
    extraContainerYaml: '        startupProbe: {httpGet: {path: /health, port: http}, failureThreshold: 600}\n        livenessProbe: {httpGet: {path: /health, port: http}, failureThreshold: 1}\n        readinessProbe: {exec: {command: [\"true\"]}, failureThreshold: 1}\n',
  });
  const crashy = deploymentYaml({ name: 'crashy', readiness: false, env: { CRASH: '1' } });
  const up = await tideUp([live, serviceYaml('live'), crashy].join('---\n'), ['--restart-backoff', '100ms'], { nofile: LIMIT });
  const flood: Socket[] = [];
  let flooding = true;
  try {
    await up.waitFor('live ready', async () => (await up.api<{ deployment: string; ready: boolean }[]>('GET', '/v1/pods')).json.some((p) => p.deployment === 'live' && p.ready));
    const before = (await up.api<{ deployment: string; name: string; restartCount: number }[]>('GET', '/v1/pods')).json.find((p) => p.deployment === 'live')!;
    assert.equal(before.restartCount, 0);
    const pid = up.proc.pid!;
    const port = JSON.parse(readFileSync(join(up.stateDir, 'daemon.json'), 'utf8')).port as number;
    const open = () => {
      if (!flooding) return;
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      s.on('close', () => { const i = flood.indexOf(s); if (i >= 0) flood.splice(i, 1); setTimeout(open, 20); });
      flood.push(s);
    };
    for (let i = 0; i < LIMIT + 20; i++) open();
    await up.waitFor('the daemon at its fd limit', async () => fdCount(pid) >= LIMIT - 2 || fdCount(pid) < 0, 30_000);
    // the daemon reports what it could not do (its stderr needs no new fd)
    await up.waitFor('a probe that could not run', async () => /pod\/live-\S+: ResourceExhausted: \w+ probe not run.*EMFILE/.test(up.output()), 30_000);
    await up.waitFor('a restart that could not spawn', async () => /pod\/crashy-\S+: ResourceExhausted: exec .*Tide could not start the process: EMFILE/.test(up.output()), 30_000);
    assert.ok(fdCount(pid) > 0, `the daemon died under fd exhaustion:\n${up.output()}`);
    flooding = false;
    for (const s of flood.splice(0)) s.destroy();
    await up.waitFor('fds released', async () => fdCount(pid) > 0 && fdCount(pid) < LIMIT / 2, 20_000);

    const pods = (await up.api<{ deployment: string; name: string; restartCount: number; ready: boolean }[]>('GET', '/v1/pods')).json;
    const after = pods.find((p) => p.deployment === 'live')!;
    assert.equal(after.name, before.name);
    assert.equal(after.restartCount, 0, 'a liveness probe Tide could not run must not restart the replica');
    assert.ok(after.ready);
    const svc = await up.serviceUrl('live');
    assert.equal((await httpGet(`${svc}/`)).status, 200);
    const metrics = await httpGet(`http://127.0.0.1:${port}/metrics`, 10_000, { authorization: `Bearer ${up.token()}` });
    const count = (op: string) => [...metrics.body.matchAll(new RegExp(`^tide_resource_exhaustion_total\\{operation="${op}",code="EMFILE"\\} (\\d+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
    assert.ok(count('probe') > 0, metrics.body);
    assert.ok(count('spawn') > 0, metrics.body);
    assert.doesNotMatch(metrics.body, /^tide_uncaught_errors_total\{[^}]*\} [1-9]/m);
    assert.doesNotMatch(up.output(), /BUG: uncaught/);
    // the crash-looping replica is still being restarted (spawns work again)
    await up.waitFor('crashy restarted after the fds came back', async () => {
      const c = (await up.api<{ deployment: string; lastState?: { reason: string } }[]>('GET', '/v1/pods')).json.find((p) => p.deployment === 'crashy');
      return c?.lastState?.reason === 'Error';
    });
    const events = (await up.api<{ reason: string; object: string }[]>('GET', '/v1/events')).json;
    assert.ok(events.some((e) => e.reason === 'ResourceExhausted' && e.object.startsWith('pod/live-')));
  } finally {
    flooding = false;
    for (const s of flood.splice(0)) s.destroy();
    await sleep(50);
    await up.stop();
  }
});
