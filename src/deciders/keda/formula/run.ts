// The evaluator: expr-lang's VM for the part of the language formulas use.
//
// Values keep expr-lang's two number types: int (int64, as a bigint, wrapping on overflow) and
// float64 (a number). int op int stays int, a float on either side makes a float, / and ** are
// always float, % is int only.

import { constArray, wrap64 } from './folds.ts';
import { pow, roundHalfAwayFromZero, toInt } from './go-math.ts';
import { optimized } from './optimize.ts';
import { FormulaError, PREDICATE_ARGS, isIntLiteral, type FormulaValue, type Node } from './parse.ts';

export type Value = number | bigint | boolean | null | Value[];

const numeric = (v: Value): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
export function goType(v: Value): string {
  if (v === null) return '<nil>';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  return '[]interface {}';
}
function less(a: number | bigint, b: number | bigint): boolean {
  return typeof a === 'bigint' && typeof b === 'bigint' ? a < b : Number(a) < Number(b);
}
function equal(a: Value, b: Value): boolean {
  if (numeric(a) && numeric(b)) return typeof a === 'bigint' && typeof b === 'bigint' ? a === b : Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    // runtime.Equal's []any case: element by element with Equal itself (so [1] == [1.0])
    return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  return a === b;
}
function minMax(fn: string, args: Value[]): Value {
  const better = fn === 'min' ? (val: number | bigint, e: number | bigint) => less(e, val) : (val: number | bigint, e: number | bigint) => less(val, e);
  let val: number | bigint | null = null;
  const take = (e: number | bigint) => { if (val === null || better(val, e)) val = e; };
  const walk = (arr: Value[]) => {
    for (const e of arr) {
      if (numeric(e)) take(e);
      else if (Array.isArray(e)) { const nested = minMax(fn, [e]); if (nested !== null) take(nested as number | bigint); }
      else throw new FormulaError(`invalid argument for ${fn} (type ${goType(e)})`);
    }
  };
  for (const a of args) {
    if (Array.isArray(a)) walk(a);
    else if (numeric(a)) take(a);
    else if (args.length === 1) return a; // expr-lang hands a lone non-number back
    else throw new FormulaError(`invalid argument for ${fn} (type ${goType(a)})`);
  }
  return val;
}
function mean(args: Value[]): number {
  let total = 0;
  let count = 0;
  const walk = (v: Value) => {
    if (Array.isArray(v)) for (const e of v) walk(e);
    else if (numeric(v)) { total += Number(v); count++; }
    else throw new FormulaError(`invalid argument for mean (type ${goType(v)})`);
  };
  for (const a of args) walk(a);
  return count === 0 ? 0 : total / count;
}

/** A predicate's scope at run time: the elements, the current index (#index) and the accumulator (#acc). */
interface RunScope { items: Value[]; i: number; acc: Value }

