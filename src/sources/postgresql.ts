// PostgreSQL source (KEDA `postgresql` scaler): runs `query`, which must return one row whose first
// column is a number (e.g. SELECT count(*) FROM jobs WHERE state='queued'). Connection from
// `connectionFromEnv` (a libpq URL / key=value string in an environment variable) or host, port,
// userName, dbName, sslmode and passwordFromEnv.

import pg from 'pg';
import type { MetricSource, SourceSample } from './types.ts';
import { connectionFailure, isConnectionLoss, param, parseNumber, SourceError, withDeadline, type Env } from './common.ts';

export interface PostgresOptions {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  password?: string;
  ssl?: boolean;
  query: string;
  timeoutMs?: number;
}

export class PostgreSQLSource implements MetricSource {
  readonly kind = 'postgresql';
  readonly opts: PostgresOptions;
  private pool: pg.Pool | null = null;
  constructor(opts: PostgresOptions) {
    this.opts = { timeoutMs: 3000, ...opts };
  }
  private get who(): string {
    if (this.opts.connectionString) return 'postgresql (connection from env)';
    return `postgresql ${this.opts.host ?? 'localhost'}:${this.opts.port ?? 5432}/${this.opts.database ?? ''}`;
  }
  describe(): string {
    return `${this.who} query ${JSON.stringify(this.opts.query)}`;
  }
  private ensure(): pg.Pool {
    if (this.pool) return this.pool;
    const cfg: pg.PoolConfig = {
      max: 1,
      connectionTimeoutMillis: this.opts.timeoutMs,
      idleTimeoutMillis: 30_000,
      query_timeout: this.opts.timeoutMs,
    };
    if (this.opts.connectionString) cfg.connectionString = this.opts.connectionString;
    else Object.assign(cfg, { host: this.opts.host, port: this.opts.port, user: this.opts.user, database: this.opts.database, password: this.opts.password, ssl: this.opts.ssl });
    const pool = new pg.Pool(cfg);
    pool.on('error', () => {}); // idle client errors (server went away) surface on the next query
    this.pool = pool;
    return pool;
  }
  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const pool = this.ensure();
    let res: pg.QueryResult;
    const query = async () => {
      try {
        return await pool.query({ text: this.opts.query, rowMode: 'array' });
      } catch (e) {
        // an idle pooled connection the server dropped fails once ("Connection terminated"): the
        // retry opens a new one, whose outcome is the real answer ("connection refused" in an outage)
        if (!isConnectionLoss(e)) throw e;
        return pool.query({ text: this.opts.query, rowMode: 'array' });
      }
    };
    try {
      res = await withDeadline(this.who, this.opts.timeoutMs! + 500, query(), signal);
    } catch (e) {
      if (e instanceof SourceError) throw e;
      const why = connectionFailure(e);
      throw new SourceError(this.who, why ? `unreachable: ${why}` : (e as Error).message || String(e), { cause: e });
    }
    const row = res.rows[0] as unknown[] | undefined;
    if (!row || row.length === 0) throw new SourceError(this.who, 'query returned no rows');
    const v = row[0];
    const n = v === null ? 0 : Number(v);
    if (!Number.isFinite(n)) throw new SourceError(this.who, `query returned ${JSON.stringify(v)}, not a number`);
    return [{ value: n, timestamp: now }];
  }
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await p.end().catch(() => {});
  }
}

export function postgresqlFromKeda(meta: Record<string, string>, env: Env): PostgreSQLSource {
  const query = meta.query;
  if (!query) throw new Error('postgresql trigger: metadata.query is required');
  if (meta.connection) throw new Error('postgresql trigger: connection must not be given inline; use connectionFromEnv');
  const connectionString = param(meta, 'connection', env);
  if (connectionString) return new PostgreSQLSource({ connectionString, query });
  const opts: PostgresOptions = {
    query,
    host: param(meta, 'host', env) ?? '127.0.0.1',
    port: parseNumber(param(meta, 'port', env), 'port', 5432),
    ssl: (meta.sslmode ?? 'disable') !== 'disable',
  };
  const user = param(meta, 'userName', env);
  if (user) opts.user = user;
  const db = param(meta, 'dbName', env);
  if (db) opts.database = db;
  const password = param(meta, 'password', env, { secret: true });
  if (password) opts.password = password;
  return new PostgreSQLSource(opts);
}
