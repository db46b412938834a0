// Multi-document YAML reading that keeps every node's source position, so a problem found later
// (schema, cross-reference) can be reported at `file:line:col` of the offending field.
//
// Hostile and unlucky input is normal here: duplicate keys are found in one pass (a Set per
// mapping, not the library's pairwise check, which is quadratic), alias expansion is bounded
// (billion laughs), a file copied from a web page with its indentation lost and a tab in the
// indentation each give one error that says what happened and how to fix it, and nothing the
// parser throws escapes as a stack trace.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { formatPath } from './diagnostics.ts';
import { parseYamlFast } from './yaml-fast.ts';

export interface Position { line: number; col: number }

/** One YAML document (or one item of a `kind: List`), its plain JS value and a position finder. */
export interface SourceDoc {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  /** For items of a `kind: List`: the path of the item inside the YAML document (["items", 3]). */
  base: (string | number)[];
  value: unknown;
  /** Position of the document's start. */
  start: Position;
  /**
   * Position of the node at `path` (relative to the document/item). When the path goes through
   * a missing field, the position of the deepest existing parent. With `key: true`, the position
   * of the mapping key rather than its value.
   */
  locate(path: readonly PropertyKey[], opts?: { key?: boolean }): Position;
}

export interface ParsedSource { docs: SourceDoc[]; diagnostics: Diagnostic[] }

/**
 * How many nodes YAML aliases may expand to in one document. Real manifests use a handful of
 * aliases; a "billion laughs" file needs millions.
 */
export const MAX_ALIAS_EXPANSION = 1000;

/** Mapping keys that always hold a mapping or a list in a Kubernetes manifest (never null). */
const PARENT_FIELDS = new Set([
  'metadata', 'spec', 'template', 'selector', 'matchLabels', 'labels', 'annotations', 'containers', 'env', 'valueFrom',
  'secretKeyRef', 'configMapKeyRef', 'resources', 'limits', 'requests', 'ports', 'scaleTargetRef', 'metrics', 'resource',
  'target', 'behavior', 'scaleUp', 'scaleDown', 'policies', 'predictor', 'triggers', 'readinessProbe', 'livenessProbe',
  'startupProbe', 'httpGet', 'tcpSocket', 'exec', 'pods', 'external', 'object', 'metric', 'describedObject', 'items',
]);

/** Parse YAML (or JSON, a subset) text into documents; syntax errors become diagnostics with positions. */
export function parseYamlSource(file: string, text: string): ParsedSource {
  // The common case (valid, plain YAML) on the fast path; anything else as before.
  return parseYamlFast(file, text, PARENT_FIELDS, () => parseYamlSlow(file, text)) ?? parseYamlSlow(file, text);
}

