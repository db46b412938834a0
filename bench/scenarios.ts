// The benchmark scenarios (docs/benchmarks.md, "Simulator"): the shipped public traces with their
// service models and SLOs, split into the set Tide's defaults were tuned on and a set that is only
// evaluated on. Full traces are read from $TIDE_TRACES_DIR (default ../shared/traces next to the
// checkout); they are not shipped. The ServeGen scenarios read the compact fixtures shipped in
// src/sim/data/ (src/sim/traces/servegen.ts; docs/benchmarks.md, "Public traces added for issue 15").
import { defaultService, type ServiceModel, type SimOptions } from '../src/sim/engine.ts';
import { readColdStarts, readTrace } from '../src/sim/traces/read.ts';
import { readServeGen } from '../src/sim/traces/servegen.ts';
import type { PolicyContext } from '../src/sim/run.ts';
import type { PredictivePolicy } from '../src/policies/predictive.ts';
import type { Dist } from '../src/sim/dist.ts';
import type { RequestsTrace, Trace } from '../src/sim/workload.ts';

export const TRACES_DIR = `${process.env.TIDE_TRACES_DIR ?? new URL('../../shared/traces', import.meta.url).pathname}/`;

export interface TideVariant { label: string; seasonMs: number; over?: Partial<PredictivePolicy> }
export interface Scenario { name: string; set: 'tune' | 'evaluate'; base: SimOptions; ctx: PolicyContext; tide: TideVariant[]; describe: string }

/** Tune-on: the three traces the defaults were chosen on. Evaluate-only: never used to choose a constant. */
export const TUNE = ['twitter', 'azure', 'alibaba', 'servegen-mm'] as const;
export const EVALUATE = ['twitter-week2', 'azure-batched', 'azure-sparse', 'servegen-r1', 'servegen-sparse'] as const;

function svc(over: Partial<ServiceModel>): ServiceModel {
  const s = { ...defaultService, ...over };
  s.cpuPerSlotMilli = (0.9 * s.cpuRequestMilli) / s.concurrency;
  return s;
}

let cold: Dist | undefined;
async function alibabaColdStarts(): Promise<Dist> {
  cold ??= { kind: 'empirical', valuesMs: await readColdStarts(new URL('../src/sim/data/basemodel_update_latency_anon.tar.gz', import.meta.url).pathname) };
  return cold;
}

/** Requests of a trace re-timed into batches: every arrival moves to the start of its `everyMs` window. */
export function batched(t: RequestsTrace, everyMs: number): RequestsTrace {
  const times = t.times.map((x) => Math.floor(x / everyMs) * everyMs);
  return { ...t, name: `${t.name} (batched every ${everyMs / 1000}s)`, times };
}

/** Every k-th request of a trace (thinned: sparse traffic with the same burst structure). */
export function thinned(t: RequestsTrace, k: number): RequestsTrace {
  const idx: number[] = [];
  for (let i = 0; i < t.times.length; i += k) idx.push(i);
  const pick = (a?: Float64Array) => (a ? Float64Array.from(idx, (i) => a[i]) : undefined);
  return { ...t, name: `${t.name} (every ${k}th request)`, times: pick(t.times)!, serviceMs: pick(t.serviceMs), promptTokens: pick(t.promptTokens), outputTokens: pick(t.outputTokens) };
}

