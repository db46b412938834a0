// Differential test: Tide's KEDA scalingModifiers formulas against expr-lang, the library KEDA runs
// them with (v1.17.8, from the Go module proxy), driven the way KEDA drives it
// (test/upstream-keda-formula/harness.go): the same wrapping into float(...), the admission check
// (compile against float64 triggers, one run with every trigger at -1) and the run on trigger values
// where a trigger in fallback is nil.
//
// Seeded random formulas over three triggers: numbers (int and float literals, large ints that
// overflow), nil/true/false, every operator, ternaries, the functions Tide supports, arrays (empty
// and nested) in the aggregates, with and without parentheses, and the predicate builtins (all,
// any, filter, map, count, sum, reduce, … with `#`, `#index`, `#acc`, nested, with the shapes
// expr-lang's optimizer rewrites). For each, admission must agree
// (both accept or both refuse), and for an admitted formula every run must agree: both an error,
// both nil, or the same number.
//
//   TIDE_DIFF_SEED=<n>   reproduce a run (the seed is printed); default: a fresh seed every run
//   TIDE_DIFF_COUNT=<n>  formulas (default 9000)
// Under the mutation tool (TIDE_MUTANT set) every mutant meets the same 2,000 formulas (seed 1).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { compileFormula, evaluateComposite, validateComposite, type CompiledFormula } from '../../../src/deciders/keda/formula.ts';
import { buildHarness, haveGo, Rng, runJsonLines } from './upstream-harness.ts';

const NAMES = ['a', 'b', 'c'];

const INTS = ['0', '1', '2', '3', '7', '10', '100'];
const BIG_INTS = ['4611686018427387904', '9223372036854775807', '3037000500', '9223372036854775808']; // the last is out of int64: a parse error
const FLOATS = ['0.5', '1.5', '2.0', '2.5', '1e3', '.5', '0.1', '0.2', '1e16'];
/** Sub-formulas the checker cannot type (their type is decided when they run) or that fold. */
const UNTYPED = ['(a > 0 ? 1 : true)', '(b > 1 ? 2.5 : 1)', '(c ?? true)', '(a < 0 ? nil : false)', '(b > 0 ? [1] : 2)'];
const BINARY = ['+', '-', '*', '/', '%', '**', '^', '==', '!=', '<', '>', '<=', '>=', '&&', '||', 'and', 'or', '??'];

// findLast and findLastIndex are refused by Tide (formula.ts says why), so never generated
const PREDICATE_FNS = ['all', 'none', 'any', 'one', 'filter', 'map', 'count', 'sum', 'find', 'findIndex', 'reduce'];
/** The pointers a predicate of `fn` may use (expr-lang: #index in map and reduce, #acc in reduce). */
const pointersOf = (fn: string) => (fn === 'map' ? ['#', '#index'] : fn === 'reduce' ? ['#', '#index', '#acc'] : ['#']);

/**
 * A predicate builtin call: a collection (mostly an array literal of triggers and constants, some
 * nested filter/map results, some non-arrays), a predicate with or without braces, mostly a
 * comparison of `#`; some compared with an integer (count's early exits) or joined with a second
 * call on the same collection (all/any/none merged by the optimizer). Mostly made a number (bools
 * into a ternary, arrays into an aggregate), as KEDA's float(...) wants one.
 */
