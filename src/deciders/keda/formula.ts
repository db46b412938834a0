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
  (jsep.hooks as unknown as Record<string, unknown>)['gobble-token'] = [gobbleToken];
}

// expr-lang's builtins that take a predicate, and their arguments (parser.go's `predicates`): an
// expression, a predicate (`{ # > 1 }` or bare `# > 1`), `?` optional. Not supported: groupBy and
// sortBy (maps, strings), and findLast and findLastIndex, whose backward loop in expr-lang v1.17.8
// leaves one bool per element on the VM's stack: inside a larger expression (`a + findLast(..)`,
// an array, a map) the operator then takes those instead of its own operands, which no formula means.
const PREDICATE_ARGS: Record<string, readonly ('e' | 'p' | 'p?' | 'e?')[]> = {
  all: ['e', 'p'], none: ['e', 'p'], any: ['e', 'p'], one: ['e', 'p'], filter: ['e', 'p'], map: ['e', 'p'],
  find: ['e', 'p'], findIndex: ['e', 'p'], count: ['e', 'p?'], sum: ['e', 'p?'], reduce: ['e', 'p', 'e?'],
};
const REFUSED_BUILTINS: Record<string, string> = {
  findLast: 'expr-lang v1.17.8 (KEDA\'s) leaves values on its stack in findLast\'s loop, so its result inside a larger expression is not what the formula says',
  findLastIndex: 'expr-lang v1.17.8 (KEDA\'s) leaves values on its stack in findLastIndex\'s loop, so its result inside a larger expression is not what the formula says',
};
// words expr-lang lexes as operators, never as a pointer's name (`# and x` is not `#and`)
const OPERATOR_WORDS = new Set(['and', 'or', 'not', 'in', 'matches', 'contains', 'startsWith', 'endsWith', 'let', 'if', 'else']);
/** jsep's rule, which gobbleIdentifier() then follows: a letter, $, _ or any non-ASCII character. */
const isIdentifierStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c >= 128;
/** How many predicates the parser is inside: `#` is a pointer only there (expr-lang's p.depth). */
let predicateDepth = 0;

/**
 * Tokens parsed as expr-lang's parser does rather than as jsep's: parenthesized groups (marked, for
 * reshape()), array literals and call arguments (commas required, one trailing comma allowed: jsep
 * takes `max(a b)` and refuses `max(a,)`), predicates, and the `#` pointers inside them.
 */
function gobbleToken(this: jsep.HookScope, env: { node?: Node }): void {
  const code = this.code;
  if (code === 40) { // (
    const inner = this.gobbleGroup();
    if (!inner) this.throwError('empty parentheses');
    inner.parens = true;
    env.node = this.gobbleTokenProperty(inner);
  } else if (code === 91) { // [
    this.index++;
    env.node = this.gobbleTokenProperty({ type: 'ArrayExpression', elements: gobbleList(this, 93) });
  } else if (code === 123) { // {
    this.throwError('map literals are not supported ({ } only wraps a predicate)');
  } else if (code === 35) { // #
    if (predicateDepth === 0) this.throwError('# is only allowed inside a predicate');
    this.index++;
    const at = this.index;
    this.gobbleSpaces();
    let name = '';
    if (isIdentifierStart(this.code)) {
      const id = this.gobbleIdentifier() as Node;
      if (OPERATOR_WORDS.has(id.name as string)) this.index = at;
      else name = id.name as string;
    } else this.index = at;
    env.node = this.gobbleTokenProperty({ type: 'Pointer', name });
  } else if (isIdentifierStart(code)) {
    const at = this.index;
    const id = this.gobbleIdentifier() as Node;
    this.gobbleSpaces();
    const name = id.name as string;
    if (this.code !== 40 || OPERATOR_WORDS.has(name)) { this.index = at; return; } // jsep goes on as usual
    if (Object.prototype.hasOwnProperty.call(REFUSED_BUILTINS, name)) this.throwError(`${name}() is not supported: ${REFUSED_BUILTINS[name]}`);
    this.index++;
    const spec = PREDICATE_ARGS[name];
    // what follows (`[0]`, `.x`, `(1)`) is parsed as jsep does, and refused as unsupported
    env.node = this.gobbleTokenProperty({ type: 'CallExpression', callee: id, arguments: spec ? gobblePredicateCall(this, name, spec) : gobbleList(this, 41) });
  }
}

