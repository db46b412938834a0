// Benchmark: one week of a per-second trace (the Twitter counts, ~64 req/s, ~38 M requests) for one
// service, simulated with real policies. Budget: <= 10 s per policy on this machine. The baseline,
// measured in the same run, is the event loop with a null (static) policy: the data-plane cost alone.
// The arrival stream is drawn on a worker thread (src/sim/arrival-thread.ts; TIDE_SIM_THREAD=0: in the
// engine's thread); "main cpu" is the engine thread's CPU time, what the wall time tends to on an idle
// machine with a spare core.
//   npx node bench/simulate.ts [--days 7]
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { simulate, defaultService, type SimOptions } from '../src/sim/engine.ts';
import { readTrace } from '../src/sim/traces/read.ts';
import { generate, traceRequestCount, type Trace } from '../src/sim/workload.ts';
import { builtinController, type PolicyContext } from '../src/sim/run.ts';

const days = Number(process.argv[process.argv.indexOf('--days') + 1] || 7) || 7;
// the full public traces (not shipped): $TIDE_TRACES_DIR, default ../shared/traces next to the checkout (docs/benchmarks.md)
const file = `${process.env.TIDE_TRACES_DIR ?? new URL('../../shared/traces', import.meta.url).pathname}/twitter/workload.tbz2`;
let trace: Trace;
if (existsSync(file)) {
  trace = await readTrace(file, { limitSeconds: days * 86400 });
} else {
  console.log(`(${file} not found: using a generated diurnal workload of the same size)`);
  trace = generate({ kind: 'diurnal', meanRps: 64, amplitude: 0.5, periodMs: 86_400_000 }, days * 86_400_000, 1);
}
const service = { ...defaultService, concurrency: 4, dist: { kind: 'lognormal' as const, medianMs: 40, sigma: 0.5 }, coldStart: { kind: 'fixed' as const, ms: 30_000 } };
const base: SimOptions = { seed: 1, trace, service, sloMs: 250, initialReplicas: 2 };
const ctx: PolicyContext = { service, sloMs: 250, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 86_400_000 };
const requests = traceRequestCount(trace);
console.log(`trace: ${trace.name}, ${days} days, ${(requests / 1e6).toFixed(1)} M requests`);

function time(label: string, policy: string): number {
  const t0 = performance.now();
  const c0 = process.threadCpuUsage();
  const r = simulate(base, builtinController(policy, ctx));
  const c = process.threadCpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(22)} ${s.toFixed(2).padStart(6)} s  ${(requests / s / 1e6).toFixed(1)} M req/s  budget ratio ${(s / 10).toFixed(2)}  main cpu ${((c.user + c.system) / 1e6).toFixed(2)} s  replica-s ${Math.round(r.summary.replicaSeconds)}  SLO ${(r.summary.sloAttainment * 100).toFixed(2)}%`);
  return s;
}

const baseline = time('null policy (static 4)', 'static:4');
for (const p of ['hpa-cpu-70', 'kpa-defaults', 'keda-queue', 'tide']) {
  const s = time(p, p);
  console.log(`${''.padEnd(22)} ratio vs null-policy baseline: ${(s / baseline).toFixed(2)}x`);
}
