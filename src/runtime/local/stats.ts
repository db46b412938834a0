// Per-replica CPU and memory from /proc, the local stand-in for metrics-server.
// A replica runs in its own process group, so its process tree is every process whose pgrp is the
// replica's pid (children that call setsid escape it, as they would escape a cgroup-less kubelet).
// CPU is a rate between two samples (millicores, like metrics-server's window); memory is the
// resident set in bytes. Parsing is pure and unit-tested; reading /proc is a thin wrapper.
import { readdirSync, readFileSync } from 'node:fs';
import type { PodMetricSample } from '../../deciders/hpa/types.ts';

export const CLOCK_TICKS_PER_SECOND = 100; // sysconf(_SC_CLK_TCK) on every Linux Tide targets
export const PAGE_SIZE = 4096;

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Resident set size, pages. */
  rssPages: number;
}

/** Parse one /proc/<pid>/stat line. The comm field is in parentheses and may contain spaces/parens. */
export function parseProcStat(line: string): ProcStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(line.slice(0, open).trim());
  const comm = line.slice(open + 1, close);
  const rest = line.slice(close + 2).trim().split(/\s+/);
  // rest[0] = field 3 (state); field n is rest[n - 3]
  if (rest.length < 22 || !Number.isFinite(pid)) return null;
  const f = (n: number) => Number(rest[n - 3]);
  return { pid, comm, state: rest[0], ppid: f(4), pgrp: f(5), cpuTicks: f(14) + f(15), rssPages: f(24) };
}

export interface GroupUsage {
  /** Total CPU time of the group's live processes, seconds. */
  cpuSeconds: number;
  memoryBytes: number;
  pids: number[];
}

/** Sum usage over processes in the given process groups (or descending from the given pids). */
export function sumGroups(stats: ProcStat[], groupLeaders: number[]): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>();
  for (const g of groupLeaders) out.set(g, { cpuSeconds: 0, memoryBytes: 0, pids: [] });
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = byParent.get(s.ppid) ?? [];
    list.push(s);
    byParent.set(s.ppid, list);
  }
  const seen = new Set<number>();
  for (const g of groupLeaders) {
    const acc = out.get(g)!;
    const add = (s: ProcStat) => {
      if (seen.has(s.pid) || s.state === 'Z') return;
      seen.add(s.pid);
      acc.cpuSeconds += s.cpuTicks / CLOCK_TICKS_PER_SECOND;
      acc.memoryBytes += s.rssPages * PAGE_SIZE;
      acc.pids.push(s.pid);
    };
    // members of the process group, plus descendants that moved to another group
    const queue = stats.filter((s) => s.pgrp === g || s.pid === g);
    while (queue.length) {
      const s = queue.shift()!;
      if (seen.has(s.pid)) continue;
      add(s);
      for (const c of byParent.get(s.pid) ?? []) queue.push(c);
    }
  }
  return out;
}

/** Read every /proc/<pid>/stat (processes vanishing mid-scan are skipped). */
export function readAllProcStats(procRoot = '/proc'): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: string[];
  try { entries = readdirSync(procRoot); } catch { return out; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = parseProcStat(readFileSync(`${procRoot}/${e}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch { /* exited */ }
  }
  return out;
}

export interface UsageSample { at: number; cpuSeconds: number; memoryBytes: number }

/** CPU rate in millicores between two cumulative samples (null when not computable). */
export function cpuMillicores(prev: UsageSample, cur: UsageSample): number | null {
  const dt = (cur.at - prev.at) / 1000;
  if (dt <= 0) return null;
  const used = cur.cpuSeconds - prev.cpuSeconds;
  if (used < 0) return null; // a process of the tree exited: its time left the sum; skip this window
  return Math.round((used / dt) * 1000);
}

/**
 * Keeps each replica's recent samples and turns them into metrics-server-like samples: the CPU rate
 * is taken over about `windowMs` (metrics-server's resolution), from the oldest sample in that window
 * to the newest, so sampling more often than the window (the controller samples every 5 s) gives a
 * rate soon after a replica starts without making it noisier.
 */
export class UsageTracker {
  /** The rate window (ms); a sample at most 10 % older still counts as inside it. */
  windowMs = 15_000;
  private readonly last = new Map<string, { hist: UsageSample[]; cur?: UsageSample; cpuMilli?: number; window?: number }>();

  /**
   * `readySince`: when the replica last became ready. A window that starts before it would make the
   * HPA treat the sample as taken while unready (upstream's "pods might be unready"), so once a
   * sample after that instant exists, the window starts there (shorter, like a young pod's).
   */
  record(replica: string, sample: UsageSample, readySince?: number): void {
    const e = this.last.get(replica) ?? { hist: [] };
    if (e.cur) e.hist.push(e.cur);
    let base: UsageSample | undefined;
    let i = 0;
    const from = readySince !== undefined && e.hist.some((h) => h.at >= readySince) ? readySince : -Infinity;
    for (; i < e.hist.length; i++) if (e.hist[i].at >= from && sample.at - e.hist[i].at <= this.windowMs * 1.1) { base = e.hist[i]; break; }
    if (!base && e.hist.length) { i = e.hist.length - 1; base = e.hist[i]; }
    if (i > 0) e.hist.splice(0, i);
    if (base) {
      const m = cpuMillicores(base, sample);
      if (m !== null) { e.cpuMilli = m; e.window = (sample.at - base.at) / 1000; }
    }
    e.cur = sample;
    this.last.set(replica, e);
  }

  forget(replica: string): void { this.last.delete(replica); }

  /** Resource samples in milli-units as the HPA decider wants them; pods without a rate yet are absent. */
  resourceSample(replica: string, resource: string): PodMetricSample | null {
    const e = this.last.get(replica);
    if (!e?.cur) return null;
    if (resource === 'cpu') {
      if (e.cpuMilli === undefined) return null;
      return { pod: replica, value: e.cpuMilli, timestamp: e.cur.at, windowSeconds: e.window ?? 0 };
    }
    if (resource === 'memory') return { pod: replica, value: e.cur.memoryBytes * 1000, timestamp: e.cur.at, windowSeconds: e.window ?? 0 };
    return null;
  }

  /** Raw numbers for display: cpu millicores and memory bytes. */
  usage(replica: string): { cpuMilli?: number; memoryBytes?: number } {
    const e = this.last.get(replica);
    return { cpuMilli: e?.cpuMilli, memoryBytes: e?.cur?.memoryBytes };
  }
}
