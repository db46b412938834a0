// expr-lang's optimizer, where it changes what runs
//
// After checking, expr-lang rewrites the tree; the rewrites below change which parts of a formula
// run, so they decide whether a run meets an error (a nil trigger inside a predicate, say):
//   - and/or with a constant side fold away (foldedLogic), and filter(filter(xs, p), q) becomes
//     filter(xs, p && q), which can fold further; nothing made by a later rewrite is folded (in
//     any(xs, p) || any(xs, true), p still runs);
//   - len(filter(xs, p)) becomes count(xs, p), and so does len(map(filter(xs, p), q)) when q does not
//     read #index (map(filter(..)) is first made a filter that maps its matches): q never runs;
//   - all(xs, p) && all(xs, q) becomes all(xs, p && q), any(..) || any(..) and none(..) && none(..)
//     likewise (the same collection, written the same way): q then runs right after p, element by element;
//   - count(xs, p) > 0 and count(xs, p) >= 1 become any(xs, p), which stops at the first match;
//   - count(xs, p) compared with an integer constant N stops counting once the comparison is decided
//     (at N + 1 for > and <=, at N for >= and <, when that is 2 or more).
// Rewrites that only reorder work that all runs anyway (map(filter(..)), sum(map(..))) do not
// change a value or whether an error happens, and are not repeated here.

import { constArray, constInt, constValue, foldedLogic } from './folds.ts';
import { FormulaError, type Node } from './parse.ts';

const CHILDREN = ['left', 'right', 'argument', 'test', 'consequent', 'alternate', 'body'] as const;
/** A node's subtrees, in a fixed order (nodes of one type have the same ones). */
function childrenOf(n: Node): Node[] {
  const out: Node[] = [];
  for (const k of CHILDREN) if (n[k]) out.push(n[k] as Node);
  for (const k of ['elements', 'arguments'] as const) if (Array.isArray(n[k])) out.push(...(n[k] as Node[]));
  return out;
}
/** A copy of the tree with `f` applied to every node, children first (expr-lang's ast.Walk order). */
function rewrite(n: Node, f: (n: Node) => Node): Node {
  const out: Node = { ...n };
  for (const k of CHILDREN) if (n[k]) out[k] = rewrite(n[k] as Node, f);
  if (Array.isArray(n.elements)) out.elements = (n.elements as Node[]).map((e) => rewrite(e, f));
  if (Array.isArray(n.arguments)) out.arguments = (n.arguments as Node[]).map((a) => rewrite(a, f));
  return f(out);
}
const isCall = (n: Node, fn: string, arity: number) => n.type === 'CallExpression' && (n.callee as Node).name === fn && (n.arguments as Node[]).length === arity;
const callOf = (fn: string, args: Node[]): Node => ({ type: 'CallExpression', callee: { type: 'Identifier', name: fn }, arguments: args });
/** A folded constant as encoding/json writes it (the String() of expr-lang's constant arrays). */
const json = (v: bigint | number | boolean | undefined) => (typeof v === 'number' && Object.is(v, -0) ? '-0' : String(v));
/**
 * expr-lang prints both collections to compare them, a constant array as JSON, which panics on ±Inf
 * or NaN: the formula does not compile (`any([1, 10 ** 400], p) || any([1, 10 ** 400], q)`).
 */
