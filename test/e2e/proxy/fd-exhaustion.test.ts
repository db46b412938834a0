// Out of file descriptors (EMFILE on accept): the Service proxy must not die, must keep serving the
// connections it has, and must accept again once fds are free. The proxy runs in a child process
// under `ulimit -n 64`; the test floods it with idle connections. (libuv answers EMFILE on accept
// with its reserved-fd trick: it accepts and closes the pending connections, so the listener does
// not spin and no error reaches JavaScript; any accept error that does reach it is reported.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startUpstream } from './helpers.ts';
import { createProxy } from '../../../src/runtime/local/proxy.ts';

const CHILD = fileURLToPath(new URL('./fixtures/fd-limited-proxy.ts', import.meta.url));

/** One keep-alive HTTP/1.1 client connection that sends GETs and reads Content-Length responses. */
function keepAlive(port: number): Promise<{ get(path: string): Promise<number>; close(): void }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let waiting: ((status: number) => void) | undefined;
    let failed: ((e: Error) => void) | undefined;
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const status = Number(buf.slice(9, 12));
      buf = buf.slice(end + 4 + len);
      const w = waiting; waiting = undefined; w?.(status);
    });
    s.on('error', (e) => failed?.(e));
    s.on('close', () => failed?.(new Error('connection closed')));
    s.once('connect', () => resolve({
      get: (path) => new Promise((res, rej) => { waiting = res; failed = rej; s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`); }),
      close: () => s.destroy(),
    }));
    s.once('error', reject);
  });
}

for (const engine of ['raw', 'node-http'] as const) {
  test(`${engine}: out of fds, the proxy lives on, serves its connections, sheds new ones, and accepts again when fds free up`, async (t) => {
    const up = await startUpstream((_req, res) => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); });
    t.after(() => up.close());
    const child = spawn('bash', ['-c', `ulimit -n 64; exec "${process.execPath}" "${CHILD}" ${engine} ${up.port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const lines: Record<string, unknown>[] = [];
    let notify: (() => void) | undefined;
    let rest = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      rest += d;
      let nl;
      while ((nl = rest.indexOf('\n')) >= 0) { lines.push(JSON.parse(rest.slice(0, nl))); rest = rest.slice(nl + 1); notify?.(); }
    });
    const until = async (pred: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!pred()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}; child said ${JSON.stringify(lines)}`);
        await new Promise<void>((r) => { notify = r; setTimeout(r, 100); });
      }
    };
    await until(() => lines.some((l) => 'port' in l), 'the port');
    const port = (lines.find((l) => 'port' in l) as { port: number }).port;

    // a kept-alive connection, used once so the proxy also holds a pooled replica connection
    const kept = await keepAlive(port);
    assert.equal(await kept.get('/before'), 200);

    // flood: far more connections than the child has fds
    const flood: net.Socket[] = [];
    let shed = 0;
    for (let i = 0; i < 120; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => { shed++; notify?.(); });
      flood.push(s);
    }
    // past the limit, libuv accepts with its reserved fd and closes at once (no busy loop, no error)
    await until(() => shed > 0, 'connections beyond the fd limit to be shed');
    assert.ok(!lines.some((l) => 'uncaught' in l), JSON.stringify(lines));
    assert.equal(child.exitCode, null, 'the proxy process is alive');

    // the existing connection is still served while the process is out of fds
    assert.equal(await kept.get('/during'), 200);

    // fds free up: accepting works again
    for (const s of flood) s.destroy();
    let status = 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const c = await keepAlive(port);
        status = await c.get('/after');
        c.close();
        break;
      } catch { await new Promise((r) => setTimeout(r, 200)); }
    }
    assert.equal(status, 200, 'a new connection is served after the flood');
    assert.equal(await kept.get('/after-too'), 200);
    kept.close();
    assert.ok(!lines.some((l) => 'uncaught' in l), JSON.stringify(lines));
    assert.equal(child.exitCode, null);
    child.kill('SIGTERM');
    await once(child, 'exit');
  });
}

for (const engine of ['raw', 'node-http'] as const) {
  test(`${engine}: an accept error that reaches the listener goes to the observer and the proxy keeps listening`, async (t) => {
    const up = await startUpstream((_req, res) => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); });
    t.after(() => up.close());
    const heard: string[] = [];
    const p = await createProxy({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 5000, engine }, { onAcceptError: (e) => heard.push(String(e.code)) });
    t.after(() => p.close());
    p.addReplica('a', { host: '127.0.0.1', port: up.port });
    p.setReady('a', true);
    const server = (p as unknown as { server: net.Server }).server;
    server.emit('error', Object.assign(new Error('accept ENFILE'), { code: 'ENFILE', syscall: 'accept' }));
    assert.deepEqual(heard, ['ENFILE']);
    const c = await keepAlive(p.port);
    assert.equal(await c.get('/'), 200);
    c.close();
  });
}