export async function scenario(name: string, days = 7): Promise<Scenario> {
  if (name === 'twitter' || name === 'twitter-week2') {
    // the defaults were tuned on the first 7 days: the evaluate-only slice starts after them
    const skip = name === 'twitter' ? 0 : 7 * 86400;
    const trace = await readTrace(`${TRACES_DIR}twitter/workload.tbz2`, { limitSeconds: days * 86400, skipSeconds: skip });
    const service = svc({ concurrency: 4, dist: { kind: 'lognormal', medianMs: 250, sigma: 0.5 }, coldStart: { kind: 'fixed', ms: 30_000 } });
    return {
      name, set: name === 'twitter' ? 'tune' : 'evaluate',
      describe: `Twitter per-second counts, ${name === 'twitter' ? `first ${days} days` : `${days === 1 ? 'day 8' : `days 8-${7 + days}`} (never tuned on)`}; service lognormal(median 250 ms, σ 0.5), 4 slots/replica, cold start 30 s, SLO 1 s`,
      base: { seed: 1, trace, service, sloMs: 1000, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs: 1000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 86_400_000 },
      tide: [{ label: 'Tide predictive (season 24h)', seasonMs: 86_400_000 }],
    };
  }
  if (name.startsWith('azure')) {
    let trace: Trace = await readTrace(`${TRACES_DIR}AzureLLMInferenceTrace_conv.csv`);
    let sloMs = 15_000;
    let describe = 'Azure LLM inference (conversation), 1 h';
    if (name === 'azure-batched') { trace = batched(trace as RequestsTrace, 3000); sloMs = 30_000; describe += ', arrivals re-timed into batches every 3 s (derived shape), SLO 30 s'; }
    if (name === 'azure-sparse') { trace = thinned(trace as RequestsTrace, 16); describe += ', every 16th request, one request per replica (derived sparse shape: about 70 % of seconds empty)'; }
    const service = svc({ concurrency: name === 'azure-sparse' ? 1 : 8, tokens: { baseMs: 50, prefillMsPerToken: 0.15, decodeMsPerToken: 15 }, coldStart: await alibabaColdStarts() });
    return {
      name, set: name === 'azure' ? 'tune' : 'evaluate',
      describe: `${describe}; service 50 ms + 0.15 ms/prompt token + 15 ms/output token, ${service.concurrency} slots/replica, cold start = Alibaba model-load times (median 22.7 s), SLO ${sloMs / 1000} s`,
      base: { seed: 1, trace, service, sloMs, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 0 },
      tide: [{ label: 'Tide predictive', seasonMs: 0 }],
    };
  }
  if (name === 'alibaba') {
    const trace = await readTrace(`${TRACES_DIR}alibaba-genai/lora_request_trace.csv`, days < 23 ? { limitSeconds: days * 86400 } : {});
    const service = svc({ concurrency: 1, coldStart: await alibabaColdStarts() });
    return {
      name, set: 'tune',
      describe: `Alibaba GenAI LoRA requests, ${days < 23 ? `first ${days} days` : '23 days'}; service = exec_time_seconds, 1 slot/replica, cold start = Alibaba model-load times, SLO 120 s, scale to zero allowed`,
      base: { seed: 1, trace, service, sloMs: 120_000, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs: 120_000, sloTarget: 0.99, minReplicas: 0, maxReplicas: 200, seasonMs: 86_400_000 },
      tide: [{ label: 'Tide predictive', seasonMs: 86_400_000 }],
    };
  }
  if (name.startsWith('servegen-')) return servegenScenario(name, days);
  if (name.startsWith('synth-')) return (await import('./synth-scenarios.ts')).synthScenario(name);
  throw new Error(`unknown scenario ${name} (${[...TUNE, ...EVALUATE].join(', ')})`);
}

const DATA = new URL('../src/sim/data/', import.meta.url).pathname;

/**
 * The ServeGen slices (Alibaba Cloud Model Studio, per-tenant measurements; requests reconstructed
 * with seed 1). Service models from what the model is, not fitted to any result:
 * - servegen-mm: Qwen-VL-class image model, ~7B: 100 ms (vision encoder) + 0.2 ms/prompt token
 *   (images are ~1,000 tokens) + 15 ms/output token, 8 sequences per replica (continuous batching),
 *   cold start = Alibaba model-load times (same class of checkpoint); SLO 20 s (p99 of service alone is
 *   ~13.7 s: 857 output tokens; the SLO leaves room above it as the other scenarios do).
 * - servegen-r1: DeepSeek-R1 reasoning: 50 ms + 0.1 ms/prompt token + 20 ms/output token (about
 *   50 tokens/s per stream on a batched MoE node), 16 sequences per replica; cold start lognormal
 *   with median 90 s (hundreds of GB of weights at several GB/s plus engine warm-up); SLO 300 s
 *   (reasoning answers run minutes: output p99 is ~13k tokens = ~260 s of decoding alone).
 * - servegen-sparse: the 55 tenants of language model m-large that average < 0.05 requests/s:
 *   50 ms + 0.15 ms/prompt token + 20 ms/output token, 8 sequences per replica, cold start = Alibaba
 *   model-load times, SLO 15 s, scale to zero allowed (FaaS-like: ~85 % of seconds are empty).
 */
