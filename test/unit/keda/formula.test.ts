import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsep from 'jsep';
import { compileFormula, evaluateComposite, evaluateFormula, FormulaError } from '../../../src/deciders/keda/formula.ts';

const run = (src: string, env: Record<string, number | null> = {}) => evaluateFormula(compileFormula(src), env);

test('arithmetic, precedence, functions', () => {
  assert.equal(run('a + b * 2', { a: 1, b: 3 }), 7);
  assert.equal(run('(a + b) / 2', { a: 1, b: 3 }), 2);
  assert.equal(run('2 ** 3 ^ 2'), 512); // right-associative like expr-lang
  assert.equal(run('max(a, b, 4)', { a: 1, b: 3 }), 4);
  assert.equal(run('min([a, b])', { a: 1, b: 3 }), 1);
  assert.equal(run('ceil(a / 4) + floor(2.7) + abs(-1) + round(2.5)', { a: 5 }), 2 + 2 + 1 + 3);
  assert.equal(run('mean(a, b)', { a: 1, b: 3 }), 2); // expr-lang has mean, no avg
  assert.throws(() => compileFormula('avg(a, b)'), /unknown function avg/);
  // expr-lang's count(array) counts the true elements; a non-boolean element is an error.
  assert.equal(run('count([a > 0, b > 0, a > 2, true])', { a: 1, b: 0 }), 2);
});

test('ternary, comparisons and boolean operators', () => {
  assert.equal(run('a > 2 ? b : 0', { a: 3, b: 9 }), 9);
  assert.equal(run('a > 2 and b < 1 ? 1 : 2', { a: 3, b: 9 }), 2);
  assert.equal(run('not (a == 1) || false', { a: 1 }), false);
});

test('nil coalescing and nil errors', () => {
  assert.equal(run('a ?? b', { a: null, b: 4 }), 4);
  assert.equal(run('a ?? b', { a: 2, b: 4 }), 2);
  assert.equal(evaluateComposite(compileFormula('a ?? b'), { a: null, b: null }), null);
  assert.throws(() => run('a + 1', { a: null }), /nil/);
  assert.throws(() => evaluateComposite(compileFormula('a'), { a: null }), /nil/);
});

test('composite must be a finite number', () => {
  assert.throws(() => evaluateComposite(compileFormula('a > 1'), { a: 2 }), /invalid argument for float \(type bool\)/); // float(a > 1) does not compile
  assert.throws(() => evaluateComposite(compileFormula('a / 0'), { a: 2 }), /Infinity/);
  assert.equal(evaluateComposite(compileFormula('a / 4'), { a: 2 }), 0.5);
});

test('no code execution: member access, unknown functions and names are rejected', () => {
  assert.throws(() => compileFormula('process.exit(1)'), FormulaError);
  assert.throws(() => compileFormula('a.constructor'), FormulaError);
  assert.throws(() => compileFormula('eval("1")'), FormulaError);
  assert.throws(() => compileFormula('"x"'), /unsupported literal/);
  assert.throws(() => run('constructor', {}), /unknown name/);
  assert.throws(() => run('toString', {}), /unknown name/);
  assert.throws(() => compileFormula('a +'), /cannot parse/);
  assert.deepEqual(compileFormula('a + max(b, c) ?? d').identifiers, ['a', 'b', 'c', 'd']);
});

const fails = (src: string, env: Record<string, number | null> = {}, re: RegExp = /./) =>
  assert.throws(() => run(src, env), (e: unknown) => e instanceof FormulaError && e.name === 'FormulaError' && re.test(e.message));

