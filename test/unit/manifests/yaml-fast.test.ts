// The fast YAML path (js-yaml events) must give exactly what the `yaml` library's path gives:
// the same values, and the same line:col for every field (key and value), or decline the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlSlow, parseYamlSource } from '../../../src/manifests/yaml.ts';
import { parseYamlFast, resolvePlain } from '../../../src/manifests/yaml-fast.ts';
import type { SourceDoc } from '../../../src/manifests/yaml.ts';

const root = new URL('../../../', import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (e === 'node_modules' || e.startsWith('.')) continue;
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}

function paths(v: unknown, base: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [base];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...base, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...base, k]));
  return out;
}

function sameDocs(file: string, text: string): number {
  const fast = parseYamlFast(file, text, new Set(['metadata', 'spec']), () => parseYamlSlow(file, text));
  const slow = parseYamlSlow(file, text);
  if (!fast) return 0; // declined: the slow path answers, nothing to compare
  assert.deepEqual(slow.diagnostics, [], `${file}: the fast path accepted a file the yaml library reports problems in`);
  assert.equal(fast.docs.length, slow.docs.length, file);
  let checked = 0;
  fast.docs.forEach((f: SourceDoc, n) => {
    const s = slow.docs[n];
    assert.deepEqual(f.value, s.value, `${file} doc ${n}: value`);
    assert.deepEqual([f.index, f.base, f.start], [s.index, s.base, s.start], `${file} doc ${n}: start`);
    for (const p of [...paths(f.value), ['no-such-field'], ['spec', 'no-such', 'deeper']]) {
      for (const key of [false, true]) {
        assert.deepEqual(f.locate(p, { key }), s.locate(p, { key }), `${file} doc ${n}: ${p.join('.')} key=${key}`);
        checked++;
      }
    }
  });
  return checked;
}

test('every manifest in the repository: same values and same positions on both paths', () => {
  let checked = 0;
  const files = yamlFiles(root);
  assert.ok(files.length >= 10);
  for (const f of files) checked += sameDocs(f, readFileSync(f, 'utf8'));
  assert.ok(checked > 1000, `only ${checked} positions compared`);
});

test('scalars, styles and layouts: same values and positions', () => {
  const cases = [
    'a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 1.5\ng: .5\nh: 1e3\ni: -.inf\nj: .NaN\nk: 1_000\nl: 0b11\nm: 010\nn: 1.0\n',
    'a: true\nb: True\nc: FALSE\nd: yes\ne: on\nf: ~\ng: null\nh: Null\ni: NULL\nj: nul\nk:\n',
    'a: "x\\ty"\nb: \'it\'\'s\'\nc: |\n  line1\n  line2\nd: >-\n  folded\n  text\ne: plain\n  continued\n',
    '"1": a\n2: b\n3.0: c\ntrue: d\n',
    'list:\n- a\n- {x: 1, y: [2, 3]}\n-   - nested\n    - seq\nflow: [a, "b", {c: d}]\nempty: {}\nnone: []\n',
    '# comment\n---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: a}\n- kind: Service\n  metadata:\n    name: b\n',
    'a:\n  b:\n    c:\n      d: deep # trailing comment\n  e: "x" \n',
    'key with spaces: v\n"quoted key": w\n? explicit\n: value\n',
    '\r\na: 1\r\nb:\r\n  c: 2\r\n',
    '\ufeffapiVersion: v1\nkind: Service\n',
    'a: x: y\n', // an error: declined
    'a: &x 1\nb: *x\n', // anchors: declined
    'a: !!str 1\n', // tags: declined
    'base: &b {x: 1}\nm:\n  <<: *b\n', // merge keys: declined
    'a: 1\na: 2\n', // duplicates: declined
    '%YAML 1.1\n---\na: yes\n', // directives: declined
  ];
  for (const [n, t] of cases.entries()) sameDocs(`case${n}.yaml`, t);
});

test('the fast path declines what the slow path must word, and parseYamlSource still words it', () => {
  for (const t of ['a: 1\na: 2\n', 'a: &x 1\nb: *x\n', 'metadata:\nname: x\n', 'a: [1\n', 'a:\n\t- b\n']) {
    assert.equal(parseYamlFast('x.yaml', t, new Set(['metadata']), () => parseYamlSlow('x.yaml', t)), undefined, JSON.stringify(t));
  }
  const dup = parseYamlSource('x.yaml', 'a: 1\nb: 2\na: 3\n');
  assert.equal(dup.diagnostics.length, 1);
  assert.match(dup.diagnostics[0].message, /duplicate key "a"/);
  assert.deepEqual([dup.diagnostics[0].line, dup.diagnostics[0].col], [3, 1]);
});

test('plain scalars resolve as the yaml library\'s core schema does', () => {
  const slowValue = (s: string) => (parseYamlSlow('s.yaml', `v: ${s}\n`).docs[0]?.value as { v: unknown }).v;
  for (const s of ['0', '-0', '+7', '007', '0o7', '0o8', '0x', '0xfF', '1.', '.1', '-.5e-3', '1e', 'e3', '.inf', '+.Inf', '.nan', '.NAN', 'inf', 'nan',
    'true', 'tRue', 'TRUE', 'false', 'y', 'n', 'Yes', 'No', 'off', '~', 'null', 'NULL', 'nULL', '12345678901234567890', '1:30', '2024-01-01', 'Infinity', '0.0', '-x', 'x']) {
    assert.deepEqual(resolvePlain(s), slowValue(s), s);
  }
});
