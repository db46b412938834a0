// How fast `tide get hpa` / `tide describe hpa` answer (a kubectl user expects well under half a
// second). A small HTTP server stands in for the daemon's control API (it serves the same
// Kubernetes-shaped objects), so this measures the CLI alone: Node start, module loading, one
// request, formatting. Run: npx node bench/cli-startup.ts [runs] [--tide OTHER-CHECKOUT]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hpaObject } from '../src/runtime/local/k8s-objects.ts';
import { TOKEN_FILE } from '../src/runtime/local/auth.ts';

const runs = Number(process.argv[2] ?? 15);
// --tide DIR: time another checkout's CLI (e.g. main before a change) against the same stand-in daemon
const other = process.argv.indexOf('--tide');
const TIDE = other > 0 ? join(process.argv[other + 1], 'bin', 'tide.js') : new URL('../bin/tide.js', import.meta.url).pathname;
const now = Date.now();
const hpa = hpaObject({
  kind: 'hpa', name: 'mlp-server', reference: 'Deployment/mlp-server', targets: '', minReplicas: 1, maxReplicas: 10, currentReplicas: 2, desiredReplicas: 2,
  created: now - 600_000, metrics: [], conditions: [], metricSpecs: [], dryRun: false,
}, { name: 'mlp-server', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mlp-server' }, minReplicas: 1, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] });
const server = createServer((req, res) => {
  const p = new URL(req.url ?? '/', 'http://x').pathname;
  let body: unknown = { apiVersion: 'v1', kind: 'List', metadata: {}, items: [] };
  if (p.endsWith('/horizontalpodautoscalers')) body = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscalerList', metadata: {}, items: [hpa] };
  else if (p.endsWith('/horizontalpodautoscalers/mlp-server')) body = hpa;
  else if (p.startsWith('/v1/autoscalers/')) body = {};
  const t = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(t) });
  res.end(t);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const dir = mkdtempSync(join(tmpdir(), 'tide-bench-cli-'));
writeFileSync(join(dir, TOKEN_FILE), 'bench-token', { mode: 0o600 });
writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ pid: process.pid, host: '127.0.0.1', port, url: `http://127.0.0.1:${port}`, startedAt: now, stateDir: dir, files: [] }));

// the server runs in this process: spawnSync would block it, so children get it from a worker-free child
const { spawn } = await import('node:child_process');
function time(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')}: exit ${code}: ${err}`))));
  });
}
// One more run per case with a module-counting hook: how many modules (ours, dependencies',
// `node:` built-ins imported as ESM) the command loads.
const HOOK = `data:text/javascript,${encodeURIComponent("import{registerHooks}from'node:module';let n=0;registerHooks({load(u,c,x){n++;return x(u,c)}});process.on('exit',()=>process.stderr.write('\\nTIDE_MODULES '+n+'\\n'))")}`;
function modules(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', HOOK, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    c.on('exit', () => resolve(Number(/TIDE_MODULES (\d+)/.exec(err)?.[1] ?? NaN)));
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cases: [string, string[]][] = [
  ['node -e "" (floor)', ['-e', '']],
  ['tide get hpa', [TIDE, 'get', 'hpa', '--state-dir', dir]],
  ['tide get hpa mlp-server -o yaml', [TIDE, 'get', 'hpa', 'mlp-server', '-o', 'yaml', '--state-dir', dir]],
  ['tide describe hpa mlp-server', [TIDE, 'describe', 'hpa', 'mlp-server', '--state-dir', dir]],
  ['tide --help', [TIDE, '--help']],
];
void spawnSync;
for (const [label, args] of cases) {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await time(args));
  const n = await modules(args);
  console.log(`${label.padEnd(36)} median ${median(ms).toFixed(0).padStart(5)} ms   min ${Math.min(...ms).toFixed(0).padStart(5)} ms   (${runs} runs)   ${String(n).padStart(4)} modules`);
}
server.close();
rmSync(dir, { recursive: true, force: true });
