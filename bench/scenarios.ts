// The benchmark scenarios (docs/benchmarks.md, "Simulator"): the shipped public traces with their
// service models and SLOs, split into the set Tide's defaults were tuned on and a set that is only
// evaluated on. Full traces are read from $TIDE_TRACES_DIR (default ../shared/traces next to the
// checkout); they are not shipped.
import { defaultService, type ServiceModel, type SimOptions } from '../src/sim/engine.ts';
import { readColdStarts, readTrace } from '../src/sim/traces/read.ts';
import type { PolicyContext } from '../src/sim/run.ts';
import type { PredictivePolicy } from '../src/policies/predictive.ts';
import type { Dist } from '../src/sim/dist.ts';
import type { RequestsTrace, Trace } from '../src/sim/workload.ts';

export const TRACES_DIR = `${process.env.TIDE_TRACES_DIR ?? new URL('../../shared/traces', import.meta.url).pathname}/`;

export interface TideVariant { label: string; seasonMs: number; over?: Partial<PredictivePolicy> }
export interface Scenario { name: string; set: 'tune' | 'evaluate'; base: SimOptions; ctx: PolicyContext; tide: TideVariant[]; describe: string }

/** Tune-on: the three traces the defaults were chosen on. Evaluate-only: never used to choose a constant. */
export const TUNE = ['twitter', 'azure', 'alibaba'] as const;
export const EVALUATE = ['twitter-week2', 'azure-batched', 'azure-sparse'] as const;

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
  throw new Error(`unknown scenario ${name} (${[...TUNE, ...EVALUATE].join(', ')})`);
}
