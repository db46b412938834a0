// Real servers for tests: Redis, RabbitMQ (+ management plugin), NATS with JetStream, PostgreSQL and
// Prometheus, each started as a child process on free 127.0.0.1 ports in its own temp dir (no
// systemd, nothing system-wide), waited on until ready, and stopped afterwards. `restart()` brings a
// stopped server back on the same ports with the same data (outage tests).
//
// A missing binary is NOT an error: start*() returns null and prints a loud SKIP line; CI installs
// the packages (.ci/install-services.sh), so there the tests run. PostgreSQL refuses to run as root,
// so under root it runs as the `postgres` user via runuser.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Service {
  name: string;
  host: '127.0.0.1';
  port: number;
  /** Other ports (management, monitoring, …). */
  ports: Record<string, number>;
  dir: string;
  /** Stop the server (data kept). Safe to call twice. */
  stop(): Promise<void>;
  /** Start it again on the same ports after stop(). */
  restart(): Promise<void>;
  /** Stop and remove the temp dir. */
  dispose(): Promise<void>;
  /** Server output so far (for failure messages). */
  log(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
});

export function which(bin: string, extra: string[] = []): string | null {
  for (const p of [...extra, ...(process.env.PATH ?? '').split(':').map((d) => join(d, bin))]) {
    if (p && existsSync(p)) return p;
  }
  return null;
}

function skip(name: string, bin: string): null {
  const line = `\n${'!'.repeat(78)}\n!! SKIP: ${name} tests need \`${bin}\`, which is not installed.\n!! Run: sudo bash .ci/install-services.sh   (CI installs it; there these tests run)\n${'!'.repeat(78)}\n`;
  process.stderr.write(line);
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

async function httpOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const r = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
    await r.arrayBuffer();
    return r.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, proc: () => ChildProcess | null, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = proc();
    if (p && p.exitCode !== null) throw new Error(`${what} exited with code ${p.exitCode} before becoming ready:\n${log().slice(-3000)}`);
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs}ms:\n${log().slice(-3000)}`);
}

function stopProc(p: ChildProcess | null, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { try { p.kill('SIGKILL'); } catch { /* gone */ } }, graceMs);
    p.once('exit', () => { clearTimeout(t); live.delete(p); resolve(); });
    try { p.kill(signal); } catch { clearTimeout(t); resolve(); }
  });
}

interface Launch {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  afterStop?: () => void;
  /** Run as this user (PostgreSQL under root). */
  ids?: { uid: number; gid: number };
  /** Signal for a fast clean stop (default SIGTERM; PostgreSQL: SIGINT = fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

async function managed(name: string, dir: string, port: number, ports: Record<string, number>, launch: () => Launch): Promise<Service> {
  let proc: ChildProcess | null = null;
  let out = '';
  const stopSignal = launch().stopSignal ?? 'SIGTERM';
  const start = async () => {
    const l = launch();
    const p = spawn(l.cmd, l.args, { cwd: l.cwd ?? dir, env: { ...process.env, ...l.env }, stdio: ['ignore', 'pipe', 'pipe'], ...l.ids });
    live.add(p);
    p.stdout!.on('data', (b: Buffer) => { out += b.toString(); if (out.length > 200_000) out = out.slice(-100_000); });
    p.stderr!.on('data', (b: Buffer) => { out += b.toString(); if (out.length > 200_000) out = out.slice(-100_000); });
    p.on('exit', () => live.delete(p));
    proc = p;
    try {
      await waitFor(l.name, l.ready, l.readyTimeoutMs ?? 20_000, () => proc, () => out);
    } catch (e) {
      await stopProc(p, 2000);
      l.afterStop?.();
      throw e;
    }
  };
  await start();
  let stopped = false;
  const svc: Service = {
    name, host: '127.0.0.1', port, ports, dir,
    async stop() {
      const p = proc;
      proc = null;
      await stopProc(p, 10_000, stopSignal);
      launch().afterStop?.();
      stopped = true;
    },
    async restart() {
      if (!stopped) await svc.stop();
      stopped = false;
      await start();
    },
    async dispose() {
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => out,
  };
  return svc;
}

function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `tide-${name}-`));
}

// ---- Redis -----------------------------------------------------------------------------------------
/** `password`: the server requires it (requirepass), also after restart(). */
export async function startRedis(opts: { password?: string } = {}): Promise<Service | null> {
  const bin = which('redis-server');
  if (!bin) return skip('redis', 'redis-server');
  const dir = tempDir('redis');
  const port = await freePort();
  const auth = opts.password !== undefined ? ['--requirepass', opts.password] : [];
  return managed('redis', dir, port, {}, () => ({
    name: 'redis-server',
    cmd: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes', ...auth],
    ready: async () => {
      if (!(await tcpOpen(port))) return false;
      return new Promise((resolve) => {
        let got = '';
        const s = connect({ host: '127.0.0.1', port }, () => s.write(opts.password !== undefined ? `AUTH ${opts.password}\r\nPING\r\n` : 'PING\r\n'));
        s.on('data', (d) => { got += d.toString(); if (got.includes('+PONG') || got.includes('-')) { s.destroy(); resolve(got.includes('+PONG')); } });
        s.once('error', () => resolve(false));
      });
    },
  }));
}

// ---- NATS (JetStream + monitoring) ---------------------------------------------------------------------
export async function startNats(): Promise<Service | null> {
  const bin = which('nats-server', [join(process.env.GOBIN ?? join(process.env.HOME ?? '', 'go', 'bin'), 'nats-server')]);
  if (!bin) return skip('nats-jetstream', 'nats-server');
  const dir = tempDir('nats');
  const port = await freePort();
  const monitor = await freePort();
  return managed('nats', dir, port, { monitor }, () => ({
    name: 'nats-server',
    cmd: bin,
    args: ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-js', '-sd', join(dir, 'js')],
    ready: () => httpOk(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`),
  }));
}

