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

/** Keeps the last two samples per replica and turns them into metrics-server-like samples. */
export class UsageTracker {
  private readonly last = new Map<string, { prev?: UsageSample; cur?: UsageSample; cpuMilli?: number; window?: number }>();

  record(replica: string, sample: UsageSample): void {
    const e = this.last.get(replica) ?? {};
    if (e.cur) {
      const m = cpuMillicores(e.cur, sample);
      if (m !== null) { e.cpuMilli = m; e.window = (sample.at - e.cur.at) / 1000; }
    }
    e.prev = e.cur;
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
