// Scrape each ready replica's Prometheus /metrics (text exposition format 0.0.4) for the Pods metrics
// an HPA names — the local stand-in for Prometheus + prometheus-adapter's custom metrics API.
// Every series of the metric whose labels match the HPA's selector is summed into one per-pod value
// (what an adapter rule `sum(<<.Series>>{<<.LabelMatchers>>}) by (pod)` gives).
import { request } from 'node:http';
import type { LabelSelector } from '../../deciders/hpa/types.ts';

export interface Series { name: string; labels: Record<string, string>; value: number; timestamp?: number }

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(v: string): number {
  switch (v) {
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    case 'NaN': return NaN;
    default: return Number(v);
  }
}

/** Parse the text format; malformed lines are skipped (a scrape should not fail on one bad line). */
export function parsePrometheusText(text: string): Series[] {
  const out: Series[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1];
    let rest = m[2];
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      let i = 1;
      let ok = false;
      while (i < rest.length) {
        while (rest[i] === ' ' || rest[i] === ',') i++;
        if (rest[i] === '}') { i++; ok = true; break; }
        const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(rest.slice(i));
        if (!lm) break;
        i += lm[0].length;
        let val = '';
        while (i < rest.length && rest[i] !== '"') {
          if (rest[i] === '\\' && i + 1 < rest.length) { val += rest[i] + rest[i + 1]; i += 2; } else { val += rest[i]; i++; }
        }
        if (rest[i] !== '"') break;
        i++;
        labels[lm[1]] = unescapeLabel(val);
      }
      if (!ok) continue;
      rest = rest.slice(i);
    }
    const parts = rest.trim().split(/\s+/);
    if (!parts[0]) continue;
    const value = parseValue(parts[0]);
    if (Number.isNaN(value) && parts[0] !== 'NaN') continue;
    const s: Series = { name, labels, value };
    if (parts[1] !== undefined && /^-?\d+$/.test(parts[1])) s.timestamp = Number(parts[1]);
    out.push(s);
  }
  return out;
}

/** Kubernetes label-selector semantics over a series' labels. An empty/absent selector matches all. */
export function matchesSelector(labels: Record<string, string>, selector?: LabelSelector): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.operator) {
      case 'In': if (!has || !(r.values ?? []).includes(v)) return false; break;
      case 'NotIn': if (has && (r.values ?? []).includes(v)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Sum of the matching series of `name`, or null when no series matched. NaN series are ignored. */
export function selectMetric(series: Series[], name: string, selector?: LabelSelector): number | null {
  let sum = 0;
  let found = false;
  for (const s of series) {
    if (s.name !== name || Number.isNaN(s.value) || !matchesSelector(s.labels, selector)) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : null;
}

/** GET http://host:port/path, resolving with the body; rejects on non-2xx, errors or timeout. */
export function scrapeText(host: string, port: number, path = '/metrics', timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', agent: false, headers: { accept: 'text/plain;version=0.0.4' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size <= 8 * 1024 * 1024) chunks.push(c); });
      res.on('end', () => {
        clearTimeout(timer);
        const code = res.statusCode ?? 0;
        if (code < 200 || code >= 300) reject(new Error(`GET http://${host}:${port}${path}: status ${code}`));
        else resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET http://${host}:${port}${path}: timeout after ${timeoutMs}ms`)), timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); reject(Object.assign(new Error(`GET http://${host}:${port}${path}: ${e.message}`), { code: e.code })); });
    req.end();
  });
}
