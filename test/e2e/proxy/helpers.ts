// Shared helpers for the proxy tests: in-process upstream servers on 127.0.0.1 and a gated handler.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { createProxy } from '../../../src/runtime/local/proxy.ts';
import type { ProxyOptions, ReplicaProxy, RequestObserver } from '../../../src/runtime/local/proxy-types.ts';

export interface Upstream {
  port: number;
  server: http.Server;
  /** Requests currently being handled and the maximum seen. */
  active: number;
  maxActive: number;
  served: number;
  close(): Promise<void>;
}

export async function startUpstream(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, up: Upstream) => void,
): Promise<Upstream> {
  const up = { active: 0, maxActive: 0, served: 0 } as Upstream;
  const server = http.createServer((req, res) => {
    up.active++;
    up.served++;
    if (up.active > up.maxActive) up.maxActive = up.active;
    let counted = true;
    res.on('close', () => {
      if (counted) up.active--;
      counted = false;
    });
    handler(req, res, up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.server = server;
  up.port = (server.address() as AddressInfo).port;
  up.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return up;
}

/** A latch: `wait()` resolves once `open()` was called. */
export function gate(): { wait(): Promise<void>; open(): void } {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { wait: () => p, open };
}

export type Engine = 'raw' | 'node-http';
export const ENGINES: Engine[] = ['raw', 'node-http'];
let engine: Engine = 'raw';
/** Which proxy engine `defaults`/`proxyWith` build (tests run once per engine). */
export function setEngine(e: Engine): void {
  engine = e;
}

export function defaults(over: Partial<ProxyOptions> = {}): ProxyOptions & { engine: Engine } {
  return { host: '127.0.0.1', port: 0, queueLimit: 100, requestTimeoutMs: 10_000, engine, ...over };
}

export async function proxyWith(
  ups: Upstream[],
  over: Partial<ProxyOptions> = {},
  observer?: RequestObserver,
): Promise<ReplicaProxy> {
  const p = await createProxy(defaults(over), observer);
  ups.forEach((u, i) => {
    p.addReplica(`r${i}`, { host: '127.0.0.1', port: u.port });
    p.setReady(`r${i}`, true);
  });
  return p;
}

export const client = new Agent({ connections: 256, keepAliveTimeout: 10_000 });

export async function get(port: number, path = '/', opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) {
  const res = await request(`http://127.0.0.1:${port}${path}`, {
    dispatcher: client,
    method: (opts.method ?? 'GET') as 'GET',
    body: opts.body,
    headers: opts.headers,
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() };
}

/** Resolve once `cond()` is true, polling on the event loop (bounded). */
export async function until(cond: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
