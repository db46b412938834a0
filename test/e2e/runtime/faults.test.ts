// Fault tests for `tide up`: a replica killed mid-request, a replica failing readiness, a crashing
// command, a command that does not exist, a Service port already in use, malformed manifests.
// Each checks the message a person sees and that the daemon keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { deploymentYaml, hpaYaml, httpGet, runCli, serviceYaml, sleep, TIDE, tideUp } from './helpers.ts';

type Pod = { name: string; ready: boolean; pid?: number; restartCount: number; status: string; deletionTimestamp?: number };

function post(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', timeout: timeoutMs }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); res.on('error', () => resolve(0)); });
    req.on('timeout', () => req.destroy(new Error('hang')));
    req.on('error', (e) => resolve(e.message === 'hang' ? -1 : 0));
    req.end('payload');
  });
}

test('a replica killed mid-request: clients get an answer (error or retried), never a hang; the replica restarts', { timeout: 60_000 }, async () => {
  const up = await tideUp(deploymentYaml({ replicas: 2 }) + '---\n' + serviceYaml());
  try {
    const url = await up.serviceUrl();
    await up.waitFor('2 ready', async () => (await up.api<Pod[]>('GET', '/v1/pods')).json.filter((p) => p.ready).length === 2);
    const gets = Array.from({ length: 6 }, () => httpGet(`${url}/sleep?ms=1500`, 10_000));
    const posts = Array.from({ length: 4 }, () => post(`${url}/sleep?ms=1500`, 10_000));
    await sleep(400);
    const pods = (await up.api<Pod[]>('GET', '/v1/pods')).json;
    const victim = pods[0];
    process.kill(-victim.pid!, 'SIGKILL');
    const getResults = await Promise.all(gets);
    const postResults = await Promise.all(posts);
    for (const r of getResults) assert.ok([200, 502, 503].includes(r.status), `GET answered ${r.status} ${r.body}`);
    for (const s of postResults) assert.ok(s === 200 || s === 502 || s === 503, `POST answered ${s} (-1 = hang)`);
    await up.waitFor('the killed replica restarted and is ready', async () => {
      const p = (await up.api<Pod[]>('GET', '/v1/pods')).json.find((x) => x.name === victim.name);
      return p && p.restartCount === 1 && p.ready;
    });
    const after = await httpGet(`${url}/`);
    assert.equal(after.status, 200);
  } finally { await up.stop(); }
});

test('a replica failing readiness gets no traffic, and gets it again once ready', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-ready-'));
  const file = join(dir, 'unready');
  const up = await tideUp(deploymentYaml({ replicas: 2, env: { NOT_READY_FILE: file } }) + '---\n' + serviceYaml());
  try {
    const url = await up.serviceUrl();
    await up.waitFor('2 ready', async () => (await up.api<Pod[]>('GET', '/v1/pods')).json.filter((p) => p.ready).length === 2);
    const [bad, good] = (await up.api<Pod[]>('GET', '/v1/pods')).json;
    writeFileSync(file, bad.name);
    await up.waitFor('one replica unready', async () => (await up.api<Pod[]>('GET', '/v1/pods')).json.find((p) => p.name === bad.name)?.ready === false);
    const pods = await up.cli(['get', 'pods']);
    assert.match(pods.stdout, new RegExp(`${bad.name}\\s+0/1\\s+Running`));
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await httpGet(`${url}/`);
      assert.equal(r.status, 200);
      served.add(r.body.trim());
    }
    assert.deepEqual([...served], [good.name]);
    const desc = await up.cli(['describe', 'pod', bad.name]);
    assert.match(desc.stdout, /Readiness probe failed: HTTP probe failed with statuscode: 503/);
    unlinkSync(file);
    await up.waitFor('ready again', async () => (await up.api<Pod[]>('GET', '/v1/pods')).json.every((p) => p.ready));
    await up.waitFor('traffic to both', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const rs = await Promise.all([httpGet(`${url}/sleep?ms=30`), httpGet(`${url}/sleep?ms=30`)]);
        for (const r of rs) seen.add(r.body.trim());
      }
      return seen.size === 2;
    });
  } finally { await up.stop(); rmSync(dir, { recursive: true, force: true }); }
});

test('a crashing command shows CrashLoopBackOff in `tide get pods`; its output is in `tide logs`', { timeout: 60_000 }, async () => {
  const up = await tideUp(deploymentYaml({ env: { CRASH: '1' } }) + '---\n' + serviceYaml(), ['--restart-backoff', '1s'], { waitReady: false });
  try {
    const pod = await up.waitFor('CrashLoopBackOff with restarts', async () => {
      const p = (await up.api<Pod[]>('GET', '/v1/pods')).json[0];
      return p && p.status === 'CrashLoopBackOff' && p.restartCount >= 2 ? p : undefined;
    });
    // the state keeps cycling (back-off → start → crash), so poll the CLI until it shows the back-off
    await up.waitFor('CrashLoopBackOff in `tide get pods`', async () =>
      new RegExp(`${pod.name}\\s+0/1\\s+CrashLoopBackOff\\s+\\d+ \\(\\d+s ago\\)`).test((await up.cli(['get', 'pods'])).stdout));
    const logs = await up.cli(['logs', pod.name]);
    assert.equal(logs.code, 0);
    assert.match(logs.stdout, /fixture: crashing on purpose/);
    const url = await up.serviceUrl();
    const r = await httpGet(`${url}/`, 3000);
    assert.notEqual(r.status, 200); // nothing ready: the proxy answers (503/504) or the client gives up; never 200
    const missing = await up.cli(['logs', 'no-such-pod']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pods "no-such-pod" not found/);
  } finally { await up.stop(); }
});