function predicateFormula(r: Rng, depth: number, hard: boolean): string {
  const sub = (ptrs: readonly string[] = []) => formula(r, depth - 1, hard, ptrs);
  const leaf = (ptrs: readonly string[]) => (ptrs.length > 0 && r.chance(0.5) ? r.pick(ptrs) : r.pick([...NAMES, ...NAMES, ...INTS, ...FLOATS, 'nil']));
  const collection = (): string => {
    switch (r.int(0, 7)) {
      case 0: return sub();
      case 1: return `${r.pick(['filter', 'map'])}([${NAMES.join(', ')}], ${body(r.pick(['filter', 'map']))})`;
      case 2: return `[${Array.from({ length: r.int(0, 2) }, () => sub()).join(', ')}]`;
      default: return `[${Array.from({ length: r.int(1, 4) }, () => (r.chance(0.8) ? leaf([]) : sub())).join(', ')}]`;
    }
  };
  function body(fn: string): string {
    const ptrs = pointersOf(fn);
    // now and then a pointer the checker refuses here (#index outside map/reduce, #acc outside reduce)
    const pick = () => (r.chance(0.04) ? r.pick(['#index', '#acc']) : r.pick(ptrs));
    const operand = () => (r.chance(0.6) ? leaf(ptrs) : sub(ptrs));
    let b: string;
    if (fn === 'map' || fn === 'sum' || fn === 'reduce') b = r.chance(0.6) ? `${pick()} ${r.pick(['+', '*', '-', '??'])} ${operand()}` : r.chance(0.5) ? pick() : sub(ptrs);
    else b = r.chance(0.75) ? `${r.chance(0.2) ? `(${pick()} ?? 0)` : pick()} ${r.pick(['>', '>=', '<', '<=', '==', '!='])} ${operand()}` : sub(ptrs);
    return r.chance(0.5) ? `{${b}}` : b;
  }
  const call = (f: string, coll: string) => {
    if ((f === 'count' || f === 'sum') && r.chance(0.15)) return `${f}(${coll})`;
    if (f === 'reduce' && r.chance(0.5)) return `reduce(${coll}, ${body(f)}, ${leaf([])})`;
    return `${f}(${coll}, ${body(f)}${r.chance(0.05) ? ',' : ''})`;
  };
  const asNumber = (cond: string) => (r.chance(0.8) ? `(${cond} ? ${leaf([])} : ${leaf([])})` : cond);
  const c = collection();
  switch (r.int(0, 7)) {
    case 0: return asNumber(`count(${c}, ${body('count')}) ${r.pick(['>', '>=', '<', '<=', '=='])} ${r.pick(['0', '1', '2', '3', '-1', '1 + 1'])}`);
    case 1: {
      const f = r.pick(['all', 'any', 'none']);
      return asNumber(`${call(f, c)} ${r.pick(['&&', 'and', '||', 'or'])} ${call(f, c)}`);
    }
    case 2: return `len(${r.chance(0.6) ? `filter(${c}, ${body('filter')})` : c})`;
    default: {
      const f = r.pick(PREDICATE_FNS);
      const s = call(f, c);
      if (['all', 'none', 'any', 'one'].includes(f)) return asNumber(s);
      if (f === 'filter' || f === 'map') return r.pick([`sum(${s})`, `max(${s})`, `mean(${s})`, `len(${s})`, `count(${s})`, s]);
      return s;
    }
  }
}

/** A random formula; `hard`: fewer parentheses (precedence), deeper, big ints, arrays in aggregates; `ptrs`: the pointers in scope (inside a predicate). */
function formula(r: Rng, depth: number, hard: boolean, ptrs: readonly string[] = []): string {
  if (depth <= 0 || r.chance(0.25)) {
    if (ptrs.length > 0 && r.chance(0.4)) return r.pick(ptrs);
    switch (r.int(0, hard ? 4 : 3)) {
      case 0: return r.pick(NAMES);
      case 1: return r.pick(hard ? [...INTS, ...BIG_INTS] : INTS);
      case 2: return r.pick(FLOATS);
      case 3: return r.pick(['nil', 'true', 'false']);
      default: return r.pick(UNTYPED);
    }
  }
  const sub = () => formula(r, depth - 1, hard, ptrs);
  const p = (s: string) => (r.chance(hard ? 0.35 : 0.7) ? `(${s})` : s);
  const k = r.int(0, 11);
  if (k >= 10) return p(predicateFormula(r, depth, hard));
  if (k <= 3) {
    const op = r.pick(BINARY);
    // and/or with a constant side fold away in expr-lang's optimizer: reach them often
    if (hard && ['&&', '||', 'and', 'or'].includes(op) && r.chance(0.5)) {
      const c = r.pick(['true', 'false', '(1 == 1)', 'not true', '(false or true)']);
      return r.chance(0.5) ? `${c} ${op} ${p(sub())}` : `${p(sub())} ${op} ${c}`;
    }
    return `${p(sub())} ${op} ${p(sub())}`;
  }
  if (k === 4) return `${r.pick(['-', '+', '!', 'not '])}${p(sub())}`;
  if (k === 5) return `${p(sub())} ? ${p(sub())} : ${p(sub())}`;
  if (k <= 7) return `${r.pick(['float', 'int', 'abs', 'ceil', 'floor', 'round'])}(${sub()})`;
  const fn = r.pick(['min', 'max', 'mean', 'sum', 'count']);
  const args = Array.from({ length: r.int(1, 3) }, () => (hard && r.chance(0.2) ? `[${r.chance(0.3) ? '' : sub()}]` : sub()));
  return fn === 'sum' || fn === 'count' || r.chance(0.3) ? `${fn}([${args.join(', ')}])` : `${fn}(${args.join(', ')})`;
}

