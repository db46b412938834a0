// Prometheus source: a PromQL instant query over HTTP (GET /api/v1/query), as KEDA's prometheus
// scaler does it. Two modes:
// - 'single' (KEDA trigger): the query must give exactly one sample; an empty result is 0 when
//   ignoreNullValues (default true) and an error otherwise; NaN/±Inf likewise.
// - 'vector' (HPA External/Object metrics through tide-metrics.yaml): every sample is returned with
//   its labels; the HPA sums them.

import type { MetricSource, SourceSample } from './types.ts';
import { httpGet, param, parseBool, parseNumber, redactUrl, SourceError, type Env } from './common.ts';

export interface PrometheusOptions {
  serverAddress: string;
  query: string;
  mode?: 'single' | 'vector';
  namespace?: string;
  customHeaders?: Record<string, string>;
  queryParameters?: Record<string, string>;
  ignoreNullValues?: boolean;
  timeoutMs?: number;
  /** Full Authorization header value (e.g. "Bearer …"); never shown. */
  authorization?: string;
}

interface PromResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

export class PrometheusSource implements MetricSource {
  readonly kind = 'prometheus';
  readonly opts: PrometheusOptions;
  constructor(opts: PrometheusOptions) {
    this.opts = { mode: 'single', ignoreNullValues: true, timeoutMs: 3000, ...opts };
    this.opts.serverAddress = this.opts.serverAddress.replace(/\/+$/, '');
  }

  describe(): string {
    return `prometheus ${redactUrl(this.opts.serverAddress)} query ${JSON.stringify(this.opts.query)}`;
  }

  url(now: number): string {
    const u = new URL(`${this.opts.serverAddress}/api/v1/query`);
    u.searchParams.set('query', this.opts.query);
    u.searchParams.set('time', new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    if (this.opts.namespace) u.searchParams.set('namespace', this.opts.namespace);
    for (const [k, v] of Object.entries(this.opts.queryParameters ?? {})) u.searchParams.set(k, v);
    return u.toString();
  }

  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const who = `prometheus ${redactUrl(this.opts.serverAddress)}`;
    const headers: Record<string, string> = { ...(this.opts.customHeaders ?? {}) };
    if (this.opts.authorization) headers.authorization = this.opts.authorization;
    const res = await httpGet(who, this.url(now), { headers, timeoutMs: this.opts.timeoutMs, signal });
    if (res.status < 200 || res.status > 299) {
      throw new SourceError(who, `query api returned error. status: ${res.status}`);
    }
    let body: PromResponse;
    try {
      body = JSON.parse(res.body) as PromResponse;
    } catch {
      throw new SourceError(who, 'answered with invalid JSON');
    }
    if (body.status !== 'success' || !body.data) throw new SourceError(who, `query failed: ${body.error ?? body.status}`);
    const samples = toSamples(body.data.resultType, body.data.result, now);
    if (this.opts.mode === 'vector') {
      return samples.filter((s) => Number.isFinite(s.value));
    }
    if (samples.length === 0) {
      if (this.opts.ignoreNullValues) return [{ value: 0, timestamp: now }];
      throw new SourceError(who, "prometheus metrics 'prometheus' target may be lost, the result is empty");
    }
    if (samples.length > 1) throw new SourceError(who, `prometheus query ${this.opts.query} returned multiple elements`);
    const s = samples[0];
    if (!Number.isFinite(s.value)) {
      if (this.opts.ignoreNullValues) return [{ value: 0, timestamp: s.timestamp }];
      throw new SourceError(who, `prometheus query returns ${s.value}`);
    }
    return [s];
  }

  async close(): Promise<void> {}
}

function toSamples(resultType: string, result: unknown, now: number): SourceSample[] {
  const num = (v: unknown) => (typeof v === 'string' ? Number(v.replace(/^\+?Inf$/, 'Infinity').replace(/^-Inf$/, '-Infinity')) : NaN);
  if (resultType === 'scalar' && Array.isArray(result)) {
    return [{ value: num(result[1]), timestamp: Math.round(Number(result[0]) * 1000) || now }];
  }
  if (resultType === 'vector' && Array.isArray(result)) {
    return (result as { metric?: Record<string, string>; value?: [number, string] }[]).map((r) => ({
      value: r.value ? num(r.value[1]) : NaN,
      timestamp: r.value ? Math.round(Number(r.value[0]) * 1000) : now,
      labels: r.metric ?? {},
    }));
  }
  throw new Error(`unsupported result type ${resultType} (expected vector or scalar)`);
}

function parseMap(s: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const part of s.split(',')) {
    if (!part.trim()) continue;
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`${what}: expected key=value pairs separated by commas`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Build from a KEDA `prometheus` trigger's metadata. */
export function prometheusFromKeda(meta: Record<string, string>, env: Env): PrometheusSource {
  const serverAddress = param(meta, 'serverAddress', env);
  if (!serverAddress) throw new Error('prometheus trigger: metadata.serverAddress is required');
  const query = param(meta, 'query', env);
  if (!query) throw new Error('prometheus trigger: metadata.query is required');
  const opts: PrometheusOptions = {
    serverAddress,
    query,
    ignoreNullValues: parseBool(meta.ignoreNullValues, true),
    customHeaders: parseMap(meta.customHeaders, 'customHeaders'),
    queryParameters: parseMap(meta.queryParameters, 'queryParameters'),
    timeoutMs: parseNumber(meta.timeout, 'timeout', 3000),
  };
  if (meta.namespace) opts.namespace = meta.namespace;
  const bearer = param(meta, 'bearerToken', env, { secret: true });
  if (bearer) opts.authorization = `Bearer ${bearer}`;
  return new PrometheusSource(opts);
}
