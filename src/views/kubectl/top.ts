// `kubectl top pods` for metrics.k8s.io/v1beta1 PodMetrics: CPU in millicores, memory in Mi. Pure.
import { milliValue } from '../../manifests/quantity.ts';
import type { PodMetrics } from './types.ts';

export const TOP_POD_COLUMNS = ['NAME', 'CPU(cores)', 'MEMORY(bytes)'];

export function topPodRow(m: PodMetrics): string[] {
  let cpuMilli = 0;
  let memMilli = 0;
  for (const c of m.containers) { cpuMilli += milliValue(c.usage.cpu); memMilli += milliValue(c.usage.memory); }
  const mi = Math.floor(memMilli / 1000 / (1024 * 1024));
  return [m.metadata.name, `${Math.round(cpuMilli)}m`, `${mi}Mi`];
}
