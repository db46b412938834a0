// Redis list source (KEDA `redis` scaler): the length of `listName` — LLEN for a list, SCARD for a set,
// ZCARD for a sorted set, 0 when the key does not exist. Also the connection helper shared with
// redis-streams. The client never queues commands while disconnected: a read against a Redis that is
// down rejects within the timeout, and the client reconnects in the background.

import { Redis } from 'ioredis';
import type { MetricSource, SourceSample } from './types.ts';
import { param, parseBool, parseNumber, SourceError, withDeadline, type Env } from './common.ts';

export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  timeoutMs?: number;
}

export class RedisConnection {
  readonly opts: RedisConnectionOptions;
  private client: Redis | null = null;
  private lastError: string | undefined;
  constructor(opts: RedisConnectionOptions) {
    this.opts = { timeoutMs: 2000, ...opts };
  }

  get who(): string {
    return `redis ${this.opts.host}:${this.opts.port}`;
  }

  private ensure(): Redis {
    if (this.client) return this.client;
    const c = new Redis({
      host: this.opts.host,
      port: this.opts.port,
      username: this.opts.username,
      password: this.opts.password,
      db: this.opts.db ?? 0,
      tls: this.opts.tls ? {} : undefined,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.opts.timeoutMs,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    });
    c.on('error', (e: Error) => { this.lastError = e.message; });
    this.client = c;
    return c;
  }

  /** Run fn with a ready client, within the timeout. */
  async run<T>(fn: (c: Redis) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const c = this.ensure();
    const timeoutMs = this.opts.timeoutMs!;
    const work = async () => {
      if (c.status !== 'ready') {
        if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => { /* reported through the events below */ });
        await new Promise<void>((resolve, reject) => {
          const onReady = () => { cleanup(); resolve(); };
          const onError = (e: Error & { code?: string }) => {
            cleanup();
            reject(new Error(`unreachable: ${e.code === 'ECONNREFUSED' ? 'connection refused (is it running?)' : e.message}`));
          };
          const onEnd = () => { cleanup(); reject(new Error('unreachable: connection closed')); };
          const cleanup = () => { c.off('ready', onReady); c.off('error', onError); c.off('end', onEnd); };
          c.once('ready', onReady);
          c.once('error', onError);
          c.once('end', onEnd);
        });
      }
      return fn(c);
    };
    try {
      return await withDeadline(this.who, timeoutMs, work(), signal);
    } catch (e) {
      if (e instanceof SourceError) {
        throw new SourceError(this.who, `${e.message.slice(this.who.length + 2)}${this.lastError ? ` (${this.lastError})` : ''}`);
      }
      throw new SourceError(this.who, (e as Error).message, { cause: e });
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) c.disconnect();
  }
}

/** KEDA's redis connection metadata: address | host+port, username, passwordFromEnv, databaseIndex, enableTLS. */
export function redisConnectionFromKeda(meta: Record<string, string>, env: Env): RedisConnection {
  let host: string | undefined;
  let port: number | undefined;
  const address = param(meta, 'address', env);
  if (address) {
    const i = address.lastIndexOf(':');
    if (i <= 0) throw new Error(`redis address must be host:port, got ${JSON.stringify(address)}`);
    host = address.slice(0, i);
    port = parseNumber(address.slice(i + 1), 'redis address port');
  } else {
    host = param(meta, 'host', env);
    port = parseNumber(param(meta, 'port', env), 'redis port', 6379);
  }
  if (!host) throw new Error('redis trigger: metadata.address or metadata.host is required');
  const opts: RedisConnectionOptions = {
    host,
    port,
    db: parseNumber(meta.databaseIndex, 'databaseIndex', 0),
    tls: parseBool(meta.enableTLS, false),
  };
  const username = param(meta, 'username', env);
  if (username) opts.username = username;
  const password = param(meta, 'password', env, { secret: true });
  if (password) opts.password = password;
  if (meta.timeout) opts.timeoutMs = parseNumber(meta.timeout, 'timeout');
  return new RedisConnection(opts);
}

export class RedisListSource implements MetricSource {
  readonly kind = 'redis';
  readonly conn: RedisConnection;
  readonly listName: string;
  constructor(conn: RedisConnection, listName: string) {
    this.conn = conn;
    this.listName = listName;
  }
  describe(): string {
    return `${this.conn.who} list ${this.listName}`;
  }
  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const n = await this.conn.run(async (c) => {
      const type = await c.type(this.listName);
      switch (type) {
        case 'list': return c.llen(this.listName);
        case 'set': return c.scard(this.listName);
        case 'zset': return c.zcard(this.listName);
        case 'none': return 0;
        default: throw new Error(`key ${this.listName} is a ${type}, not a list, set or sorted set`);
      }
    }, signal);
    return [{ value: n, timestamp: now }];
  }
  close(): Promise<void> {
    return this.conn.close();
  }
}

export function redisListFromKeda(meta: Record<string, string>, env: Env): RedisListSource {
  const listName = meta.listName;
  if (!listName) throw new Error('redis trigger: metadata.listName is required');
  return new RedisListSource(redisConnectionFromKeda(meta, env), listName);
}