test("operator precedence is expr-lang's: or < and < comparisons < + - < * / % < ** ^ < ??", () => {
  assert.equal(run('true or false and false'), true); // and binds tighter than or
  assert.equal(run('false and true or true'), true);
  assert.equal(run('true || false && false'), true);
  assert.equal(run('a > 1 or b > 1', { a: 0, b: 2 }), true);
  assert.equal(run('a > 1 and b > 1', { a: 2, b: 2 }), true);
  assert.equal(run('true and 1 == 1'), true); // comparison binds tighter than and
  assert.equal(run('true && a < 2', { a: 1 }), true);
  assert.equal(run('1 < 1 + 1'), true); // + binds tighter than comparisons
  assert.equal(run('a + 1 >= 3', { a: 2 }), true);
  assert.equal(run('1 + 2 * 3'), 7);
  assert.equal(run('10 - 2 * 3'), 4);
  assert.equal(run('1 - 2 - 3'), -4); // left-associative
  assert.equal(run('2 * 3 ** 2'), 18); // ** binds tighter than *
  assert.equal(run('2 * 3 ^ 2'), 18);
  assert.equal(run('2 ^ 3 ^ 2'), 512); // right-associative
  assert.equal(run('2 ^ 3 ** 2'), 512);
  // ?? binds tightest: a + (b ?? 3), 2 ** (a ?? 3), (a ?? 1) * 5
  assert.equal(run('a + b ?? 3', { a: 1, b: null }), 4);
  assert.equal(run('2 ** a ?? 3', { a: null }), 8);
  assert.equal(run('2 ^ a ?? 3', { a: null }), 8);
  assert.equal(run('a * b ?? 3', { a: 2, b: null }), 6);
  fails('a ?? 1 * 5', { a: null }, /cannot be mixed/); // expr-lang rejects an operator after ??
  assert.equal(run('a ?? b ?? 4', { a: null, b: null }), 4);
  assert.equal(run('a ?? b ?? 4', { a: null, b: 3 }), 3);
});

test('JavaScript-only syntax is rejected: bitwise operators, ===, ~, null', () => {
  for (const src of ['a | b', 'a & b', 'a << 1', 'a === b', 'a !== b', '~a']) assert.throws(() => compileFormula(src), FormulaError, src);
  fails('null', {}, /unknown name null/);
});

test('true, false and nil are constants, never trigger names', () => {
  assert.equal(run('true ? 1 : 2'), 1);
  assert.equal(run('false ? 1 : 2'), 2);
  assert.equal(run('a == nil', { a: null }), true);
  assert.equal(run('true', { true: 5 } as Record<string, number>), true);
  assert.deepEqual(compileFormula('a > 1 == true ? nil ?? a : false ? b : a').identifiers, ['a', 'b']);
});

test('unary operators: - + ! not', () => {
  assert.equal(run('-a + 5', { a: 2 }), 3);
  assert.equal(run('+a', { a: 2 }), 2);
  assert.equal(run('!true'), false);
  assert.equal(run('not false'), true);
  assert.equal(run('not (a > 1)', { a: 0 }), true);
  fails('-a', { a: null }, /nil/);
  fails('!a', { a: 1 }, /invalid operation: ! \(mismatched type float64\)/);
  assert.equal(run('+n', { n: null }), null); // unary + compiles to nothing
});

