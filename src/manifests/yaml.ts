// Multi-document YAML reading that keeps every node's source position, so a problem found later
// (schema, cross-reference) can be reported at `file:line:col` of the offending field.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';

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

/** Parse YAML (or JSON, a subset) text into documents; syntax errors become diagnostics with positions. */
export function parseYamlSource(file: string, text: string): ParsedSource {
  const lc = new LineCounter();
  const docs: SourceDoc[] = [];
  const diagnostics: Diagnostic[] = [];
  const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(parsed) ? parsed : [parsed as unknown as Document.Parsed];
  const pos = (offset: number): Position => {
    const p = lc.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: p.line, col: p.col };
  };
  list.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const p = pos(e.pos[0]);
        diagnostics.push({ severity: 'error', file, ...p, path: '', message: `YAML syntax error: ${firstLine(e.message)}` });
      }
      return;
    }
    const contents = doc.contents as Node | null;
    if (contents == null || (isScalar(contents) && contents.value == null)) return; // empty document
    const start = pos(contents.range?.[0] ?? 0);
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
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

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
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