function assertPrintable(n: Node): void {
  if (n.type === 'ArrayExpression' && constArray(n)) {
    for (const e of n.elements as Node[]) {
      const v = constValue(e);
      if (typeof v === 'number' && !Number.isFinite(v)) throw new FormulaError(`json: unsupported value: ${v} (expr-lang's optimizer prints this constant array and fails)`);
    }
    return;
  }
  childrenOf(n).forEach(assertPrintable);
}
/** A float64 as Go's %v prints it (FloatNode's String()): shortest digits, an exponent from 1e+06 and below 1e-04. */
function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [digits, e] = v.toExponential().split('e');
  const exp = Number(e);
  return exp < -4 || exp >= 6 ? `${digits}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}` : String(v);
}
/** How a subtree that folds to a scalar constant prints (IntegerNode %d, FloatNode %v, BoolNode %t); undefined if it does not fold. */
function printedConst(n: Node): string | undefined {
  const v = constValue(n);
  return typeof v === 'number' ? goFloat(v) : v === undefined ? undefined : String(v);
}
/** Whether two subtrees are written the same (expr-lang compares their String() after folding), parentheses aside. */
function sameTree(a: Node, b: Node): boolean {
  // constant arrays print as their folded values: [2] and [1 + 1], [1] and [1.0] are the same
  if (a.type === 'ArrayExpression' && b.type === 'ArrayExpression' && constArray(a) && constArray(b)) {
    const [x, y] = [a.elements as Node[], b.elements as Node[]];
    return x.length === y.length && x.every((e, i) => json(constValue(e)) === json(constValue(y[i])));
  }
  // so do folded scalars elsewhere: 6, 6.0 and 3 + 3 all print 6, 100000.0 prints 100000 but 1000000.0
  // 1e+06, -0 prints 0 and -0.0 -0, `not false` and 1 == 1 print true
  const [pa, pb] = [printedConst(a), printedConst(b)];
  if (pa !== undefined || pb !== undefined) return pa === pb;
  if (a.type !== b.type || a.operator !== b.operator || a.name !== b.name) return false;
  if (a.type === 'CallExpression' && (a.callee as Node).name !== (b.callee as Node).name) return false;
  const [x, y] = [childrenOf(a), childrenOf(b)];
  return x.length === y.length && x.every((e, i) => sameTree(e, y[i]));
}
const LOGIC = new Set(['and', '&&', 'or', '||']);
/** fold.go's rewrites that matter here: and/or with a constant side, and filter(filter(xs, p), q) → filter(xs, p && q). */
function fold(n: Node): Node {
  if (isCall(n, 'filter', 2) && isCall((n.arguments as Node[])[0], 'filter', 2)) {
    const [base, q] = [(n.arguments as Node[])[0], (n.arguments as Node[])[1]];
    const [xs, p] = base.arguments as Node[];
    // the joined predicate folds again: filter(filter(xs, p), {false}) never runs p
    return { ...n, arguments: [xs, { type: 'Predicate', body: fold({ type: 'BinaryExpression', operator: '&&', left: p.body as Node, right: q.body as Node }) }] };
  }
  if (n.type !== 'BinaryExpression' || !LOGIC.has(n.operator as string)) return n;
  const f = foldedLogic(n);
  return f === undefined ? n : typeof f === 'boolean' ? { type: 'Identifier', name: String(f) } : f;
}
/** Whether a subtree reads #index anywhere, in nested predicates too (expr-lang's Find over it). */
function readsIndex(n: Node): boolean {
  return (n.type === 'Pointer' && n.name === 'index') || childrenOf(n).some(readsIndex);
}
function filterLen(n: Node): Node {
  if (!isCall(n, 'len', 1)) return n;
  let arg = (n.arguments as Node[])[0];
  // map(filter(xs, p), q) becomes a filter that maps its matches with q (when q does not read #index),
  // and len of that filter becomes count(xs, p): q never runs
  if (isCall(arg, 'map', 2) && isCall((arg.arguments as Node[])[0], 'filter', 2) && !readsIndex((arg.arguments as Node[])[1])) arg = (arg.arguments as Node[])[0];
  return isCall(arg, 'filter', 2) ? callOf('count', arg.arguments as Node[]) : n;
}
function combinedOperator(fn: string, op: string): string | undefined {
  if (fn === 'all' && (op === 'and' || op === '&&')) return op;
  if (fn === 'any' && (op === 'or' || op === '||')) return op;
  if (fn === 'none' && (op === 'and' || op === '&&')) return op === 'and' ? 'or' : '||';
  return undefined;
}
function combinePredicates(n: Node): Node {
  if (n.type !== 'BinaryExpression' || !LOGIC.has(n.operator as string)) return n;
  const [l, r] = [n.left as Node, n.right as Node];
  if (l.type !== 'CallExpression' || r.type !== 'CallExpression') return n;
  const fn = (l.callee as Node).name as string;
  const op = combinedOperator(fn, n.operator as string);
  if (op === undefined || !isCall(l, fn, 2) || !isCall(r, fn, 2)) return n;
  const [la, ra] = [l.arguments as Node[], r.arguments as Node[]];
  // expr-lang prints both collections when their static types are the same (any two arrays; any two
  // of unknown type, a ternary of an array and a number, min([..])), and printing a constant array with ±Inf fails
  if (la[0].collectionType !== undefined && la[0].collectionType === ra[0].collectionType) {
    assertPrintable(la[0]);
    assertPrintable(ra[0]);
  }
  if (!sameTree(la[0], ra[0])) return n;
  const body = combinePredicates({ type: 'BinaryExpression', operator: op, left: la[1].body as Node, right: ra[1].body as Node });
  return callOf(fn, [la[0], { type: 'Predicate', body }]);
}
function countEarlyExit(n: Node): Node {
  if (n.type !== 'BinaryExpression' || !isCall(n.left as Node, 'count', 2)) return n;
  const v = constInt(n.right as Node);
  if (v === undefined) return n;
  const op = n.operator as string;
  if ((op === '>' && v === 0n) || (op === '>=' && v === 1n)) return callOf('any', (n.left as Node).arguments as Node[]);
  if (v < 0n || !['>', '>=', '<', '<='].includes(op)) return n;
  const threshold = op === '>' || op === '<=' ? v + 1n : v;
  return threshold <= 1n ? n : { ...n, left: { ...(n.left as Node), threshold: Number(threshold) } };
}
const optimizedTrees = new WeakMap<Node, Node>();
/** The tree expr-lang runs for this one (memoized: formulas are evaluated every poll). */
export function optimized(root: Node): Node {
  let t = optimizedTrees.get(root);
  if (!t) {
    t = [fold, filterLen, combinePredicates, countEarlyExit].reduce((tree, pass) => rewrite(tree, pass), root);
    optimizedTrees.set(root, t);
  }
  return t;
}

