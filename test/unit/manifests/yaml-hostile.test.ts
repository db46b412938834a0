// Hostile and unlucky YAML: every failure is one clear file:line:col diagnostic, never a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { loadManifests, loadManifestsLenient, ManifestError, formatDiagnostic } from '../../../src/manifests/index.ts';
import { MAX_MANIFEST_BYTES } from '../../../src/manifests/load.ts';
import { duplicateKeys, parseYamlSource } from '../../../src/manifests/yaml.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/manifests/', import.meta.url));
const errors = (text: string, file = 'm.yaml') => loadManifestsLenient([{ file, text }]).errors.map(formatDiagnostic);

const SVC = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {app: s}\n  ports: [{port: 80}]\n';

test('duplicate keys: one error per repeated key, naming it, its path and the first occurrence', () => {
  const errs = errors('apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: {a: "1", b: "2", a: "3"}\n  name: t\nspec:\n  ports: [{port: 80}]\n');
  assert.deepEqual(errs, [
    'm.yaml:5:28: metadata.labels.a: duplicate key "a" (first at line 5; a key may appear once per mapping)',
    'm.yaml:6:3: metadata.name: duplicate key "name" (first at line 4; a key may appear once per mapping)',
  ]);
});

test('duplicate-key detection visits each node once (linear), and finds a repeat among 5,000 keys', () => {
  const count = (n: number, dup: boolean) => {
    let text = 'a:\n';
    for (let i = 0; i < n; i++) text += `  k${i}: v\n`;
    if (dup) text += '  k7: again\n';
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
    let visits = 0;
    const found = duplicateKeys(doc.contents as Node, 'f', (o) => lc.linePos(o), () => visits++);
    return { visits, found };
  };
  const small = count(1000, false);
  const big = count(5000, true);
  assert.equal(small.found.length, 0);
  // root map + "a" map + one visit per value: exactly n + 2, so 5x the keys is 5x the work
  assert.equal(small.visits, 1000 + 2);
  assert.equal(big.visits, 5001 + 2);
  assert.equal(big.found.length, 1);
  assert.match(formatDiagnostic(big.found[0]), /^f:5002:3: a\.k7: duplicate key "k7" \(first at line 9;/);
});

test('billion laughs: one positioned error, no ReferenceError', () => {
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [x, y] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) bomb.push(`${x}: &${x} [${Array(9).fill(`*${y}`).join(',')}]`);
  const errs = errors(bomb.join('\n') + '\n');
  assert.equal(errs.length, 1, errs.join('\n'));
  assert.match(errs[0], /^m\.yaml:2:8: YAML aliases expand to more than 1000 nodes \(an alias bomb such as "billion laughs"\?\) \(write the repeated values out/);
  // a few aliases are fine
  const ok = loadManifestsLenient([{ file: 'ok.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  labels: &l {app: s}\nspec:\n  selector: *l\n  ports: [{port: 80}]\n' }]);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.bundle.services[0].normalized.selector, { app: 's' });
});

test('nesting deep enough to exhaust the parser is an error, not a crash', () => {
  const errs = errors(`a: ${'['.repeat(5000)}`);
  assert.ok(errs.length >= 1);
  assert.deepEqual(errs.map((e) => e.replace(/:\d+:\d+:/, ':L:C:')), ['m.yaml:L:C: nested too deeply to parse (Kubernetes objects are a few levels deep)']);
  assert.match(errors(`a: ${'['.repeat(5000)}${']'.repeat(5000)}`).join(), /^m\.yaml:\d+:\d+: /);
});

test('an empty file, or one with only comments, is an error', () => {
  assert.deepEqual(errors(''), ['m.yaml:1:1: the file is empty (give files with at least one object (apiVersion, kind, metadata, spec))']);
  assert.deepEqual(errors('# nothing here\n---\n'), ['m.yaml:1:1: the file has no manifests (only comments or empty documents) (give files with at least one object (apiVersion, kind, metadata, spec))']);
  // an empty document between others is not
  assert.deepEqual(errors(`---\n${SVC}---\n`), []);
});

test('a tab in the indentation is one error with the fix', () => {
  const errs = errors('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n\tmatchLabels: {app: web}\n  template:\n    metadata:\n\t  labels: {app: web}\n');
  assert.deepEqual(errs, ['m.yaml:7:1: a tab in the indentation (YAML indents with spaces only: replace the tab with spaces; 1 more line(s) are indented with tabs)']);
});

test('the guide page pasted as is: "indentation lost", once per document, instead of "Map keys must be unique"', () => {
  const errs = loadManifestsLenient(join(FIXTURES, 'pasted-guide.yaml')).errors.map(formatDiagnostic);
  assert.equal(errs.length, 2, errs.join('\n'));
  assert.match(errs[0], /pasted-guide\.yaml:4:1: indentation lost: "metadata" is empty and the fields meant to be inside it \("name" on the next line, \.\.\.\) start in the same column/);
  assert.match(errs[0], /keys written "key : value" with every line in column 1: YAML copied from a web page\?/);
  assert.match(errs[0], /\(indent the fields under each parent field by two spaces; the seed guides' manifests, re-indented, are in examples\/manifests\/seed\/\)$/);
  assert.match(errs[1], /pasted-guide\.yaml:33:1: indentation lost: "metadata"/);
  for (const e of errs) assert.doesNotMatch(e, /Map keys must be unique/);
});

test('a missing file says "no such file", without "invalid manifest" or a position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-yaml-'));
  const missing = join(dir, 'nope.yaml');
  assert.throws(() => loadManifests(missing), (e: unknown) => e instanceof ManifestError && e.message === `${missing}: no such file`);
  mkdirSync(join(dir, 'sub'));
  assert.throws(() => loadManifests(join(dir, 'sub')), /sub: is a directory \(give the manifest files in it, e\.g\. .*sub\/\*\.yaml\)/);
});

test('files over the size limit are refused before parsing, with the limit in the message', () => {
  assert.equal(MAX_MANIFEST_BYTES, 4 * 1024 * 1024);
  const dir = mkdtempSync(join(tmpdir(), 'tide-yaml-'));
  const f = join(dir, 'big.yaml');
  writeFileSync(f, SVC + `# ${'x'.repeat(5000)}\n`);
  const r = loadManifestsLenient(f, { maxBytes: 4096 });
  assert.deepEqual(r.errors.map(formatDiagnostic), [`${f}: file too large: 0.0 MiB (Tide reads manifest files up to 0.0 MiB; the Kubernetes API server rejects objects over 3 MiB)`]);
  assert.equal(loadManifestsLenient([{ file: 'x', text: 'a'.repeat(5000) }], { maxBytes: 4096 }).errors.length, 1);
  assert.deepEqual(loadManifestsLenient(f).errors, []);
});

test('a UTF-8 byte order mark and merge keys (as kubectl accepts) are fine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-yaml-'));
  const f = join(dir, 'bom.yaml');
  writeFileSync(f, `\uFEFF${SVC}`);
  assert.deepEqual(loadManifestsLenient(f).errors, []);
  const merged = parseYamlSource('m.yaml', 'base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n');
  assert.deepEqual(merged.diagnostics, []);
  assert.deepEqual(merged.docs[0].value, { base: { a: 1 }, x: { a: 1, c: 2 } });
});
