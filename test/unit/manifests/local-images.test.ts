// tide-local.yaml: the guides' manifests run unchanged (image → local command), and an unmapped
// image says exactly what to add.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifestsLenient, formatDiagnostic } from '../../../src/manifests/index.ts';
import { imageRepository, lookupImage } from '../../../src/manifests/local-images.ts';
import type { NormalizedDeployment } from '../../../src/manifests/types.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SEED = join(ROOT, 'examples/manifests/seed');
const FASTAPI = join(ROOT, 'examples/fastapi-server');
const UVICORN = 'exec .venv/bin/uvicorn server:app --host 127.0.0.1 --port ${PORT:-8080} --no-access-log';

test('image references: tag and digest stripped, registry ports kept; exact reference wins', () => {
  assert.equal(imageRepository('ghcr.io/kyryl-opens-ml/app-fastapi:latest'), 'ghcr.io/kyryl-opens-ml/app-fastapi');
  assert.equal(imageRepository('localhost:5000/app@sha256:abc'), 'localhost:5000/app');
  assert.equal(imageRepository('localhost:5000/app:v1'), 'localhost:5000/app');
  assert.equal(imageRepository('busybox'), 'busybox');
  const cfg = { file: '/x/tide-local.yaml', images: { 'app': { command: ['a'] }, 'app:v2': { command: ['b'] } } };
  assert.deepEqual(lookupImage(cfg, 'app:v2')?.entry.command, ['b']);
  assert.deepEqual(lookupImage(cfg, 'app:v1')?.entry.command, ['a']);
  assert.equal(lookupImage(cfg, 'other'), undefined);
  assert.equal(lookupImage(cfg, 'constructor'), undefined, 'no prototype keys');
});

test('the guide\'s app-fastapi Deployment, unchanged, runs the FastAPI example through examples/manifests/seed/tide-local.yaml', () => {
  const r = loadManifestsLenient(join(SEED, 'app-fastapi-resources.yaml'), { runnable: true });
  assert.deepEqual(r.errors.map(formatDiagnostic), []);
  const c = (r.bundle.deployments[0].normalized as NormalizedDeployment).containers[0];
  assert.equal(c.image, 'ghcr.io/kyryl-opens-ml/app-fastapi:latest');
  assert.deepEqual(c.command, ['sh', '-c', UVICORN]);
  assert.equal(c.workingDir, FASTAPI);
  assert.ok(c.env.some((e) => e.name === 'TTA_SAMPLES' && e.value === '8'));
  assert.equal(c.localCommandFrom, `${join(SEED, 'tide-local.yaml')}: images["ghcr.io/kyryl-opens-ml/app-fastapi"]`);
  // what `tide up` runs: the runtime's Deployment gets the command and folder (nothing is spawned here)
  const b = loadBundle([join(SEED, 'app-fastapi-resources.yaml')]);
  assert.deepEqual(b.deployments[0].container.command, ['sh', '-c', UVICORN]);
  assert.equal(b.deployments[0].container.workingDir, FASTAPI);
  assert.equal(b.services[0].port, 8080);
});

test('the guide\'s KServe InferenceService runs through the same mapping', () => {
  const r = loadManifestsLenient(join(SEED, 'kserve-inferenceserver-autoscaling.yaml'), { runnable: true });
  assert.deepEqual(r.errors, []);
  const b = loadBundle([join(SEED, 'kserve-inferenceserver-autoscaling.yaml')]);
  assert.deepEqual(b.deployments[0].container.command, ['sh', '-c', UVICORN]);
});

test('an unmapped image is an error (for tide up) that says which file to create and what to put in it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-local-'));
  const f = join(dir, 'app.yaml');
  copyFileSync(join(SEED, 'app-fastapi-resources.yaml'), f);
  const errs = loadManifestsLenient(f, { runnable: true }).errors.map(formatDiagnostic);
  assert.equal(errs.length, 1, errs.join('\n'));
  const rel = join(dir, 'tide-local.yaml').replace(`${resolve('.')}/`, '');
  assert.equal(errs[0], `${f}:18:16: spec.template.spec.containers[0].image: image "ghcr.io/kyryl-opens-ml/app-fastapi:latest" has no local command: Tide runs each replica as a local process, and this container leaves its command to the image (create ${rel} — images: {"ghcr.io/kyryl-opens-ml/app-fastapi": {command: [sh, -c, "exec <what the image runs> --port $PORT"], workingDir: <folder, relative to tide-local.yaml>}} — or set command/args on the container; see docs/local-images.md)`);
  assert.throws(() => loadBundle([f]), /has no local command.*create .*tide-local\.yaml/);
  // without runnable (decide, simulate) the image needs no command
  assert.deepEqual(loadManifestsLenient(f).errors, []);
  // a mapping without this image: "add it under images:"
  writeFileSync(join(dir, 'tide-local.yaml'), 'images:\n  other/image: {command: [node, s.js]}\n');
  assert.match(loadManifestsLenient(f, { runnable: true }).errors.map(formatDiagnostic)[0], /\(add it under images: in .*tide-local\.yaml — images: \{"ghcr\.io\/kyryl-opens-ml\/app-fastapi": \{command:/);
  // the snippet from the message, filled in, is valid and makes it run (default folder: the mapping's)
  writeFileSync(join(dir, 'tide-local.yaml'), 'images: {"ghcr.io/kyryl-opens-ml/app-fastapi": {command: [sh, -c, "exec node server.js --port $PORT"]}}\n');
  const ok = loadManifestsLenient(f, { runnable: true });
  assert.deepEqual(ok.errors, []);
  assert.equal((ok.bundle.deployments[0].normalized as NormalizedDeployment).containers[0].workingDir, dir);
});

test('a container with its own command keeps it; a broken tide-local.yaml is reported at its position', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-local-'));
  const f = join(dir, 'app.yaml');
  writeFileSync(f, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1, command: [node, own.js]}]\n');
  writeFileSync(join(dir, 'tide-local.yaml'), 'images:\n  web: {command: [node, mapped.js]}\n');
  const c = (loadManifestsLenient(f, { runnable: true }).bundle.deployments[0].normalized as NormalizedDeployment).containers[0];
  assert.deepEqual(c.command, ['node', 'own.js']);
  assert.equal(c.localCommandFrom, undefined);
  writeFileSync(join(dir, 'tide-local.yaml'), 'images:\n  web: {comand: [node, mapped.js]}\n');
  const errs = loadManifestsLenient(f, { runnable: true }).errors.map(formatDiagnostic);
  assert.match(errs[0], /tide-local\.yaml:2:8: images\.web: unknown field\(s\) "comand" \(known: images; per image: command, args, workingDir, env\)/);
});
