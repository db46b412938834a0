// `tide simulate` end to end: the real CLI on a generated workload, on a user access log and on a
// shipped ServeGen trace, with the HTML/SVG/CSV outputs, and a readable error for a bad option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tide-sim-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function tide(args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/tide.js'), 'simulate', ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
}

test('compare built-in policies on a generated workload, with report, SVG and CSV', () => {
  const r = tide(['--generate', 'diurnal:20:0.8:1200', '--duration', '40m', '--policy', 'hpa-cpu-70', '--policy', 'tide', '--compare',
    '--oracle-iterations', '3', '--report', 'r.html', '--svg', 'r.svg', '--csv', 'r.csv', '--seed', '3']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^policy\s+replica-s\s+vs oracle\s+idle rep-s\s+cold starts\s+actions\s+p50\s+p95\s+p99\s+SLO 1000ms\s+max rep$/);
  assert.match(lines[2], /^oracle \(clairvoyant\)\s+\d+\s+1\.00x/);
  assert.match(lines[3], /^HPA cpu 70%\s+\d+\s+\d+\.\d\dx/);
  assert.match(lines[4], /^Tide predictive\s+\d+/);
  const html = readFileSync(join(dir, 'r.html'), 'utf8');
  assert.match(html, /<script>[\s\S]*uPlot/);
  assert.doesNotMatch(html, /<script[^>]+src=/, 'no external scripts');
  assert.match(html, /<svg /);
  assert.match(readFileSync(join(dir, 'r.svg'), 'utf8'), /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);
  const csv = readFileSync(join(dir, 'r.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'policy,t_s,replicas,ready,rps,in_flight,queued,latency_mean_ms,latency_max_ms,slo_miss_rate,metric,metric_target');
  assert.ok(csv.length > 1000);
  // deterministic: the same command prints the same table
  const again = tide(['--generate', 'diurnal:20:0.8:1200', '--duration', '40m', '--policy', 'hpa-cpu-70', '--policy', 'tide', '--compare', '--oracle-iterations', '3', '--seed', '3']);
  assert.equal(again.stdout, r.stdout);
});

test('an access log and a manifest with tide.dev annotations, JSON output', () => {
  const log = Array.from({ length: 600 }, (_, i) => `${1_700_000_000 + i * 0.5},${100 + (i % 7) * 20}`).join('\n');
  writeFileSync(join(dir, 'access.csv'), `timestamp,service_ms\n${log}\n`);
  writeFileSync(join(dir, 'hpa.yaml'), `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: m
  annotations: {tide.dev/policy: predictive, tide.dev/slo-latency: 500ms, tide.dev/cold-start: 5s}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: m}
  minReplicas: 1
  maxReplicas: 4
`);
  const r = tide(['hpa.yaml', '--trace', 'access.csv', '--slo', '500ms', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { policy: string; requests: number; sloMs: number }[];
  assert.equal(out.length, 1);
  assert.equal(out[0].policy, 'HorizontalPodAutoscaler/m (tide predictive)');
  assert.equal(out[0].requests, 600);
  assert.equal(out[0].sloMs, 500);
});

test('a shipped ServeGen trace: detected by its name, reconstructed with --seed', () => {
  const trace = join(ROOT, 'src/sim/data/servegen-mm-image.csv.gz');
  const run = (seed: string) => {
    const r = tide(['--trace', trace, '--limit', '10m', '--policy', 'hpa-cpu-70', '--concurrency', '8', '--tokens', '100:0.2:15', '--slo', '20s', '--json', '--seed', seed]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { requests: number; sloAttainment: number }[];
  };
  const a = run('1');
  assert.ok(a[0].requests > 3000 && a[0].requests < 10_000, `${a[0].requests} requests in 10 min`);
  assert.deepEqual(run('1'), a);
  // another seed: the same windows and rates, other arrival instants and token draws
  const b = run('2');
  assert.notDeepEqual(b, a);
  assert.ok(Math.abs(b[0].requests - a[0].requests) < 0.02 * a[0].requests);
});

test('errors read as sentences, without a stack', () => {
  const r = tide(['--policy', 'nope', '--generate', 'poisson:5']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^tide: --policy: unknown policy "nope"/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
  const g = tide(['--policy', 'tide', '--generate', 'sine:5']);
  assert.match(g.stderr, /tide: --generate: unknown generator "sine"/);
  assert.doesNotMatch(g.stderr, /at .*\.ts:\d+/);
});
