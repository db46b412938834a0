// NATS JetStream source (KEDA `nats-jetstream` scaler): reads the server's monitoring endpoint
// GET /jsz?acc=<account>&consumers=true&config=true and reports the consumer's lag as KEDA does:
// num_pending + num_ack_pending of `consumer` on `stream`. An unknown stream/consumer is an error.

import type { MetricSource, SourceSample } from './types.ts';
import { httpGet, parseBool, SourceError, type Env } from './common.ts';

export interface NatsJetStreamOptions {
  /** host:port of the monitoring endpoint (e.g. 127.0.0.1:8222). */
  monitoringEndpoint: string;
  account: string;
  stream: string;
  consumer: string;
  useHttps?: boolean;
  timeoutMs?: number;
}

interface Jsz {
  account_details?: {
    name?: string;
    id?: string;
    stream_detail?: { name: string; consumer_detail?: { name: string; num_pending?: number; num_ack_pending?: number }[] }[];
  }[];
}

export class NatsJetStreamSource implements MetricSource {
  readonly kind = 'nats-jetstream';
  readonly opts: NatsJetStreamOptions;
  constructor(opts: NatsJetStreamOptions) {
    this.opts = { timeoutMs: 3000, ...opts };
  }
  private get who(): string {
    return `nats-jetstream ${this.opts.monitoringEndpoint}`;
  }
  describe(): string {
    return `${this.who} account ${this.opts.account} stream ${this.opts.stream} consumer ${this.opts.consumer}`;
  }
  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const q = new URLSearchParams({ acc: this.opts.account, consumers: 'true', config: 'true' });
    const url = `${this.opts.useHttps ? 'https' : 'http'}://${this.opts.monitoringEndpoint}/jsz?${q}`;
    const res = await httpGet(this.who, url, { timeoutMs: this.opts.timeoutMs, signal });
    if (res.status !== 200) throw new SourceError(this.who, `monitoring endpoint returned status ${res.status}`);
    let body: Jsz;
    try { body = JSON.parse(res.body) as Jsz; } catch { throw new SourceError(this.who, 'monitoring endpoint answered with invalid JSON'); }
    const acc = (body.account_details ?? []).find((a) => a.name === this.opts.account || a.id === this.opts.account);
    if (!acc) throw new SourceError(this.who, `account ${this.opts.account} not found (or JetStream not enabled for it)`);
    const stream = (acc.stream_detail ?? []).find((s) => s.name === this.opts.stream);
    if (!stream) throw new SourceError(this.who, `stream ${JSON.stringify(this.opts.stream)} not found`);
    const consumer = (stream.consumer_detail ?? []).find((c) => c.name === this.opts.consumer);
    if (!consumer) throw new SourceError(this.who, `consumer ${JSON.stringify(this.opts.consumer)} not found in stream ${JSON.stringify(this.opts.stream)}`);
    return [{ value: (consumer.num_pending ?? 0) + (consumer.num_ack_pending ?? 0), timestamp: now }];
  }
  async close(): Promise<void> {}
}

export function natsJetStreamFromKeda(meta: Record<string, string>, env: Env): NatsJetStreamSource {
  const ep = meta.natsServerMonitoringEndpoint ?? (meta.natsServerMonitoringEndpointFromEnv ? env[meta.natsServerMonitoringEndpointFromEnv] : undefined);
  if (!ep) throw new Error('nats-jetstream trigger: metadata.natsServerMonitoringEndpoint is required');
  for (const k of ['account', 'stream', 'consumer']) {
    if (!meta[k]) throw new Error(`nats-jetstream trigger: metadata.${k} is required`);
  }
  return new NatsJetStreamSource({
    monitoringEndpoint: ep.replace(/^https?:\/\//, '').replace(/\/+$/, ''),
    account: meta.account,
    stream: meta.stream,
    consumer: meta.consumer,
    useHttps: parseBool(meta.useHttps, false),
  });
}