// ---- Prometheus ---------------------------------------------------------------------------------------
/** Prometheus scraping `targets` (host:port list, /metrics) every second. */
export async function startPrometheus(targets: string[]): Promise<Service | null> {
  const bin = which('prometheus');
  if (!bin) return skip('prometheus', 'prometheus');
  const dir = tempDir('prom');
  const port = await freePort();
  const cfg = join(dir, 'prometheus.yml');
  writeFileSync(cfg, [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: tide-test',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n'));
  return managed('prometheus', dir, port, {}, () => ({
    name: 'prometheus',
    cmd: bin,
    args: [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    ready: () => httpOk(`http://127.0.0.1:${port}/-/ready`),
    readyTimeoutMs: 30_000,
  }));
}

// ---- PostgreSQL -----------------------------------------------------------------------------------------
function pgBin(name: string): string | null {
  const extra: string[] = [];
  for (const v of ['17', '16', '15', '14', '13']) extra.push(`/usr/lib/postgresql/${v}/bin/${name}`);
  return which(name, extra);
}

export async function startPostgres(): Promise<Service | null> {
  const initdb = pgBin('initdb');
  const postgres = pgBin('postgres');
  if (!initdb || !postgres) return skip('postgresql', 'postgres/initdb (package postgresql)');
  const dir = tempDir('pg');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
    if (!Number.isFinite(uid) || uid <= 0) return skip('postgresql (running as root needs the postgres user)', 'postgres user');
    chownSync(dir, uid, gid);
    ids = { uid, gid };
  }
  const data = join(dir, 'data');
  const r = spawnSync(initdb, ['-D', data, '-U', 'tide', '--auth=trust', '-E', 'UTF8', '--no-sync'], { encoding: 'utf8', cwd: dir, ...ids });
  if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
  return managed('postgresql', dir, port, {}, () => ({
    name: 'postgres',
    cmd: postgres,
    args: ['-D', data, '-k', dir, '-h', '127.0.0.1', '-p', String(port), '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    ids,
    ready: () => pgReady(port),
    stopSignal: 'SIGINT',
  }));
}

async function pgReady(port: number): Promise<boolean> {
  if (!(await tcpOpen(port))) return false;
  const { default: pg } = await import('pg');
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'tide', database: 'postgres', connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

// ---- RabbitMQ (+ management) -------------------------------------------------------------------------------
export async function startRabbitMQ(): Promise<Service | null> {
  const bin = which('rabbitmq-server', ['/usr/lib/rabbitmq/bin/rabbitmq-server']);
  const direct = existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server') ? '/usr/lib/rabbitmq/bin/rabbitmq-server' : bin;
  if (!direct) return skip('rabbitmq', 'rabbitmq-server');
  const epmd = which('epmd', ['/usr/lib/erlang/bin/epmd']);
  const dir = tempDir('rabbit');
  const port = await freePort();
  const management = await freePort();
  const dist = await freePort();
  const epmdPort = await freePort();
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), [
    `listeners.tcp.default = 127.0.0.1:${port}`,
    `management.tcp.port = ${management}`,
    'management.tcp.ip = 127.0.0.1',
    'log.console = true',
    'log.console.level = warning',
    'log.file = false',
    'collect_statistics_interval = 1000',
    '',
  ].join('\n'));
  mkdirSync(join(dir, 'mnesia'), { recursive: true });
  const env: Record<string, string> = {
    HOME: dir,
    RABBITMQ_NODENAME: `tide${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(dist),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
  };
  const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
  return managed('rabbitmq', dir, port, { management, epmd: epmdPort }, () => ({
    name: 'rabbitmq-server',
    cmd: direct,
    args: [],
    env,
    readyTimeoutMs: 90_000,
    ready: async () => (await tcpOpen(port)) && httpOk(`http://127.0.0.1:${management}/api/overview`, auth),
    afterStop: () => {
      // the node's private epmd (on its own port) outlives the node: stop just that one
      if (epmd) spawnSync(epmd, ['-port', String(epmdPort), '-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(epmdPort) }, timeout: 5000 });
    },
  }));
}
