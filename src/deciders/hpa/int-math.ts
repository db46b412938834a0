// Integer helpers reproducing Go's int64 arithmetic on milli-values: sums that may leave the
// safe-integer range and division truncating toward zero. Fast path on plain numbers, exact
// fallback through BigInt (upstream falls back to math/big the same way).

const SAFE = Number.MAX_SAFE_INTEGER;

/** Go's a / b for int64 (truncates toward zero). Exact for any integer inputs. */
export function truncDiv(a: number, b: number): number {
  if (a >= 0 && b > 0 && a <= SAFE && b <= SAFE) {
    let q = Math.trunc(a / b);
    // correct a possible off-by-one from floating rounding
    const r = a - q * b;
    if (r < 0) q -= 1;
    else if (r >= b) q += 1;
    return q;
  }
  if (b === 0) throw new RangeError('integer divide by zero');
  return Number(BigInt(Math.trunc(a)) / BigInt(Math.trunc(b)));
}

/** a * b / c with int64 semantics (truncated), exact. */
export function mulDiv(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) return truncDiv(p, c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}
