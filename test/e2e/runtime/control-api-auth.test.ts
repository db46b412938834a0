// The control API refuses what a web page or another local user could send: no token (401), a
// foreign Host (DNS rebinding, 403), a cross-origin or non-JSON mutation (CSRF, 403), and the
// dashboard session cookie only reads. The token file is the owner's only (mode 0600).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { deploymentYaml, serviceYaml, tideUp, type Up } from './helpers.ts';

interface Res { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('control API access control', { timeout: 60_000 }, () => {
  let up: Up;
  let port: number;
  let token: string;
  before(async () => {
    up = await tideUp(deploymentYaml() + '---\n' + serviceYaml());
    port = JSON.parse(readFileSync(join(up.stateDir, 'daemon.json'), 'utf8')).port;
    token = up.token();
  });
  after(async () => { await up?.stop(); });

  const desired = async () => (await up.api<{ desired: number }[]>('GET', '/v1/deployments')).json[0].desired;

  test('the token file is private and the CLI uses it', async () => {
    assert.equal(statSync(join(up.stateDir, 'api-token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(up.stateDir, 'daemon.json')).mode & 0o077, 0);
    assert.ok(token.length >= 40);
    const get = await up.cli(['get', 'deploy']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^tiny\s/m);
  });

  test('no token: 401 for reads and writes (healthz and the static page stay open)', async () => {
    for (const path of ['/v1/pods', '/v1/pods/x/logs', '/v1/decisions', '/metrics', '/api/v1/dashboard']) {
      const r = await raw(port, 'GET', path, {});
      assert.equal(r.status, 401, path);
      assert.match(JSON.parse(r.body).error, /API token/);
    }
    assert.equal((await raw(port, 'GET', '/v1/pods', { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await raw(port, 'GET', '/healthz', {})).status, 200);
    assert.equal((await raw(port, 'GET', '/dashboard/', {})).status, 200);
    assert.equal((await raw(port, 'GET', '/metrics', { authorization: `Bearer ${token}` })).status, 200);
  });

  test('a cross-site text/plain POST (CSRF shape) does not scale', async () => {
    const before = await desired();
    const body = JSON.stringify({ replicas: 3 });
    const csrf = await raw(port, 'POST', '/v1/deployments/tiny/scale', { 'content-type': 'text/plain', origin: 'http://evil.example' }, body);
    assert.equal(csrf.status, 403);
    // even with the token: a foreign Origin, or a body that is not declared JSON, is refused
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await raw(port, 'POST', '/v1/deployments/tiny/scale', { ...auth, 'content-type': 'application/json', origin: 'http://evil.example' }, body)).status, 403);
    const plain = await raw(port, 'POST', '/v1/deployments/tiny/scale', { ...auth, 'content-type': 'text/plain' }, body);
    assert.equal(plain.status, 403);
    assert.match(JSON.parse(plain.body).error, /Content-Type: application\/json/);
    assert.equal((await raw(port, 'POST', '/v1/autoscalers', { 'content-type': 'text/plain' }, JSON.stringify({ deployment: 'tiny', max: 5 }))).status, 403);
    assert.equal((await raw(port, 'POST', '/v1/autoscalers', { 'content-type': 'application/json' }, JSON.stringify({ deployment: 'tiny', max: 5 }))).status, 401);
    assert.equal(await desired(), before);
    assert.equal((await up.api('GET', '/v1/autoscalers')).json.length, 0);
    // the same request, same-origin and JSON with the token, works
    const ok = await raw(port, 'POST', '/v1/deployments/tiny/scale', { ...auth, 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` }, JSON.stringify({ replicas: before }));
    assert.equal(ok.status, 200, ok.body);
  });

  test('DNS rebinding: a foreign Host is refused even with a valid token', async () => {
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`, `127.0.0.1`]) {
      const r = await raw(port, 'GET', '/v1/pods', { host, authorization: `Bearer ${token}` });
      assert.equal(r.status, 403, host);
      assert.match(JSON.parse(r.body).error, /DNS rebinding/);
    }
    assert.equal((await raw(port, 'GET', '/v1/pods', { host: `localhost:${port}`, authorization: `Bearer ${token}` })).status, 200);
  });

  test('dashboard login: a single-use code becomes a read-only HttpOnly SameSite=Strict cookie', async () => {
    const link = (await up.cli(['dashboard'])).stdout.trim();
    const path = new URL(link).pathname + new URL(link).search;
    const login = await raw(port, 'GET', path, {});
    assert.equal(login.status, 302);
    assert.equal(login.headers.location, '/dashboard/');
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const sid = cookie.split(';')[0];
    assert.equal((await raw(port, 'GET', path, {})).status, 401, 'the code works once');
    assert.equal((await raw(port, 'GET', '/api/v1/dashboard', { cookie: sid })).status, 200);
    assert.equal((await raw(port, 'GET', '/v1/pods', { cookie: sid })).status, 200);
    const w = await raw(port, 'POST', '/v1/deployments/tiny/scale', { cookie: sid, 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` }, '{"replicas":2}');
    assert.equal(w.status, 403);
    assert.match(JSON.parse(w.body).error, /may only read/);
    assert.equal((await raw(port, 'GET', '/v1/pods', { cookie: 'tide_session=forged' })).status, 401);
  });
});
