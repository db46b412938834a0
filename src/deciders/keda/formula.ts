// A safe evaluator for KEDA `advanced.scalingModifiers.formula` expressions, built on jsep's parser
// (never eval / Function). It covers the part of the expr-lang language that scaling formulas use:
// numbers, trigger names, + - * / % ** ^, comparisons, && || and or ! not, ternary ?:, nil-coalescing
// `??`, `nil`/`true`/`false`, array literals, and the functions float, int, abs, ceil, floor, round,
// min, max, sum, mean and count (of the true elements of an array of booleans).
//
// Semantics follow expr-lang where KEDA relies on them: a trigger whose fallback threshold is exceeded
// (fallback.behavior scalingModifiers) is `nil`; arithmetic on nil is an error; `a ?? b` yields b when a
// is nil; the formula result must be a number (KEDA wraps formulas in float(...)) or nil (then
// fallback.replicas × target is used by the caller). The grammar is expr-lang's too: its precedence
// order, unary operators looser than ** and ??, chained comparisons, and `a ?? b + c` rejected.

import jsep from 'jsep';

// jsep's default tables are JavaScript's: bitwise | & ^ ~, shifts, ===, `null` as a literal, and `??`
// binding loosest. expr-lang has none of those and binds `??` tightest (parser/operator in
// expr-lang/expr: or/|| < and/&& < comparisons < + - < * / % < ** ^ (right) < ??), so the tables are
// rebuilt from empty in that order, before every parse, so that nothing else touching the shared jsep
// instance can change what a formula means. true/false/nil stay identifiers (CONSTANTS). jsep binds
// unary operators tightest and forgets parentheses; a token hook marks parenthesized groups so that
// reshape() can apply the rest of expr-lang's grammar afterwards.
function configureJsep(): void {
  jsep.removeAllBinaryOps();
  jsep.removeAllUnaryOps();
  jsep.removeAllLiterals();
  jsep.addBinaryOp('or', 1);
  jsep.addBinaryOp('||', 1);
  jsep.addBinaryOp('and', 2);
  jsep.addBinaryOp('&&', 2);
  for (const op of ['==', '!=', '<', '>', '<=', '>=']) jsep.addBinaryOp(op, 3);
  jsep.addBinaryOp('+', 4);
  jsep.addBinaryOp('-', 4);
  for (const op of ['*', '/', '%']) jsep.addBinaryOp(op, 5);
  jsep.addBinaryOp('**', 6, true);
  jsep.addBinaryOp('^', 6, true); // expr-lang: ^ is exponent, not xor
  jsep.addBinaryOp('??', 7);
  for (const op of ['-', '+', '!', 'not']) jsep.addUnaryOp(op);
  (jsep.hooks as unknown as Record<string, unknown>)['gobble-token'] = [markParens];
}

function markParens(this: jsep.HookScope, env: { node?: Node }): void {
  if (this.code !== 40) return; // (
  const inner = this.gobbleGroup();
  if (!inner) this.throwError('empty parentheses');
  inner.parens = true;
  env.node = this.gobbleTokenProperty(inner);
}

// expr-lang's precedences: unary - and + (90) bind looser than ** ^ (100) and ?? (500); ! and not (50)
// also looser than * / % (60). So `-a ** 2` is -(a ** 2) and `not a ?? b` is not (a ?? b).
const LOOSER_UNARY: Record<string, ReadonlySet<string>> = {
  '-': new Set(['**', '^', '??']),
  '+': new Set(['**', '^', '??']),
  '!': new Set(['*', '/', '%', '**', '^', '??']),
  not: new Set(['*', '/', '%', '**', '^', '??']),
};
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=']);

/** jsep's tree → expr-lang's: unary precedence, chained comparisons, and the ?? mixing error. */
function reshape(n: Node): Node {
  let out: Node;
  switch (n.type) {
    case 'BinaryExpression':
      out = binary(n.operator as string, reshape(n.left as Node), reshape(n.right as Node));
      break;
    case 'UnaryExpression':
      out = { ...n, argument: reshape(n.argument as Node) };
      break;
    case 'ConditionalExpression':
      out = { ...n, test: reshape(n.test as Node), consequent: reshape(n.consequent as Node), alternate: reshape(n.alternate as Node) };
      break;
    case 'ArrayExpression':
      out = { ...n, elements: (n.elements as (Node | null)[]).map((e) => (e === null ? null : reshape(e))) };
      break;
    case 'CallExpression':
      out = { ...n, arguments: (n.arguments as Node[]).map(reshape) };
      break;
    default:
      out = n;
  }
  out.parens = n.parens === true;
  return out;
}
function binary(op: string, l: Node, r: Node): Node {
  if (l.type === 'UnaryExpression' && !l.parens && LOOSER_UNARY[l.operator as string].has(op)) {
    return { type: 'UnaryExpression', operator: l.operator, prefix: true, argument: binary(op, l.argument as Node, r) };
  }
  if (op !== '??' && l.type === 'BinaryExpression' && l.operator === '??' && !l.parens) {
    throw new FormulaError(`operator ${op} and ?? cannot be mixed without parentheses (as in expr-lang)`);
  }
  // a < b <= c is (a < b) && (b <= c), as in expr-lang
  if (COMPARISONS.has(op) && !l.parens && l.type === 'BinaryExpression' && (COMPARISONS.has(l.operator as string) || l.chain === true)) {
    const last = (l.chain ? (l.right as Node).right : l.right) as Node;
    return { type: 'BinaryExpression', operator: '&&', left: l, right: { type: 'BinaryExpression', operator: op, left: last, right: r }, chain: true };
  }
  return { type: 'BinaryExpression', operator: op, left: l, right: r };
}

