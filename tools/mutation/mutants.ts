// Single-token mutants of one TypeScript source file: arithmetic and logical
// operators, comparison boundaries and negations, numeric and boolean
// constants, if/ternary conditions forced true/false, `??` defaults dropped,
// removed statements (calls, assignments, break/continue), Math.min/max and
// floor/ceil/round swaps, ++/-- and compound assignments.
//
// Each mutant replaces [start, end) of the original text with `text`. Mutants
// that can only change the words of an error or a message (inside `throw`,
// `new …Error(…)`, template literals, string concatenation) are tagged
// 'message'; everything else is 'decision' and counts towards the kill rate.

import ts from 'typescript';

export interface Mutant {
  start: number;
  end: number;
  text: string;
  /** The original text of [start, end). */
  original: string;
  kind: string;
  category: 'decision' | 'message';
  line: number;
  col: number;
  /** Stable, human-readable identity (survives edits elsewhere in the file). */
  key: string;
}

const SWAPS: Partial<Record<ts.SyntaxKind, string[]>> = {
  [ts.SyntaxKind.PlusToken]: ['-'],
  [ts.SyntaxKind.MinusToken]: ['+'],
  [ts.SyntaxKind.AsteriskToken]: ['/'],
  [ts.SyntaxKind.SlashToken]: ['*'],
  [ts.SyntaxKind.PercentToken]: ['*'],
  [ts.SyntaxKind.LessThanToken]: ['<=', '>='],
  [ts.SyntaxKind.LessThanEqualsToken]: ['<', '>'],
  [ts.SyntaxKind.GreaterThanToken]: ['>=', '<='],
  [ts.SyntaxKind.GreaterThanEqualsToken]: ['>', '<'],
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: ['!=='],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: ['==='],
  [ts.SyntaxKind.EqualsEqualsToken]: ['!='],
  [ts.SyntaxKind.ExclamationEqualsToken]: ['=='],
  [ts.SyntaxKind.AmpersandAmpersandToken]: ['||'],
  [ts.SyntaxKind.BarBarToken]: ['&&'],
  [ts.SyntaxKind.PlusEqualsToken]: ['-='],
  [ts.SyntaxKind.MinusEqualsToken]: ['+='],
  [ts.SyntaxKind.AsteriskEqualsToken]: ['/='],
  [ts.SyntaxKind.SlashEqualsToken]: ['*='],
};

const MATH_SWAPS: Record<string, string[]> = {
  min: ['max'], max: ['min'], floor: ['ceil'], ceil: ['floor'], round: ['floor', 'ceil'], trunc: ['round'],
};

function isStringy(n: ts.Node): boolean {
  return ts.isStringLiteral(n) || ts.isTemplateExpression(n) || ts.isNoSubstitutionTemplateLiteral(n);
}

