// `tide decide` as a user runs it: a child process, real files, stdout/stderr and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'tide.js');

/** Run the CLI with the same Node (24) that runs the tests. */
function tide(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('npx tide decide examples/scenarios/cpu-scale-up.json prints one record per step (JSONL)', () => {
  const r = spawnSync('npx', ['tide', 'decide', 'examples/scenarios/cpu-scale-up.json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.length, 4);
  assert.deepEqual(recs.map((x) => x.desiredReplicas), [2, 4, 6, 6]);
  assert.equal(recs[0].decider, 'hpa');
  assert.equal(recs[0].autoscaler, 'app-fastapi');
  assert.equal(recs[0].target, 'Deployment/app-fastapi');
  assert.ok(recs[1].inputs.policy && recs[1].inputs.observation && recs[1].inputs.state && recs[1].inputs.config);
});

test('-o table and -o json', () => {
  const t = tide(['decide', 'examples/scenarios/scale-down-stabilized.json', '-o', 'table']);
  assert.equal(t.code, 0, t.stderr);
  const lines = t.stdout.trim().split('\n');
  assert.match(lines[0], /^TIME\s+REPLICAS\s+METRICS\s+LIMITED BY\s+WHY$/);
  assert.equal(lines.length, 7);
  assert.match(lines[4], /8→4\s+20%\/70%, 30%\/80%\s+policy\s+scaled 8→4/);
  const j = tide(['decide', 'examples/scenarios/pods-external.json', '-o', 'json']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout).map((x: { desiredReplicas: number }) => x.desiredReplicas), [3, 6, 6, 10]);
});

test('recorded decisions on stdin replay; --verify reports a record that does not reproduce', () => {
  const run = tide(['decide', 'examples/scenarios/pods-external.json']);
  assert.equal(run.code, 0, run.stderr);
  const ok = tide(['decide', '--verify'], run.stdout);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), '4/4 decisions reproduce');
  const recs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  recs[1].desiredReplicas = 7;
  const bad = tide(['decide', '--verify', '-'], recs.map((x) => JSON.stringify(x)).join('\n'));
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout.trim(), '3/4 decisions reproduce');
  assert.match(bad.stderr, /record 2 \(2026-01-01T12:00:15\.000Z\) does not reproduce:\n {4}desiredReplicas: recorded 7, replayed 6/);
});

test('a broken policy fails with file:line:col diagnostics and exit code 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-decide-'));
  try {
    writeFileSync(join(dir, 'hpa.yaml'), 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  scaleTargetRef: {kind: Deployment, name: a}\n  maxReplicas: 0\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50%}}\n');
    writeFileSync(join(dir, 's.json'), JSON.stringify({ policy: 'hpa.yaml', steps: [{ at: 0 }] }));
    const r = tide(['decide', join(dir, 's.json')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tide: 2 problems in manifests:\n/);
    assert.match(r.stderr, /hpa\.yaml:6:16: spec\.maxReplicas: must be greater than 0\n/);
    assert.match(r.stderr, /hpa\.yaml:9:75: spec\.metrics\[0\]\.resource\.target\.averageUtilization: expected an integer, got the string "50%"/);
    assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/); // no stack trace
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--schema prints the JSON Schema kept in docs/', async () => {
  const r = tide(['decide', '--schema']);
  assert.equal(r.code, 0, r.stderr);
  const { readFileSync } = await import('node:fs');
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(readFileSync(join(ROOT, 'docs', 'decide-scenario.schema.json'), 'utf8')));
});

test('a CPU-utilization scenario without a deployment says what to add, not "no metrics returned matched known pods"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-decide-'));
  try {
    writeFileSync(join(dir, 's.json'), JSON.stringify({
      policy: { path: join(ROOT, 'examples/manifests/seed/app-fastapi-hpa.yaml') },
      steps: [{ at: 0, metrics: [{ utilization: 80 }] }],
    }));
    const r = tide(['decide', join(dir, 's.json')]);
    assert.equal(r.code, 1, r.stdout);
    assert.doesNotMatch(r.stderr, /no metrics returned matched known pods/);
    assert.match(r.stderr, /steps\[0\]: policy metric 0 \(cpu Utilization\) needs the pods' resource requests, but the scenario has no "deployment": add "deployment": \{ "path": "deployment\.yaml" \}.*"podDefaults": \{ "requests": \{ "cpu": "200m" \} \}/);
    // With podDefaults the same scenario runs.
    writeFileSync(join(dir, 's.json'), JSON.stringify({
      policy: { path: join(ROOT, 'examples/manifests/seed/app-fastapi-hpa.yaml') },
      podDefaults: { requests: { cpu: '200m' } },
      steps: [{ at: 0, metrics: [{ utilization: 80 }] }],
    }));
    const ok = tide(['decide', join(dir, 's.json')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).decider, 'hpa');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