interface Case { id: string; formula: string; names: string[]; envs: Record<string, number | null>[] }
interface Upstream { id: string; validate: string; results: { value?: number | null; null?: boolean; error?: string }[] }

export function generateFormulaCases(seed: number, count: number): Case[] {
  const r = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const hard = i % 2 === 1;
    const values = hard ? [-1, 0, 1, 2.5, 3, 10, -7.25, 0.5, 1e300, -1e-300, 9.3e18, 123456.789, 0.1, 1e16] : [-1, 0, 1, 2.5, 3, 10, -7.25, 0.5];
    return {
      id: `${seed}-${i}`,
      // every third formula is built around a predicate builtin (they are rarely admitted when nested at random)
      formula: i % 3 === 2 ? predicateFormula(r, r.int(1, 3), hard) : formula(r, r.int(1, hard ? 6 : 4), hard),
      names: NAMES,
      envs: Array.from({ length: 4 }, () => Object.fromEntries(NAMES.map((n) => [n, r.chance(hard ? 0.3 : 0.15) ? null : r.pick(values)]))),
    };
  });
}

type Outcome = { error: string } | { value: number | null };
function tide(f: string, env: Record<string, number | null>): Outcome {
  try { return { value: evaluateComposite(compileFormula(f), env) }; } catch (e) { return { error: (e as Error).message }; }
}
function admits(f: string, names: string[]): string {
  try { validateComposite(compileFormula(f), names); return ''; } catch (e) { return (e as Error).message; }
}

/**
 * Upstream's own platform dependence: Go's math.Pow takes a fractional exponent through Exp and Log,
 * which on amd64 are assembly (Exp with or without FMA, by CPU), on arm64 other assembly; V8's
 * Math.exp/Math.log differ from them in the last bits on some inputs, and floor(), a comparison or
 * int() can make an ulp a different answer. Tolerated only when shifting every ** result by a few
 * ulps makes Tide give upstream's answer.
 */
function explainedByPowUlps(f: string, env: Record<string, number | null>, matches: (o: Outcome) => boolean): boolean {
  if (!/\*\*|\^/.test(f)) return false;
  const compiled = compileFormula(f);
  for (const factor of [1 + 2 ** -52, 1 - 2 ** -53, 1 + 2 ** -50, 1 - 2 ** -51, 1 + 2 ** -48, 1 - 2 ** -49]) {
    const nudge = (n: CompiledFormula['ast']): CompiledFormula['ast'] => {
      const out: CompiledFormula['ast'] = { ...n };
      for (const k of ['left', 'right', 'argument', 'test', 'consequent', 'alternate', 'body'] as const) if (n[k]) out[k] = nudge(n[k] as CompiledFormula['ast']);
      if (Array.isArray(n.elements)) out.elements = (n.elements as CompiledFormula['ast'][]).map(nudge);
      if (Array.isArray(n.arguments)) out.arguments = (n.arguments as CompiledFormula['ast'][]).map(nudge);
      if (n.type === 'BinaryExpression' && (n.operator === '**' || n.operator === '^')) {
        return { type: 'BinaryExpression', operator: '*', left: { ...out, parens: true }, right: { type: 'Literal', value: factor, raw: String(factor) }, parens: n.parens };
      }
      return out;
    };
    const nudged: CompiledFormula = { ...compiled, ast: nudge(compiled.ast) };
    let o: Outcome;
    try { o = { value: evaluateComposite(nudged, env) }; } catch (e) { o = { error: (e as Error).message }; }
    if (matches(o)) return true;
  }
  return false;
}

