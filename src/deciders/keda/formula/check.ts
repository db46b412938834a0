// expr-lang's static type checker (checker/checker.go), for the part of the language formulas use.

import { FormulaError, PREDICATE_ARGS, isIntLiteral, type Node } from './parse.ts';
import { constInt } from './folds.ts';

// KEDA compiles a formula with expr.Env(map[string]float64): every trigger is a float64, and the
// checker refuses what cannot work for any values, in branches that are never taken too (`a % 2`:
// % wants integers; `a > 0 ? a : true + 1`). Its natures, for the part formulas use: int, float64,
// bool, nil, an array (of one nature, or of interface{}), and two unknowns: Nature{} (a result the
// checker could not type, e.g. a ternary of int and float64) and interface{} (what a function
// declares it returns); both pass where a number or a bool is wanted, and are checked at run time.

type Kind = 'int' | 'float' | 'bool' | 'nil' | 'unknown' | 'any' | 'array';
interface Nature { k: Kind; elem?: Nature }
const INT: Nature = { k: 'int' };
const FLOAT: Nature = { k: 'float' };
const BOOL: Nature = { k: 'bool' };
const NIL: Nature = { k: 'nil' };
const UNKNOWN: Nature = { k: 'unknown' };
const ANY: Nature = { k: 'any' };

const isUnknown = (n: Nature) => n.k === 'unknown' || n.k === 'any';
const isNumber = (n: Nature) => n.k === 'int' || n.k === 'float';
/** Go's reflect.Kind of the nature's type (Nature{} and nil have none). */
const reflectKind = (n: Nature) => ({ int: 'int', float: 'float64', bool: 'bool', nil: 'invalid', unknown: 'invalid', any: 'interface', array: 'slice' })[n.k];
const typeName = (n: Nature) => ({ int: 'int', float: 'float64', bool: 'bool', nil: 'unknown', unknown: 'unknown', any: 'interface {}', array: '[]interface {}' })[n.k];
/** The argument type a builtin's Validate sees: unknown natures as interface{}, nil as no type. */
export const argKind = (n: Nature) => (isUnknown(n) ? 'interface' : reflectKind(n));
export const argName = (n: Nature) => (isUnknown(n) ? 'interface {}' : n.k === 'nil' ? '%!s(<nil>)' : typeName(n));
const elemOf = (n: Nature) => n.elem ?? ANY;

function assignableTo(n: Nature, t: Nature): boolean {
  if (n.k === 'nil' && (t.k === 'array' || t.k === 'any')) return true;
  if (n.k === 'unknown' || n.k === 'nil' || t.k === 'unknown' || t.k === 'nil') return false;
  return reflectKind(n) === reflectKind(t) || t.k === 'any';
}
function comparableTo(l: Nature, r: Nature): boolean {
  return isUnknown(l) || isUnknown(r) || l.k === 'nil' || r.k === 'nil' || (isNumber(l) && isNumber(r)) || (l.k === 'array' && r.k === 'array') || assignableTo(l, r);
}
type Check = 'bool' | 'int' | 'number';
const anyOf = (n: Nature, c: Check) => (c === 'bool' ? n.k === 'bool' : c === 'int' ? n.k === 'int' : isNumber(n));
const maybeCompatible = (l: Nature, r: Nature, c: Check) => (isUnknown(l) && isUnknown(r)) || (isUnknown(l) && anyOf(r, c)) || (isUnknown(r) && anyOf(l, c));
const promote = (l: Nature, r: Nature) => (l.k === 'float' || r.k === 'float' ? FLOAT : INT);

/** A predicate's scope for the checker: the collection iterated, and the named pointers it offers. */
interface PredicateScope { collection: Nature; vars: Readonly<Record<string, Nature>> }
/** Builtins whose predicate must give a bool; and what they return (given the collection). */
const BOOL_PREDICATE: Record<string, (collection: Nature) => Nature> = {
  all: () => BOOL, none: () => BOOL, any: () => BOOL, one: () => BOOL, count: () => INT,
  findIndex: () => INT,
  filter: (c) => (isUnknown(c) ? { k: 'array' } : { k: 'array', elem: elemOf(c) }),
  find: (c) => (isUnknown(c) ? UNKNOWN : elemOf(c)),
};
/** The nature of a value whose static type is the predicate's result type (Nature{} becomes interface{}). */
const fromType = (t: Nature): Nature => (isUnknown(t) ? ANY : t.k === 'array' ? { k: 'array' } : t);

