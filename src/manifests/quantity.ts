// Kubernetes resource quantities ("500m", "1Gi", "2.5k", "1e3", "-0.5") parsed and rounded exactly as
// k8s.io/apimachinery's resource.Quantity does:
//   - grammar: optional sign, digits with an optional fraction, then a suffix: decimal SI
//     (n u m "" k M G T P E), binary SI (Ki Mi Gi Ti Pi Ei) or a decimal exponent (e3, E-3);
//   - values that are not exact at nano precision are rounded away from zero to the next nano at
//     parse time (so a tiny request is never 0); binary values are capped at 2^63-1;
//   - MilliValue()/Value() round away from zero (ceil for positive values);
//   - canonical formatting (String()) keeps the parsed format: decimal values get the largest
//     suffix whose exponent is a multiple of 3 with an integer mantissa (exponent notation beyond
//     E / below n), binary values a power of 1024 (decimal when the value is below 1024, not an
//     integer, or beyond Ei).
// Values are exact BigInts internally: value = unscaled × 10^exp10.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** value = unscaled × 10^exp10, exact (after upstream's rounding to nano at parse time). */
  unscaled: bigint;
  exp10: number;
  format: QuantityFormat;
}

export class QuantityError extends Error {}

const GRAMMAR = "a number with an optional suffix: n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent like e3 (e.g. 500m, 1Gi, 2.5k)";
/** Human description of the accepted syntax, for error messages. */
export const QUANTITY_SYNTAX = GRAMMAR;

const DEC_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BIN_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DEC_BY_EXP = new Map(Object.entries(DEC_SUFFIX).map(([s, e]) => [e, s]));
const BIN_BY_EXP = new Map(Object.entries(BIN_SUFFIX).map(([s, e]) => [e, s]));
const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const SUFFIX_CHARS = 'eEinumkKMGTP';

function pow10(n: number): bigint { return 10n ** BigInt(n); }
function isDigit(c: string): boolean { return c >= '0' && c <= '9'; }

/** Split like upstream's scanner: sign, integer digits (leading zeros stripped), fraction digits, suffix. */
function scan(str: string): { positive: boolean; num: string; denom: string; suffix: string } {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') { positive = false; pos++; } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (pos < end && str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityError(`"${str}" is not a quantity (expected ${GRAMMAR})`);
  if (num === '') num = '0';
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(s: string, str: string): { base: 2 | 10; exponent: number; format: QuantityFormat } {
  if (s in DEC_SUFFIX) return { base: 10, exponent: DEC_SUFFIX[s], format: 'DecimalSI' };
  if (s in BIN_SUFFIX) return { base: 2, exponent: BIN_SUFFIX[s], format: 'BinarySI' };
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E') && /^[+-]?\d+$/.test(s.slice(1))) {
    const e = Number(s.slice(1));
    if (Number.isSafeInteger(e) && Math.abs(e) <= 2147483647) return { base: 10, exponent: e, format: 'DecimalExponent' };
  }
  throw new QuantityError(`"${str}" has an unknown suffix "${s}" (expected ${GRAMMAR})`);
}

/** Divide rounding away from zero. */
function divAway(a: bigint, d: bigint): bigint {
  const q = a / d;
  const r = a % d;
  if (r === 0n) return q;
  return a > 0n ? q + 1n : q - 1n;
}

/** Parse a quantity string exactly as resource.ParseQuantity does; throws QuantityError. */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? numberToString(input) : input;
  if (str.length === 0) throw new QuantityError(`empty quantity (expected ${GRAMMAR})`);
  if (str === '0') return { unscaled: 0n, exp10: 0, format: 'DecimalSI' };
  const { positive, num, denom, suffix } = scan(str);
  const { base, exponent, format: fmt0 } = interpretSuffix(suffix, str);
  let format = fmt0;
  const digits = BigInt(num + denom);
  const sign = positive ? 1n : -1n;
  if (base === 10) {
    // Fast path (int64Amount) and slow path (inf.Dec) agree on the value; only the slow path rounds to nano.
    let unscaled = digits * sign;
    let exp10 = exponent - denom.length;
    if (exp10 < -9 && unscaled !== 0n) { unscaled = divAway(unscaled, pow10(-9 - exp10)); exp10 = -9; }
    return { unscaled, exp10, format };
  }
  // Binary: digits × 10^-len(denom) × 2^exponent
  let unscaled = digits * (1n << BigInt(exponent)) * sign;
  let exp10 = -denom.length;
  if (exp10 < -9 && unscaled !== 0n) { unscaled = divAway(unscaled, pow10(-9 - exp10)); exp10 = -9; }
  // Slow path only: cap at 2^63-1 and switch sub-unit values to DecimalSI. The fast path is taken for
  // integers that fit int64 without these adjustments, so applying them to every binary value is equivalent.
  const abs = unscaled < 0n ? -unscaled : unscaled;
  const one = exp10 >= 0 ? 1n : pow10(-exp10);
  const scaledMax = exp10 >= 0 ? MAX_INT64 : MAX_INT64 * pow10(-exp10);
  if (exp10 >= 0 ? abs * pow10(exp10) > MAX_INT64 : abs > scaledMax) {
    unscaled = unscaled < 0n ? -MAX_INT64 : MAX_INT64;
    exp10 = 0;
  } else if (abs !== 0n && exp10 < 0 && abs < one) {
    format = 'DecimalSI';
  }
  return { unscaled, exp10, format };
}