function gobbleArgument(s: jsep.HookScope): Node {
  const node = s.gobbleExpression();
  if (!node) s.throwError('expected an expression');
  return node;
}
function expectChar(s: jsep.HookScope, code: number): void {
  s.gobbleSpaces();
  if (s.code !== code) s.throwError(`expected ${String.fromCharCode(code)}`);
  s.index++;
}
/** Comma-separated expressions up to `close` (already past the opening bracket); one trailing comma allowed. */
function gobbleList(s: jsep.HookScope, close: number): Node[] {
  const out: Node[] = [];
  for (;;) {
    s.gobbleSpaces();
    if (s.code === close) break;
    if (out.length > 0) {
      expectChar(s, 44);
      s.gobbleSpaces();
      if (s.code === close) break;
    }
    out.push(gobbleArgument(s));
  }
  s.index++;
  return out;
}
/** A predicate builtin's arguments, as parser.go's parseCall reads them (already past the `(`). */
function gobblePredicateCall(s: jsep.HookScope, name: string, spec: readonly string[]): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < spec.length; i++) {
    s.gobbleSpaces();
    if (spec[i].endsWith('?')) {
      if (s.code === 41) break;
    } else if (s.code === 41) s.throwError(`${name}() takes at least ${spec.filter((k) => !k.endsWith('?')).length} arguments`);
    if (i > 0) expectChar(s, 44);
    out.push(spec[i].startsWith('p') ? gobblePredicate(s) : gobbleArgument(s));
  }
  s.gobbleSpaces();
  if (s.code === 44) s.index++; // one trailing comma
  expectChar(s, 41);
  return out;
}
function gobblePredicate(s: jsep.HookScope): Node {
  s.gobbleSpaces();
  const braces = s.code === 123;
  if (braces) s.index++;
  predicateDepth++;
  const body = gobbleArgument(s);
  predicateDepth--;
  if (braces) expectChar(s, 125);
  return { type: 'Predicate', body };
}

// expr-lang's precedences: unary - and + (90) bind looser than ** ^ (100) and ?? (500); ! and not (50)
// also looser than * / % (60). So `-a ** 2` is -(a ** 2) and `not a ?? b` is not (a ?? b).
const LOOSER_UNARY: Record<string, ReadonlySet<string>> = {
  '-': new Set(['**', '^', '??']),
  '+': new Set(['**', '^', '??']),
  '!': new Set(['*', '/', '%', '**', '^', '??']),
  not: new Set(['*', '/', '%', '**', '^', '??']),
};
// expr-lang chains only the ordering comparisons (a < b <= c); == and != share their precedence but do not chain
const COMPARISONS = new Set(['<', '>', '<=', '>=']);

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
    case 'Predicate':
      out = { ...n, body: reshape(n.body as Node) };
      break;
    default:
      out = n;
  }
  out.parens = n.parens === true;
  return out;
}
/**
 * A unary operator that ends the left operand (its last token before `op`, unparenthesized) and binds
 * looser than `op` takes `op r` into its operand, as expr-lang's parser does: `a * not b * c` is
 * a * not (b * c), `b ?? not x ?? y` is b ?? not (x ?? y).
 */
function absorbed(op: string, l: Node, r: Node): Node | undefined {
  if (l.parens) return undefined;
  if (l.type === 'UnaryExpression' && LOOSER_UNARY[l.operator as string].has(op)) {
    return { type: 'UnaryExpression', operator: l.operator, prefix: true, argument: binary(op, l.argument as Node, r) };
  }
  if (l.type === 'BinaryExpression') {
    const right = absorbed(op, l.right as Node, r);
    if (right) return { ...l, right };
  }
  return undefined;
}
function binary(op: string, l: Node, r: Node): Node {
  const a = absorbed(op, l, r);
  if (a) return a;
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

const CONSTANTS = new Set(['nil', 'true', 'false']);
const FUNCTIONS = ['float', 'int', 'abs', 'ceil', 'floor', 'round', 'min', 'max', 'mean', 'len', ...Object.keys(PREDICATE_ARGS)];
const isIntLiteral = (n: Node) => /^[0-9]+$/.test(String(n.raw));

/** Parse a formula (syntax and the supported subset only; types are checked against the triggers). */
export function compileFormula(source: string): CompiledFormula {
  let ast: Node;
  configureJsep();
  predicateDepth = 0;
  try {
    ast = jsep(source);
  } catch (e) {
    throw new FormulaError(`cannot parse formula: ${(e as Error).message}`);
  } finally {
    predicateDepth = 0;
  }
  ast = reshape(ast);
  const identifiers: string[] = [];
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'Literal':
        // The only literals left in the jsep tables are numbers and strings.
        if (typeof n.value !== 'number') throw new FormulaError(`unsupported literal ${String(n.raw)} (only numbers)`);
        if (isIntLiteral(n) && BigInt(String(n.raw)) > MAX_INT64) throw new FormulaError(`integer literal ${String(n.raw)} out of range`);
        return;
      case 'Identifier': {
        const name = n.name as string;
        if (!CONSTANTS.has(name) && !identifiers.includes(name)) identifiers.push(name);
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
        if (callee.type !== 'Identifier' || callee.parens || !FUNCTIONS.includes(callee.name as string)) {
          throw new FormulaError(`unknown function ${callee.type === 'Identifier' && !callee.parens ? String(callee.name) : '(expression)'} (allowed: ${FUNCTIONS.join(', ')})`);
        }
        for (const a of n.arguments as Node[]) visit(a);
        return;
      }
      case 'Predicate':
        visit(n.body as Node); return;
      case 'Pointer':
        return;
      case 'Compound':
        throw new FormulaError('a formula is a single expression (no ";" or "," at top level)');
      default:
        throw new FormulaError(`unsupported syntax: ${n.type}`);
    }
  };
  visit(ast);
  return { source, ast, identifiers };
}

