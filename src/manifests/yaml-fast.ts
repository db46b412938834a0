// The fast path for reading manifest YAML. The `yaml` library (src/manifests/yaml.ts) keeps a full
// node tree with source ranges and gives the best error messages, but it is slow: about 1 s of CPU
// per MB on an idle core, so a 2 MB file took seconds on a loaded machine. js-yaml's event parser is
// an order of magnitude faster. This file builds, from its events, the same plain values the `yaml`
// library gives (YAML 1.2 core schema, resolved with the same rules) plus a small position tree, so
// `locate()` still answers `line:col` for every field.
//
// It handles the plain, common subset only, and answers `undefined` for anything else, so that the
// caller parses the file with the `yaml` library as before: syntax errors of any kind, duplicate
// keys, anchors and aliases, tags, merge keys, `%` directives, and a parent field left empty (the
// lost-indentation shape). Every diagnostic of those cases therefore reads exactly as it did.
// Positions the events do not give exactly (block scalars, empty values) are looked up in the
// `yaml` library's tree, parsed once per file on first need.
import { parseEvents, getScalarValue, EVENT_ID, SCALAR_STYLE } from 'js-yaml';
import type { Position, SourceDoc, ParsedSource } from './yaml.ts';

type ScalarEv = { valueStart: number; valueEnd: number; anchorStart: number; tagStart: number; style: number; fast: boolean };
type Ev = { type: number; start?: number; anchorStart?: number; tagStart?: number; directives?: unknown[] } & Partial<ScalarEv>;