export function generateMutants(fileName: string, text: string): Mutant[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Mutant[] = [];
  const seen = new Set<string>();

  function add(start: number, end: number, repl: string, kind: string, message: boolean): void {
    const original = text.slice(start, end);
    if (original === repl) return;
    const { line, character } = sf.getLineAndCharacterOfPosition(start);
    const lineStart = sf.getPositionOfLineAndCharacter(line, 0);
    const lineEnd = text.indexOf('\n', lineStart);
    const rawLine = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    const lead = rawLine.length - rawLine.trimStart().length;
    const shown = original.length > 40 ? original.slice(0, 37) + '...' : original;
    const shownRepl = repl === '' ? '(removed)' : repl.length > 40 ? repl.slice(0, 37) + '...' : repl;
    let key = `${rawLine.trim().slice(0, 160)} @${character - lead} ${shown} → ${shownRepl}`;
    // Identical lines (rare) are told apart by their order.
    let k = key, i = 2;
    while (seen.has(k)) k = `${key} #${i++}`;
    key = k;
    seen.add(key);
    out.push({ start, end, text: repl, original, kind, category: message ? 'message' : 'decision', line: line + 1, col: character + 1, key });
  }

  function visit(node: ts.Node, message: boolean): void {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isTypeAliasDeclaration(node) ||
        ts.isInterfaceDeclaration(node) || ts.isTypeNode(node) || ts.isModuleDeclaration(node)) return;
    let msg = message;
    if (ts.isThrowStatement(node) || ts.isTemplateExpression(node)) msg = true;
    if (ts.isNewExpression(node) && /Error$/.test(node.expression.getText(sf))) msg = true;
    if (ts.isCallExpression(node) && /^(console\.|log\b|logger\.|warn\b|debug\b)/.test(node.expression.getText(sf))) msg = true;

    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken;
      const stringConcat = (op.kind === ts.SyntaxKind.PlusToken || op.kind === ts.SyntaxKind.PlusEqualsToken) &&
        (isStringy(node.left) || isStringy(node.right));
      if (stringConcat) msg = true;
      for (const r of SWAPS[op.kind] ?? []) add(op.getStart(sf), op.getEnd(), r, 'operator', msg);
      if (op.kind === ts.SyntaxKind.QuestionQuestionToken) add(node.getStart(sf), node.getEnd(), node.left.getText(sf), 'drop-default', msg);
    }
    if (ts.isPrefixUnaryExpression(node)) {
      const start = node.getStart(sf);
      if (node.operator === ts.SyntaxKind.ExclamationToken) add(start, node.operand.getStart(sf), '', 'negation', msg);
      else if (node.operator === ts.SyntaxKind.MinusToken) add(start, node.operand.getStart(sf), '', 'negation', msg);
      else if (node.operator === ts.SyntaxKind.PlusPlusToken) add(start, start + 2, '--', 'update', msg);
      else if (node.operator === ts.SyntaxKind.MinusMinusToken) add(start, start + 2, '++', 'update', msg);
    }
    if (ts.isPostfixUnaryExpression(node)) {
      const end = node.getEnd();
      add(end - 2, end, node.operator === ts.SyntaxKind.PlusPlusToken ? '--' : '++', 'update', msg);
    }
    if (ts.isNumericLiteral(node)) {
      const v = Number(node.text);
      const s = node.getStart(sf), e = node.getEnd();
      if (v === 0) add(s, e, '1', 'constant', msg);
      else if (v === 1) { add(s, e, '0', 'constant', msg); add(s, e, '2', 'constant', msg); }
      else { add(s, e, '0', 'constant', msg); add(s, e, String(Number.isInteger(v) ? v + 1 : v * 2), 'constant', msg); }
    }
    if (node.kind === ts.SyntaxKind.TrueKeyword) add(node.getStart(sf), node.getEnd(), 'false', 'constant', msg);
    if (node.kind === ts.SyntaxKind.FalseKeyword) add(node.getStart(sf), node.getEnd(), 'true', 'constant', msg);
    if (ts.isIfStatement(node) || ts.isConditionalExpression(node) || ts.isWhileStatement(node)) {
      const c = ts.isConditionalExpression(node) ? node.condition : node.expression;
      if (c.kind !== ts.SyntaxKind.TrueKeyword && c.kind !== ts.SyntaxKind.FalseKeyword) {
        add(c.getStart(sf), c.getEnd(), 'true', 'condition', msg);
        add(c.getStart(sf), c.getEnd(), 'false', 'condition', msg);
      }
    }
    if (ts.isExpressionStatement(node) || ts.isBreakStatement(node) || ts.isContinueStatement(node)) {
      add(node.getStart(sf), node.getEnd(), ';', 'remove-statement', msg);
    }
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Math') {
      for (const r of MATH_SWAPS[node.name.text] ?? []) add(node.name.getStart(sf), node.name.getEnd(), r, 'math', msg);
    }
    node.forEachChild((c) => visit(c, msg));
  }
  visit(sf, false);
  // Replacement '' for a removed statement reads better as ';'; identical no-ops were skipped above.
  return out.sort((a, b) => a.start - b.start || a.key.localeCompare(b.key));
}
