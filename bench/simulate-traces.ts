// The shipped traces through every baseline, Tide's policy and the oracle; prints the markdown tables
// of docs/benchmarks.md ("Simulator"). Deterministic (seed 1). Takes a few minutes (the oracle is a
// bisection of full simulations).
//   npx node bench/simulate-traces.ts [twitter|azure|alibaba ...] [--days 7] [--no-oracle]
// --no-oracle skips the oracle's bisection (most of the run time): the "vs oracle" column shows "-".
import { performance } from 'node:perf_hooks';
import { simulate, defaultService, type SimOptions, type SimResult, type ServiceModel } from '../src/sim/engine.ts';
import { readColdStarts, readTrace } from '../src/sim/traces/read.ts';
import { runOracle, warmStartReplicas } from '../src/sim/oracle.ts';
import { builtinController, type PolicyContext } from '../src/sim/run.ts';
import { predictiveController } from '../src/sim/controllers.ts';
import { defaultPredictivePolicy, type PredictivePolicy } from '../src/policies/predictive.ts';
import { quantile, type Dist } from '../src/sim/dist.ts';
import { traceRequestCount } from '../src/sim/workload.ts';

// the full public traces (not shipped): $TIDE_TRACES_DIR, default ../shared/traces next to the checkout (docs/benchmarks.md)
const shared = `${process.env.TIDE_TRACES_DIR ?? new URL('../../shared/traces', import.meta.url).pathname}/`;
const args = process.argv.slice(2);
const days = args.includes('--days') ? Number(args[args.indexOf('--days') + 1]) : 7;
const noOracle = args.includes('--no-oracle');
const which = args.filter((a) => ['twitter', 'azure', 'alibaba'].includes(a));
const run = which.length ? which : ['twitter', 'azure', 'alibaba'];
const coldStarts: Dist = { kind: 'empirical', valuesMs: await readColdStarts(new URL('../src/sim/data/basemodel_update_latency_anon.tar.gz', import.meta.url).pathname) };

interface TideVariant { label: string; seasonMs: number; over?: Partial<PredictivePolicy> }
interface Scenario { name: string; base: SimOptions; ctx: PolicyContext; tide: TideVariant[]; describe: string }

function svc(over: Partial<ServiceModel>): ServiceModel {
  const s = { ...defaultService, ...over };
  s.cpuPerSlotMilli = (0.9 * s.cpuRequestMilli) / s.concurrency;
  return s;
}

async function scenario(name: string): Promise<Scenario> {
  if (name === 'twitter') {
    const trace = await readTrace(`${shared}twitter/workload.tbz2`, { limitSeconds: days * 86400 });
    const service = svc({ concurrency: 4, dist: { kind: 'lognormal', medianMs: 250, sigma: 0.5 }, coldStart: { kind: 'fixed', ms: 30_000 } });
    return {
      name, describe: `Twitter per-second counts, first ${days} days; service lognormal(median 250 ms, σ 0.5), 4 slots/replica, cold start 30 s, SLO 1 s`,
      base: { seed: 1, trace, service, sloMs: 1000, initialReplicas: 0 },
      ctx: { service, sloMs: 1000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 86_400_000 },
      tide: [
        { label: 'Tide predictive (season 24h)', seasonMs: 86_400_000 },
        { label: 'Tide predictive (season 7192s)', seasonMs: 7_192_000 },
        { label: 'Tide predictive (season 7192s, headroom 60%)', seasonMs: 7_192_000, over: { headroom: 0.6 } },
      ],
    };
  }
  if (name === 'azure') {
    const trace = await readTrace(`${shared}AzureLLMInferenceTrace_conv.csv`);
    const service = svc({ concurrency: 8, tokens: { baseMs: 50, prefillMsPerToken: 0.15, decodeMsPerToken: 15 }, coldStart: coldStarts });
    return {
      name, describe: 'Azure LLM inference (conversation), 1 h; service 50 ms + 0.15 ms/prompt token + 15 ms/output token, 8 slots/replica, cold start = Alibaba model-load times (median 22.7 s), SLO 15 s',
      base: { seed: 1, trace, service, sloMs: 15_000, initialReplicas: 0 },
      ctx: { service, sloMs: 15_000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 0 },
      tide: [{ label: 'Tide predictive', seasonMs: 0 }, { label: 'Tide predictive (slo-target 99.99)', seasonMs: 0, over: { sloTarget: 0.9999 } }],
    };
  }
  const trace = await readTrace(`${shared}alibaba-genai/lora_request_trace.csv`);
  const service = svc({ concurrency: 1, coldStart: coldStarts });
  return {
    name, describe: 'Alibaba GenAI LoRA requests, 23 days; service = exec_time_seconds, 1 slot/replica, cold start = Alibaba model-load times, SLO 120 s, scale to zero allowed',
    base: { seed: 1, trace, service, sloMs: 120_000, initialReplicas: 0 },
    ctx: { service, sloMs: 120_000, sloTarget: 0.99, minReplicas: 0, maxReplicas: 200, seasonMs: 86_400_000 },
    tide: [{ label: 'Tide predictive', seasonMs: 86_400_000 }, { label: 'Tide predictive (cold-start 60s)', seasonMs: 86_400_000, over: { coldStartMs: 60_000, prewarmHorizonMs: 62_000 } }],
  };
}

