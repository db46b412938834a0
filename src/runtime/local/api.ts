// The control API of `tide up`: JSON over HTTP on 127.0.0.1, used by the CLI (`tide get/describe/
// logs/scale/autoscale`) and documented in docs/control-api.md. Also serves Tide's /metrics.
// Every route but /healthz and the dashboard's static files needs the bearer token (auth.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DecisionRecord } from '../../core/decision.ts';
import type { LocalRuntime } from './controller.ts';
import type { AutoscalerStatus } from '../../autoscalers/types.ts';
import { HOST, type Replica } from './supervisor.ts';
import { Dashboard } from '../../dashboard/server.ts';
import { ApiAuth } from './auth.ts';
import { describeExhaustion, exhaustionCode } from './exhaustion.ts';
import { handleKubeApi } from './k8s-api.ts';

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) { super(message); this.status = status; }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) { size += (c as Buffer).length; if (size > 1 << 20) throw new HttpError(413, 'body too large'); chunks.push(c as Buffer); }
  if (!chunks.length) return {};
  try { return JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { throw new HttpError(400, 'body is not valid JSON'); }
}

/** A decision without its (large) replay inputs, for listings. */
export function slimDecision(r: DecisionRecord | undefined): Omit<DecisionRecord, 'inputs'> | undefined {
  if (!r) return undefined;
  const { inputs: _inputs, ...rest } = r;
  return rest;
}

export function podView(rt: LocalRuntime, r: Replica) {
  const s = r.status();
  const load = rt.serviceFor(r.deployment.name)?.proxy?.stats().replicas.find((x) => x.id === r.name);
  return { ...s, usage: rt.usage.usage(r.name), inFlight: load?.inFlight ?? 0, requestsTotal: load?.requestsTotal ?? 0, requests: r.deployment.container.requests };
}

function autoscalerView(rt: LocalRuntime, name: string): AutoscalerStatus & { lastDecision?: Omit<DecisionRecord, 'inputs'> } {
  const d = rt.drivers.get(name);
  if (!d) throw new HttpError(404, `horizontalpodautoscalers.autoscaling ${JSON.stringify(name)} not found`);
  const st = d.status();
  return { ...st, lastDecision: slimDecision(st.lastDecision) as DecisionRecord | undefined };
}

export interface StartedApi { server: Server; auth: ApiAuth }

export async function startApi(rt: LocalRuntime, port = 0, auth = new ApiAuth()): Promise<StartedApi> {
  // the live web dashboard (src/dashboard): GET /, /dashboard/*, /api/v1/dashboard, /api/v1/events
  const dashboard = new Dashboard(rt, { podView });
  const server = createServer((req, res) => {
    try {
      if (gate(auth, req, res)) return;
      if (dashboard.handle(req, res)) return;
      if (handleKubeApi(rt, req, res)) return;
    } catch (e) {
      if (!res.headersSent) send(res, 500, { error: (e as Error).message });
      else res.end();
      return;
    }
    handle(rt, auth, req, res).catch((e) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) send(res, status, { error: (e as Error).message });
      else res.end();
    });
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => { server.off('error', reject); resolve(); });
  });
  auth.listening(HOST, (server.address() as { port: number }).port);
  // accept errors (EMFILE/ENFILE when Tide is out of fds) must not kill the daemon: count and go on
  server.on('error', (e: NodeJS.ErrnoException) => {
    const code = exhaustionCode(e);
    if (code) rt.reportExhaustion('accept', code, 'api/control', `control API cannot accept connections: ${describeExhaustion(code)}`);
    else rt.log(`control API: ${e.message}`);
  });
  dashboard.attach(server);
  return { server, auth };
}

/** Public routes: /healthz and the dashboard's static page and assets (no data in them). */
function isPublic(path: string): boolean {
  return path === '/healthz' || path === '/' || path === '/dashboard' || (path.startsWith('/dashboard/') && path !== '/dashboard/login');
}

/** Access control; true when the request was answered here (refused, or the dashboard login). */
function gate(auth: ApiAuth, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const hostBad = auth.checkHost(req);
  if (hostBad) { send(res, hostBad.status, { error: hostBad.message }); return true; }
  if (url.pathname === '/dashboard/login' && (req.method === 'GET' || req.method === 'HEAD')) {
    const sid = auth.redeem(url.searchParams.get('code') ?? '');
    if (!sid) {
      const text = 'This dashboard login link is unknown, used or expired. Run `tide dashboard` for a new one.\n';
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
      return true;
    }
    res.writeHead(302, { location: '/dashboard/', 'set-cookie': auth.sessionCookie(sid), 'cache-control': 'no-store', 'content-length': 0, 'referrer-policy': 'no-referrer' });
    res.end();
    return true;
  }
  if (isPublic(url.pathname) && (req.method === 'GET' || req.method === 'HEAD')) return false;
  const bad = auth.check(req);
  if (bad) {
    res.setHeader('www-authenticate', 'Bearer realm="tide"');
    send(res, bad.status, { error: bad.message });
    return true;
  }
  return false;
}