export function evaluate(root: Node, env: Record<string, number | null>): Value {
  const nilOp = (what: string): never => { throw new FormulaError(`invalid operation: ${what} (a trigger has no value, nil; use ?? to route around it)`); };
  const bad = (op: string, a: Value, b?: Value): never => {
    if (a === null || b === null) nilOp(`${op} on nil`);
    throw new FormulaError(`invalid operation: ${goType(a)} ${op}${b === undefined ? '' : ` ${goType(b)}`}`);
  };
  const bool = (v: Value, what: string): boolean => {
    if (typeof v === 'boolean') return v;
    throw new FormulaError(`${what} is ${goType(v)}, not bool`);
  };
  const scopes: RunScope[] = [];
  const items = (a: Node): Value[] => {
    const v = ev(a);
    if (!Array.isArray(v)) throw new FormulaError(`cannot iterate over ${goType(v)}`);
    return v;
  };
  /** all, any, filter, map, … : the loops expr-lang compiles them to, with its early exits. */
  const predicateCall = (fn: string, n: Node): Value => {
    const args = n.arguments as Node[];
    const xs = items(args[0]);
    const sc: RunScope = { items: xs, i: 0, acc: null };
    const body = args[1].body as Node;
    const holds = () => bool(ev(body), `the predicate of ${fn}`);
    scopes.push(sc);
    try {
      switch (fn) {
        case 'all': for (; sc.i < xs.length; sc.i++) if (!holds()) return false; return true;
        case 'none': for (; sc.i < xs.length; sc.i++) if (holds()) return false; return true;
        case 'any': for (; sc.i < xs.length; sc.i++) if (holds()) return true; return false;
        case 'one': { let c = 0; for (; sc.i < xs.length; sc.i++) if (holds()) c++; return c === 1; }
        case 'count': {
          const stop = n.threshold as number | undefined;
          let c = 0;
          for (; sc.i < xs.length; sc.i++) if (holds() && ++c === stop) break;
          return BigInt(c);
        }
        case 'filter': { const out: Value[] = []; for (; sc.i < xs.length; sc.i++) if (holds()) out.push(xs[sc.i]); return out; }
        case 'map': { const out: Value[] = []; for (; sc.i < xs.length; sc.i++) out.push(ev(body)); return out; }
        case 'sum': { let acc: Value = 0n; for (; sc.i < xs.length; sc.i++) acc = add(ev(body), acc); return acc; }
        case 'find': for (; sc.i < xs.length; sc.i++) if (holds()) return xs[sc.i]; return null;
        case 'findIndex': for (; sc.i < xs.length; sc.i++) if (holds()) return BigInt(sc.i); return null;
        default: { // reduce; the initial value runs inside the loop's scope, as the VM has it
          if (args.length === 3) sc.acc = ev(args[2]);
          else if (xs.length === 0) throw new FormulaError('reduce of empty array with no initial value');
          else { sc.acc = xs[0]; sc.i = 1; }
          for (; sc.i < xs.length; sc.i++) sc.acc = ev(body);
          return sc.acc;
        }
      }
    } finally {
      scopes.pop();
    }
  };
  const ev = (n: Node): Value => {
    switch (n.type) {
      case 'Pointer': {
        const sc = scopes[scopes.length - 1];
        if (n.name === 'index') return BigInt(sc.i);
        if (n.name === 'acc') return sc.acc;
        if (sc.i >= sc.items.length) throw new FormulaError('index out of range');
        return sc.items[sc.i];
      }
      case 'Literal':
        return isIntLiteral(n) ? BigInt(String(n.raw)) : (n.value as number);
      case 'Identifier': {
        const name = n.name as string;
        if (name === 'nil') return null;
        if (name === 'true') return true;
        if (name === 'false') return false;
        if (!Object.prototype.hasOwnProperty.call(env, name)) throw new FormulaError(`unknown name ${name} (formula names must be trigger names)`);
        return env[name];
      }
      case 'UnaryExpression': {
        const v = ev(n.argument as Node);
        const op = n.operator as string;
        if (op === '!' || op === 'not') return !bool(v, `the operand of ${op}`);
        if (op === '+') return v; // compiled to nothing: +nil is nil
        if (typeof v === 'bigint') return wrap64(-v);
        if (typeof v === 'number') return -v;
        return bad(op, v);
      }
      case 'ConditionalExpression':
        return bool(ev(n.test as Node), 'the condition') ? ev(n.consequent as Node) : ev(n.alternate as Node);
      case 'ArrayExpression':
        return (n.elements as Node[]).map(ev);
      case 'CallExpression': {
        const fn = (n.callee as Node).name as string;
        const args = n.arguments as Node[];
        if (fn in PREDICATE_ARGS && args.length >= 2) return predicateCall(fn, n);
        // expr-lang's optimizer rewrites sum([x, y, z]) of a non-constant array literal as x + (y + z)
        if (fn === 'sum' && args[0].type === 'ArrayExpression' && (args[0].elements as Node[]).length >= 2 && !constArray(args[0])) {
          const els = (args[0].elements as Node[]).map(ev);
          let acc = els[els.length - 1];
          for (let i = els.length - 2; i >= 0; i--) acc = add(els[i], acc);
          return acc;
        }
        return call(fn, args.map(ev));
      }
      case 'BinaryExpression': {
        const op = n.operator as string;
        if (op === '??') {
          const l = ev(n.left as Node);
          return l === null ? ev(n.right as Node) : l;
        }
        // the left side must be a bool; the right side's value is the result as it is
        if (op === '&&' || op === 'and') return bool(ev(n.left as Node), `the left side of ${op}`) ? ev(n.right as Node) : false;
        if (op === '||' || op === 'or') return bool(ev(n.left as Node), `the left side of ${op}`) ? true : ev(n.right as Node);
        const l = ev(n.left as Node);
        const r = ev(n.right as Node);
        if ((op === '==' || op === '!=') && n.intEquality === true && (typeof l !== 'bigint' || typeof r !== 'bigint')) {
          throw new FormulaError(`interface conversion: ${op} of two ints got ${goType(l)} and ${goType(r)}`);
        }
        if (op === '==') return equal(l, r);
        if (op === '!=') return !equal(l, r);
        if (!numeric(l) || !numeric(r)) return bad(op, l, r);
        const ints = typeof l === 'bigint' && typeof r === 'bigint';
        switch (op) {
          case '+': return ints ? wrap64(l + r) : Number(l) + Number(r);
          case '-': return ints ? wrap64(l - r) : Number(l) - Number(r);
          case '*': return ints ? wrap64(l * r) : Number(l) * Number(r);
          case '/': return Number(l) / Number(r);
          case '%':
            if (!ints) return bad(op, l, r);
            if (r === 0n) throw new FormulaError('integer divide by zero');
            return (l as bigint) % (r as bigint);
          case '**': case '^': return pow(Number(l), Number(r));
          case '<': return less(l, r);
          case '>': return less(r, l);
          case '<=': return ints ? l <= r : Number(l) <= Number(r); // not !(r < l): NaN compares false
          case '>=': return ints ? l >= r : Number(l) >= Number(r);
          default: throw new FormulaError(`unsupported operator ${op}`);
        }
      }
      default:
        throw new FormulaError(`unsupported syntax: ${n.type}`);
    }
  };
  return ev(optimized(root));
}

