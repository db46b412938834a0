// `tide simulate`: replay a trace (or a generated workload) through one or more policies in the
// discrete-event simulator and print cost / latency / SLO side by side; optional HTML/SVG/CSV output.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { UserError } from '../../core/errors.ts';
import { printManifestWarnings } from '../../manifests/load.ts';
import { defaultService, simulate, type ServiceModel, type SimOptions, type SimResult } from '../../sim/engine.ts';
import { parseDist, type Dist } from '../../sim/dist.ts';
import { generate, parseGenerator, traceDurationMs, traceRequestCount, type Trace } from '../../sim/workload.ts';
import { readColdStarts, readTrace, type TraceFormat } from '../../sim/traces/read.ts';
import { builtinController, BUILTIN_POLICIES, type PolicyContext } from '../../sim/run.ts';
import { runOracle, warmStartReplicas } from '../../sim/oracle.ts';
import { boundLine, frontierTable, htmlReport, seriesCsv, summaryTable, svgChart } from '../../sim/report.ts';
import { lowerBound } from '../../sim/bound.ts';
import { sweepFrontier, type FrontierPoint } from '../../sim/sweep.ts';
import { loadPolicyControllers } from '../../sim/manifests.ts';
import { parseDurationMs } from '../../policies/predictive.ts';

interface Opts {
  trace?: string;
  generate?: string;
  duration: string;
  format?: TraceFormat;
  limit?: string;
  skip?: string;
  policy: string[];
  compare?: boolean;
  baselines?: boolean;
  oracle?: boolean;
  slo: string;
  sloTarget: string;
  concurrency: string;
  service?: string;
  tokens?: string;
  serviceScale?: string;
  coldStart: string;
  cpuRequest: string;
  cpuPerSlot?: string;
  initial?: string;
  min: string;
  max: string;
  season: string;
  seed: string;
  report?: string;
  svg?: string;
  csv?: string;
  json?: boolean;
  progress?: boolean;
  frontier?: boolean;
  oracleIterations: string;
}

const collect = (v: string, prev: string[]): string[] => prev.concat([v]);

export function register(program: Command): void {
  program
    .command('simulate')
    .description('replay a trace through autoscaling policies in a discrete-event simulator and compare cost, latency and SLO attainment')
    .argument('[manifests...]', 'policy manifests (HPA, KServe/Knative, KEDA ScaledObject; tide.dev/* annotations for Tide\'s policy)')
    .option('--trace <file>', 'trace file: Azure LLM CSV, Twitter counts (.txt/.tbz2), Alibaba CSV, or an access log (CSV timestamp[,service_ms] / JSONL)')
    .option('--generate <spec>', 'synthetic workload instead of a trace: poisson:RPS | diurnal:MEAN:AMPL:PERIOD_S | bursts:BASE:PEAK:EVERY_S:LEN_S | step:RPS1:RPS2:AT_S')
    .option('--duration <d>', 'length of a generated workload', '1h')
    .option('--format <f>', 'trace format (azure|twitter|alibaba|log|counts|servegen), detected when omitted')
    .option('--limit <d>', 'simulate only this much of the trace (e.g. 7d, 6h)')
    .option('--skip <d>', 'skip this much of the trace first')
    .option('--policy <name>', `built-in policy (repeatable): ${BUILTIN_POLICIES.join(', ')}, static:N`, collect, [])
    .option('--compare', 'add the oracle and print all policies side by side')
    .option('--baselines', 'add the upstream-default baselines (HPA cpu 50%/70%, KPA defaults, KEDA queue) and Tide\'s policy')
    .option('--oracle', 'add the clairvoyant oracle (cost lower bound at the SLO target)')
    .option('--slo <d>', 'latency SLO', '1s')
    .option('--slo-target <pct>', 'SLO attainment goal, percent (oracle target, Tide\'s sizing)', '99')
    .option('--concurrency <n>', 'parallel requests per replica (slots)', '4')
    .option('--service <dist>', 'service time when the trace has none: 200ms | exp:200ms | lognormal:200ms:0.5 | uniform:100ms:300ms')
    .option('--tokens <base:prefill:decode>', 'LLM service time from token columns, ms: base + prefill x prompt + decode x output', '50:0.15:15')
    .option('--service-scale <x>', 'multiply every service time')
    .option('--cold-start <dist>', 'cold start: 30s | lognormal:20s:0.4 | alibaba (bundled Alibaba GenAI model-load times) | empirical-file:PATH', '30s')
    .option('--cpu-request <m>', 'pod cpu request, millicores', '1000')
    .option('--cpu-per-slot <m>', 'cpu used by one busy slot, millicores (default: 90% of the request spread over the slots)')
    .option('--initial <n>', 'warm replicas at the start (default: enough for the first minute\'s peak)')
    .option('--min <n>', 'min replicas for built-in policies', '1')
    .option('--max <n>', 'max replicas for built-in policies', '200')
    .option('--season <d>', 'seasonality period for Tide\'s built-in policy (0 = none)', '24h')
    .option('--seed <n>', 'random seed (same seed, same result)', '1')
    .option('--oracle-iterations <n>', 'bisection steps of the oracle (each is one simulation)', '8')
    .option('--frontier', 'sweep every baseline\'s main knob and Tide\'s SLO target: cost vs attainment (table, and a chart in --report)')
    .option('--report <file.html>', 'write a self-contained HTML report')
    .option('--svg <file.svg>', 'write an SVG chart of replicas and load')
    .option('--csv <file.csv>', 'write the time series')
    .option('--json', 'print the summaries as JSON')
    .option('--progress', 'force the progress bar (default: on a terminal, for long runs)')
    .action(async (manifests: string[], o: Opts) => {
      printManifestWarnings(); // KServe mapping warnings etc., as `tide up` shows them
      await runSimulate(manifests, o);
    });
}

