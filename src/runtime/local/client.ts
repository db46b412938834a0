// The CLI side of the control API: find the daemon through <stateDir>/daemon.json and call it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
// Not `import … from 'node:http'`: the ESM wrapper of a built-in reads every export, and node:http's
// lazy WebSocket/EventSource getters then load Node's whole bundled undici (about a third of
// `tide get`'s start on a loaded machine). getBuiltinModule hands over the plain module object.
const { request } = process.getBuiltinModule('node:http') as typeof import('node:http');
import { UserError } from '../../core/errors.ts';
import type { DaemonInfo } from './daemon.ts';
import { TOKEN_FILE } from './auth.ts';

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

/** The control API's bearer token of this run (<stateDir>/api-token, readable by its owner only). */
export function readToken(info: DaemonInfo): string {
  const p = info.tokenFile ?? join(info.stateDir, TOKEN_FILE);
  try {
    return readFileSync(p, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'EACCES'
      ? `cannot read the Tide API token ${p}: permission denied (the daemon belongs to another user)`
      : `cannot read the Tide API token ${p} (${code ?? (e as Error).message}): is the daemon for this state folder running?`);
  }
}

export interface ApiResponse { status: number; body: string }

export function apiCall(info: DaemonInfo, method: string, path: string, body?: unknown, onChunk?: (s: string) => void): Promise<ApiResponse> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    let token: string;
    try { token = readToken(info); } catch (e) { reject(e); return; }
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (data || method !== 'GET') { headers['content-type'] = 'application/json'; headers['content-length'] = Buffer.byteLength(data ?? ''); }
    const req = request({ host: info.host, port: info.port, path, method, agent: false, headers }, (res) => {
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
    req.end(data);
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