export type FormulaValue = number | boolean | null | FormulaValue[];

export class FormulaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormulaError';
  }
}

type Node = jsep.Expression;

export interface CompiledFormula {
  source: string;
  ast: Node;
  /** Identifiers the formula reads (trigger names), in order of first use. */
  identifiers: string[];
}

const CONSTANTS: Record<string, FormulaValue> = { nil: null, true: true, false: false };

const FUNCTIONS: Record<string, (args: FormulaValue[]) => FormulaValue> = {
  float: (a) => num(one(a, 'float')),
  int: (a) => Math.trunc(num(one(a, 'int'))),
  abs: (a) => Math.abs(num(one(a, 'abs'))),
  ceil: (a) => Math.ceil(num(one(a, 'ceil'))),
  floor: (a) => Math.floor(num(one(a, 'floor'))),
  round: (a) => roundHalfAwayFromZero(num(one(a, 'round'))),
  // expr-lang's min/max/mean take numbers and (nested) arrays of numbers, at least one argument;
  // empty arrays add nothing, and with nothing left min/max give nil and mean 0.
  min: (a) => { const xs = aggregate(a, 'min'); return xs.length === 0 ? null : Math.min(...xs); },
  max: (a) => { const xs = aggregate(a, 'max'); return xs.length === 0 ? null : Math.max(...xs); },
  mean: (a) => { const xs = aggregate(a, 'mean'); return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length; },
  // expr-lang's sum(array) adds the elements of one array (not nested ones).
  sum: (a) => {
    const xs = one(a, 'sum');
    if (!Array.isArray(xs)) throw new FormulaError('sum() takes an array of numbers');
    return xs.reduce((s: number, x) => s + num(x), 0);
  },
  // expr-lang: count(array) without a predicate counts the array's true elements (each must be a bool).
  count: (a) => {
    const xs = one(a, 'count');
    if (!Array.isArray(xs)) throw new FormulaError('count() takes an array of booleans');
    return xs.filter((x) => truthy(x)).length;
  },
};

function one(args: FormulaValue[], fn: string): FormulaValue {
  if (args.length !== 1) throw new FormulaError(`${fn}() takes exactly 1 argument, got ${args.length}`);
  return args[0];
}
function flat(args: FormulaValue[]): FormulaValue[] {
  const out: FormulaValue[] = [];
  for (const a of args) if (Array.isArray(a)) out.push(...flat(a)); else out.push(a);
  return out;
}
function aggregate(args: FormulaValue[], fn: string): number[] {
  if (args.length === 0) throw new FormulaError(`not enough arguments to call ${fn}`);
  return flat(args).map(num);
}
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}
function num(v: FormulaValue): number {
  if (typeof v === 'number') return v;
  if (v === null) throw new FormulaError('invalid operation on nil (a trigger has no value; use ?? to route around it)');
  throw new FormulaError(`expected a number, got ${Array.isArray(v) ? 'an array' : typeof v}`);
}
function truthy(v: FormulaValue): boolean {
  if (typeof v === 'boolean') return v;
  throw new FormulaError(`expected a boolean condition, got ${v === null ? 'nil' : Array.isArray(v) ? 'an array' : typeof v}`);
}

