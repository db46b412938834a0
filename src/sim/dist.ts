// Distributions for service times and cold starts (all in milliseconds).
import type { Rng } from './rng.ts';

export type Dist =
  | { kind: 'fixed'; ms: number }
  | { kind: 'exponential'; meanMs: number }
  /** Lognormal given by its median and the sigma of the underlying normal. */
  | { kind: 'lognormal'; medianMs: number; sigma: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** Resample from observed values (e.g. model-load times). */
  | { kind: 'empirical'; valuesMs: Float64Array | number[] };

export function sample(d: Dist, rng: Rng): number {
  switch (d.kind) {
    case 'fixed': return d.ms;
    case 'exponential': return rng.exponential(d.meanMs);
    case 'lognormal': return d.medianMs * Math.exp(d.sigma * rng.normal());
    case 'uniform': return d.minMs + (d.maxMs - d.minMs) * rng.next();
    case 'empirical': {
      const v = d.valuesMs;
      return v.length ? v[Math.floor(rng.next() * v.length)] : 0;
    }
  }
}

export function mean(d: Dist): number {
  switch (d.kind) {
    case 'fixed': return d.ms;
    case 'exponential': return d.meanMs;
    case 'lognormal': return d.medianMs * Math.exp((d.sigma * d.sigma) / 2);
    case 'uniform': return (d.minMs + d.maxMs) / 2;
    case 'empirical': {
      let s = 0;
      for (const x of d.valuesMs) s += x;
      return d.valuesMs.length ? s / d.valuesMs.length : 0;
    }
  }
}

/** Upper quantile q (0..1) of the distribution (exact for fixed/uniform/exponential/empirical, lognormal via erf-inverse approx). */
export function quantile(d: Dist, q: number): number {
  switch (d.kind) {
    case 'fixed': return d.ms;
    case 'exponential': return -Math.log(1 - q) * d.meanMs;
    case 'uniform': return d.minMs + (d.maxMs - d.minMs) * q;
    case 'lognormal': return d.medianMs * Math.exp(d.sigma * normalQuantile(q));
    case 'empirical': {
      const s = Array.from(d.valuesMs).sort((a, b) => a - b);
      return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : 0;
    }
  }
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Parse "fixed:200", "200ms", "2s", "exp:100", "lognormal:200:0.5", "uniform:10:30", "empirical:1,2,3". */
export function parseDist(text: string): Dist {
  const t = text.trim();
  const dur = (s: string): number => {
    const m = /^([0-9]*\.?[0-9]+)(ms|s|m)?$/.exec(s.trim());
    if (!m) throw new Error(`not a duration: "${s}" (use e.g. 250ms, 2s, 1m)`);
    const v = Number(m[1]);
    return m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60_000 : v;
  };
  const parts = t.split(':');
  switch (parts[0]) {
    case 'fixed': return { kind: 'fixed', ms: dur(parts[1]) };
    case 'exp': case 'exponential': return { kind: 'exponential', meanMs: dur(parts[1]) };
    case 'lognormal': return { kind: 'lognormal', medianMs: dur(parts[1]), sigma: Number(parts[2] ?? '0.5') };
    case 'uniform': return { kind: 'uniform', minMs: dur(parts[1]), maxMs: dur(parts[2]) };
    case 'empirical': return { kind: 'empirical', valuesMs: parts[1].split(',').map(dur) };
    default: return { kind: 'fixed', ms: dur(t) };
  }
}
