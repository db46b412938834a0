// `tide validate` end to end: the real CLI, exit status 0/1, every error and warning, nothing started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SEED = join(ROOT, 'examples/manifests/seed');
const dir = mkdtempSync(join(tmpdir(), 'tide-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function tide(args: string[], cwd = ROOT) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/tide.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, WANDB_API_KEY: 'x', TIDE_STATE_DIR: join(dir, 'state') } });
}

test('the guide\'s manifests, unchanged, with the seed folder\'s tide-local.yaml: valid, warnings shown (AmbiguousSelector), exit 0', () => {
  const r = tide(['validate', 'examples/manifests/seed/app-fastapi-resources.yaml', 'examples/manifests/seed/app-fastapi-hpa.yaml', 'examples/manifests/seed/app-fastapi-hpa-v2.yaml']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /app-fastapi-hpa\.yaml:7:5: warning: spec\.scaleTargetRef: pods by selector app=app-fastapi are controlled by more than one HPA/);
  assert.match(r.stdout, /Deployment app-fastapi: runs `sh -c "exec \.venv\/bin\/uvicorn server:app .*"` in examples\/fastapi-server \(examples\/manifests\/seed\/tide-local\.yaml: images\["ghcr\.io\/kyryl-opens-ml\/app-fastapi"\]\)/);
  assert.match(r.stdout, /^valid: 4 object\(s\) in 3 file\(s\), 3 warning\(s\)$/m);
  assert.deepEqual(readdirSync(dir), [], 'no state dir, no daemon');
});

test('errors: exit 1, every problem listed; the KServe mapping warnings too; missing files say "no such file"', () => {
  copyFileSync(join(SEED, 'app-fastapi-resources.yaml'), join(dir, 'app.yaml'));
  writeFileSync(join(dir, 'hpa.yaml'), 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: "My HPA"}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app-fastapi}\n  maxReplicas: 0\n');
  const r = tide(['validate', 'app.yaml', 'hpa.yaml', join(SEED, 'kserve-scale-to-zero.yaml'), 'missing.yaml'], dir);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(out, /^app\.yaml:18:16: spec\.template\.spec\.containers\[0\]\.image: image "ghcr\.io\/kyryl-opens-ml\/app-fastapi:latest" has no local command: .*\(create tide-local\.yaml — images: \{"ghcr\.io\/kyryl-opens-ml\/app-fastapi": \{command: /m);
  assert.match(out, /^hpa\.yaml:3:18: metadata\.name: "My HPA" is not a valid HorizontalPodAutoscaler name/m);
  assert.match(out, /^hpa\.yaml:6:16: spec\.maxReplicas: must be greater than 0/m);
  assert.match(out, /kserve-scale-to-zero\.yaml:6:5: warning: metadata\.annotations\.autoscaling\.knative\.dev\/min-scale: KServe does not propagate this annotation/);
  assert.match(out, /^missing\.yaml: no such file$/m);
  assert.match(out, /^invalid: 4 error\(s\), 2 warning\(s\) in 4 file\(s\)$/m);
  assert.doesNotMatch(out + r.stderr, /at .*\.ts:\d+/, 'no stack');
  // --no-local: only the manifests themselves (the image needs no command)
  const nl = tide(['validate', '--no-local', 'app.yaml'], dir);
  assert.equal(nl.status, 0, nl.stdout);
  // json output
  const j = JSON.parse(tide(['validate', '-o', 'json', 'hpa.yaml'], dir).stdout);
  assert.equal(j.valid, false);
  assert.ok(j.diagnostics.some((d: { path: string }) => d.path === 'spec.maxReplicas'));
});

test('decide and simulate show the KServe mapping warnings as tide up does', () => {
  const r = tide(['simulate', join(SEED, 'kserve-scale-to-zero.yaml'), '--generate', 'poisson:1', '--duration', '1m'], dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /kserve-scale-to-zero\.yaml:6:5: warning: metadata\.annotations\.autoscaling\.knative\.dev\/min-scale: KServe does not propagate this annotation from an InferenceService; spec\.predictor\.minReplicas decides \(now 1\)/);
  assert.equal(r.stderr.split('KServe does not propagate').length, 2, 'printed once');
  const d = tide(['decide', join(ROOT, 'examples/scenarios/cpu-scale-up.json'), '-o', 'table'], dir);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stderr, /app-fastapi-resources\.yaml:\d+:\d+: warning: /);
});
