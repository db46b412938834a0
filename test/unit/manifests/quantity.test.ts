import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareQuantities, formatQuantity, milliValue, parseQuantity, QuantityError, scaledValueBig, value } from '../../../src/manifests/quantity.ts';

test('parses and rounds as resource.Quantity (table)', () => {
  const cases: [string, number, string][] = [
    // input, MilliValue(), String()
    ['500m', 500, '500m'],
    ['200m', 200, '200m'],
    ['1', 1000, '1'],
    ['0', 0, '0'],
    ['2.5k', 2_500_000, '2500'],
    ['1e3', 1_000_000, '1e3'],
    ['1.5e3', 1_500_000, '1500'],
    ['2.5E-3', 3, '2500e-6'],      // 2.5 milli rounds up to 3 milli
    ['0.5', 500, '500m'],
    ['0.1', 100, '100m'],
    ['100n', 1, '100n'],           // MilliValue rounds up
    ['1u', 1, '1u'],
    ['1Ki', 1_024_000, '1Ki'],
    ['1024Ki', 1_048_576_000, '1Mi'],
    ['1.5Ki', 1_536_000, '1536'],  // binary with a fraction: shown as DecimalSI
    ['0.5Ki', 512_000, '512'],
    ['1Gi', 1_073_741_824_000, '1Gi'],
    ['-1.5m', -2, '-1500u'],       // rounds away from zero
    ['+1', 1000, '1'],
    ['1.', 1000, '1'],
    ['1e-12', 1, '1e-9'],            // rounded up to the smallest nano at parse time
    ['12e3', 12_000_000, '12e3'],
    ['50', 50_000, '50'],
  ];
  for (const [s, milli, canon] of cases) {
    const q = parseQuantity(s);
    assert.equal(milliValue(q), milli, `MilliValue(${s})`);
    assert.equal(formatQuantity(q), canon, `String(${s})`);
  }
  assert.equal(value('1500m'), 2);
  assert.equal(value('-1500m'), -2);
  assert.equal(milliValue(0.25), 250); // YAML numbers
  assert.equal(scaledValueBig(parseQuantity('10Ei'), 0), (1n << 63n) - 1n); // binary values cap at int64 max
});

test('rejects what ParseQuantity rejects', () => {
  for (const s of ['', '1e', 'abc', '1.5.5', ' 1', '1 ', '1Ki5', '1KB', '5%', '1,5', '0x10']) {
    assert.throws(() => parseQuantity(s), QuantityError, JSON.stringify(s));
  }
});

const decSuffixes: [string, number][] = [['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9]]; // larger ones saturate at int64

test('property: integer × SI suffix has exact milli value', () => {
  fc.assert(fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.constantFrom(...decSuffixes), (n, [suf, exp]) => {
    const q = parseQuantity(`${n}${suf}`);
    const e = exp + 3;
    const expected = e >= 0 ? BigInt(n) * 10n ** BigInt(e) : (() => {
      const d = 10n ** BigInt(-e);
      const b = BigInt(n);
      const t = b / d;
      return b % d === 0n ? t : b > 0n ? t + 1n : t - 1n;
    })();
    assert.equal(scaledValueBig(q, -3), expected);
  }));
});

test('property: canonical form parses back to the same value', () => {
  const suffix = fc.constantFrom('', 'n', 'u', 'm', 'k', 'M', 'G', 'Ki', 'Mi', 'Gi', 'e3', 'e-2', 'E6');
  fc.assert(fc.property(fc.boolean(), fc.nat(99999), fc.option(fc.nat(999), { nil: undefined }), suffix, (neg, int, frac, suf) => {
    const s = `${neg ? '-' : ''}${int}${frac !== undefined ? `.${frac}` : ''}${suf}`;
    const q = parseQuantity(s);
    const back = parseQuantity(formatQuantity(q));
    assert.equal(compareQuantities(q, back), 0, `${s} → ${formatQuantity(q)}`);
  }));
});

test('property: MilliValue is the ceiling (away from zero) of value × 1000', () => {
  fc.assert(fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), (micro) => {
    // micro-units written as a decimal fraction of one unit
    const neg = micro < 0;
    const a = Math.abs(micro);
    const s = `${neg ? '-' : ''}${Math.floor(a / 1e6)}.${String(a % 1e6).padStart(6, '0')}`;
    const expect = neg ? -Math.ceil(a / 1000) : Math.ceil(a / 1000);
    assert.equal(milliValue(s), expect === 0 ? 0 : expect, s);
  }));
});

