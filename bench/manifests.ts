// Benchmark: loading large manifest files (parse, duplicate keys, schema, normalization).
// Shapes: one mapping with many keys (the worst case of a pairwise duplicate-key check) and many
// small documents. Sizes 0.5 / 1 / 2 / 4 MB (4 MB is the file limit). Prints CPU time per file,
// ms per MB (flat = linear) and, for the big mapping, the yaml library's own uniqueKeys check
// (quadratic, what Tide used before) on the smaller sizes as the "before" baseline.
// Valid, plain files take the fast path (js-yaml events, src/manifests/yaml-fast.ts); the last
// column times the `yaml` library's path alone on the same text (what every file took before).
// Goal: 2 MB in < 1 s (<= 0.5 s on a quiet machine). Run: npx node bench/manifests.ts [--no-before]
import { LineCounter, parseAllDocuments } from 'yaml';
import { loadManifestsLenient } from '../src/manifests/load.ts';
import { parseYamlSlow } from '../src/manifests/yaml.ts';

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function bigMap(bytes: number): string {
  let s = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: big\n  annotations:\n';
  for (let i = 0; s.length < bytes - 60; i++) s += `    example.com/key-${i}: "value ${i}"\n`;
  return `${s}spec:\n  selector: {app: big}\n  ports: [{port: 80}]\n`;
}

function manyDocs(bytes: number): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const d = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${i}\n  labels: {app: web-${i}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web-${i}}\n  template:\n    metadata:\n      labels: {app: web-${i}}\n    spec:\n      containers:\n      - name: app\n        image: example/web:1\n        command: [node, server.js]\n        ports: [{containerPort: 8080}]\n        resources:\n          requests: {cpu: 250m, memory: 256Mi}\n        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}\n---\n`;
    parts.push(d);
    n += d.length;
  }
  return parts.join('');
}

function time(fn: () => void, reps = 3): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) { const t = cpuMs(); fn(); best = Math.min(best, cpuMs() - t); }
  return best;
}

const SIZES = [0.5, 1, 2, 4];
// how fast this machine is right now (a shared, loaded machine can be 10x slower than a quiet one)
{
  const t = cpuMs();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x = (x + i) | 0;
  console.log(`calibration: 1e8 integer adds in ${(cpuMs() - t).toFixed(0)} ms cpu (a an idle core of this class: roughly a tenth of what a heavily loaded shared machine shows)${x === 42 ? '' : ''}\n`);
}
// warm up the JIT
loadManifestsLenient([{ file: 'warm.yaml', text: manyDocs(200_000) }]);

console.log('shape        size    load (cpu ms)  ms/MB   docs  errors   yaml-library parse alone (the path before the fast one)');
const results: Record<string, number> = {};
for (const [shape, gen] of [['one-map', bigMap], ['many-docs', manyDocs]] as const) {
  for (const mb of SIZES) {
    const text = gen(mb * 1_000_000);
    let docs = 0; let errs = 0;
    const ms = time(() => { const r = loadManifestsLenient([{ file: `${shape}.yaml`, text }]); docs = r.bundle.documents.length; errs = r.errors.length; });
    results[`${shape}@${mb}`] = ms;
    const slow = mb <= 2 ? time(() => parseYamlSlow(`${shape}.yaml`, text), 1) : NaN;
    console.log(`${shape.padEnd(12)} ${`${mb} MB`.padEnd(7)} ${ms.toFixed(0).padStart(13)}  ${(ms / mb).toFixed(0).padStart(6)} ${String(docs).padStart(6)} ${String(errs).padStart(7)}   ${Number.isNaN(slow) ? '-' : `${slow.toFixed(0)} ms`}`);
  }
}

if (!process.argv.includes('--no-before')) console.log('\nbefore: the yaml library\'s uniqueKeys check (parse only, one-map shape)');
for (const mb of process.argv.includes('--no-before') ? [] : [0.125, 0.25, 0.5]) {
  const text = bigMap(mb * 1_000_000);
  const ms = time(() => parseAllDocuments(text, { lineCounter: new LineCounter(), uniqueKeys: true }), 1);
  console.log(`  ${`${mb} MB`.padEnd(8)} ${ms.toFixed(0).padStart(7)} ms  ${(ms / mb).toFixed(0).padStart(7)} ms/MB`);
}

const linear = results['one-map@4'] / results['one-map@1'];
console.log(`\n4 MB / 1 MB (one-map): ${linear.toFixed(2)}x (linear = 4x, quadratic = 16x)`);
console.log(`2 MB one-map: ${results['one-map@2'].toFixed(0)} ms, many-docs: ${results['many-docs@2'].toFixed(0)} ms (goal < 1000 ms)`);
