// Redis Streams source (KEDA `redis-streams` scaler). Which number it reads follows KEDA:
// - no consumerGroup: the stream length (XLEN), target `streamLength` (default 5);
// - consumerGroup and lagCount: the group's lag from XINFO GROUPS (Redis 7+; XLEN when the group does
//   not exist yet; 0 when the stream does not exist);
// - consumerGroup otherwise: the group's pending entries (XPENDING summary count), target
//   `pendingEntriesCount` (default 5).

import type { MetricSource, SourceSample } from './types.ts';
import { parseNumber, type Env } from './common.ts';
import { redisConnectionFromKeda, RedisConnection } from './redis.ts';

export type StreamFactor = 'pending' | 'length' | 'lag';

export class RedisStreamsSource implements MetricSource {
  readonly kind = 'redis-streams';
  readonly conn: RedisConnection;
  readonly stream: string;
  readonly group: string | undefined;
  readonly factor: StreamFactor;
  constructor(conn: RedisConnection, stream: string, factor: StreamFactor, group?: string) {
    this.conn = conn;
    this.stream = stream;
    this.factor = factor;
    this.group = group;
  }
  describe(): string {
    return `${this.conn.who} stream ${this.stream}${this.group ? ` group ${this.group}` : ''} (${this.factor})`;
  }
  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const v = await this.conn.run(async (c) => {
      if (this.factor === 'length') return c.xlen(this.stream);
      if (this.factor === 'pending') {
        try {
          const summary = (await c.xpending(this.stream, this.group!)) as unknown[];
          return Number(summary[0] ?? 0);
        } catch (e) {
          if (/NOGROUP/.test((e as Error).message)) throw new Error(`consumer group ${this.group} does not exist on stream ${this.stream}`);
          throw e;
        }
      }
      const info = await c.info('server');
      const m = /redis_version:(\d+)/.exec(info);
      if (!m) throw new Error('could not find Redis version number');
      if (Number(m[1]) < 7) throw new Error('redis version 7+ required for lag');
      let groups: unknown[];
      try {
        groups = (await c.xinfo('GROUPS', this.stream)) as unknown[];
      } catch (e) {
        if (/no such key/i.test((e as Error).message)) return 0;
        throw e;
      }
      for (const g of groups) {
        const arr = g as unknown[];
        const fields: Record<string, unknown> = {};
        for (let i = 0; i + 1 < arr.length; i += 2) fields[String(arr[i])] = arr[i + 1];
        if (fields.name === this.group) return Number(fields.lag ?? 0);
      }
      return c.xlen(this.stream);
    }, signal);
    return [{ value: v, timestamp: now }];
  }
  close(): Promise<void> {
    return this.conn.close();
  }
}

/** Build from KEDA metadata; also returns the target the trigger scales on. */
export function redisStreamsFromKeda(meta: Record<string, string>, env: Env): { source: RedisStreamsSource; target: number } {
  const stream = meta.stream;
  if (!stream) throw new Error('redis-streams trigger: metadata.stream is required');
  const group = meta.consumerGroup || undefined;
  const conn = redisConnectionFromKeda(meta, env);
  if (!group) return { source: new RedisStreamsSource(conn, stream, 'length'), target: parseNumber(meta.streamLength, 'streamLength', 5) };
  const lag = parseNumber(meta.lagCount, 'lagCount', 0);
  if (lag !== 0) return { source: new RedisStreamsSource(conn, stream, 'lag', group), target: lag };
  return { source: new RedisStreamsSource(conn, stream, 'pending', group), target: parseNumber(meta.pendingEntriesCount, 'pendingEntriesCount', 5) };
}