// Situations from upstream's quantity tests (values restated as mantissa × 10^exponent).
test('upstream parse table: value and format', () => {
  const cases: [string, bigint, number, string][] = [
    ['0Ki', 0n, 0, 'BinarySI'], ['0T', 0n, 0, 'DecimalSI'],
    ['7Mi', 7n * 1024n ** 2n, 0, 'BinarySI'], ['3Ei', 3n * 1024n ** 6n, 0, 'BinarySI'],
    ['50k', 5n, 4, 'DecimalSI'], ['300T', 3n, 14, 'DecimalSI'], ['1E', 1n, 18, 'DecimalSI'], ['12E', 12n, 18, 'DecimalSI'],
    ['1E-3', 1n, -3, 'DecimalExponent'], ['1e15', 1n, 15, 'DecimalExponent'], ['1.3E+6', 13n, 5, 'DecimalExponent'],
    ['100.035k', 100035n, 0, 'DecimalSI'], ['0.0005k', 5n, -1, 'DecimalSI'], ['0.00500', 5n, -3, 'DecimalSI'],
    ['0.5e-2', 5n, -3, 'DecimalExponent'], ['6.987654321G', 6987654321n, 0, 'DecimalSI'], ['1.01E', 101n, 16, 'DecimalSI'],
    // rounding up to the next nano
    ['3.001n', 4n, -9, 'DecimalSI'], ['1.1E-9', 2n, -9, 'DecimalExponent'], ['0.0000000001', 1n, -9, 'DecimalSI'],
    ['0.5e-9', 1n, -9, 'DecimalExponent'], ['0.00000012345', 124n, -9, 'DecimalSI'],
    // binary: capped at 2^63-1; fractions accepted; below one unit becomes DecimalSI
    ['9Ei', (1n << 63n) - 1n, 0, 'BinarySI'], ['9223372036854775807Ki', (1n << 63n) - 1n, 0, 'BinarySI'],
    ['100.035Ki', 10243584n, -2, 'BinarySI'], ['0.05Gi', 536870912n, -1, 'BinarySI'],
    ['0.000000000001Ki', 2n, -9, 'DecimalSI'],
    ['.001', 1n, -3, 'DecimalSI'], ['.0001k', 100n, -3, 'DecimalSI'], ['1.G', 1n, 9, 'DecimalSI'],
  ];
  for (const [s, mant, exp, fmt] of cases) {
    for (const [sgn, m] of [['', 1n], ['+', 1n], ['-', -1n]] as const) {
      const q = parseQuantity(`${sgn}${s}`);
      assert.equal(compareQuantities(q, { unscaled: mant * m, exp10: exp, format: 'DecimalSI' }), 0, `${sgn}${s}`);
      assert.equal(q.format, fmt, `${sgn}${s} format`);
    }
  }
  for (const s of ['1.1.M', '1+1.0M', '0.1mi', '0.1am', 'aoeu', '.5i', '1i', '-3.01i', '-3.01e-', '1e4294967297', 'E2147483648', '1E-2147483648']) {
    assert.throws(() => parseQuantity(s), QuantityError, s);
  }
});

test('upstream canonical strings', () => {
  const q = (unscaled: bigint, exp10: number, format: 'DecimalSI' | 'BinarySI' | 'DecimalExponent') => ({ unscaled, exp10, format });
  const cases: [ReturnType<typeof q>, string][] = [
    [q(1024n ** 3n, 0, 'BinarySI'), '1Gi'], [q(300n * 1024n ** 2n, 0, 'BinarySI'), '300Mi'], [q(1001n * 1024n ** 3n, 0, 'BinarySI'), '1001Gi'],
    [q(5n, 0, 'BinarySI'), '5'], [q(500n, -3, 'BinarySI'), '500m'], [q(1025n, 0, 'BinarySI'), '1025'], [q(1234567n, -3, 'BinarySI'), '1234567m'],
    [q(1000n, 6, 'DecimalSI'), '1G'], [q(108n, -2, 'DecimalSI'), '1080m'], [q(10800n, -4, 'DecimalSI'), '1080m'], [q(300n, 6, 'DecimalSI'), '300M'],
    [q(1234567n, 6, 'DecimalSI'), '1234567M'], [q(108n, -8, 'DecimalSI'), '1080n'],
    [q(1n, 21, 'DecimalSI'), '1e21'], [q(5n, 21, 'DecimalSI'), '5e21'], [q(1n, 24, 'DecimalSI'), '1e24'], [q(1n, -10, 'DecimalSI'), '100e-12'],
    [q(1n, 70, 'BinarySI'), '10e69'], [q(1n, 72, 'BinarySI'), '1e72'], [q(1n << 70n, 0, 'BinarySI'), '1180591620717411303424'],
    [q(1n, -9, 'DecimalExponent'), '1e-9'], [q(80n, -3, 'DecimalExponent'), '80e-3'], [q(300n, 6, 'DecimalExponent'), '300e6'], [q(0n, 0, 'DecimalExponent'), '0'],
    [q(2000n, 0, 'BinarySI'), '2000'], [q(-2000n, 0, 'BinarySI'), '-2000'], [q(-901n, -2, 'DecimalSI'), '-9010m'],
  ];
  for (const [v, s] of cases) {
    assert.equal(formatQuantity(v), s, `${v.unscaled}e${v.exp10} ${v.format}`);
    if (v.unscaled !== 0n) assert.equal(formatQuantity({ ...v, unscaled: -v.unscaled }), s.startsWith('-') ? s.slice(1) : `-${s}`);
  }
  for (const [i, o] of [['1024Mi', '1Gi'], ['1000M', '1G'], ['.001Ki', '1024m'], ['.000001Ki', '1024u'], ['.000000001Ki', '1024n'], ['.000000000001Ki', '2n']]) {
    assert.equal(formatQuantity(parseQuantity(i)), o, i);
    assert.equal(formatQuantity(parseQuantity(`-${i}`)), `-${o}`, `-${i}`);
  }
});