/** Parse and check a formula; throws FormulaError with a readable message. */
export function compileFormula(source: string): CompiledFormula {
  let ast: Node;
  configureJsep();
  try {
    ast = jsep(source);
  } catch (e) {
    throw new FormulaError(`cannot parse formula: ${(e as Error).message}`);
  }
  ast = reshape(ast);
  const identifiers: string[] = [];
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'Literal':
        // The only literals left in the jsep tables are numbers and strings.
        if (typeof n.value !== 'number') throw new FormulaError(`unsupported literal ${String(n.raw)} (only numbers)`);
        return;
      case 'Identifier': {
        const name = n.name as string;
        if (!Object.hasOwn(CONSTANTS, name) && !identifiers.includes(name)) identifiers.push(name);
        return;
      }
      case 'BinaryExpression':
        visit(n.left as Node); visit(n.right as Node); return;
      case 'UnaryExpression':
        visit(n.argument as Node); return; // the tables hold only - + ! not
      case 'ConditionalExpression':
        visit(n.test as Node); visit(n.consequent as Node); visit(n.alternate as Node); return;
      case 'ArrayExpression':
        for (const el of n.elements as (Node | null)[]) {
          if (el === null) throw new FormulaError('an array literal has an empty element'); // expr-lang: a parse error
          visit(el);
        }
        return;
      case 'CallExpression': {
        const callee = n.callee as Node;
        // expr-lang calls only a bare function name: (max)(1) is a syntax error there
        if (callee.type !== 'Identifier' || callee.parens || !Object.hasOwn(FUNCTIONS, callee.name as string)) {
          throw new FormulaError(`unknown function ${callee.type === 'Identifier' && !callee.parens ? String(callee.name) : '(expression)'} (allowed: ${Object.keys(FUNCTIONS).join(', ')})`);
        }
        for (const a of n.arguments as Node[]) visit(a);
        return;
      }
      case 'Compound':
        throw new FormulaError('a formula is a single expression (no ";" or "," at top level)');
      default:
        throw new FormulaError(`unsupported syntax: ${n.type}`);
    }
  };
  visit(ast);
  return { source, ast, identifiers };
}

/** Evaluate a compiled formula over trigger values (null = nil). Unknown identifiers are an error. */
export function evaluateFormula(f: CompiledFormula, env: Record<string, number | null>): FormulaValue {
  const ev = (n: Node): FormulaValue => {
    switch (n.type) {
      case 'Literal':
        return n.value as number;
      case 'Identifier': {
        const name = n.name as string;
        if (Object.hasOwn(CONSTANTS, name)) return CONSTANTS[name];
        if (!Object.prototype.hasOwnProperty.call(env, name)) {
          throw new FormulaError(`unknown name ${name} (formula names must be trigger names)`);
        }
        return env[name];
      }
      case 'UnaryExpression': {
        const v = ev(n.argument as Node);
        switch (n.operator) {
          case '-': return -num(v);
          case '+': return num(v);
          default: return !truthy(v); // ! and not
        }
      }
      case 'ConditionalExpression':
        return truthy(ev(n.test as Node)) ? ev(n.consequent as Node) : ev(n.alternate as Node);
      case 'ArrayExpression':
        return (n.elements as Node[]).map((e) => ev(e));
      case 'CallExpression': {
        const fn = FUNCTIONS[(n.callee as Node).name as string];
        return fn((n.arguments as Node[]).map(ev));
      }
      case 'BinaryExpression': {
        const op = n.operator as string;
        if (op === '??') {
          const l = ev(n.left as Node);
          return l === null ? ev(n.right as Node) : l;
        }
        if (op === '&&' || op === 'and') return truthy(ev(n.left as Node)) ? truthy(ev(n.right as Node)) : false;
        if (op === '||' || op === 'or') return truthy(ev(n.left as Node)) ? true : truthy(ev(n.right as Node));
        const l = ev(n.left as Node);
        const r = ev(n.right as Node);
        switch (op) {
          case '==': return l === r;
          case '!=': return l !== r;
          case '+': return num(l) + num(r);
          case '-': return num(l) - num(r);
          case '*': return num(l) * num(r);
          case '/': return num(l) / num(r);
          case '%': {
            const d = num(r);
            if (d === 0) throw new FormulaError('integer divide by zero');
            return num(l) % d;
          }
          case '**': case '^': return num(l) ** num(r);
          case '<': return num(l) < num(r);
          case '<=': return num(l) <= num(r);
          case '>': return num(l) > num(r);
          case '>=': return num(l) >= num(r);
          default: throw new FormulaError(`unsupported operator ${op}`);
        }
      }
      default:
        throw new FormulaError(`unsupported syntax: ${n.type}`);
    }
  };
  return ev(f.ast);
}

/**
 * KEDA's composite metric value: the formula's number (booleans are rejected, as KEDA casts with
 * float()), or null when it evaluates to nil (only possible with `??`).
 */
export function evaluateComposite(f: CompiledFormula, env: Record<string, number | null>): number | null {
  const v = evaluateFormula(f, env);
  if (v === null) {
    // KEDA only keeps nil results for formulas containing ??; otherwise float(nil) is an error.
    if (!f.source.includes('??')) throw new FormulaError('formula evaluated to nil');
    return null;
  }
  if (typeof v !== 'number') throw new FormulaError(`formula returned ${Array.isArray(v) ? 'an array' : typeof v}, not a number`);
  if (!Number.isFinite(v)) throw new FormulaError(`formula returned ${v}`);
  return v;
}
