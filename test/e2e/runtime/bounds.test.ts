// Replica caps: a manifest over the cap is refused before anything starts (file:line:col), the scale
// API answers 422 with the reason, and 200 replicas (half of them ignoring SIGTERM) shut down within
// their grace period with no process left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentYaml, pidsWithEnv, runCli, serviceYaml, sleep, tideUp } from './helpers.ts';

test('replicas: 1000000 in a manifest is refused at its position, nothing is started', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-e2e-'));
  try {
    writeFileSync(join(dir, 'app.yaml'), deploymentYaml({ replicas: 1_000_000 }));
    const r = await runCli(['up', 'app.yaml', '--ephemeral-ports'], dir, 30_000);
    assert.equal(r.code, 1, r.stderr);
    // deploymentYaml puts `replicas:` on line 6, the value at column 13
    assert.match(r.stderr, /app\.yaml:6:13: spec\.replicas: 1000000 replicas is more than the cap of \d+ per Deployment \(at most \d+; derived from \d+ cores, [\d.]+ GiB memory, ulimit -n \d+; raise it with --max-replicas\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    // the total over several Deployments
    writeFileSync(join(dir, 'app.yaml'), [deploymentYaml({ name: 'a', replicas: 3 }), deploymentYaml({ name: 'b', replicas: 3 })].join('---\n'));
    const t = await runCli(['up', 'app.yaml', '--ephemeral-ports', '--max-replicas', '4', '--max-total-replicas', '5'], dir, 30_000);
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /app\.yaml:\d+:13: spec\.replicas: 3 replicas would make 6 in total, more than the cap of 5 for all Deployments \(at most 2 here/);
    assert.deepEqual(pidsWithEnv(`TIDE_REPLICA_OF=${join(dir, '.tide')}`), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the scale API answers 422 over the cap; autoscale --max over it too', { timeout: 60_000 }, async () => {
  const up = await tideUp([deploymentYaml({ name: 'a' }), deploymentYaml({ name: 'b' })].join('---\n'), ['--max-replicas', '3', '--max-total-replicas', '4']);
  try {
    const over = await up.api('POST', '/v1/deployments/a/scale', { replicas: 1_000_000 });
    assert.equal(over.status, 422);
    assert.match(over.json.error, /spec\.replicas: 1000000 replicas is more than the cap of 3 per Deployment/);
    assert.equal((await up.api('POST', '/v1/deployments/a/scale', { replicas: 3 })).status, 200);
    const total = await up.api('POST', '/v1/deployments/b/scale', { replicas: 2 });
    assert.equal(total.status, 422);
    assert.match(total.json.error, /would make 5 in total, more than the cap of 4 for all Deployments \(at most 1 here/);
    const cli = await up.cli(['scale', 'deployment', 'b', '--replicas=3']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /more than the cap of 3 per Deployment|more than the cap of 4 for all/);
    const hpa = await up.api('POST', '/v1/autoscalers', { deployment: 'b', max: 50 });
    assert.equal(hpa.status, 422);
    assert.match(hpa.json.error, /--max=50 is above the replica cap of 3 per Deployment/);
    const deps = (await up.api<{ name: string; desired: number }[]>('GET', '/v1/deployments')).json;
    assert.deepEqual(deps.map((d) => [d.name, d.desired]), [['a', 3], ['b', 1]]);
    assert.deepEqual((await up.api('GET', '/v1/status')).json.replicaLimits.total, 4);
  } finally {
    await up.stop();
  }
});

test('200 replicas (half ignore SIGTERM) stop within their grace period, no orphans', { timeout: 180_000 }, async () => {
  const grace = 3;
  const polite = deploymentYaml({ name: 'polite', replicas: 100, readiness: false, cpuRequest: null, grace, command: ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"] });
  const stubborn = deploymentYaml({ name: 'stubborn', replicas: 100, readiness: false, cpuRequest: null, grace, command: ['/bin/sh', '-c', "trap '' TERM; while :; do sleep 1; done"] });
  const up = await tideUp([polite, serviceYaml('polite'), stubborn].join('---\n'), ['--max-replicas', '150', '--max-total-replicas', '250'], { waitReady: false });
  let stopped = false;
  try {
    await up.waitFor('200 running replicas', async () => {
      const pods = (await up.api<{ pid?: number; status: string }[]>('GET', '/v1/pods')).json;
      return pods.filter((p) => p.pid && p.status === 'Running').length === 200;
    }, 120_000);
    assert.equal(pidsWithEnv(`TIDE_E2E_MARKER=${up.dir}`).length >= 200, true);
    const t0 = Date.now();
    up.proc.kill('SIGINT');
    await new Promise<void>((resolve) => { if (up.proc.exitCode !== null) resolve(); else up.proc.once('exit', () => resolve()); });
    stopped = true;
    const took = Date.now() - t0;
    console.error(`200 replicas stopped in ${took} ms (grace ${grace} s)`);
    // grace period, then SIGKILL; the margin is for a loaded CI machine, not for a missing bound
    assert.ok(took < grace * 1000 + 15_000, `shutdown took ${took} ms`);
    assert.match(up.output(), /stopped/);
    let left = pidsWithEnv(`TIDE_E2E_MARKER=${up.dir}`);
    for (let i = 0; left.length && i < 20; i++) { await sleep(100); left = pidsWithEnv(`TIDE_E2E_MARKER=${up.dir}`); }
    assert.deepEqual(left, []);
  } finally {
    if (!stopped) up.proc.kill('SIGKILL');
    await up.stop();
  }
});
