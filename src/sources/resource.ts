// cpu / memory source: per-replica usage from the runtime's process stats (src/runtime/local/stats.ts),
// given to the source as a callback so the source does no /proc reading itself. One sample per
// replica (label pod), value in base units: cores for cpu, bytes for memory.

import type { MetricSource, SourceSample } from './types.ts';

export interface ReplicaUsage { pod: string; cpuMillicores: number | null; memoryBytes: number }

export class ResourceSource implements MetricSource {
  readonly kind: 'cpu' | 'memory';
  private readonly usage: () => Promise<ReplicaUsage[]> | ReplicaUsage[];
  constructor(resource: 'cpu' | 'memory', usage: () => Promise<ReplicaUsage[]> | ReplicaUsage[]) {
    this.kind = resource;
    this.usage = usage;
  }
  describe(): string {
    return `${this.kind} usage of each replica (process stats)`;
  }
  async read(now: number): Promise<SourceSample[]> {
    const rows = await this.usage();
    const out: SourceSample[] = [];
    for (const r of rows) {
      if (this.kind === 'cpu') {
        if (r.cpuMillicores === null) continue; // no rate yet (first sample)
        out.push({ value: r.cpuMillicores / 1000, timestamp: now, labels: { pod: r.pod } });
      } else {
        out.push({ value: r.memoryBytes, timestamp: now, labels: { pod: r.pod } });
      }
    }
    return out;
  }
  async close(): Promise<void> {}
}