async function handle(rt: LocalRuntime, auth: ApiAuth, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const q = url.searchParams;

  if (url.pathname === '/healthz') return void send(res, 200, { ok: true });
  if (url.pathname === '/metrics') {
    rt.refreshGauges();
    const text = await rt.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': rt.metrics.registry.contentType });
    return void res.end(text);
  }
  if (parts[0] !== 'v1') throw new HttpError(404, `no route ${method} ${url.pathname}`);

  switch (parts[1]) {
    case 'status':
      return void send(res, 200, {
        pid: process.pid,
        startedAt: rt.startedAt,
        dryRun: !!rt.opts.dryRun,
        replicaLimits: rt.opts.limits,
        syncPeriodMs: rt.opts.syncPeriodMs,
        files: rt.opts.files,
        stateDir: rt.opts.stateDir,
        warnings: rt.bundle.warnings,
      });
    case 'autoscalers': {
      if (parts.length === 2 && method === 'GET') {
        return void send(res, 200, [...rt.drivers.keys()].map((n) => autoscalerView(rt, n)));
      }
      if (parts.length === 2 && method === 'POST') {
        const body = await readJson(req);
        if (typeof body.deployment !== 'string') throw new HttpError(400, 'deployment (string) is required');
        try {
          const d = rt.createHpa(body.deployment, {
            name: typeof body.name === 'string' ? body.name : undefined,
            min: body.min === undefined ? undefined : Number(body.min),
            max: Number(body.max),
            cpuPercent: body.cpuPercent === undefined ? undefined : Number(body.cpuPercent),
          });
          return void send(res, 201, autoscalerView(rt, d.name));
        } catch (e) {
          const m = (e as Error).message;
          throw new HttpError(/already exists/.test(m) ? 409 : /not found/.test(m) ? 404 : /replica cap/.test(m) ? 422 : 400, m);
        }
      }
      if (parts.length === 3 && method === 'GET') {
        const view = autoscalerView(rt, parts[2]);
        const objects = [`horizontalpodautoscaler/${parts[2]}`, `${view.kind}/${parts[2]}`];
        const events = rt.events.filter((e) => objects.includes(e.object));
        return void send(res, 200, { ...view, events, decisions: (rt.decisions.get(parts[2]) ?? []).slice(-10).map(slimDecision) });
      }
      break;
    }
    case 'pods': {
      if (parts.length === 2 && method === 'GET') {
        const dep = q.get('deployment') ?? undefined;
        return void send(res, 200, rt.replicas(dep).map((r) => podView(rt, r)));
      }
      const r = parts[2] ? rt.findReplica(parts[2]) : undefined;
      if (!r) throw new HttpError(404, `pods ${JSON.stringify(parts[2])} not found`);
      if (parts.length === 3 && method === 'GET') {
        const events = rt.events.filter((e) => e.object === `pod/${r.name}`);
        return void send(res, 200, { ...podView(rt, r), events });
      }
      if (parts[3] === 'logs' && method === 'GET') {
        const tail = q.has('tail') ? Number(q.get('tail')) : -1;
        const lines = tail >= 0 ? r.logs.lines.slice(Math.max(0, r.logs.lines.length - tail)) : r.logs.lines;
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.write(lines.map((l) => l + '\n').join(''));
        if (q.get('follow') !== '1' && q.get('follow') !== 'true') return void res.end();
        const off = r.logs.follow((l) => res.write(l + '\n'));
        const timer = setInterval(() => { if (!rt.findReplica(r.name)) { cleanup(); res.end(); } }, 500);
        const cleanup = () => { off(); clearInterval(timer); };
        req.on('close', cleanup);
        res.on('close', cleanup);
        return;
      }
      break;
    }
    case 'decisions': {
      const name = q.get('autoscaler');
      const limit = Number(q.get('limit') ?? 100);
      const full = q.get('full') === '1';
      let list = name ? (rt.decisions.get(name) ?? []) : [...rt.decisions.values()].flat().sort((a, b) => a.now - b.now);
      list = list.slice(-limit);
      return void send(res, 200, full ? list : list.map(slimDecision));
    }
    case 'deployments': {
      if (parts.length === 2 && method === 'GET') {
        return void send(res, 200, [...rt.supervisors.values()].map((s) => ({
          name: s.deployment.name,
          desired: s.desired,
          replicas: s.active().length,
          ready: s.active().filter((r) => r.ready).length,
          terminating: [...s.replicas.values()].filter((r) => r.terminating).length,
          containerConcurrency: s.deployment.containerConcurrency,
          command: s.deployment.container.command,
        })));
      }
      if (parts.length === 4 && parts[3] === 'scale' && method === 'POST') {
        const body = await readJson(req);
        const n = Number(body.replicas);
        if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'replicas must be an integer >= 0');
        if (!rt.supervisors.has(parts[2])) throw new HttpError(404, `deployments.apps ${JSON.stringify(parts[2])} not found`);
        const over = rt.replicaCapProblem(parts[2], n);
        if (over) throw new HttpError(422, `Deployment.apps ${JSON.stringify(parts[2])} is invalid: spec.replicas: ${over}`);
        rt.scaleDeployment(parts[2], n);
        return void send(res, 200, { name: parts[2], replicas: n });
      }
      break;
    }
    case 'services':
      return void send(res, 200, [...rt.services.values()].map((s) => ({
        name: s.spec.name, port: s.port ?? null, manifestPort: s.spec.port, deployment: s.deployment ?? null, error: s.error ?? null,
        url: s.port ? `http://${HOST}:${s.port}` : null, stats: s.proxy?.stats() ?? null,
      })));
    case 'events':
      return void send(res, 200, rt.events.slice(-Number(q.get('limit') ?? 500)));
    case 'dashboard':
      // a one-time login link for the browser (`tide dashboard` prints it); bearer token only
      if (parts.length === 3 && parts[2] === 'login-codes' && method === 'POST') {
        const { code, expiresAt } = auth.loginCode();
        const port = (req.socket.localPort ?? 0);
        return void send(res, 201, { url: `http://${HOST}:${port}/dashboard/login?code=${code}`, expiresAt });
      }
      break;
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}