function row(r: SimResult, oracle: SimResult | undefined, secs: number): string {
  const s = r.summary;
  const f = (ms: number) => (Number.isFinite(ms) ? (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`) : '∞');
  return `| ${s.policy} | ${Math.round(s.replicaSeconds).toLocaleString('en-US')} | ${oracle ? `${(s.replicaSeconds / oracle.summary.replicaSeconds).toFixed(2)}×` : '-'} | ${Math.round(s.idleReplicaSeconds).toLocaleString('en-US')} | ${s.coldStarts} | ${s.scalingActions} | ${f(s.p50Ms)} | ${f(s.p99Ms)} | ${(s.sloAttainment * 100).toFixed(2)} % | ${secs.toFixed(1)} s |`;
}

for (const name of run) {
  const sc = await scenario(name);
  sc.base.initialReplicas = Math.max(sc.ctx.minReplicas, warmStartReplicas(sc.base));
  console.log(`\n#### ${name}: ${sc.describe}\n\n${Math.round(traceRequestCount(sc.base.trace)).toLocaleString('en-US')} requests, ${sc.base.initialReplicas} warm replicas at the start, seed 1.\n`);
  console.log('| policy | replica-s | vs oracle | idle replica-s | cold starts | actions | p50 | p99 | SLO attainment | sim time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  let t0 = performance.now();
  sc.base.maxReplicas = sc.ctx.maxReplicas; // --max binds every policy
  const oracle = noOracle ? undefined : runOracle(sc.base, 0.99, { iterations: 6, minReplicas: sc.ctx.minReplicas, maxReplicas: sc.ctx.maxReplicas });
  if (oracle) console.log(row(oracle, oracle, (performance.now() - t0) / 1000) + ` (${oracle.evaluations} runs)`);
  for (const p of ['hpa-cpu-50', 'hpa-cpu-70', 'kpa-defaults', 'keda-queue']) {
    t0 = performance.now();
    const r = simulate(sc.base, builtinController(p, sc.ctx));
    console.log(row(r, oracle, (performance.now() - t0) / 1000));
  }
  for (const t of sc.tide) {
    const policy = defaultPredictivePolicy({
      name: 'tide', slotsPerReplica: sc.base.service.concurrency, minReplicas: sc.ctx.minReplicas, maxReplicas: sc.ctx.maxReplicas,
      sloLatencyMs: sc.ctx.sloMs, sloTarget: 0.99, coldStartMs: quantile(sc.base.service.coldStart, 0.5), seasonMs: t.seasonMs,
      ...t.over,
    });
    t0 = performance.now();
    const r = simulate(sc.base, predictiveController(policy, 2000, t.label));
    console.log(row(r, oracle, (performance.now() - t0) / 1000));
  }
}
