// The constants expr-lang's optimizer folds before anything runs (optimizer/fold.go), for the part
// of them that changes what a formula means: integer arithmetic of constants (a constant % 0 does
// not compile), constant bools, and/or with a constant side.

import { pow } from './go-math.ts';
import { isIntLiteral, type Node } from './parse.ts';

export const wrap64 = (x: bigint) => BigInt.asIntN(64, x);

/**
 * The value expr-lang's optimizer folds a subtree of integer constants to, if it does: it folds
 * int ± * % int and unary ± before compiling, and a constant % 0 is a compile error.
 */
export function constInt(n: Node): bigint | undefined {
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
export function constBool(n: Node): boolean | undefined {
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
export function foldedLogic(n: Node): boolean | Node | undefined {
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
export function constArray(n: Node): boolean {
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

/** The value of a subtree that folds to a constant (constBool or constNumber), computed as fold.go does. */
export function constValue(n: Node): bigint | number | boolean | undefined {
  const b = constBool(n);
  if (b !== undefined) return b;
  const i = constInt(n);
  if (i !== undefined) return i;
  if (!constNumber(n)) return undefined;
  if (n.type === 'Literal') return n.value as number;
  if (n.type === 'UnaryExpression') {
    const v = Number(constValue(n.argument as Node));
    return n.operator === '-' ? -v : v;
  }
  const [x, y] = [Number(constValue(n.left as Node)), Number(constValue(n.right as Node))];
  switch (n.operator) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y;
    default: return pow(x, y); // ** ^
  }
}
