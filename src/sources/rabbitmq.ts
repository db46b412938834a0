// RabbitMQ source (KEDA `rabbitmq` scaler).
// - QueueLength over AMQP: passive queue declare → message count (ready messages).
// - QueueLength over HTTP (management API): `messages` (ready + unacked), or `messages_ready` with
//   excludeUnacknowledged.
// - MessageRate (HTTP only): message_stats.publish_details.rate, 0 when the queue has no stats yet.
// `host` is amqp(s)://user:pass@host:port/vhost or http(s)://user:pass@host:15672[/vhost]; because it
// carries credentials it must come from env (hostFromEnv) when it has a password.

import * as amqp from 'amqplib';
import type { MetricSource, SourceSample } from './types.ts';
import { connectionFailure, httpGet, isConnectionLoss, param, parseBool, redactUrl, SourceError, withDeadline, type Env } from './common.ts';

export type RabbitMode = 'QueueLength' | 'MessageRate';

export interface RabbitOptions {
  host: string;
  queueName: string;
  mode: RabbitMode;
  protocol: 'amqp' | 'http';
  vhostName?: string;
  excludeUnacknowledged?: boolean;
  timeoutMs?: number;
}

export class RabbitMQSource implements MetricSource {
  readonly kind = 'rabbitmq';
  readonly opts: RabbitOptions;
  private conn: amqp.ChannelModel | null = null;
  constructor(opts: RabbitOptions) {
    this.opts = { timeoutMs: 3000, ...opts };
    if (this.opts.mode === 'MessageRate' && this.opts.protocol !== 'http') {
      throw new Error('rabbitmq trigger: mode MessageRate needs the management API (protocol http)');
    }
  }
  private get who(): string {
    const u = safeUrl(this.opts.host);
    return `rabbitmq ${u ? `${u.protocol}//${u.host}` : '<invalid host>'}`;
  }
  describe(): string {
    return `rabbitmq ${redactUrl(this.opts.host)} queue ${this.opts.queueName} (${this.opts.mode} via ${this.opts.protocol})`;
  }

  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const v = this.opts.protocol === 'amqp' ? await this.readAmqp(signal) : await this.readHttp(signal);
    return [{ value: v, timestamp: now }];
  }

  private async connectAmqp(): Promise<amqp.ChannelModel> {
    if (this.conn) return this.conn;
    let c: amqp.ChannelModel;
    try {
      c = await amqp.connect(this.opts.host, { timeout: this.opts.timeoutMs });
    } catch (e) {
      throw new SourceError(this.who, `unreachable: ${connectionFailure(e) ?? (e as Error).message}`);
    }
    c.on('error', () => {});
    c.on('close', () => { if (this.conn === c) this.conn = null; });
    this.conn = c;
    return c;
  }

  private dropConnection(): void {
    const c = this.conn;
    this.conn = null;
    c?.close().catch(() => {});
  }

  private async readAmqp(signal?: AbortSignal): Promise<number> {
    const once = async () => {
      const conn = await this.connectAmqp();
      const ch = await conn.createChannel();
      ch.on('error', () => {});
      try {
        const q = await ch.checkQueue(this.opts.queueName);
        return q.messageCount;
      } catch (e) {
        if (isConnectionLoss(e)) throw e;
        throw new SourceError(this.who, `queue ${this.opts.queueName}: ${(e as Error).message}`);
      } finally {
        ch.close().catch(() => {});
      }
    };
    const work = async () => {
      const reused = this.conn !== null;
      try {
        return await once();
      } catch (e) {
        // a cached connection the broker dropped fails once ("Channel closed", "Connection closed"):
        // reconnect, and report that attempt's outcome ("connection refused" in an outage)
        if (!reused || e instanceof SourceError || !isConnectionLoss(e)) throw e;
        this.dropConnection();
        return once();
      }
    };
    try {
      return await withDeadline(this.who, this.opts.timeoutMs!, work(), signal);
    } catch (e) {
      // A half-dead connection is dropped so the next read reconnects.
      this.dropConnection();
      if (e instanceof SourceError) throw e;
      const why = connectionFailure(e);
      throw new SourceError(this.who, why ? `unreachable: ${why}` : (e as Error).message, { cause: e });
    }
  }

  private async readHttp(signal?: AbortSignal): Promise<number> {
    const u = safeUrl(this.opts.host);
    if (!u) throw new SourceError('rabbitmq', 'host is not a valid URL');
    const vhost = this.opts.vhostName ?? (u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/');
    const api = `${u.protocol}//${u.host}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(this.opts.queueName)}`;
    const headers: Record<string, string> = {};
    if (u.username) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    }
    const res = await httpGet(this.who, api, { headers, timeoutMs: this.opts.timeoutMs, signal });
    if (res.status === 404) throw new SourceError(this.who, `queue ${this.opts.queueName} not found in vhost ${vhost}`);
    if (res.status !== 200) throw new SourceError(this.who, `management API returned status ${res.status}`);
    let q: { messages?: number; messages_ready?: number; message_stats?: { publish_details?: { rate?: number } } };
    try {
      q = JSON.parse(res.body);
    } catch {
      throw new SourceError(this.who, 'management API answered with invalid JSON');
    }
    if (this.opts.mode === 'MessageRate') return q.message_stats?.publish_details?.rate ?? 0;
    return (this.opts.excludeUnacknowledged ? q.messages_ready : q.messages) ?? 0;
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await c.close().catch(() => {});
  }
}

function safeUrl(s: string): URL | null {
  try { return new URL(s); } catch { return null; }
}

export function rabbitmqFromKeda(meta: Record<string, string>, env: Env): RabbitMQSource {
  const host = param(meta, 'host', env);
  if (!host) throw new Error('rabbitmq trigger: metadata.host or hostFromEnv is required');
  if (meta.host && safeUrl(meta.host)?.password) {
    throw new Error('rabbitmq trigger: host carries a password; put the URL in an environment variable and use hostFromEnv');
  }
  const queueName = meta.queueName;
  if (!queueName) throw new Error('rabbitmq trigger: metadata.queueName is required');
  const mode = (meta.mode ?? 'QueueLength') as RabbitMode;
  if (mode !== 'QueueLength' && mode !== 'MessageRate') throw new Error(`rabbitmq trigger: mode ${mode} is not supported (QueueLength, MessageRate)`);
  let protocol = meta.protocol ?? 'auto';
  if (protocol === 'auto') protocol = /^https?:/.test(host) ? 'http' : 'amqp';
  if (protocol !== 'amqp' && protocol !== 'http') throw new Error(`rabbitmq trigger: protocol must be auto, amqp or http`);
  const opts: RabbitOptions = { host, queueName, mode, protocol, excludeUnacknowledged: parseBool(meta.excludeUnacknowledged, false) };
  if (meta.vhostName) opts.vhostName = meta.vhostName;
  return new RabbitMQSource(opts);
}