function num(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UserError(`${what}: "${v}" is not a number`);
  return n;
}

function dur(v: string, what: string): number {
  try { return parseDurationMs(v, what); } catch (e) { throw new UserError((e as Error).message); }
}

async function coldStartDist(v: string): Promise<Dist> {
  if (v === 'alibaba') {
    // Alibaba GenAI base-model load latencies, bundled (src/sim/data/README.md)
    const file = new URL('../../sim/data/basemodel_update_latency_anon.tar.gz', import.meta.url).pathname;
    return { kind: 'empirical', valuesMs: await readColdStarts(file) };
  }
  if (v.startsWith('empirical-file:')) return { kind: 'empirical', valuesMs: await readColdStarts(v.slice('empirical-file:'.length)) };
  try { return parseDist(v); } catch (e) { throw new UserError(`--cold-start: ${(e as Error).message}`); }
}

async function runSimulate(manifests: string[], o: Opts): Promise<void> {
  const seed = num(o.seed, '--seed');
  let trace: Trace;
  if (o.trace) {
    try {
      trace = await readTrace(o.trace, {
        ...(o.format ? { format: o.format } : {}),
        ...(o.limit ? { limitSeconds: dur(o.limit, '--limit') / 1000 } : {}),
        ...(o.skip ? { skipSeconds: dur(o.skip, '--skip') / 1000 } : {}),
        seed,
      });
    } catch (e) {
      throw new UserError(`${o.trace}: ${(e as Error).message}`);
    }
    if (trace.kind === 'counts' && o.limit) trace.counts = trace.counts.subarray(0, Math.ceil(dur(o.limit, '--limit') / 1000));
  } else if (o.generate) {
    let g;
    try { g = parseGenerator(o.generate); } catch (e) { throw new UserError(`--generate: ${(e as Error).message}`); }
    trace = generate(g, dur(o.duration, '--duration'), seed);
  } else {
    throw new UserError('give a workload: --trace FILE or --generate SPEC (e.g. --generate diurnal:50:0.8:3600 --duration 3h)');
  }

  const service: ServiceModel = {
    ...defaultService,
    concurrency: Math.max(1, Math.floor(num(o.concurrency, '--concurrency'))),
    coldStart: await coldStartDist(o.coldStart),
    cpuRequestMilli: num(o.cpuRequest, '--cpu-request'),
    cpuPerSlotMilli: 0,
  };
  service.cpuPerSlotMilli = o.cpuPerSlot !== undefined ? num(o.cpuPerSlot, '--cpu-per-slot') : (0.9 * service.cpuRequestMilli) / service.concurrency;
  if (o.service) {
    try { service.dist = parseDist(o.service); } catch (e) { throw new UserError(`--service: ${(e as Error).message}`); }
  }
  if (o.tokens) {
    const [b, p, d] = o.tokens.split(':').map((x) => num(x, '--tokens'));
    service.tokens = { baseMs: b, prefillMsPerToken: p ?? 0, decodeMsPerToken: d ?? 0 };
  }
  if (o.serviceScale) service.scale = num(o.serviceScale, '--service-scale');

  const sloMs = dur(o.slo, '--slo');
  const sloTarget = num(o.sloTarget, '--slo-target') / 100;
  const minReplicas = num(o.min, '--min');
  const ctx: PolicyContext = { service, sloMs, sloTarget, minReplicas, maxReplicas: num(o.max, '--max'), seasonMs: o.season === '0' ? 0 : dur(o.season, '--season') };
  const durationMs = traceDurationMs(trace);
  const showProgress = o.progress || (process.stderr.isTTY && durationMs > 6 * 3600_000);

  const policies: { label: string; run: (base: SimOptions) => SimResult }[] = [];
  for (const m of await loadPolicyControllers(manifests, ctx)) policies.push({ label: m.label, run: (b) => simulate(b, m.make()) });
  const names = [...o.policy];
  if (o.baselines) for (const n of ['hpa-cpu-50', 'hpa-cpu-70', 'kpa-defaults', 'keda-queue', 'tide']) if (!names.includes(n)) names.push(n);
  for (const n of names.filter((x) => x !== 'oracle')) {
    try { builtinController(n, ctx); } catch (e) { throw new UserError(`--policy: ${(e as Error).message}`); } // validate early
    policies.push({ label: n, run: (b) => simulate(b, builtinController(n, ctx)) });
  }
  if (o.compare || o.oracle || names.includes('oracle')) {
    const it = Math.max(1, Math.floor(num(o.oracleIterations, '--oracle-iterations')));
    policies.unshift({ label: 'oracle', run: (b) => runOracle(b, sloTarget, { iterations: it, minReplicas: Math.max(0, minReplicas), maxReplicas: ctx.maxReplicas }) });
  }
  if (policies.length === 0) throw new UserError('nothing to simulate: give manifests, --policy NAME, --baselines or --compare');

  const base: SimOptions = {
    seed,
    trace,
    service,
    sloMs,
    initialReplicas: 0,
    // --max binds every policy (built-in ones take it as their max; a manifest's own max binds too)
    maxReplicas: ctx.maxReplicas,
  };
  base.initialReplicas = o.initial !== undefined ? num(o.initial, '--initial') : Math.max(minReplicas, warmStartReplicas(base));
  process.stderr.write(`simulating ${trace.name}: ${Math.round(traceRequestCount(trace)).toLocaleString('en-US')} requests over ${(durationMs / 3600_000).toFixed(2)} h, ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}\n`);
  const results: SimResult[] = [];
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    const opts: SimOptions = showProgress ? { ...base, onProgress: (f) => progress(p.label, i, policies.length, f) } : base;
    results.push(p.run(opts));
    if (showProgress) process.stderr.write('\n');
  }
  const lb = o.compare || o.oracle || names.includes('oracle') || o.frontier ? lowerBound(base, sloTarget, Math.max(0, minReplicas)) : undefined;
  let frontier: FrontierPoint[] | undefined;
  if (o.frontier) frontier = sweepFrontier(base, ctx, { onRun: (label) => process.stderr.write(`frontier: ${label}\n`) });
  // JSON: the summaries (an array); with a lower bound or a frontier, an object holding them all
  if (o.json) console.log(JSON.stringify(lb || frontier ? { summaries: results.map((r) => r.summary), ...(lb ? { lowerBound: lb } : {}), ...(frontier ? { frontier } : {}) } : results.map((r) => r.summary), null, 2));
  else {
    console.log(summaryTable(results));
    if (lb) console.log(boundLine(lb, results));
    if (frontier) console.log('\n' + frontierTable(frontier));
  }
  const title = `tide simulate: ${trace.name}`;
  if (o.report) {
    writeFileSync(o.report, htmlReport(results, { title, trace: trace.name, ...(lb ? { bound: lb } : {}), ...(frontier ? { frontier } : {}), notes: [`seed ${seed}`, `SLO ${sloMs} ms at ${(sloTarget * 100).toFixed(1)}%`, `${service.concurrency} slots/replica`] }));
    process.stderr.write(`wrote ${o.report}\n`);
  }
  if (o.svg) { writeFileSync(o.svg, svgChart(results, title)); process.stderr.write(`wrote ${o.svg}\n`); }
  if (o.csv) { writeFileSync(o.csv, seriesCsv(results)); process.stderr.write(`wrote ${o.csv}\n`); }
}

function progress(label: string, i: number, n: number, f: number): void {
  const w = 30;
  const done = Math.round(f * w);
  process.stderr.write(`\r[${i + 1}/${n}] ${label.padEnd(16).slice(0, 16)} [${'#'.repeat(done)}${'.'.repeat(w - done)}] ${(f * 100).toFixed(0).padStart(3)}%`);
}