/** A position node: the start offset (-1: ask the slow tree), keys of a mapping, items of a sequence. */
interface PNode {
  start: number;
  keys?: Map<string, { key: number; node: PNode }>;
  items?: PNode[];
}

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar resolved as the `yaml` library's core schema does (same tests, same order). */
export function resolvePlain(s: string): unknown {
  const c = s.charCodeAt(0);
  // fast exit: most scalars are words (names, images, keys)
  if (s.length > 0 && !(c <= 0x39 || c === 0x2e || c === 0x7e || c === 0x4e || c === 0x6e || c === 0x54 || c === 0x74 || c === 0x46 || c === 0x66)) return s;
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === 't' || s[0] === 'T';
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** Object key of a resolved scalar, as the `yaml` library's toJS writes it. */
function keyString(v: unknown): string {
  return v === null ? '' : String(v);
}

class Unsupported extends Error {}

/**
 * Parse `text` on the fast path, or answer undefined when the file needs the `yaml` library
 * (anything unusual, any error). `slow` parses the file with the `yaml` library and answers the
 * documents' locate functions (for the few positions the events do not give).
 */
export function parseYamlFast(
  file: string,
  text: string,
  parentFields: ReadonlySet<string>,
  slow: () => ParsedSource,
): ParsedSource | undefined {
  let events: Ev[];
  try {
    events = parseEvents(text, { maxDepth: 100 }) as Ev[];
  } catch {
    return undefined;
  }
  const lines = lineStarts(text);
  const pos = (offset: number): Position => {
    // binary search: the last line start <= offset
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - lines[lo] + 1 };
  };
  let slowDocs: SourceDoc[] | undefined;
  const slowLocate = (index: number, base: (string | number)[], path: readonly PropertyKey[], key: boolean, fallback: Position): Position => {
    slowDocs ??= slow().docs;
    const d = slowDocs.find((x) => x.index === index && x.base.length === base.length && x.base.every((b, i) => b === base[i]));
    return d ? d.locate(path, { key }) : fallback;
  };

  const docs: SourceDoc[] = [];
  let i = 0;
  let docIndex = -1;

  const scalarStart = (e: Ev): number => {
    const st = e.style!;
    if (e.valueStart! < 0) return -1; // an empty value: no offset in the events
    if (st === SCALAR_STYLE.PLAIN) return e.valueStart!;
    if (st === SCALAR_STYLE.SINGLE_QUOTED || st === SCALAR_STYLE.DOUBLE_QUOTED) return e.valueStart! - 1;
    return -1; // block scalars start at their indicator, which the events do not give
  };

  /** Build the value and position node of the node starting at events[i]; advances i. */
  const build = (): [unknown, PNode] => {
    const e = events[i++];
    if ((e.anchorStart ?? -1) >= 0 || (e.tagStart ?? -1) >= 0) throw new Unsupported();
    switch (e.type) {
      case EVENT_ID.SCALAR: {
        const v = e.style === SCALAR_STYLE.PLAIN
          ? (e.valueStart! < 0 ? null : resolvePlain(e.fast ? text.slice(e.valueStart, e.valueEnd) : getScalarValue(text, e as never)))
          : (e.fast ? text.slice(e.valueStart, e.valueEnd) : getScalarValue(text, e as never));
        return [v, { start: scalarStart(e) }];
      }
      case EVENT_ID.SEQUENCE: {
        const arr: unknown[] = [];
        const items: PNode[] = [];
        while (events[i].type !== EVENT_ID.POP) {
          const [v, p] = build();
          arr.push(v);
          items.push(p);
        }
        i++;
        return [arr, { start: e.start!, items }];
      }
      case EVENT_ID.MAPPING: {
        const obj: Record<string, unknown> = {};
        const keys = new Map<string, { key: number; node: PNode }>();
        while (events[i].type !== EVENT_ID.POP) {
          const ke = events[i];
          if (ke.type !== EVENT_ID.SCALAR) throw new Unsupported(); // complex keys
          const [kv, kp] = build();
          if (ke.style === SCALAR_STYLE.PLAIN && kv === '<<') throw new Unsupported(); // merge keys
          const k = keyString(kv);
          if (keys.has(k)) throw new Unsupported(); // duplicate: the slow path says where both are
          const ve = events[i];
          const [v, p] = build();
          // a parent field left empty: maybe lost indentation, which the slow path diagnoses
          if (ve.type === EVENT_ID.SCALAR && ve.style === SCALAR_STYLE.PLAIN && ve.valueStart! < 0 && parentFields.has(k)) throw new Unsupported();
          if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
          else obj[k] = v;
          keys.set(k, { key: kp.start, node: p });
        }
        i++;
        return [obj, { start: e.start!, keys }];
      }
      default:
        throw new Unsupported(); // aliases
    }
  };

  try {
    while (i < events.length) {
      const d = events[i++];
      if (d.type !== EVENT_ID.DOCUMENT) throw new Unsupported();
      docIndex++;
      if (d.directives && d.directives.length > 0) throw new Unsupported();
      const index = docIndex;
      if (events[i].type === EVENT_ID.POP) { i++; continue; }
      const [value, root] = build();
      if (events[i]?.type !== EVENT_ID.POP) throw new Unsupported();
      i++;
      if (value === null) continue; // an empty document (or one that is just `null`)
      if (root.start < 0) throw new Unsupported();
      const start = pos(root.start);
      const mk = (base: (string | number)[], v: unknown, st: Position): SourceDoc => ({
        file, index, base, value: v, start: st,
        locate: (path, opts) => {
          const key = opts?.key ?? false;
          const r = locateFast(root, [...base, ...path], key);
          if (r.start >= 0) return pos(r.start);
          return slowLocate(index, base, path, key, r.best >= 0 ? pos(r.best) : st);
        },
      });
      const obj = value as Record<string, unknown> | null;
      if (obj && typeof obj === 'object' && !Array.isArray(obj) && obj.kind === 'List' && Array.isArray(obj.items)) {
        obj.items.forEach((item, n) => {
          const r = locateFast(root, ['items', n], false);
          const itemStart = r.start >= 0 ? pos(r.start) : slowLocate(index, [], ['items', n], false, start);
          docs.push(mk(['items', n], item, itemStart));
        });
      } else {
        docs.push(mk([], value, start));
      }
    }
  } catch (e) {
    if (e instanceof Unsupported || e instanceof TypeError || e instanceof RangeError) return undefined;
    throw e;
  }
  return { docs, diagnostics: [] };
}

/**
 * The same walk as the slow path's locateIn: the node at `path`, or the deepest existing parent.
 * `start` is the answer's offset (-1 when it must come from the slow tree), `best` the deepest
 * exact offset seen (a fallback for the slow lookup).
 */
function locateFast(root: PNode, path: readonly PropertyKey[], wantKey: boolean): { start: number; best: number } {
  let node: PNode | undefined = root;
  let best = root.start;
  let bestExact = root.start;
  for (let n = 0; n < path.length; n++) {
    const seg = path[n];
    const last = n === path.length - 1;
    if (node.keys) {
      const hit = node.keys.get(String(seg));
      if (!hit) return { start: best, best: bestExact };
      if (last && wantKey) return { start: hit.key, best: bestExact };
      best = hit.node.start;
      if (best >= 0) bestExact = best;
      node = hit.node;
    } else if (node.items && typeof seg === 'number') {
      const item = node.items[seg] as PNode | undefined;
      if (!item) return { start: best, best: bestExact };
      best = item.start;
      if (best >= 0) bestExact = best;
      node = item;
    } else {
      return { start: best, best: bestExact };
    }
  }
  return { start: best, best: bestExact };
}

function lineStarts(text: string): number[] {
  const out = [0];
  let at = text.indexOf('\n');
  while (at >= 0) { out.push(at + 1); at = text.indexOf('\n', at + 1); }
  return out;
}