function add(a: Value, b: Value): Value {
  if (!numeric(a) || !numeric(b)) throw new FormulaError(`invalid operation: ${goType(a)} + ${goType(b)}${a === null || b === null ? ' (a trigger has no value, nil; use ?? to route around it)' : ''}`);
  return typeof a === 'bigint' && typeof b === 'bigint' ? wrap64(a + b) : Number(a) + Number(b);
}

export function call(fn: string, args: Value[]): Value {
  const a = args[0];
  switch (fn) {
    case 'float':
      if (numeric(a)) return Number(a);
      throw new FormulaError(`invalid operation: float(${goType(a)})${a === null ? ' (a trigger has no value, nil; use ?? to route around it)' : ''}`);
    case 'int':
      if (typeof a === 'bigint') return a;
      if (typeof a === 'number') return toInt(a);
      throw new FormulaError(`invalid operation: int(${goType(a)})`);
    case 'abs':
      if (typeof a === 'bigint') return a < 0n ? wrap64(-a) : a;
      if (typeof a === 'number') return Math.abs(a);
      throw new FormulaError(`invalid argument for abs (type ${goType(a)})`);
    case 'ceil': case 'floor': case 'round': {
      if (!numeric(a)) throw new FormulaError(`invalid argument for ${fn} (type ${goType(a)})`);
      const x = Number(a);
      return fn === 'ceil' ? Math.ceil(x) : fn === 'floor' ? Math.floor(x) : roundHalfAwayFromZero(x);
    }
    case 'min': case 'max':
      return minMax(fn, args);
    case 'mean':
      return mean(args);
    case 'sum': {
      if (!Array.isArray(a)) throw new FormulaError(`cannot iterate over ${goType(a)}`);
      let acc: number | bigint = 0n;
      for (const e of a) acc = add(e, acc) as number | bigint;
      return acc;
    }
    case 'len':
      if (Array.isArray(a)) return BigInt(a.length);
      throw new FormulaError(`invalid argument for len (type ${goType(a)})`);
    case 'count': {
      if (!Array.isArray(a)) throw new FormulaError(`cannot iterate over ${goType(a)}`);
      let c = 0n;
      for (const e of a) {
        if (typeof e !== 'boolean') throw new FormulaError(`count() counts booleans, got ${goType(e)}`);
        if (e) c++;
      }
      return c;
    }
    default:
      throw new FormulaError(`unknown function ${fn}`);
  }
}

export const plain = (v: Value): FormulaValue => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(plain) : v);
