// The project stands alone: no committed file names a path of a development machine, and no test
// or source reads the seed material next to the checkout (tests use test/fixtures/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
const text = (f: string) => { try { return readFileSync(join(ROOT, f), 'utf8'); } catch { return ''; } };
// spelled in pieces so this file does not match itself
const MACHINE = new RegExp(['/wo' + 'rk/', '/ro' + 'ot/'].join('|'));
const SHARED = new RegExp('\\.\\./' + 'shared/');

test('no committed file names a machine path', () => {
  const bad = files.filter((f) => !/\.(gz|tbz2|bz2|png|jpg)$/.test(f) && MACHINE.test(text(f)));
  assert.deepEqual(bad, []);
});

test('no test or source reads ../shared (benchmarks may, through TIDE_TRACES_DIR)', () => {
  const bad = files.filter((f) => /^(src|test)\//.test(f) && /\.(ts|js|mjs)$/.test(f) && SHARED.test(text(f)));
  assert.deepEqual(bad, []);
});

test('publishable metadata: not the unrelated npm package "tide", installs the `tide` command on Node 24 from npm', () => {
  const pkg = JSON.parse(text('package.json')) as { name: string; bin: Record<string, string>; dependencies: Record<string, string> };
  assert.notEqual(pkg.name, 'tide');
  assert.equal(pkg.name, 'tide-autoscaler');
  assert.equal(pkg.bin.tide, 'bin/tide.js');
  // bin/tide.js re-executes on this Node when the one that started it is older
  assert.ok(pkg.dependencies.node, 'node (Node 24 from npm) is a runtime dependency');
});
