// Latency histogram with ~0.4% relative resolution: the bucket is read straight from the bits of the
// float (exponent + top 8 mantissa bits of ms + 1), no logarithm on the hot path. Exact count;
// quantiles by rank return the bucket midpoint.

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // little-endian: high word is [1]
const BASE = 1023 << 8;
const NB = 40 << 8; // up to ~2^40 ms

function bucketLow(i: number): number {
  u32[HI] = (i + BASE) << 12;
  u32[1 - HI] = 0;
  return f64[0] - 1;
}

export class LatencyHistogram {
  private counts = new Float64Array(NB);
  count = 0;

  add(ms: number): void {
    f64[0] = ms > 0 ? ms + 1 : 1;
    let i = (u32[HI] >>> 12) - BASE;
    if (i >= NB) i = NB - 1;
    this.counts[i]++;
    this.count++;
  }

  /** The value at 1-based rank r (midpoint of its bucket). */
  quantileRank(r: number): number {
    let acc = 0;
    const c = this.counts;
    for (let i = 0; i < c.length; i++) {
      acc += c[i];
      if (acc >= r) return (bucketLow(i) + bucketLow(i + 1)) / 2;
    }
    return bucketLow(NB);
  }

  quantile(q: number): number {
    return this.count ? this.quantileRank(Math.max(1, Math.ceil(q * this.count))) : 0;
  }
}