const inCI = process.env.CI === 'true';

test('KEDA scalingModifiers formulas: admission and values equal expr-lang v1.17.8 run as KEDA runs it, on random formulas', { skip: !inCI && !haveGo() ? 'Go is not installed (CI installs it)' : false }, (t?: TestContext) => {
  const mutant = process.env.TIDE_MUTANT !== undefined;
  const seed = process.env.TIDE_DIFF_SEED ? Number(process.env.TIDE_DIFF_SEED) : mutant ? 1 : randomInt(1, 2 ** 31 - 1);
  const count = process.env.TIDE_DIFF_COUNT ? Number(process.env.TIDE_DIFF_COUNT) : mutant ? 2000 : 9000;
  t?.diagnostic(`seed ${seed} (TIDE_DIFF_SEED=${seed} reproduces this run)`);
  const cases = generateFormulaCases(seed, count);
  const upstream = runJsonLines<Upstream>(buildHarness('test/upstream-keda-formula/build.sh'), cases);

  const divergences: string[] = [];
  let tolerated = 0;
  let admitted = 0;
  let values = 0;
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const u = upstream[i];
    const mine = admits(c.formula, c.names);
    if ((mine === '') !== (u.validate === '')) {
      divergences.push(`${c.id} ${JSON.stringify(c.formula)}: admission: upstream ${u.validate === '' ? 'admits' : `refuses (${u.validate.split('\n')[0]})`}, Tide ${mine === '' ? 'admits' : `refuses (${mine})`}`);
      continue;
    }
    if (u.validate !== '') continue;
    admitted++;
    c.envs.forEach((env, j) => {
      const x = u.results[j];
      const up: Outcome = x.error !== undefined ? { error: x.error } : { value: x.null ? null : x.value ?? null };
      const me = tide(c.formula, env);
      const agrees = (o: Outcome) => ('error' in up
        ? 'error' in o
        : !('error' in o) && (up.value === null ? o.value === null : o.value !== null && Math.abs(o.value - up.value) <= 1e-9 * Math.max(1, Math.abs(up.value))));
      if ('value' in up && up.value !== null) values++;
      if (agrees(me)) return;
      if (explainedByPowUlps(c.formula, env, agrees)) tolerated++;
      else divergences.push(`${c.id} ${JSON.stringify(c.formula)} on ${JSON.stringify(env)}: upstream ${JSON.stringify(up)}, Tide ${JSON.stringify(me)}`);
    });
  }
  console.log(`keda-formula-differential: seed ${seed}, ${cases.length} formulas, ${admitted} admitted, ${values} numeric results, ${divergences.length} divergences, ${tolerated} tolerated (the last bits of Go's math.Pow)`);
  assert.deepEqual(divergences.slice(0, 20), [], `${divergences.length} divergences from expr-lang (seed ${seed})`);
  // the generator must reach both sides of admission and real values, or the comparison says little
  assert.ok(admitted > count * 0.15 && admitted < count * 0.85, `admitted ${admitted} of ${count}`);
  assert.ok(values > count * 0.3, `numeric results ${values}`);
});

