// Go's math functions where V8's differ in what a formula can see: math.Pow to the bit where it can
// be, int(float64) and math.Round.

// Go's math.Pow, to the bit where it can be: V8's ** rounds differently (100 ** 2.5 is exactly
// 100000 there, 100000.00000000001 in Go), and floor() or a comparison can turn an ulp into a
// different replica count. Go's special cases, then its method: x**y = x**frac(y) × x**int(y), the
// fraction by exp(frac × log x), the integer part by repeated squaring of x's mantissa with the
// exponent kept apart, scaled back at the end. (Math.exp/Math.log may still differ from Go's by an
// ulp on some inputs.)

const f64 = new DataView(new ArrayBuffer(8));
/** x = frac × 2**exp, frac in [0.5, 1) (x itself for 0, ±Inf, NaN). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let shift = 0;
  if (Math.abs(x) < 2 ** -1022) { x *= 2 ** 52; shift = -52; } // subnormal: normalize first
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const e = (hi >>> 20) & 0x7ff;
  f64.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [f64.getFloat64(0), e - 1022 + shift];
}
/** frac × 2**exp, rounded once. */
function ldexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  const [m, e] = frexp(frac);
  exp += e;
  if (exp > 1024) return m < 0 ? -Infinity : Infinity;
  if (exp >= -1021) return exp > 1023 ? m * 2 * 2 ** (exp - 1) : m * 2 ** exp;
  if (exp < -1075) return m < 0 ? -0 : 0;
  return (m * 2 ** (exp + 60)) * 2 ** -60; // exact, then one rounding into the subnormals
}
const isOddInt = (y: number) => Number.isInteger(y) && Math.abs(y) < 2 ** 53 && Math.abs(y % 2) === 1;

export function pow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0) {
    if (y < 0) return Object.is(x, -0) && isOddInt(y) ? -Infinity : Infinity;
    return Object.is(x, -0) && isOddInt(y) ? x : 0;
  }
  if (!Number.isFinite(y)) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  if (!Number.isFinite(x)) {
    if (x < 0) return pow(1 / x, -y); // pow(-0, -y)
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let yi = Math.trunc(Math.abs(y));
  let yf = Math.abs(y) - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) { yf--; yi++; }
    a = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = BigInt(yi); i !== 0n; i >>= 1n) {
    if (xe < -(1 << 12) || xe > 1 << 12) { ae += xe; break; } // overflow or underflow: ldexp decides
    if ((i & 1n) === 1n) { a *= x1; ae += xe; }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) { x1 += x1; xe--; }
  }
  if (y < 0) { a = 1 / a; ae = -ae; }
  return ldexp(a, ae);
}
/** Go's int(float64): truncation; out of range or NaN gives MinInt64 on amd64, where KEDA runs. */
export function toInt(x: number): bigint {
  const t = Math.trunc(x);
  return Number.isFinite(t) && t >= -(2 ** 63) && t < 2 ** 63 ? BigInt(t) : -(2n ** 63n);
}
export function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

