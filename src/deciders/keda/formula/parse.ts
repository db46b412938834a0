// The grammar of KEDA `advanced.scalingModifiers.formula` expressions: expr-lang's (v1.17.8), on
// jsep's parser (never eval / Function). compileFormula gives the tree the checker (check.ts), the
// optimizer (optimize.ts) and the evaluator (run.ts) work on.

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
export const PREDICATE_ARGS: Record<string, readonly ('e' | 'p' | 'p?' | 'e?')[]> = {
  all: ['e', 'p'], none: ['e', 'p'], any: ['e', 'p'], one: ['e', 'p'], filter: ['e', 'p'], map: ['e', 'p'],
  find: ['e', 'p'], findIndex: ['e', 'p'], count: ['e', 'p?'], sum: ['e', 'p?'], reduce: ['e', 'p', 'e?'],
};
const REFUSED_BUILTINS: Record<string, string> = {
  findLast: 'expr-lang v1.17.8 (KEDA\'s) leaves values on its stack in findLast\'s loop, so its result inside a larger expression is not what the formula says',
  findLastIndex: 'expr-lang v1.17.8 (KEDA\'s) leaves values on its stack in findLastIndex\'s loop, so its result inside a larger expression is not what the formula says',
};
// words expr-lang lexes as operators, not as a pointer's name, when a space follows the # (`# and x` is not `#and`)
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
      // right after the #, expr-lang's lexer takes any word as the name (#and is a pointer named
      // and); after a space, an operator word is the operator (# and x)
      const spaced = this.index > at;
      const id = this.gobbleIdentifier() as Node;
      if (spaced && OPERATOR_WORDS.has(id.name as string)) this.index = at;
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
      out = { ...n, elements: (n.elements as Node[]).map(reshape) };
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

export type Node = jsep.Expression;

export interface CompiledFormula {
  source: string;
  ast: Node;
  /** Identifiers the formula reads (trigger names), in order of first use. */
  identifiers: string[];
}

const CONSTANTS = new Set(['nil', 'true', 'false']);
const FUNCTIONS = ['float', 'int', 'abs', 'ceil', 'floor', 'round', 'min', 'max', 'mean', 'len', ...Object.keys(PREDICATE_ARGS)];
export const MAX_INT64 = 2n ** 63n - 1n;
export const isIntLiteral = (n: Node) => /^[0-9]+$/.test(String(n.raw));

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
        // gobbleList refuses an empty element ([a,,b]), as expr-lang's parser does
        for (const el of n.elements as Node[]) visit(el);
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