async function servegenScenario(name: string, days: number): Promise<Scenario> {
  if (name === 'servegen-mm') {
    const trace = readServeGen(`${DATA}servegen-mm-image.csv.gz`, { limitSeconds: Math.min(days, 1) * 86400 });
    const service = svc({ concurrency: 8, tokens: { baseMs: 100, prefillMsPerToken: 0.2, decodeMsPerToken: 15 }, coldStart: await alibabaColdStarts() });
    return {
      name, set: 'tune',
      describe: 'ServeGen Qwen-VL image (multimodal), 35 tenants, 1 day (arrivals reconstructed from per-tenant 10-min measurements); service 100 ms + 0.2 ms/prompt token + 15 ms/output token, 8 slots/replica, cold start = Alibaba model-load times, SLO 20 s',
      base: { seed: 1, trace, service, sloMs: 20_000, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs: 20_000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 0 },
      tide: [{ label: 'Tide predictive', seasonMs: 0 }],
    };
  }
  if (name === 'servegen-r1') {
    const trace = readServeGen(`${DATA}servegen-deepseek-r1.csv.gz`, { limitSeconds: Math.min(days, 1) * 86400 });
    const service = svc({ concurrency: 16, tokens: { baseMs: 50, prefillMsPerToken: 0.1, decodeMsPerToken: 20 }, coldStart: { kind: 'lognormal', medianMs: 90_000, sigma: 0.3 } });
    return {
      name, set: 'evaluate',
      describe: 'ServeGen DeepSeek-R1 (reasoning), 73 tenants, 1 day (arrivals reconstructed from per-tenant 10-min measurements; long-tail outputs); service 50 ms + 0.1 ms/prompt token + 20 ms/output token, 16 slots/replica, cold start lognormal(median 90 s, σ 0.3), SLO 300 s',
      base: { seed: 1, trace, service, sloMs: 300_000, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs: 300_000, sloTarget: 0.99, minReplicas: 1, maxReplicas: 200, seasonMs: 0 },
      tide: [{ label: 'Tide predictive', seasonMs: 0 }],
    };
  }
  if (name === 'servegen-sparse') {
    const d = Math.min(days, 14);
    const trace = readServeGen(`${DATA}servegen-m-large-sparse.csv.gz`, { limitSeconds: d * 86400 });
    const service = svc({ concurrency: 8, tokens: { baseMs: 50, prefillMsPerToken: 0.15, decodeMsPerToken: 20 }, coldStart: await alibabaColdStarts() });
    return {
      name, set: 'evaluate',
      describe: `ServeGen language model m-large, its 55 smallest tenants (< 0.05 req/s each), ${d === 1 ? 'day 1' : `days 1-${d}`} (arrivals reconstructed; sparse and bursty); service 50 ms + 0.15 ms/prompt token + 20 ms/output token, 8 slots/replica, cold start = Alibaba model-load times, SLO 15 s, scale to zero allowed`,
      base: { seed: 1, trace, service, sloMs: 15_000, initialReplicas: 0, maxReplicas: 200 },
      ctx: { service, sloMs: 15_000, sloTarget: 0.99, minReplicas: 0, maxReplicas: 200, seasonMs: d >= 2 ? 86_400_000 : 0 },
      tide: [{ label: 'Tide predictive', seasonMs: d >= 2 ? 86_400_000 : 0 }],
    };
  }
  throw new Error(`unknown scenario ${name} (${[...TUNE, ...EVALUATE].join(', ')})`);
}