// ---------------------------------------------------------------- static types (expr-lang's checker)
//
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
const argKind = (n: Nature) => (isUnknown(n) ? 'interface' : reflectKind(n));
const argName = (n: Nature) => (isUnknown(n) ? 'interface {}' : n.k === 'nil' ? '%!s(<nil>)' : typeName(n));
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

const MAX_INT64 = 2n ** 63n - 1n;
const wrap64 = (x: bigint) => BigInt.asIntN(64, x);

/**
 * The value expr-lang's optimizer folds a subtree of integer constants to, if it does: it folds
 * int ± * % int and unary ± before compiling, and a constant % 0 is a compile error.
 */
function constInt(n: Node): bigint | undefined {
  if (n.type === 'Literal') return isIntLiteral(n) ? BigInt(String(n.raw)) : undefined;
  if (n.type === 'UnaryExpression' && (n.operator === '-' || n.operator === '+')) {
    const v = constInt(n.argument as Node);
    return v === undefined ? undefined : n.operator === '-' ? wrap64(-v) : v;
  }
  if (n.type === 'BinaryExpression' && ['+', '-', '*', '%'].includes(n.operator as string)) {
    const a = constInt(n.left as Node);
    const b = constInt(n.right as Node);
    if (a === undefined || b === undefined) return undefined;
    switch (n.operator) {
      case '+': return wrap64(a + b);
      case '-': return wrap64(a - b);
      case '*': return wrap64(a * b);
      default: return b === 0n ? undefined : a % b;
    }
  }
  return undefined;
}

/**
 * The constant bool a subtree folds to, if it does. expr-lang's optimizer folds `!` of a constant,
 * `==` of two int or two bool constants, and and/or with a constant side, which changes what runs:
 * `x and true` and `x or false` become x itself (no bool check), `x and false` becomes false and
 * `x or true` true (x is never run).
 */
function constBool(n: Node): boolean | undefined {
  if (n.type === 'Identifier') return n.name === 'true' ? true : n.name === 'false' ? false : undefined;
  if (n.type === 'UnaryExpression' && (n.operator === '!' || n.operator === 'not')) {
    const v = constBool(n.argument as Node);
    return v === undefined ? undefined : !v;
  }
  if (n.type !== 'BinaryExpression') return undefined;
  const op = n.operator as string;
  if (op === '==') {
    const [ia, ib] = [constInt(n.left as Node), constInt(n.right as Node)];
    if (ia !== undefined && ib !== undefined) return ia === ib;
    const [ba, bb] = [constBool(n.left as Node), constBool(n.right as Node)];
    return ba !== undefined && bb !== undefined ? ba === bb : undefined;
  }
  const f = foldedLogic(n);
  return f === undefined ? undefined : typeof f === 'boolean' ? f : constBool(f);
}

/** What an and/or node folds to: a constant, the side it is replaced by, or undefined (not folded). */
function foldedLogic(n: Node): boolean | Node | undefined {
  const op = n.operator as string;
  const and = op === 'and' || op === '&&';
  if (!and && op !== 'or' && op !== '||') return undefined;
  const a = constBool(n.left as Node);
  const b = constBool(n.right as Node);
  if (and) {
    if (a === true) return n.right as Node;
    if (b === true) return n.left as Node;
    if (a === false || b === false) return false;
  } else {
    if (a === false) return n.right as Node;
    if (b === false) return n.left as Node;
    if (a === true || b === true) return true;
  }
  return undefined;
}