test('functions: rounding, integer part, argument counts, sum, empty lists', () => {
  assert.equal(run('round(2.2)'), 2);
  assert.equal(run('round(2.5)'), 3);
  assert.equal(run('round(-2.5)'), -3); // half away from zero (Go's math.Round), not JS's -2
  assert.equal(run('round(-2.2)'), -2);
  assert.equal(run('int(2.7)'), 2);
  assert.equal(run('int(-2.7)'), -2); // toward zero
  assert.equal(run('float(a)', { a: 1.5 }), 1.5);
  for (const src of ['abs(1, 2)', 'float()', 'round(1, 2)']) fails(src, {}, /invalid number of arguments \(expected 1, got/);
  fails('count([true], [true])', {}, /predicate should return boolean/); // the second argument is a predicate
  assert.equal(run('max(5)'), 5);
  assert.equal(run('min(5)'), 5);
  assert.equal(run('mean([4])'), 4);
  assert.equal(run('max(1, [5, [7]], 3)'), 7);
  assert.equal(run('min(4, [5, [2]], 3)'), 2);
  assert.equal(run('mean(1, [2, [6]])'), 3);
  assert.equal(run('mean(a, b)', { a: 1, b: 2 }), 1.5);
  for (const fn of ['max', 'min', 'mean']) fails(`${fn}()`, {}, new RegExp(`not enough arguments to call ${fn}`));
  // empty arrays add nothing: nothing at all is nil for min/max, 0 for mean
  assert.equal(run('min([])'), null);
  assert.equal(run('max([], [[]])'), null);
  assert.equal(run('max([], 3)'), 3);
  assert.equal(run('mean([])'), 0);
  assert.equal(run('mean([], 4)'), 4);
  fails('max([a])', { a: null }, /nil/);
  fails('max(true)', {}, /invalid argument for max \(type bool\)/);
  assert.equal(run('sum([a, b])', { a: 1, b: 3 }), 4);
  assert.equal(run('sum([])'), 0);
  fails('sum([a])', { a: null }, /nil/);
  fails('sum([[1]])', {}, /invalid operation: \[\]interface \{\} \+ int/); // not flattened
  fails('sum(a)', { a: 1 }, /builtin sum takes only array \(got float64\)/);
  fails('sum([1], [2])', {}, /invalid operation: \[\]interface \{\} \+ int/); // [2] is sum's predicate: each element gives [2]
  assert.throws(() => compileFormula('sum()'), /sum\(\) takes at least 1 arguments/);
  assert.throws(() => compileFormula('sum([1], # > 0, 2)'), /expected \)/);
  fails('count([1])', {}, /boolean/);
  fails('count(true)', {}, /builtin count takes only array \(got bool\)/);
  fails('count([nil])', {}, /boolean/);
  assert.equal(run('count([])'), 0);
});

test('type errors: arithmetic needs numbers, conditions need booleans', () => {
  // expr-lang's checker: every trigger is a float64, and what no values can make work is refused
  // before anything runs, in a branch that is never taken too
  fails('true + 1', {}, /invalid operation: \+ \(mismatched types bool and int\)/);
  fails('[1] + 1', {}, /invalid operation: \+ \(mismatched types \[\]interface \{\} and int\)/);
  fails('a > 0 ? a : true + 1', { a: 1 }, /mismatched types bool and int/);
  fails('1 ? 2 : 3', {}, /non-bool expression \(type int\) used as condition/);
  fails('a ? 2 : 3', { a: 1 }, /non-bool expression \(type float64\) used as condition/);
  fails('[true] ? 2 : 3', {}, /non-bool expression \(type \[\]interface \{\}\) used as condition/);
  fails('1 and true', {}, /invalid operation: and \(mismatched types int and bool\)/);
  fails('false or 1', {}, /invalid operation: or \(mismatched types bool and int\)/);
  fails('true and 1', {}, /invalid operation: and \(mismatched types bool and int\)/);
  // what the checker cannot type is checked when it runs
  fails('a + 1', { a: null }, /nil/);
  fails('(a > 0 ? 1 : 2.5) % 2', { a: -1 }, /invalid operation: float64 % int/);
  assert.equal(run('(a > 0 ? 1 : 2.5) % 2', { a: 1 }), 1);
});

test('and/or: results and short-circuit (the right side is not evaluated when the left decides)', () => {
  assert.equal(run('true and true'), true);
  assert.equal(run('true and false'), false);
  assert.equal(run('false and true'), false);
  assert.equal(run('false or true'), true);
  assert.equal(run('false or false'), false);
  assert.equal(run('true or false'), true);
  assert.equal(run('false and a > 1', { a: null }), false);
  assert.equal(run('false && a > 1', { a: null }), false);
  assert.equal(run('true or a > 1', { a: null }), true);
  assert.equal(run('true || a > 1', { a: null }), true);
});

