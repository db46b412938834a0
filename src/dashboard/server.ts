// HTTP side of the live dashboard, mounted on the control API of `tide up` (127.0.0.1 only):
//   GET /                        → redirect to /dashboard/
//   GET /dashboard/              the page (plain HTML + ES module, no build step, no CDN)
//   GET /dashboard/{app.js,app.css,uplot.js,uplot.css}  static assets (uPlot from node_modules)
//   GET /api/v1/dashboard        JSON snapshot: meta, the sample history (~10 min), pods, decisions
//   GET /api/v1/events           Server-Sent Events: `snapshot` once, then `update` every sample
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalRuntime } from '../runtime/local/controller.ts';
import { DashboardHistory, type HistoryOptions } from './history.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

function uplotDist(): string {
  const main = createRequire(import.meta.url).resolve('uplot'); // …/node_modules/uplot/dist/uPlot.cjs.js
  return dirname(main);
}

const ASSETS: Record<string, { file: () => string; type: string }> = {
  '': { file: () => join(HERE, 'static/index.html'), type: 'text/html; charset=utf-8' },
  'index.html': { file: () => join(HERE, 'static/index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { file: () => join(HERE, 'static/app.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: () => join(HERE, 'static/app.css'), type: 'text/css; charset=utf-8' },
  'uplot.js': { file: () => join(uplotDist(), 'uPlot.esm.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: () => join(uplotDist(), 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export class Dashboard {
  readonly history: DashboardHistory;
  private readonly clients = new Set<ServerResponse>();
  private readonly cache = new Map<string, Buffer>();

  constructor(rt: LocalRuntime, opts: HistoryOptions) {
    this.history = new DashboardHistory(rt, opts);
  }

  /** Start sampling and stop (ending SSE streams) when `server` closes. */
  attach(server: Server): void {
    this.history.start();
    server.on('close', () => this.close());
  }

  close(): void {
    this.history.close();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private asset(name: string): Buffer | undefined {
    const a = ASSETS[name];
    if (!a) return undefined;
    let b = this.cache.get(name);
    if (!b) { b = readFileSync(a.file()); this.cache.set(name, b); }
    return b;
  }

  /** Serve the request if it is a dashboard route; false otherwise (the control API handles it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    try {
      return this.route(req, res);
    } catch (e) {
      if (!res.headersSent) {
        const text = JSON.stringify({ error: `dashboard: ${(e as Error).message}` });
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      } else res.end();
      return true;
    }
  }

  private route(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (p === '/' || p === '/dashboard') {
      res.writeHead(302, { location: '/dashboard/', 'content-length': 0 });
      res.end();
      return true;
    }
    if (p.startsWith('/dashboard/')) {
      const name = p.slice('/dashboard/'.length);
      const body = Object.hasOwn(ASSETS, name) ? this.asset(name) : undefined;
      if (!body) {
        const text = JSON.stringify({ error: `no dashboard asset ${JSON.stringify(name)}` });
        res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return true;
      }
      res.writeHead(200, { 'content-type': ASSETS[name].type, 'content-length': body.length, 'cache-control': 'no-cache' });
      res.end(method === 'HEAD' ? undefined : body);
      return true;
    }
    if (p === '/api/v1/dashboard') {
      const text = JSON.stringify(this.history.snapshot());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
      return true;
    }
    if (p === '/api/v1/events') {
      this.stream(req, res);
      return true;
    }
    return false;
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.history.snapshot())}\n\n`);
    this.clients.add(res);
    const off = this.history.subscribe((u) => { res.write(`event: update\ndata: ${JSON.stringify(u)}\n\n`); });
    const cleanup = () => { off(); this.clients.delete(res); };
    req.on('close', cleanup);
    res.on('close', cleanup);
  }
}
