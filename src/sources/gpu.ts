// GPU source: `nvidia-smi --query-gpu=… --format=csv,noheader,nounits`, one sample per GPU (labels
// gpu index and uuid). metric: utilization (percent, default) | memory-used (bytes) |
// memory-utilization (percent of total). When nvidia-smi is absent the read rejects with
// "nvidia-smi not found" so the decider treats the metric as invalid.

import { execFile } from 'node:child_process';
import type { MetricSource, SourceSample } from './types.ts';
import { SourceError, type Env } from './common.ts';

export type GpuMetric = 'utilization' | 'memory-used' | 'memory-utilization';

export interface GpuOptions {
  metric?: GpuMetric;
  /** Only these GPU indices (default: all). */
  indices?: number[];
  /** Path or name of nvidia-smi (tests point it at a fake). */
  binary?: string;
  timeoutMs?: number;
}

export function parseNvidiaSmi(csv: string, metric: GpuMetric): SourceSample[] {
  const out: SourceSample[] = [];
  for (const line of csv.split('\n')) {
    if (!line.trim()) continue;
    const [index, uuid, util, memUsed, memTotal] = line.split(',').map((s) => s.trim());
    const n = (s: string | undefined) => (s === undefined || s === '[N/A]' || s === '' ? NaN : Number(s));
    let v: number;
    if (metric === 'memory-used') v = n(memUsed) * 1024 * 1024;
    else if (metric === 'memory-utilization') v = (n(memUsed) / n(memTotal)) * 100;
    else v = n(util);
    out.push({ value: v, timestamp: 0, labels: { gpu: index ?? '', uuid: uuid ?? '' } });
  }
  return out;
}

export class GpuSource implements MetricSource {
  readonly kind = 'gpu';
  readonly opts: GpuOptions;
  constructor(opts: GpuOptions = {}) {
    this.opts = { metric: 'utilization', binary: 'nvidia-smi', timeoutMs: 5000, ...opts };
  }
  describe(): string {
    return `gpu ${this.opts.metric} via ${this.opts.binary}${this.opts.indices ? ` (gpus ${this.opts.indices.join(',')})` : ''}`;
  }
  read(now: number, signal?: AbortSignal): Promise<SourceSample[]> {
    return new Promise((resolve, reject) => {
      execFile(this.opts.binary!, ['--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'],
        { timeout: this.opts.timeoutMs, signal },
        (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException;
            if (e.code === 'ENOENT') return reject(new SourceError('gpu', `nvidia-smi not found (looked for ${this.opts.binary} on PATH); no NVIDIA driver on this machine?`));
            return reject(new SourceError('gpu', `nvidia-smi failed: ${(stderr || e.message).trim()}`));
          }
          let samples = parseNvidiaSmi(stdout, this.opts.metric!).map((s) => ({ ...s, timestamp: now }));
          if (this.opts.indices) samples = samples.filter((s) => this.opts.indices!.includes(Number(s.labels!.gpu)));
          if (samples.length === 0) return reject(new SourceError('gpu', 'nvidia-smi reported no GPUs'));
          if (samples.some((s) => !Number.isFinite(s.value))) return reject(new SourceError('gpu', `nvidia-smi reported no ${this.opts.metric} value`));
          resolve(samples);
        });
    });
  }
  async close(): Promise<void> {}
}

/** Tide extension trigger `gpu`: metadata metric, gpus ("0,1"), value (target), activationValue. */
export function gpuFromKeda(meta: Record<string, string>, env: Env): GpuSource {
  const metric = (meta.metric ?? 'utilization') as GpuMetric;
  if (!['utilization', 'memory-used', 'memory-utilization'].includes(metric)) {
    throw new Error(`gpu trigger: metric ${metric} is not supported (utilization, memory-used, memory-utilization)`);
  }
  const opts: GpuOptions = { metric };
  if (meta.gpus) opts.indices = meta.gpus.split(',').map((s) => Number(s.trim()));
  const bin = meta.nvidiaSmiPath ?? env.TIDE_NVIDIA_SMI;
  if (bin) opts.binary = bin;
  return new GpuSource(opts);
}
