// The CLI side of the control API: find the daemon through <stateDir>/daemon.json and call it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import { UserError } from '../../core/errors.ts';
import type { DaemonInfo } from './daemon.ts';

export function defaultStateDir(): string {
  return process.env.TIDE_STATE_DIR ?? '.tide';
}

export function readDaemonInfo(stateDir: string): DaemonInfo {
  const p = join(resolve(stateDir), 'daemon.json');
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as DaemonInfo;
  } catch {
    throw new UserError(`no Tide daemon found (${p} is missing): start one with \`tide up FILE…\` in this folder, or pass --state-dir`);
  }
}

export interface ApiResponse { status: number; body: string }

export function apiCall(info: DaemonInfo, method: string, path: string, body?: unknown, onChunk?: (s: string) => void): Promise<ApiResponse> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: info.host, port: info.port, path, method, agent: false, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c: string) => { if (onChunk) onChunk(c); else text += c; });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(new UserError(e.code === 'ECONNREFUSED'
        ? `the Tide daemon at ${info.url} (pid ${info.pid}) is not answering; it has probably stopped (stale ${join(info.stateDir, 'daemon.json')}); start it again with \`tide up\``
        : `cannot reach the Tide daemon at ${info.url}: ${e.message}`));
    });
    if (data) req.write(data);
    req.end();
  });
}

export async function apiJson<T>(stateDir: string, method: string, path: string, body?: unknown): Promise<T> {
  const info = readDaemonInfo(stateDir);
  const r = await apiCall(info, method, path, body);
  let parsed: unknown;
  try { parsed = JSON.parse(r.body); } catch { throw new UserError(`unexpected answer from the daemon (${r.status}): ${r.body.slice(0, 200)}`); }
  if (r.status >= 400) throw new UserError(`Error from server: ${(parsed as { error?: string }).error ?? r.body}`);
  return parsed as T;
}
