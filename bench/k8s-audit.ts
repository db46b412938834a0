// What the Kubernetes benches (bench/k8s-controller.ts, bench/k8s-scale.ts) share: an apiserver audit
// policy + the kube-apiserver flags that write it to a JSON log, an incremental reader of that log
// (ResponseComplete events only), and a process's CPU and memory from /proc.
import { createReadStream, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AuditEvent {
  verb: string;
  userAgent?: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string; namespace?: string; name?: string };
  requestReceivedTimestamp: string;
  responseStatus?: { code?: number };
  stage: string;
}

/**
 * A private folder with an audit policy (`rules`: the policy's rules before the final `level: None`,
 * YAML list items) and the kube-apiserver flags that log to `file` (JSON, batched, flushed every second).
 */
export function auditSetup(prefix: string, rules: string): { dir: string; file: string; apiserverArgs: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const policy = join(dir, 'audit-policy.yaml');
  const file = join(dir, 'audit.log');
  writeFileSync(policy, `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
${rules.trimEnd()}
- level: None
`);
  return { dir, file, apiserverArgs: `--audit-policy-file=${policy} --audit-log-path=${file} --audit-log-format=json --audit-log-mode=batch --audit-log-batch-max-wait=1s` };
}

/** The audit log read from where the last poll stopped; `select` maps each ResponseComplete event to a kept record (or undefined). */
export class AuditTail<R> {
  readonly file: string;
  readonly records: R[] = [];
  private offset = 0;
  private partial = '';
  private readonly select: (e: AuditEvent) => R | undefined;
  constructor(file: string, select: (e: AuditEvent) => R | undefined) {
    this.file = file;
    this.select = select;
  }

  async poll(): Promise<void> {
    let size = 0;
    try { size = statSync(this.file).size; } catch { return; }
    if (size <= this.offset) return;
    const stream = createReadStream(this.file, { start: this.offset, end: size - 1, encoding: 'utf8' });
    this.offset = size;
    let text = this.partial;
    for await (const chunk of stream) text += chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"ResponseComplete"')) continue;
      const r = this.select(JSON.parse(line) as AuditEvent);
      if (r !== undefined) this.records.push(r);
    }
  }
}

/** `resource/subresource.group` of an audit event ("non-resource" for /metrics, /healthz, ...). */
export function resourceOf(e: AuditEvent): string {
  const o = e.objectRef;
  return o ? `${o.resource ?? ''}${o.subresource ? `/${o.subresource}` : ''}${o.apiGroup ? `.${o.apiGroup}` : ''}` : 'non-resource';
}

const CLK_TCK = 100;

/** utime+stime (seconds) and RSS / peak RSS (MiB) of a process. */
export function procStat(pid: number): { cpuS: number; rssMiB: number; hwmMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

/** utime+stime of each thread of a process by thread name ("main", V8 workers, libuv pool...). */
export function threadCpu(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  let tids: string[] = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return m; }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '#');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = tid === String(pid) ? 'main' : name;
      m.set(key, (m.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
    } catch { /* exited */ }
  }
  return m;
}

/** The per-thread CPU between two threadCpu readings, divided by `per` (e.g. rounds), largest first. */
export function threadDelta(a: Map<string, number>, b: Map<string, number>, per: number): string {
  return [...b.entries()].map(([k, v]) => [k, (v - (a.get(k) ?? 0)) / per] as const).filter(([, v]) => v >= 0.005)
    .sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
}