export function typeCheck(root: Node, names: ReadonlySet<string>): Nature {
  const fail = (msg: string): never => { throw new FormulaError(msg); };
  const mismatch = (op: string, l: Nature, r: Nature): never => fail(`invalid operation: ${op} (mismatched types ${typeName(l)} and ${typeName(r)})`);
  const scopes: PredicateScope[] = [];
  /** The nature of a predicate's body, checked in its scope; a nil body is no result at all. */
  const predicate = (p: Node, scope: PredicateScope): Nature => {
    scopes.push(scope);
    const t = visit(p.body as Node);
    scopes.pop();
    if (t.k === 'nil') fail('predicate should has one input and one output param');
    return t;
  };
  const collection = (fn: string, a: Node): Nature => {
    const c = visit(a);
    if (c.k !== 'array' && !isUnknown(c)) fail(`builtin ${fn} takes only array (got ${typeName(c)})`);
    return c;
  };
  const predicateCall = (fn: string, args: Node[]): Nature | undefined => {
    if (!(fn in PREDICATE_ARGS) || ((fn === 'count' || fn === 'sum') && args.length === 1)) return undefined;
    const c = collection(fn, args[0]);
    // the collection's static type, which the optimizer compares (optimize.ts): every array is
    // []interface{}, and Type() of Nature{} is interface{} as well
    args[0].collectionType = c.k === 'array' ? '[]interface {}' : 'interface {}';
    if (fn in BOOL_PREDICATE) {
      const t = predicate(args[1], { collection: c, vars: {} });
      if (t.k !== 'bool' && !isUnknown(t)) fail(`predicate should return boolean (got ${typeName(fromType(t))})`);
      return BOOL_PREDICATE[fn](c);
    }
    if (fn === 'map') return { k: 'array', elem: predicate(args[1], { collection: c, vars: { index: INT } }) };
    if (fn === 'sum') return fromType(predicate(args[1], { collection: c, vars: {} }));
    // reduce: the initial value is checked outside the predicate's scope, and its type is not used
    const t = predicate(args[1], { collection: c, vars: { index: INT, acc: UNKNOWN } });
    if (args.length === 3) visit(args[2]);
    return t;
  };
  const visit = (n: Node): Nature => {
    switch (n.type) {
      case 'Pointer': {
        const scope = scopes[scopes.length - 1];
        if (!scope) return fail('cannot use pointer accessor outside predicate');
        const name = n.name as string;
        if (name === '') return isUnknown(scope.collection) ? UNKNOWN : elemOf(scope.collection);
        return Object.prototype.hasOwnProperty.call(scope.vars, name) ? scope.vars[name] : fail(`unknown pointer #${name}`);
      }
      case 'Literal':
        return isIntLiteral(n) ? INT : FLOAT;
      case 'Identifier': {
        const name = n.name as string;
        if (name === 'nil') return NIL;
        if (name === 'true' || name === 'false') return BOOL;
        if (names.has(name)) return FLOAT;
        return fail(`unknown name ${name} (formula names must be names of non-cpu/memory triggers)`);
      }
      case 'UnaryExpression': {
        const t = visit(n.argument as Node);
        const op = n.operator as string;
        if (op === '!' || op === 'not') { if (t.k === 'bool' || isUnknown(t)) return BOOL; }
        else if (isNumber(t)) return t;
        else if (isUnknown(t)) return UNKNOWN;
        return fail(`invalid operation: ${op} (mismatched type ${typeName(t)})`);
      }
      case 'ConditionalExpression': {
        const c = visit(n.test as Node);
        if (c.k !== 'bool' && !isUnknown(c)) fail(`non-bool expression (type ${typeName(c)}) used as condition`);
        const t1 = visit(n.consequent as Node);
        const t2 = visit(n.alternate as Node);
        if (t1.k === 'nil' && t2.k !== 'nil') return t2;
        if (t1.k !== 'nil' && t2.k === 'nil') return t1;
        if (t1.k === 'nil') return NIL;
        if (assignableTo(t1, t2)) {
          if (t1.k === 'array' && t2.k === 'array' && (!assignableTo(elemOf(t1), elemOf(t2)) || !assignableTo(elemOf(t2), elemOf(t1)))) return { k: 'array' };
          return t1;
        }
        return UNKNOWN;
      }
      case 'ArrayExpression': {
        const els = (n.elements as Node[]).map(visit);
        if (els.length === 0) return { k: 'array', elem: UNKNOWN };
        const same = els.every((e) => reflectKind(e) === reflectKind(els[0]));
        return same ? { k: 'array', elem: els[els.length - 1] } : { k: 'array' };
      }
      case 'CallExpression': {
        const fn = (n.callee as Node).name as string;
        const viaPredicate = predicateCall(fn, n.arguments as Node[]);
        if (viaPredicate) return viaPredicate;
        const args = (n.arguments as Node[]).map(visit);
        if (fn === 'len') {
          if (args.length !== 1) fail(`invalid number of arguments (expected 1, got ${args.length})`);
          const k = argKind(args[0]);
          if (k !== 'slice' && k !== 'interface') fail(`invalid argument for len (type ${argName(args[0])})`);
          return INT;
        }
        if (fn === 'sum' || fn === 'count') {
          const c = args[0];
          if (c.k !== 'array' && !isUnknown(c)) fail(`builtin ${fn} takes only array (got ${typeName(c)})`);
          if (fn === 'count') return INT;
          return isUnknown(c) ? UNKNOWN : elemOf(c);
        }
        if (fn === 'min' || fn === 'max' || fn === 'mean') {
          if (args.length === 0) fail(`not enough arguments to call ${fn}`);
          for (const a of args) {
            const k = argKind(a);
            if (k === 'interface' || k === 'slice') return ANY;
            if (k !== 'int' && k !== 'float64') fail(`invalid argument for ${fn} (type ${argName(a)})`);
          }
          return args[0].k === 'int' ? INT : FLOAT;
        }
        if (args.length !== 1) fail(`invalid number of arguments (expected 1, got ${args.length})`);
        const k = argKind(args[0]);
        if (k !== 'interface' && k !== 'int' && k !== 'float64') fail(`invalid argument for ${fn} (type ${argName(args[0])})`);
        if (fn === 'float') return FLOAT;
        if (fn === 'int') return INT;
        if (fn === 'abs') return k === 'interface' ? ANY : args[0];
        return FLOAT; // ceil, floor, round
      }
      case 'BinaryExpression': {
        const op = n.operator as string;
        const l = visit(n.left as Node);
        const r = visit(n.right as Node);
        switch (op) {
          case '==': case '!=':
            // both sides int: expr-lang compiles OpEqualInt, which fails at run time on a value that
            // is not an int after all (max(1, a) is typed int, and is a's float64 when a is larger)
            if (l.k === 'int' && r.k === 'int') n.intEquality = true;
            if (comparableTo(l, r)) return BOOL;
            break;
          case 'or': case '||': case 'and': case '&&':
            if ((l.k === 'bool' && r.k === 'bool') || maybeCompatible(l, r, 'bool')) return BOOL;
            break;
          case '<': case '>': case '<=': case '>=':
            if ((isNumber(l) && isNumber(r)) || maybeCompatible(l, r, 'number')) return BOOL;
            break;
          case '+': case '-': case '*':
            if (isNumber(l) && isNumber(r)) return promote(l, r);
            if (maybeCompatible(l, r, 'number')) return UNKNOWN;
            break;
          case '/': case '**': case '^':
            if ((isNumber(l) && isNumber(r)) || maybeCompatible(l, r, 'number')) return FLOAT;
            break;
          case '%':
            if ((l.k === 'int' && r.k === 'int') || maybeCompatible(l, r, 'int')) {
              if (constInt(n.left as Node) !== undefined && constInt(n.right as Node) === 0n) fail('integer divide by zero');
              return INT;
            }
            break;
          case '??':
            if (l.k === 'nil' && r.k !== 'nil') return r;
            if (l.k !== 'nil' && r.k === 'nil') return l;
            if (l.k === 'nil') return NIL;
            return assignableTo(r, l) ? l : UNKNOWN;
        }
        return mismatch(op, l, r);
      }
      default:
        return fail(`unsupported syntax: ${n.type}`);
    }
  };
  return visit(root);
}

