// Benchmark: scale from zero. How much time Tide adds, beyond the replica's own readiness time,
// between the first request reaching a service scaled to zero and its response.
//
// The replica is a minimal HTTP server that, once listening, writes its own process start time
// (performance.timeOrigin) and listen time to a file. For each cold start through Tide:
//   total     = client send → response (service at zero replicas)
//   readiness = the replica's own start → listening (its own readiness time, measured in the run)
//   overhead  = total − readiness: activator hold + poke → KPA decision → spawn, and readiness
//               detection → release → proxying.
// A baseline in the same run (interleaved): the same replica spawned directly and polled every 1 ms.
// Goal: overhead p50 ≤ 20 ms. Run: npx node bench/scale-from-zero.ts [iterations]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../src/runtime/local/controller.ts';

const GOAL_MS = 20;
const ITER = Number(process.argv[2] ?? 7);

const SERVER = `import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const s = createServer((q, r) => r.end('ok'));
s.listen(Number(process.env.PORT), '127.0.0.1', () => {
  const listen = performance.timeOrigin + performance.now();
  if (process.env.MARK_DIR) writeFileSync(process.env.MARK_DIR + '/' + (process.env.POD_NAME ?? 'direct'), JSON.stringify({ start: performance.timeOrigin, listen }));
});
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const wall = () => performance.timeOrigin + performance.now();

function get(port: number, path = '/'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', () => resolve(0));
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}

/** Baseline: spawn the replica directly, poll every 1 ms: spawn → first successful response. */
async function direct(serverFile: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [serverFile], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  try {
    while ((await get(port)) !== 200) await sleep(1);
    return performance.now() - t0;
  } finally { child.kill('SIGKILL'); }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bench-s0-'));
  const marks = join(dir, 'marks');
  mkdirSync(marks);
  const serverFile = join(dir, 'server.mjs');
  writeFileSync(serverFile, SERVER);
  const file = join(dir, 'svc.yaml');
  writeFileSync(file, `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: s0}
spec:
  template:
    metadata:
      annotations: {autoscaling.knative.dev/window: "6s"}
    spec:
      containers:
      - command: ${JSON.stringify([process.execPath, serverFile])}
        env: [{name: MARK_DIR, value: ${JSON.stringify(marks)}}]
`);
  const rt = new LocalRuntime({ files: [file], stateDir: join(dir, '.tide'), ephemeralPorts: true, overrides: { kpa: { 'scale-to-zero-grace-period': '1s' } } });
  const onSignal = () => { rt.killAll(); rmSync(dir, { recursive: true, force: true }); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const total: number[] = [];
  const ready: number[] = [];
  const overhead: number[] = [];
  const base: number[] = [];
  try {
    await rt.start();
    const port = rt.services.get('s0')!.port!;
    const sup = rt.supervisors.get('s0')!;
    for (let i = 0; i < ITER; i++) {
      const deadline = Date.now() + 60_000;
      while (sup.replicas.size > 0 || sup.desired > 0) {
        if (Date.now() > deadline) throw new Error('did not scale to zero within 60 s');
        await sleep(50);
      }
      for (const f of readdirSync(marks)) rmSync(join(marks, f));
      await sleep(300);
      base.push(await direct(serverFile));
      const t0 = wall();
      const status = await get(port);
      const t1 = wall();
      if (status !== 200) throw new Error(`cold request answered ${status}`);
      const m = readdirSync(marks).map((f) => JSON.parse(readFileSync(join(marks, f), 'utf8')) as { start: number; listen: number }).find((x) => x.start >= t0 - 5);
      if (!m) throw new Error('no readiness mark from the new replica');
      total.push(t1 - t0);
      ready.push(m.listen - m.start);
      overhead.push((t1 - t0) - (m.listen - m.start));
      process.stderr.write(`  #${i + 1}: through Tide ${total.at(-1)!.toFixed(1)} ms = replica readiness ${ready.at(-1)!.toFixed(1)} ms + Tide ${overhead.at(-1)!.toFixed(1)} ms (before spawn ${(m.start - t0).toFixed(1)}, after listening ${(t1 - m.listen).toFixed(1)}); direct spawn baseline ${base.at(-1)!.toFixed(1)} ms\n`);
    }
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const o50 = pct(overhead, 0.5);
  console.log(`scale-from-zero (${ITER} cold starts)`);
  console.log(`  replica's own readiness (start → listening)   p50 ${pct(ready, 0.5).toFixed(1)} ms`);
  console.log(`  direct spawn → first response (baseline)     p50 ${pct(base, 0.5).toFixed(1)} ms`);
  console.log(`  first response through Tide from zero        p50 ${pct(total, 0.5).toFixed(1)} ms   max ${Math.max(...total).toFixed(1)} ms`);
  console.log(`  overhead added by Tide                       p50 ${o50.toFixed(1)} ms   p90 ${pct(overhead, 0.9).toFixed(1)} ms   (goal ≤ ${GOAL_MS} ms p50: ${o50 <= GOAL_MS ? 'met' : 'NOT met'})`);
  console.log(`  ratio through-Tide / direct-spawn baseline   ${(pct(total, 0.5) / pct(base, 0.5)).toFixed(2)}x`);
}

await main();
