// Metrics API source (KEDA `metrics-api` scaler): GET `url`, pick the number at `valueLocation`.
// format json (default): valueLocation is a GJSON-style dotted path ("components.worker.tasks",
// "items.0.value"); format prometheus: valueLocation is a metric name (optionally with {labels}) in
// the text exposition format. Strings are parsed as Kubernetes quantities ("250m", "1.5k").
// Auth: authMode bearer (tokenFromEnv) or basic (usernameFromEnv/passwordFromEnv).

import type { MetricSource, SourceSample } from './types.ts';
import { httpGet, param, parseNumber, parseQuantity, redactUrl, SourceError, type Env } from './common.ts';

export interface MetricsApiOptions {
  url: string;
  valueLocation: string;
  format?: 'json' | 'prometheus';
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function valueAtPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const raw of path.split('.')) {
    if (raw === '') continue;
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur)) {
      if (raw === '#') { cur = cur.length; continue; }
      const i = Number(raw);
      cur = Number.isInteger(i) ? cur[i] : undefined;
    } else if (typeof cur === 'object') {
      cur = (cur as Record<string, unknown>)[raw];
    } else {
      return undefined;
    }
  }
  return cur;
}

export function valueFromPrometheusText(text: string, selector: string): number | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?$/.exec(selector.trim());
  if (!m) return undefined;
  const [, name, labels] = m;
  const want = labels ? labels.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean) : [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const lm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!lm || lm[1] !== name) continue;
    const have = lm[2] ? lm[2].slice(1, -1) : '';
    if (want.every((w) => have.split(',').map((s) => s.trim()).includes(w))) return Number(lm[3]);
  }
  return undefined;
}

export class MetricsApiSource implements MetricSource {
  readonly kind = 'metrics-api';
  readonly opts: MetricsApiOptions;
  constructor(opts: MetricsApiOptions) {
    this.opts = { format: 'json', timeoutMs: 3000, ...opts };
  }
  private get who(): string {
    return `metrics-api ${redactUrl(this.opts.url)}`;
  }
  describe(): string {
    return `${this.who} valueLocation ${this.opts.valueLocation}`;
  }
  async read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    const res = await httpGet(this.who, this.opts.url, { headers: this.opts.headers, timeoutMs: this.opts.timeoutMs, signal });
    if (res.status < 200 || res.status > 299) throw new SourceError(this.who, `returned status ${res.status}`);
    let raw: unknown;
    if (this.opts.format === 'prometheus') {
      raw = valueFromPrometheusText(res.body, this.opts.valueLocation);
    } else {
      let doc: unknown;
      try { doc = JSON.parse(res.body); } catch { throw new SourceError(this.who, 'answered with invalid JSON'); }
      raw = valueAtPath(doc, this.opts.valueLocation);
    }
    if (raw === undefined || raw === null) throw new SourceError(this.who, `valueLocation ${this.opts.valueLocation} not found in the response`);
    let v: number;
    if (typeof raw === 'number') v = raw;
    else if (typeof raw === 'string') {
      try { v = parseQuantity(raw); } catch { throw new SourceError(this.who, `value at ${this.opts.valueLocation} is ${JSON.stringify(raw)}, not a number`); }
    } else if (typeof raw === 'boolean') v = raw ? 1 : 0;
    else throw new SourceError(this.who, `value at ${this.opts.valueLocation} is not a number`);
    if (!Number.isFinite(v)) throw new SourceError(this.who, `value at ${this.opts.valueLocation} is ${v}`);
    return [{ value: v, timestamp: now }];
  }
  async close(): Promise<void> {}
}

export function metricsApiFromKeda(meta: Record<string, string>, env: Env): MetricsApiSource {
  const url = param(meta, 'url', env);
  if (!url) throw new Error('metrics-api trigger: metadata.url is required');
  if (!meta.valueLocation) throw new Error('metrics-api trigger: metadata.valueLocation is required');
  const format = (meta.format ?? 'json') as 'json' | 'prometheus';
  if (format !== 'json' && format !== 'prometheus') throw new Error(`metrics-api trigger: format ${format} is not supported (json, prometheus)`);
  const headers: Record<string, string> = {};
  const mode = meta.authMode;
  if (mode === 'bearer') {
    const token = param(meta, 'token', env, { secret: true });
    if (!token) throw new Error('metrics-api trigger: authMode bearer needs tokenFromEnv');
    headers.authorization = `Bearer ${token}`;
  } else if (mode === 'basic') {
    const user = param(meta, 'username', env) ?? '';
    const pass = param(meta, 'password', env, { secret: true }) ?? '';
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  } else if (mode) {
    throw new Error(`metrics-api trigger: authMode ${mode} is not supported (bearer, basic)`);
  }
  return new MetricsApiSource({ url, valueLocation: meta.valueLocation, format, headers, timeoutMs: parseNumber(meta.timeout, 'timeout', 3000) });
}