test('comparisons and remaining arithmetic', () => {
  assert.equal(run('a < 2', { a: 2 }), false);
  assert.equal(run('a < 2', { a: 1 }), true);
  assert.equal(run('a <= 2', { a: 2 }), true);
  assert.equal(run('a <= 2', { a: 3 }), false);
  assert.equal(run('a <= 2', { a: 1 }), true);
  assert.equal(run('a > 2', { a: 2 }), false);
  assert.equal(run('a > 2', { a: 3 }), true);
  assert.equal(run('a >= 2', { a: 2 }), true);
  assert.equal(run('a >= 2', { a: 1 }), false);
  assert.equal(run('a >= 2', { a: 3 }), true);
  assert.equal(run('a != 2', { a: 2 }), false);
  assert.equal(run('a != 2', { a: 3 }), true);
  assert.equal(run('a - 1', { a: 5 }), 4);
  // % takes integers only (a trigger is a float64): int(a) % 3; a constant % 0 does not compile
  fails('a % 3', { a: 7 }, /invalid operation: % \(mismatched types float64 and int\)/);
  fails('7 % 2.0', {}, /mismatched types int and float64/);
  assert.equal(run('int(a) % 3', { a: 7 }), 1);
  assert.equal(run('int(a) % 4', { a: -7 }), -3); // Go's %: the sign of the dividend
  fails('int(a) % 0', { a: 7 }, /integer divide by zero/);
  fails('a > 0 ? 1 : 7 % (2 - 2)', { a: 1 }, /integer divide by zero/);
  // int stays int (int64, wrapping), a float on either side makes a float, / and ** are floats
  assert.equal(run('9223372036854775807 + 1'), -9223372036854775808);
  assert.equal(run('7 / 2'), 3.5);
  assert.equal(run('min(1, 2.5) % 2'), 1); // min of (int, ...) is typed int by the checker
  fails('mean(1, 2) % 2', {}, /invalid operation: float64 % int/); // typed int, a float when it runs
});

test('compile-time checks: identifiers are collected once, from every kind of sub-expression', () => {
  assert.deepEqual(compileFormula('a + a * a').identifiers, ['a']);
  assert.deepEqual(compileFormula('-x').identifiers, ['x']);
  assert.deepEqual(compileFormula('not y').identifiers, ['y']);
  assert.deepEqual(compileFormula('a ? b : c').identifiers, ['a', 'b', 'c']);
  assert.deepEqual(compileFormula('[a, b]').identifiers, ['a', 'b']);
  // a bad sub-expression anywhere is caught at compile time, not when (or if) it is evaluated
  for (const src of ['-"x"', 'a ? "x" : 1', 'a ? 1 : "x"', '"x" ? 1 : 2', '[1, "x"]', '[1,,2]', 'max(1, "x")']) {
    assert.throws(() => compileFormula(src), FormulaError, src);
  }
});

test('unknown functions are rejected at compile time, by name or as an expression', () => {
  assert.throws(() => compileFormula('foo(a)'), /unknown function foo /);
  assert.throws(() => compileFormula('max(1)(2)'), /unknown function \(expression\)/);
  assert.throws(() => compileFormula('a.max(1)'), /unknown function \(expression\)/);
});

test('composite result: a boolean or an array is not a number', () => {
  assert.throws(() => evaluateComposite(compileFormula('a > 1'), { a: 2 }), /invalid argument for float \(type bool\)/);
  assert.throws(() => evaluateComposite(compileFormula('[a]'), { a: 2 }), /invalid argument for float \(type \[\]interface \{\}\)/);
  // a formula starting with "float(" is not wrapped: it compiles, and fails when it runs
  assert.throws(() => evaluateComposite(compileFormula('float(a) > 1'), { a: 2 }), /non-float result bool/);
  assert.equal(evaluateComposite(compileFormula('float(a) > 1 ? nil : 1.5'), { a: 2 }), null); // nil: the fallback's
});

