// A safe evaluator for KEDA `advanced.scalingModifiers.formula` expressions, built on jsep's parser
// (never eval / Function). It covers the part of the expr-lang language that scaling formulas use:
// numbers, trigger names, + - * / % ** ^, comparisons, && || and or ! not, ternary ?:, nil-coalescing
// `??`, `nil`/`true`/`false`, array literals, the functions float, int, abs, ceil, floor, round,
// min, max, sum, mean, len and count (of the true elements of an array of booleans), and the
// predicate builtins all, any, none, one, filter, map, count, sum, find, findIndex and reduce with
// `#`, `#index`, `#acc` (and the optimizer rewrites that decide what of them runs).
//
// Semantics are expr-lang's (v1.17.8, the version KEDA pins), checked against it by
// test/e2e/upstream/keda-formula-differential.test.ts: its grammar (precedence, unary operators
// looser than ** and ??, chained < <= > >=, `a ?? b + c` rejected), its static type checker (every
// trigger a float64; typeCheck below), its two number types at run time (int64 and float64), and
// KEDA's use of it (the float(...) wrapping, the admission run at -1, nil from a trigger in fallback,
// a nil result meaning fallback.replicas × target for the caller).
//
// The pieces, in the order a formula meets them: formula/parse.ts (grammar), formula/check.ts
// (static types), formula/folds.ts and formula/optimize.ts (what expr-lang's optimizer rewrites),
// formula/run.ts (the VM's values and loops), formula/go-math.ts (Go's math where V8's differs).

import { argKind, argName, typeCheck } from './formula/check.ts';
import { FormulaError, type CompiledFormula, type FormulaValue } from './formula/parse.ts';
import { call, evaluate, goType, plain, type Value } from './formula/run.ts';

export { compileFormula, FormulaError, type CompiledFormula, type FormulaValue } from './formula/parse.ts';

/** Type-check a formula against trigger names and evaluate it over their values (null = nil). */
export function evaluateFormula(f: CompiledFormula, env: Record<string, number | null>): FormulaValue {
  typeCheck(f.ast, new Set(Object.keys(env)));
  return plain(evaluate(f.ast, env));
}

// ---------------------------------------------------------------- KEDA's composite metric
//
// KEDA makes the formula's result a float before compiling it: a formula containing ?? becomes
// `let r = (F); r == nil ? nil : float(r)`, any other one `float(F)`, unless it already starts with
// "float(" (then it stays as written, and a result that is not a float64 is an error at run time).

type Wrapping = 'nil-or-float' | 'float' | 'as-written';
function wrapping(source: string): Wrapping {
  if (source.includes('??')) return 'nil-or-float';
  return source.startsWith('float(') ? 'as-written' : 'float';
}

function checkComposite(f: CompiledFormula, names: ReadonlySet<string>): Wrapping {
  const w = wrapping(f.source);
  const t = typeCheck(f.ast, names);
  if (w !== 'as-written') {
    const k = argKind(t);
    if (k !== 'interface' && k !== 'int' && k !== 'float64') throw new FormulaError(`invalid argument for float (type ${argName(t)})`);
  }
  return w;
}

function runComposite(f: CompiledFormula, w: Wrapping, env: Record<string, number | null>): Value {
  const v = evaluate(f.ast, env);
  if (w === 'as-written') return v;
  if (w === 'nil-or-float' && v === null) return null;
  return call('float', [v]);
}

/**
 * KEDA's admission check of a formula: it compiles against the triggers' names (each a float64) and
 * runs once with every trigger at -1. A result that is not a number, or not finite, passes here as
 * it does there (it fails when the scaler runs).
 */
export function validateComposite(f: CompiledFormula, triggerNames: readonly string[]): void {
  const env: Record<string, number | null> = {};
  for (const n of triggerNames) env[n] = -1;
  runComposite(f, checkComposite(f, new Set(triggerNames)), env);
}

/**
 * KEDA's composite metric value: the formula's float64 result, or null when it evaluates to nil (the
 * caller then uses fallback.replicas × target). Anything else is an error, as it is for KEDA. Not
 * finite: an error too (KEDA converts it to a quantity unchecked, which on amd64 is MinInt64 milli).
 */
export function evaluateComposite(f: CompiledFormula, env: Record<string, number | null>): number | null {
  const v = runComposite(f, checkComposite(f, new Set(Object.keys(env))), env);
  if (v === null) return null;
  if (typeof v !== 'number') throw new FormulaError(`formula returned non-float result ${goType(v)}`);
  if (!Number.isFinite(v)) throw new FormulaError(`formula returned ${v}`);
  return v;
}