/** Whether expr-lang's optimizer turns this array literal into a constant (all int/float/bool after folding). */
function constArray(n: Node): boolean {
  return (n.elements as Node[]).every((e) => constBool(e) !== undefined || constNumber(e));
}
/** Whether a subtree folds to a number constant (int or float: literals, ± and arithmetic of them). */
function constNumber(n: Node): boolean {
  if (n.type === 'Literal') return true;
  if (n.type === 'UnaryExpression' && (n.operator === '-' || n.operator === '+')) return constNumber(n.argument as Node);
  if (n.type === 'BinaryExpression' && ['+', '-', '*', '/', '**', '^'].includes(n.operator as string)) return constNumber(n.left as Node) && constNumber(n.right as Node);
  if (n.type === 'BinaryExpression' && n.operator === '%') return constInt(n) !== undefined;
  return false;
}

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

function typeCheck(root: Node, names: ReadonlySet<string>): Nature {
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

// ---------------------------------------------------------------- evaluation (expr-lang's VM)
//
// Values keep expr-lang's two number types: int (int64, as a bigint, wrapping on overflow) and
// float64 (a number). int op int stays int, a float on either side makes a float, / and ** are
// always float, % is int only.

type Value = number | bigint | boolean | null | Value[];

const numeric = (v: Value): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
function goType(v: Value): string {
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
// ---- Go's math.Pow, to the bit where it can be: V8's ** rounds differently (100 ** 2.5 is exactly
// 100000 there, 100000.00000000001 in Go), and floor() or a comparison can turn an ulp into a
// different replica count. Go's special cases, then its method: x**y = x**frac(y) × x**int(y), the
// fraction by exp(frac × log x), the integer part by repeated squaring of x's mantissa with the
// exponent kept apart, scaled back at the end. (Math.exp/Math.log may still differ from Go's by an
// ulp on some inputs.)

const f64 = new DataView(new ArrayBuffer(8));
/** x = frac × 2**exp, frac in [0.5, 1) (x itself for 0, ±Inf, NaN). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let shift = 0;
  if (Math.abs(x) < 2 ** -1022) { x *= 2 ** 52; shift = -52; } // subnormal: normalize first
  f64.setFloat64(0, x);
  const hi = f64.getUint32(0);
  const e = (hi >>> 20) & 0x7ff;
  f64.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [f64.getFloat64(0), e - 1022 + shift];
}
/** frac × 2**exp, rounded once. */
function ldexp(frac: number, exp: number): number {
  if (frac === 0 || !Number.isFinite(frac)) return frac;
  const [m, e] = frexp(frac);
  exp += e;
  if (exp > 1024) return m < 0 ? -Infinity : Infinity;
  if (exp >= -1021) return exp > 1023 ? m * 2 * 2 ** (exp - 1) : m * 2 ** exp;
  if (exp < -1075) return m < 0 ? -0 : 0;
  return (m * 2 ** (exp + 60)) * 2 ** -60; // exact, then one rounding into the subnormals
}
const isOddInt = (y: number) => Number.isInteger(y) && Math.abs(y) < 2 ** 53 && Math.abs(y % 2) === 1;

function pow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0) {
    if (y < 0) return Object.is(x, -0) && isOddInt(y) ? -Infinity : Infinity;
    return Object.is(x, -0) && isOddInt(y) ? x : 0;
  }
  if (!Number.isFinite(y)) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  if (!Number.isFinite(x)) {
    if (x < 0) return pow(1 / x, -y); // pow(-0, -y)
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let yi = Math.trunc(Math.abs(y));
  let yf = Math.abs(y) - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) { yf--; yi++; }
    a = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = BigInt(yi); i !== 0n; i >>= 1n) {
    if (xe < -(1 << 12) || xe > 1 << 12) { ae += xe; break; } // overflow or underflow: ldexp decides
    if ((i & 1n) === 1n) { a *= x1; ae += xe; }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) { x1 += x1; xe--; }
  }
  if (y < 0) { a = 1 / a; ae = -ae; }
  return ldexp(a, ae);
}
/** Go's int(float64): truncation; out of range or NaN gives MinInt64 on amd64, where KEDA runs. */
function toInt(x: number): bigint {
  const t = Math.trunc(x);
  return Number.isFinite(t) && t >= -(2 ** 63) && t < 2 ** 63 ? BigInt(t) : -(2n ** 63n);
}
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
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