test('what a formula means does not depend on other users of the shared jsep instance', () => {
  jsep.addBinaryOp('|', 3);
  jsep.addUnaryOp('~');
  jsep.addLiteral('null', null);
  jsep.addBinaryOp('??', 1);
  jsep.hooks.add('gobble-token', function (env) { // `@` as a literal
    if (this.code === 64) { this.index++; env.node = { type: 'Literal', value: 1, raw: '@' }; }
  }, true);
  try {
    assert.throws(() => compileFormula('@'), FormulaError);
    assert.throws(() => compileFormula('a | b'), FormulaError);
    assert.throws(() => compileFormula('~a'), FormulaError);
    assert.equal(run('null', { null: 3 }), 3); // an identifier in expr-lang, not a literal
    assert.equal(run('a + b ?? 3', { a: 1, b: null }), 4);
  } finally {
    jsep.removeBinaryOp('|');
    jsep.removeUnaryOp('~');
    jsep.removeLiteral('null');
  }
});

test("expr-lang's grammar where it differs from JavaScript's: unary precedence, chained comparisons, ?? mixing", () => {
  // unary - and + bind looser than ** and ??; parentheses bind as written
  assert.equal(run('-2 ** 2'), -4);
  assert.equal(run('-2 ^ 2'), -4);
  assert.equal(run('(-2) ** 2'), 4);
  assert.equal(run('- -2 ** 2'), 4);
  assert.equal(run('+a ** 2', { a: -2 }), 4);
  assert.equal(run('-a ** 2 * 3', { a: 2 }), -12);
  assert.equal(run('-a * 3', { a: 2 }), -6);
  assert.equal(run('2 ** -a ** 2', { a: 1 }), 0.5);
  assert.equal(run('-n ?? 5', { n: null }), -5);
  fails('(-n) ?? 5', { n: null }, /nil/);
  // ! and not bind looser than * / % ** ^ ??, tighter than comparisons
  assert.equal(run('not n ?? true', { n: null }), false);
  assert.equal(run('!n ?? false', { n: null }), true);
  assert.equal(run('not true == false'), true);
  fails('not a * 2', { a: 1 }, /invalid operation: not \(mismatched type float64\)/);
  fails('(not (a > 0)) * 2', { a: 1 }, /mismatched types bool and int/);
  // comparisons chain: a < b < c is (a < b) && (b < c)
  assert.equal(run('1 < 2 < 3'), true);
  assert.equal(run('1 < 3 < 2'), false);
  assert.equal(run('3 > 2 > 1'), true);
  assert.equal(run('1 < 2 < 3 < 4'), true);
  assert.equal(run('1 < 2 < 3 < 0'), false);
  fails('a == 2 < 3', { a: 2 }, /mismatched types bool and int/); // == does not chain: (a == 2) < 3
  assert.equal(run('a < 3 == true', { a: 2 }), true);
  assert.equal(run('a + 1 < b + 1 <= c', { a: 2, b: 3, c: 4 }), true);
  assert.equal(run('n < 1 < 2', { n: 0 }), true);
  fails('(1 < 2) < 3', {}, /mismatched types bool and int/);
  fails('(1 < 2 < 3) < 4', {}, /mismatched types bool and int/);
  assert.equal(run('false and 1 < 2 < 3'), false);
  // an operator right after an unparenthesized `a ?? b` is an error; inside a tighter operand it is not
  fails('n ?? 1 + 2', { n: null }, /cannot be mixed/);
  fails('n ?? 1 * 2', { n: null }, /cannot be mixed/);
  fails('n ?? 1 < 2', { n: null }, /cannot be mixed/);
  fails('-n ?? 2 ** 3', { n: null }, /cannot be mixed/);
  assert.equal(run('(n ?? 3) * 2', { n: null }), 6);
  assert.equal(run('((n ?? 3)) + 1', { n: null }), 4);
  assert.equal(run('-n ?? 3 * 2', { n: null }), -6);
  assert.equal(run('2 * n ?? 3 + 1', { n: null }), 7);
  assert.equal(run('n ?? 1 ?? 2', { n: null }), 1);
  assert.equal(run('(n ?? 1) > 0 ? 1 : 2', { n: null }), 1);
  assert.equal(run('n ?? true ? 1 : 2', { n: null }), 1); // ?: is not a binary operator
});