/** The `yaml` library's path: slower, and the one that words every syntax problem. */
export function parseYamlSlow(file: string, text: string): ParsedSource {
  const lc = new LineCounter();
  const docs: SourceDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  const pos = (offset: number): Position => {
    const p = lc.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, col: p.col };
  };
  const err = (p: Position, message: string, allowed?: string, path = ''): Diagnostic =>
    ({ severity: 'error', file, line: p.line, col: p.col, path, message, ...(allowed ? { allowed } : {}) });

  let list: Document.Parsed[];
  try {
    // uniqueKeys: false — the library compares every key with every earlier one (quadratic in the
    // size of a mapping); duplicateKeys() below does the same check with a Set.
    const parsed = withPlainEnv(() => parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, merge: true }));
    list = Array.isArray(parsed) ? parsed : [parsed as unknown as Document.Parsed];
  } catch (e) {
    // e.g. nesting deep enough to exhaust the stack
    return { docs, diagnostics: [err({ line: 1, col: 1 }, `cannot parse this file as YAML: ${parserFailure(e)}`)] };
  }

  // A tab in the indentation confuses the parser into several errors; say the one thing that is wrong.
  if (list.some((d) => d.errors.length > 0)) {
    const tab = firstTabIndent(text);
    if (tab) {
      const more = tab.count > 1 ? `; ${tab.count - 1} more line(s) are indented with tabs` : '';
      return { docs, diagnostics: [err(tab.at, 'a tab in the indentation', `YAML indents with spaces only: replace the tab with spaces${more}`)] };
    }
  }

  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      const deep = doc.errors.find((e) => /call stack/i.test(e.message));
      if (deep) { diagnostics.push(err(pos(deep.pos[0]), 'nested too deeply to parse', 'Kubernetes objects are a few levels deep')); return; }
      for (const e of doc.errors) diagnostics.push(err(pos(e.pos[0]), `YAML syntax error: ${firstLine(e.message)}`));
      return;
    }
    const contents = doc.contents as Node | null;
    if (contents == null || (isScalar(contents) && contents.value == null)) return; // empty document
    const lost = lostIndentation(contents, file, text, pos);
    if (lost) { diagnostics.push(lost); return; }
    const dups = duplicateKeys(contents, file, pos);
    if (dups.length) { diagnostics.push(...dups); return; }
    const start = pos(contents.range?.[0] ?? 0);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION }) as unknown;
    } catch (e) {
      const alias = firstAlias(contents);
      const at = alias?.range ? pos(alias.range[0]) : start;
      if (e instanceof ReferenceError && /alias/i.test(e.message) && /excessive|exhaustion/i.test(e.message)) {
        diagnostics.push(err(at, `YAML aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes (an alias bomb such as "billion laughs"?)`, 'write the repeated values out, or use fewer aliases'));
      } else if (e instanceof ReferenceError) {
        diagnostics.push(err(at, `YAML alias error: ${firstLine(e.message)}`));
      } else {
        diagnostics.push(err(at, `cannot read this YAML document: ${parserFailure(e)}`));
      }
      return;
    }
    const mk = (base: (string | number)[], v: unknown, st: Position): SourceDoc => ({
      file, index, base, value: v, start: st,
      locate: (path, opts) => locateIn(contents, [...base, ...path], opts?.key ?? false, pos, st),
    });
    const obj = value as Record<string, unknown> | null;
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && obj.kind === 'List' && Array.isArray(obj.items)) {
      obj.items.forEach((item, i) => {
        const itemStart = locateIn(contents, ['items', i], false, pos, start);
        docs.push(mk(['items', i], item, itemStart));
      });
    } else {
      docs.push(mk([], value, start));
    }
  });
  return { docs, diagnostics };
}

/**
 * Run `fn` with `process.env` replaced by a plain copy. The yaml library reads
 * `process.env.LOG_TOKENS` once per token; `process.env` is an interceptor that calls into C++ on
 * every read, which made that read alone about a third of the time to parse a large file. `fn` is
 * synchronous, so no other code can observe the swap.
 */
function withPlainEnv<T>(fn: () => T): T {
  const env = process.env;
  let swapped = false;
  try {
    process.env = { ...env };
    swapped = true;
  } catch { /* a frozen process object: run with the real one */ }
  try {
    return fn();
  } finally {
    if (swapped) process.env = env;
  }
}

