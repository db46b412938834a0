import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuMillicores, parseProcStat, readAllProcStats, sumGroups, UsageTracker, type ProcStat } from '../../../src/runtime/local/stats.ts';

const line = (pid: number, comm: string, ppid: number, pgrp: number, utime: number, stime: number, rss: number, state = 'S') =>
  `${pid} (${comm}) ${state} ${ppid} ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 12345 1000000 ${rss} 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0`;

test('parseProcStat reads ppid, pgrp, cpu ticks and rss, with spaces and parens in comm', () => {
  const s = parseProcStat(line(42, 'python3 (worker) x', 7, 40, 150, 50, 2560))!;
  assert.equal(s.pid, 42);
  assert.equal(s.comm, 'python3 (worker) x');
  assert.equal(s.ppid, 7);
  assert.equal(s.pgrp, 40);
  assert.equal(s.cpuTicks, 200);
  assert.equal(s.rssPages, 2560);
  assert.equal(parseProcStat('garbage'), null);
});

test('sumGroups sums a process group and descendants that left it, skipping zombies and others', () => {
  const stats: ProcStat[] = [
    parseProcStat(line(100, 'server', 1, 100, 100, 0, 1000))!,
    parseProcStat(line(101, 'worker', 100, 100, 200, 100, 500))!,
    parseProcStat(line(102, 'setsid-child', 101, 102, 50, 0, 100))!,
    parseProcStat(line(103, 'zombie', 100, 100, 999, 0, 0, 'Z'))!,
    parseProcStat(line(200, 'other', 1, 200, 700, 0, 9999))!,
  ];
  const g = sumGroups(stats, [100, 300]).get(100)!;
  assert.equal(g.cpuSeconds, 4.5);
  assert.equal(g.memoryBytes, 1600 * 4096);
  assert.deepEqual(g.pids.sort(), [100, 101, 102]);
  assert.equal(sumGroups(stats, [300]).get(300)!.cpuSeconds, 0);
});

test('cpuMillicores is the rate between samples; negative deltas (a child exited) are skipped', () => {
  assert.equal(cpuMillicores({ at: 0, cpuSeconds: 1, memoryBytes: 0 }, { at: 2000, cpuSeconds: 2, memoryBytes: 0 }), 500);
  assert.equal(cpuMillicores({ at: 0, cpuSeconds: 3, memoryBytes: 0 }, { at: 1000, cpuSeconds: 2, memoryBytes: 0 }), null);
  assert.equal(cpuMillicores({ at: 5, cpuSeconds: 0, memoryBytes: 0 }, { at: 5, cpuSeconds: 1, memoryBytes: 0 }), null);
});

test('UsageTracker turns samples into milli-unit PodMetricSamples (cpu needs two samples)', () => {
  const u = new UsageTracker();
  u.record('p', { at: 1000, cpuSeconds: 10, memoryBytes: 1_000_000 });
  assert.equal(u.resourceSample('p', 'cpu'), null);
  assert.deepEqual(u.resourceSample('p', 'memory'), { pod: 'p', value: 1_000_000_000, timestamp: 1000, windowSeconds: 0 });
  u.record('p', { at: 16_000, cpuSeconds: 13, memoryBytes: 2_000_000 });
  assert.deepEqual(u.resourceSample('p', 'cpu'), { pod: 'p', value: 200, timestamp: 16_000, windowSeconds: 15 });
  assert.equal(u.resourceSample('p', 'gpu'), null);
  u.forget('p');
  assert.equal(u.resourceSample('p', 'memory'), null);
});

test('readAllProcStats sees this very process in its group', () => {
  const all = readAllProcStats();
  const me = all.find((s) => s.pid === process.pid);
  assert.ok(me, 'own pid in /proc');
  assert.ok(sumGroups(all, [me!.pgrp]).get(me!.pgrp)!.pids.includes(process.pid));
});

test('UsageTracker: sampled every 5 s, the CPU rate spans the 15 s window, and is there after the second sample', () => {
  const u = new UsageTracker();
  u.windowMs = 15_000;
  u.record('p', { at: 0, cpuSeconds: 0, memoryBytes: 1 });
  u.record('p', { at: 5000, cpuSeconds: 1, memoryBytes: 1 });
  assert.deepEqual(u.resourceSample('p', 'cpu'), { pod: 'p', value: 200, timestamp: 5000, windowSeconds: 5 });
  u.record('p', { at: 10_000, cpuSeconds: 1.5, memoryBytes: 1 });
  u.record('p', { at: 15_000, cpuSeconds: 3, memoryBytes: 1 });
  assert.equal(u.resourceSample('p', 'cpu')!.windowSeconds, 15);
  assert.equal(u.resourceSample('p', 'cpu')!.value, 200);
  u.record('p', { at: 20_000, cpuSeconds: 6, memoryBytes: 1 });
  // window 5 s .. 20 s: (6 - 1) / 15 s
  assert.deepEqual([u.resourceSample('p', 'cpu')!.value, u.resourceSample('p', 'cpu')!.windowSeconds], [333, 15]);
});

test('UsageTracker: a window never starts before the replica became ready (once a later sample exists)', () => {
  const u = new UsageTracker();
  u.windowMs = 15_000;
  u.record('p', { at: 0, cpuSeconds: 0, memoryBytes: 1 });
  u.record('p', { at: 2000, cpuSeconds: 1, memoryBytes: 1 }, 3000);
  assert.equal(u.resourceSample('p', 'cpu')!.windowSeconds, 2); // nothing after ready yet: the plain window
  u.record('p', { at: 4000, cpuSeconds: 1.2, memoryBytes: 1 }, 3000);
  u.record('p', { at: 6000, cpuSeconds: 1.6, memoryBytes: 1 }, 3000);
  assert.deepEqual([u.resourceSample('p', 'cpu')!.value, u.resourceSample('p', 'cpu')!.windowSeconds], [200, 2]);
});
