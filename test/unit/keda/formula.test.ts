import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFormula, evaluateComposite, evaluateFormula, FormulaError } from '../../../src/deciders/keda/formula.ts';

const run = (src: string, env: Record<string, number | null> = {}) => evaluateFormula(compileFormula(src), env);

test('arithmetic, precedence, functions', () => {
  assert.equal(run('a + b * 2', { a: 1, b: 3 }), 7);
  assert.equal(run('(a + b) / 2', { a: 1, b: 3 }), 2);
  assert.equal(run('2 ** 3 ^ 2'), 512); // right-associative like expr-lang
  assert.equal(run('max(a, b, 4)', { a: 1, b: 3 }), 4);
  assert.equal(run('min([a, b])', { a: 1, b: 3 }), 1);
  assert.equal(run('ceil(a / 4) + floor(2.7) + abs(-1) + round(2.5)', { a: 5 }), 2 + 2 + 1 + 3);
  assert.equal(run('avg(a, b)', { a: 1, b: 3 }), 2);
  assert.equal(run('count([a, b, nil])', { a: 1, b: 0 }), 2);
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
  assert.throws(() => evaluateComposite(compileFormula('a > 1'), { a: 2 }), /not a number/);
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