function parserFailure(e: unknown): string {
  if (e instanceof RangeError) return 'nested too deeply';
  return firstLine(e instanceof Error ? e.message : String(e));
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** The first line whose leading whitespace holds a tab, and how many lines do. */
function firstTabIndent(text: string): { at: Position; count: number } | undefined {
  let at: Position | undefined;
  let count = 0;
  let line = 1;
  for (let i = 0; i < text.length;) {
    let j = i;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
    const lead = text.slice(i, j);
    const tab = lead.indexOf('\t');
    const rest = j < text.length && text[j] !== '\n' && text[j] !== '\r';
    if (tab >= 0 && rest) { count++; at ??= { line, col: tab + 1 }; }
    const nl = text.indexOf('\n', j);
    if (nl < 0) break;
    i = nl + 1;
    line++;
  }
  return at ? { at, count } : undefined;
}

type MapNode = { items: Pair<unknown, unknown>[] };

function keyText(k: unknown): string | undefined {
  if (isScalar(k)) return k.value === null ? 'null' : String(k.value);
  return undefined;
}

function nodeStart(n: unknown): number | undefined {
  return (n as Node | null)?.range?.[0];
}

/** Children of a node, iteratively walkable (no recursion: depth is attacker-controlled). */
function children(n: unknown): unknown[] {
  if (isMap(n)) return (n as MapNode).items.flatMap((p) => [p.key, p.value]);
  if (isSeq(n)) return n.items;
  return [];
}

function firstAlias(root: Node): Node | undefined {
  const stack: unknown[] = [root];
  let best: Node | undefined;
  while (stack.length) {
    const n = stack.pop();
    if (isAlias(n)) { if (!best || (nodeStart(n) ?? 0) < (nodeStart(best) ?? 0)) best = n; continue; }
    for (const c of children(n)) if (c != null) stack.push(c);
  }
  return best;
}

/**
 * Duplicate keys in any mapping, in one pass: each mapping keeps a Set of its keys. Keys are
 * compared as JSON object keys are (1 and "1" collide), since that is what the manifest becomes.
 */
export function duplicateKeys(root: Node, file: string, pos: (o: number) => Position, onVisit?: () => void): Diagnostic[] {
  const out: Diagnostic[] = [];
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: root, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    onVisit?.();
    if (isMap(node)) {
      const first = new Map<string, Pair<unknown, unknown>>();
      for (const pair of (node as MapNode).items) {
        const k = keyText(pair.key);
        if (k !== undefined && k !== '<<') {
          const prev = first.get(k);
          if (prev) {
            const at = pos(nodeStart(pair.key) ?? 0);
            const was = pos(nodeStart(prev.key) ?? 0);
            out.push({ severity: 'error', file, line: at.line, col: at.col, path: formatPath([...path, k]), message: `duplicate key "${k}"`, allowed: `first at line ${was.line}; a key may appear once per mapping` });
          } else first.set(k, pair);
        }
        if (pair.value != null) stack.push({ node: pair.value, path: [...path, k ?? '?'] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => { if (it != null) stack.push({ node: it, path: [...path, i] }); });
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * YAML copied from a web page often loses its indentation: `metadata :` then `name : app` in the
 * same column, so every field becomes a top-level key (and keys repeat). Recognise a field that
 * always holds a mapping or list, left empty, followed by a sibling on the next lines.
 */
function lostIndentation(root: Node, file: string, text: string, pos: (o: number) => Position): Diagnostic | undefined {
  const stack: unknown[] = [root];
  let hit: { key: string; at: Position; next: string } | undefined;
  while (stack.length && !hit) {
    const n = stack.pop();
    if (isMap(n)) {
      const items = (n as MapNode).items;
      for (let i = 0; i < items.length - 1; i++) {
        const p = items[i];
        const k = keyText(p.key);
        const v = p.value as Node | null;
        const empty = v == null || (isScalar(v) && v.value == null && !(v.source ?? '').length);
        if (k && PARENT_FIELDS.has(k) && empty) {
          const at = pos(nodeStart(p.key) ?? 0);
          const nextKey = keyText(items[i + 1].key) ?? '?';
          const nextAt = pos(nodeStart(items[i + 1].key) ?? 0);
          if (nextAt.col === at.col && nextAt.line > at.line) { hit = { key: k, at, next: nextKey }; break; }
        }
      }
    }
    for (const c of children(n)) if (c != null) stack.push(c);
  }
  if (!hit) return undefined;
  const spaced = /^[ \t-]*[A-Za-z0-9_./-]+ +:( |$)/m.test(text);
  const why = spaced ? 'keys written "key : value" with every line in column 1: YAML copied from a web page?' : 'leading spaces dropped: YAML copied from a web page?';
  return {
    severity: 'error', file, line: hit.at.line, col: hit.at.col, path: '',
    message: `indentation lost: "${hit.key}" is empty and the fields meant to be inside it ("${hit.next}" on the next line, ...) start in the same column, so they became its siblings (${why})`,
    allowed: 'indent the fields under each parent field by two spaces; the seed guides\' manifests, re-indented, are in examples/manifests/seed/',
  };
}

function locateIn(root: Node, path: readonly PropertyKey[], wantKey: boolean, pos: (o: number) => Position, fallback: Position): Position {
  let node: unknown = root;
  let best: Position = root.range ? pos(root.range[0]) : fallback;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg || String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) return best;
      const keyNode = pair.key as Node | null;
      const valNode = pair.value as Node | null;
      if (last && wantKey && keyNode?.range) return pos(keyNode.range[0]);
      if (valNode && (valNode as Node).range) best = pos(valNode.range![0]);
      else if (keyNode?.range) best = pos(keyNode.range[0]);
      node = valNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return best;
      if (item.range) best = pos(item.range[0]);
      node = item;
    } else {
      return best;
    }
  }
  return best;
}