test('a command that does not exist: a clear RunContainerError, the daemon keeps serving', { timeout: 60_000 }, async () => {
  const up = await tideUp(deploymentYaml({ command: ['/no/such/model-server', '--port', '8080'] }), ['--restart-backoff', '300ms'], { waitReady: false });
  try {
    const p = await up.waitFor('a failed start', async () => (await up.api<Pod[]>('GET', '/v1/pods')).json.find((x) => x.restartCount >= 1));
    const desc = await up.cli(['describe', 'pod', p.name]);
    assert.match(desc.stdout, /executable file not found/);
    assert.match(desc.stdout, /\/no\/such\/model-server/);
    assert.match(up.output(), /executable file not found/);
    assert.equal((await up.api('GET', '/healthz')).status, 200);
  } finally { await up.stop(); }
});

test('a Service port already in use: a clear message, the Deployment still runs and the API serves', { timeout: 60_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), 'tide-port-'));
  writeFileSync(join(dir, 'app.yaml'), deploymentYaml() + '---\n' + serviceYaml('tiny', port));
  const proc = spawn(process.execPath, [TIDE, 'up', 'app.yaml', '--sync-period', '1s'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr.on('data', (d) => { out += d; });
  proc.stdout.on('data', (d) => { out += d; });
  try {
    const end = Date.now() + 15_000;
    while (!/already in use/.test(out) && Date.now() < end) await sleep(100);
    assert.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use by another process; Service tiny is not served`));
    let pods = { stdout: '' };
    while (Date.now() < end) {
      pods = await runCli(['get', 'pods'], dir);
      if (/1\/1\s+Running/.test(pods.stdout)) break;
      await sleep(200);
    }
    assert.match(pods.stdout, /1\/1\s+Running/);
    const svc = await runCli(['get', 'svc'], dir);
    assert.match(svc.stdout, /^tiny\s+ClusterIP\s+127\.0\.0\.1\s+<none>\s+\d+\/TCP\s+\d+s$/m);
    assert.match(svc.stderr, /warning: service\/tiny is not served: port \d+ on 127\.0\.0\.1 is already in use .*tide up --ephemeral-ports/);
  } finally {
    proc.kill('SIGINT');
    await new Promise((r) => proc.on('exit', r));
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed manifests: `tide up` exits 1 naming file:line', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bad-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n spec: [oops\n');
    const r1 = await runCli(['up', 'bad.yaml'], dir);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /^(tide: )?\s*bad\.yaml:\d+:\d+: /m);
    assert.doesNotMatch(r1.stderr, /\n\s+at /, 'no stack trace');
    writeFileSync(join(dir, 'bad2.yaml'), serviceYaml() + '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tiny\nspec:\n  template:\n    spec:\n      containers: []\n');
    const r2 = await runCli(['up', 'bad2.yaml'], dir);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /bad2\.yaml:\d+(:\d+)?: .*containers/);
    writeFileSync(join(dir, 'bad3.yaml'), deploymentYaml() + '---\n' + hpaYaml({ name: 'other' }));
    const r3 = await runCli(['up', 'bad3.yaml'], dir);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /bad3\.yaml:\d+(:\d+)?: .*other/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a daemon killed hard leaves replicas behind; the next `tide up` in that folder reaps them', { timeout: 60_000 }, async () => {
  const up = await tideUp(deploymentYaml() + '---\n' + serviceYaml());
  const pod = (await up.api<Pod[]>('GET', '/v1/pods')).json[0];
  // the daemon's watchdog (reaper.ts) would kill the replica at once (restart.test.ts covers that);
  // kill it first, as if it had died too, to test the next `tide up`'s own reaping
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try { const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8'); if (cmd.includes('reaper.ts') && cmd.includes(up.stateDir)) process.kill(Number(e), 'SIGKILL'); } catch { /* gone */ }
  }
  up.proc.kill('SIGKILL');
  await new Promise((r) => up.proc.once('exit', r));
  process.kill(pod.pid!, 0); // still alive: nothing could stop it
  const again = spawn(process.execPath, [TIDE, 'up', 'app.yaml', '--ephemeral-ports'], { cwd: up.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDE_E2E_MARKER: up.dir } });
  let out = '';
  again.stderr.on('data', (d) => { out += d; });
  try {
    const end = Date.now() + 15_000;
    while (!/leftover replica process/.test(out) && Date.now() < end) await sleep(100);
    assert.match(out, /killed 1 leftover replica process\(es\) of a previous daemon/);
    const gone = () => { try { return / Z /.test(readFileSync(`/proc/${pod.pid}/stat`, 'utf8')); } catch { return true; } };
    const t = Date.now() + 3000;
    while (!gone() && Date.now() < t) await sleep(50);
    assert.ok(gone(), 'the leftover replica is dead (gone, or a zombie waiting for init)');
  } finally {
    again.kill('SIGINT');
    await new Promise((r) => again.once('exit', r));
    await up.stop();
  }
});
