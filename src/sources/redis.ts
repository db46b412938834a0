// Redis list source (KEDA `redis` scaler): the length of `listName` — LLEN for a list, SCARD for a set,
// ZCARD for a sorted set, 0 when the key does not exist. Also the connection helper shared with
// redis-streams. The client never queues commands while disconnected: a read against a Redis that is
// down rejects within the timeout, and the client reconnects in the background.

import { Redis } from 'ioredis';
import type { MetricSource, SourceSample } from './types.ts';
import { connectionFailure, isConnectionLoss, param, parseBool, parseNumber, SourceError, withDeadline, type Env } from './common.ts';

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
    c.on('error', (e: Error & { code?: string }) => { this.lastError = connectionFailure(e) ?? e.message; });
    this.client = c;
    return c;
  }

  /**
   * Wait until the client is ready (connecting it if needed). Rejects with the reason of the next
   * failed connection attempt. `afterLoss`: the connection just broke under a command, so a client
   * that still says "ready" is stale: wait for what the reconnect brings instead.
   */
  private ready(c: Redis, afterLoss: boolean): Promise<void> {
    if (c.status === 'ready' && !afterLoss) return Promise.resolve();
    if (c.status === 'wait' || c.status === 'end') c.connect().catch(() => { /* reported through the events below */ });
    return new Promise<void>((resolve, reject) => {
      const onReady = () => { cleanup(); resolve(); };
      const onError = (e: Error & { code?: string }) => {
        // the breaking connection's own reset is part of the loss: wait for the reconnect's outcome
        if (afterLoss && isConnectionLoss(e)) return;
        cleanup();
        reject(new Error(`unreachable: ${connectionFailure(e) ?? e.message}`));
      };
      const onEnd = () => { cleanup(); reject(new Error('unreachable: connection closed')); };
      const cleanup = () => { c.off('ready', onReady); c.off('error', onError); c.off('end', onEnd); };
      c.on('ready', onReady);
      c.on('error', onError);
      c.once('end', onEnd);
    });
  }

  /**
   * Run fn with a ready client, within the timeout. A command that fails because the connection went
   * away (ioredis says "Stream isn't writeable…", "Connection is closed." …) is retried once after the
   * reconnect, so an outage is always reported as the reconnect's reason ("connection refused").
   */
  async run<T>(fn: (c: Redis) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const c = this.ensure();
    const timeoutMs = this.opts.timeoutMs!;
    const work = async () => {
      await this.ready(c, false);
      try {
        return await fn(c);
      } catch (e) {
        if (!isConnectionLoss(e)) throw e;
        await this.ready(c, true);
        return fn(c);
      }
    };
    try {
      return await withDeadline(this.who, timeoutMs, work(), signal);
    } catch (e) {
      if (e instanceof SourceError) {
        throw new SourceError(this.who, `${e.message.slice(this.who.length + 2)}${this.lastError ? ` (last error: ${this.lastError})` : ''}`);
      }
      const why = connectionFailure(e);
      throw new SourceError(this.who, why && !/^unreachable: /.test((e as Error).message) ? `unreachable: ${why}` : (e as Error).message, { cause: e });
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
