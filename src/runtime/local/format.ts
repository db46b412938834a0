// kubectl-like output helpers: column tables and human durations (k8s.io/apimachinery duration.HumanDuration).

// One HumanDuration for every view (the kubectl views' copy follows apimachinery, incl. -1 s → "0s").
export { humanDuration } from '../../views/kubectl/duration.ts';

/** Columns separated by three spaces, left-aligned, as kubectl's tabwriter prints. */
export function table(header: string[], rows: string[][], sep = '   '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join(sep).trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