/** Operands for `a ** b`: every range of doubles (subnormal to huge), integer and fractional exponents. */
export function generatePowCases(seed: number, count: number): Case[] {
  const r = new Rng(seed);
  const x = (): number => {
    switch (r.int(0, 5)) {
      case 0: return r.pick([0, 1, -1, 2, -2, 0.5, 10, 100, 1e-310, 5e-324, 1.7976931348623157e308, 2 ** -1022]);
      case 1: return (r.next() * 2 - 1) * 2 ** r.int(-1074, 1023); // any magnitude, subnormals included
      case 2: return Number((r.next() * 200 - 100).toPrecision(6));
      default: return Number((r.next() * 10).toPrecision(3));
    }
  };
  const y = (): number => {
    switch (r.int(0, 5)) {
      case 0: return r.int(-1100, 1100);
      case 1: return r.int(-40, 40);
      case 2: return r.int(-40, 40) + 0.5;
      case 3: return r.pick([0.5, -0.5, 1, -1, 0, 2 ** 53, 2 ** 63, -(2 ** 64), 1e300]);
      default: return Number((r.next() * 40 - 20).toPrecision(4));
    }
  };
  return Array.from({ length: count }, (_, i) => ({ id: `pow-${seed}-${i}`, formula: 'a ** b', names: ['a', 'b'], envs: Array.from({ length: 4 }, () => ({ a: x(), b: y() })) }));
}

const ulps = (p: number, q: number) => {
  const b = new DataView(new ArrayBuffer(16));
  b.setFloat64(0, p); b.setFloat64(8, q);
  return Math.abs(Number(b.getBigInt64(0) - b.getBigInt64(8)));
};

// Go's amd64 Log (assembly) is wrong for subnormal arguments (log(1e-310) comes out as -709.09, not
// -713.80; arm64 uses the Go code and gets it right): a subnormal base with a fractional exponent
// is left out rather than copied.
const subnormal = (x: number) => x !== 0 && Math.abs(x) < 2 ** -1022;

test("** equals Go's math.Pow: bit for bit with an integer exponent, within what an ulp of exp and log allows with a fractional one (Go's are per-platform assembly)", { skip: !inCI && !haveGo() ? 'Go is not installed (CI installs it)' : false }, () => {
  const mutant = process.env.TIDE_MUTANT !== undefined;
  const seed = process.env.TIDE_DIFF_SEED ? Number(process.env.TIDE_DIFF_SEED) : mutant ? 1 : randomInt(1, 2 ** 31 - 1);
  const cases = generatePowCases(seed, mutant ? 250 : 1000);
  const upstream = runJsonLines<Upstream>(buildHarness('test/upstream-keda-formula/build.sh'), cases);
  const bad: string[] = [];
  let exact = 0;
  let finite = 0;
  let maxUlps = 0;
  let excluded = 0;
  upstream.forEach((u, i) => cases[i].envs.forEach((env, j) => {
    const x = u.results[j];
    const me = tide('a ** b', env);
    const [a, b] = [env.a!, env.b!];
    if (subnormal(a) && !Number.isInteger(b)) { excluded++; return; }
    if (x.error !== undefined || 'error' in me) {
      // both not finite (Tide's composite refuses ±Inf and NaN; the harness reports them as errors)
      if (!(x.error !== undefined && 'error' in me)) bad.push(`${a} ** ${b}: upstream ${JSON.stringify(x)}, Tide ${JSON.stringify(me)}`);
      return;
    }
    finite++;
    const g = x.value as number;
    const t = me.value as number;
    // the fraction goes through exp(f × log a): an ulp of log a is f × |log a| ulps of the result
    let f = Math.abs(b) - Math.trunc(Math.abs(b));
    if (f > 0.5) f -= 1;
    const limit = Number.isInteger(b) ? 0 : 4 + Math.ceil(Math.abs(f * Math.log(Math.abs(a))));
    if (t === g) exact++;
    else maxUlps = Math.max(maxUlps, ulps(t, g));
    if (t !== g && ulps(t, g) > limit) bad.push(`${a} ** ${b}: upstream ${g}, Tide ${t} (${ulps(t, g)} ulps)`);
  }));
  console.log(`keda-formula-differential: pow seed ${seed}, ${finite} finite results, ${exact} bit for bit, at most ${maxUlps} ulps apart, ${bad.length} beyond the limit, ${excluded} left out (subnormal base, fractional exponent)`);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} pow divergences (seed ${seed})`);
  assert.ok(finite > cases.length, `finite results ${finite}`);
});