test('parentheses anywhere: groups inside calls, arrays, conditions; empty or called groups are rejected', () => {
  assert.equal(run('max((a), (b))', { a: 2, b: 3 }), 3);
  assert.deepEqual(run('[(a), -b ** 2]', { a: 2, b: 3 }), [2, -9]);
  assert.equal(run('(a > 1) ? (b) : (c)', { a: 2, b: 3, c: 4 }), 3);
  assert.equal(run('(a > 1 ? -b : c) ** 2', { a: 2, b: 3, c: 4 }), 9);
  assert.equal(run('((a > 1) ? (-b) : (c)) ** 2', { a: 2, b: 3, c: 4 }), 9);
  assert.equal(run('(a > 1 ? b : c) < 5 < 6', { a: 2, b: 3, c: 4 }), true);
  assert.equal(run('max(-a ** 2, 1 < 2 < 3 ? 1 : 0)', { a: 2 }), 1);
  assert.throws(() => compileFormula('()'), /cannot parse formula: empty parentheses/);
  assert.throws(() => compileFormula('(max)(1)'), /unknown function \(expression\)/);
  assert.throws(() => compileFormula('(a, b)'), FormulaError);
  assert.deepEqual(compileFormula('(a) + (-b ** c)').identifiers, ['a', 'b', 'c']);
});

test("** is Go's math.Pow: integer exponents by repeated squaring, fractions through exp(log), Go's special cases", () => {
  // V8's 100 ** 2.5 is exactly 100000; Go's (what KEDA computes) is one ulp above, which floor() shows
  assert.equal(run('100 ** 2.5'), 100000.00000000001);
  assert.equal(run('floor(100000 - 100 ** 2.5)'), -1);
  assert.equal(run('2 ** -1074'), 5e-324); // the smallest subnormal, through one final rounding
  assert.equal(run('2 ** -1075'), 0);
  assert.equal(run('2 ** 1024'), Infinity);
  assert.equal(run('a ** 3', { a: -2 }), -8);
  assert.ok(Number.isNaN(run('a ** 0.5', { a: -8 }) as number));
  assert.equal(run('a ** b', { a: -1, b: Infinity }), 1);
  assert.equal(run('a ** b', { a: 1, b: NaN }), 1);
  assert.equal(run('a ** b', { a: 0, b: -1 }), Infinity);
  assert.equal(run('a ** 0.5', { a: 2 }), Math.SQRT2);
  assert.equal(run('a ** -0.5', { a: 4 }), 0.5);
});

test("expr-lang's optimizer: and/or with a constant side fold before anything runs; sum of an array literal becomes a + (b + c)", () => {
  // (values from expr-lang v1.17.8 run as KEDA runs it)
  const env = { a: 0.1, b: 2 };
  const c = (f: string) => evaluateComposite(compileFormula(f), env);
  // x and true, x or false, true and x, false or x: x itself, with no bool check
  for (const f of ['max([(b > 1 ? 2.5 : 1) and true])', 'max([(b > 1 ? 2.5 : 1) or false])', 'max([true and (b > 1 ? 2.5 : 1)])', 'max([not true or (b > 1 ? 2.5 : 1)])']) assert.equal(c(f), 2.5, f);
  // x and false, x or true (a constant side that decides): x is never run
  assert.equal(c('count([(b > 1 ? 2.5 : 1) and false])'), 0);
  assert.equal(c('count([(b > 1 ? 2.5 : 1) or true])'), 1);
  assert.equal(c('count([(1 == 1) or (b > 1 ? 2.5 : 1)])'), 1);
  // not folded: the left side must be a bool when it runs
  assert.throws(() => c('max([(b > 1 ? 2.5 : 1) and (a > 0)])'), /not bool/);
  // the order of the additions shows in floats: 1e16 + (-1e16 + 0.1) is 0, not 0.1
  assert.equal(c('sum([1e16, -1e16, a])'), 0);
  assert.equal(c('sum([a, 1e16, -1e16])'), 0.1);
  assert.equal(c('sum([a, 0.2, 0.3])'), 0.6);
  assert.equal(c('sum([0.1, 0.2, 0.3])'), 0.6000000000000001); // a constant array: added in a loop
});