/** Non-throwing variant. */
export function tryParseQuantity(input: string | number): Quantity | undefined {
  try { return parseQuantity(input); } catch { return undefined; }
}

/** How a JSON/YAML number reaches ParseQuantity (its JSON text). */
function numberToString(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(`${n} is not a quantity (expected ${GRAMMAR})`);
  return String(n);
}

/** ceil-away-from-zero of q × 10^-scale, as Quantity.ScaledValue(scale); saturates at int64. */
export function scaledValueBig(q: Quantity, scale: number): bigint {
  const shift = q.exp10 - scale;
  let v: bigint;
  if (shift >= 0) v = q.unscaled * pow10(shift);
  else v = divAway(q.unscaled, pow10(-shift));
  if (v > MAX_INT64) return MAX_INT64;
  if (v < MIN_INT64) return MIN_INT64;
  return v;
}

/** Quantity.MilliValue(): value × 1000 rounded away from zero (a JS number; exact below 2^53). */
export function milliValue(q: Quantity | string | number): number {
  const qq = typeof q === 'object' ? q : parseQuantity(q);
  return Number(scaledValueBig(qq, -3));
}

/** Quantity.Value(): the value rounded away from zero to an integer. */
export function value(q: Quantity | string | number): number {
  const qq = typeof q === 'object' ? q : parseQuantity(q);
  return Number(scaledValueBig(qq, 0));
}

/** Sign of the quantity: -1, 0 or 1. */
export function sign(q: Quantity): -1 | 0 | 1 {
  return q.unscaled === 0n ? 0 : q.unscaled > 0n ? 1 : -1;
}

/** Build a quantity from milli-units (resource.NewMilliQuantity). */
export function fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { unscaled: BigInt(milli), exp10: -3, format };
}

function removeFactors(v: bigint, base: bigint): { amount: bigint; times: number } {
  const neg = v < 0n;
  let a = neg ? -v : v;
  let times = 0;
  while (a >= base && a % base === 0n) { a /= base; times++; }
  return { amount: neg ? -a : a, times };
}

/** The canonical string form (Quantity.String()). */
export function formatQuantity(q: Quantity): string {
  if (q.unscaled === 0n) return '0';
  let format = q.format;
  let rounded: bigint | undefined;
  if (format === 'BinarySI') {
    const cmp = (n: bigint) => compare(q, n);
    if (cmp(-1024n) > 0 && cmp(1024n) < 0) format = 'DecimalSI';
    else {
      const exact = q.exp10 >= 0 || q.unscaled % pow10(-q.exp10) === 0n;
      if (!exact) format = 'DecimalSI';
      else rounded = q.exp10 >= 0 ? q.unscaled * pow10(q.exp10) : q.unscaled / pow10(-q.exp10);
    }
  }
  if (format === 'BinarySI' && rounded !== undefined) {
    const { amount, times } = removeFactors(rounded, 1024n);
    const suffix = times === 0 ? '' : BIN_BY_EXP.get(times * 10);
    if (suffix !== undefined) return `${amount}${suffix}`;
    format = 'DecimalSI'; // beyond Ei there is no binary suffix: exact decimal form instead
  }
  let { amount, times } = removeFactors(q.unscaled, 10n);
  let exponent = q.exp10 + times;
  while (((exponent % 3) + 3) % 3 !== 0) { amount *= 10n; exponent--; }
  let suffix: string | undefined;
  if (format === 'DecimalSI') suffix = DEC_BY_EXP.get(exponent);
  // DecimalExponent, and DecimalSI beyond E or below n: exponent notation.
  if (suffix === undefined) suffix = exponent === 0 ? '' : `e${exponent}`;
  return `${amount}${suffix}`;
}

/** Compare q with an integer. */
function compare(q: Quantity, n: bigint): number {
  let a: bigint, b: bigint;
  if (q.exp10 >= 0) { a = q.unscaled * pow10(q.exp10); b = n; } else { a = q.unscaled; b = n * pow10(-q.exp10); }
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Compare two quantities by value. */
export function compareQuantities(x: Quantity, y: Quantity): number {
  const e = Math.min(x.exp10, y.exp10);
  const a = x.unscaled * pow10(x.exp10 - e);
  const b = y.unscaled * pow10(y.exp10 - e);
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Canonical form of a milli-unit integer (e.g. 1500 → "1500m", 2000 → "2"). */
export function formatMilliQuantity(milli: number): string {
  return formatQuantity(fromMilli(Math.round(milli)));
}