// ---------------------------------------------------------------- expr-lang's optimizer, where it changes what runs
//
// After checking, expr-lang rewrites the tree; the rewrites below change which parts of a formula
// run, so they decide whether a run meets an error (a nil trigger inside a predicate, say):
//   - and/or with a constant side fold away (foldedLogic), and filter(filter(xs, p), q) becomes
//     filter(xs, p && q), which can fold further; nothing made by a later rewrite is folded (in
//     any(xs, p) || any(xs, true), p still runs);
//   - len(filter(xs, p)) becomes count(xs, p);
//   - all(xs, p) && all(xs, q) becomes all(xs, p && q), any(..) || any(..) and none(..) && none(..)
//     likewise (the same collection, written the same way): q then runs right after p, element by element;
//   - count(xs, p) > 0 and count(xs, p) >= 1 become any(xs, p), which stops at the first match;
//   - count(xs, p) compared with an integer constant N stops counting once the comparison is decided
//     (at N + 1 for > and <=, at N for >= and <, when that is 2 or more).
// Rewrites that only reorder work that all runs anyway (map(filter(..)), sum(map(..))) do not
// change a value or whether an error happens, and are not repeated here.

const CHILDREN = ['left', 'right', 'argument', 'test', 'consequent', 'alternate', 'body'] as const;
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
/** Whether two subtrees are written the same (expr-lang compares their String()), parentheses aside. */
function sameTree(a: Node, b: Node): boolean {
  if (a.type !== b.type || a.operator !== b.operator || a.name !== b.name) return false;
  if (a.type === 'Literal' && (isIntLiteral(a) !== isIntLiteral(b) || (isIntLiteral(a) ? BigInt(String(a.raw)) !== BigInt(String(b.raw)) : a.value !== b.value))) return false;
  if (a.type === 'CallExpression' && (a.callee as Node).name !== (b.callee as Node).name) return false;
  for (const k of CHILDREN) if (Boolean(a[k]) !== Boolean(b[k]) || (a[k] && !sameTree(a[k] as Node, b[k] as Node))) return false;
  for (const k of ['elements', 'arguments'] as const) {
    const [x, y] = [a[k] as Node[] | undefined, b[k] as Node[] | undefined];
    if (Boolean(x) !== Boolean(y) || (x && y && (x.length !== y.length || !x.every((e, i) => sameTree(e, y[i]))))) return false;
  }
  return true;
}
const LOGIC = new Set(['and', '&&', 'or', '||']);
/** fold.go's rewrites that matter here: and/or with a constant side, and filter(filter(xs, p), q) → filter(xs, p && q). */
function fold(n: Node): Node {
  if (isCall(n, 'filter', 2) && isCall((n.arguments as Node[])[0], 'filter', 2)) {
    const [base, q] = [(n.arguments as Node[])[0], (n.arguments as Node[])[1]];
    const [xs, p] = base.arguments as Node[];
    // the joined predicate folds again: filter(filter(xs, p), {false}) never runs p
    return callOf('filter', [xs, { type: 'Predicate', body: fold({ type: 'BinaryExpression', operator: '&&', left: p.body as Node, right: q.body as Node }) }]);
  }
  if (n.type !== 'BinaryExpression' || !LOGIC.has(n.operator as string)) return n;
  const f = foldedLogic(n);
  return f === undefined ? n : typeof f === 'boolean' ? { type: 'Identifier', name: String(f) } : f;
}
function filterLen(n: Node): Node {
  return isCall(n, 'len', 1) && isCall((n.arguments as Node[])[0], 'filter', 2) ? callOf('count', ((n.arguments as Node[])[0].arguments as Node[])) : n;
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
function optimized(root: Node): Node {
  let t = optimizedTrees.get(root);
  if (!t) {
    t = [fold, filterLen, combinePredicates, countEarlyExit].reduce((tree, pass) => rewrite(tree, pass), root);
    optimizedTrees.set(root, t);
  }
  return t;
}

/** A predicate's scope at run time: the elements, the current index (#index) and the accumulator (#acc). */
interface RunScope { items: Value[]; i: number; acc: Value }

function evaluate(root: Node, env: Record<string, number | null>): Value {
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

function call(fn: string, args: Value[]): Value {
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

const plain = (v: Value): FormulaValue => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(plain) : v);

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
