// What scaling to zero can save on a scenario, for any policy that sees only the arrivals so far.
//
//   npx node bench/wake-gaps.ts [scenario] [--days N]      (default: synth-tenants, 2 days)
//
// Takes the scenario's own arrival stream (same seed as the simulator) and its idle gaps: the time
// between the end of one busy period (every request served on arrival, no queue) and the next
// arrival. A policy that releases the last replica after T s of idleness saves Σ (g − T) over the
// gaps g > T and wakes once per such gap; a request that arrives within (cold start − SLO) of the
// wake-up waits past the SLO before its service even starts, so it is lost whatever happens next.
// Both numbers are bounds in the policy's favour: the saving ignores the queue (idleness starts later
// in reality), the loss ignores service time (more requests miss in reality).
//
// The table answers one question: does waiting longer tell the policy that the gap will be long?
// If the saving per wake-up is the same for every T, the remaining gap is independent of the idle
// time already seen (memoryless, as for Poisson session starts), no online rule can pick the long
// gaps, and the error budget caps the saving at (saving per wake-up) × (wake-ups it can pay for).
import { scenario } from './scenarios.ts';
import { ArrivalStream } from '../src/sim/workload.ts';

const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--')) ?? 'synth-tenants';
const daysAt = args.indexOf('--days');
const days = daysAt >= 0 ? Number(args[daysAt + 1]) : 2;
const sc = await scenario(name, days);
const { base, ctx } = sc;
if (ctx.minReplicas !== 0) throw new Error(`${name}: --min ${ctx.minReplicas}, it never scales to zero`);
const cold = base.service.coldStart;
if (cold.kind !== 'fixed') throw new Error(`${name}: the cold start is not a fixed time (${cold.kind})`);
const lossWindowMs = Math.max(0, cold.ms - base.sloMs);

// busy periods (union of [arrival, arrival + service]) and the arrivals that follow each gap
const a = new ArrivalStream(base.trace, base.service, base.seed, base.endMs);
const gapsMs: number[] = [];
const gapEnds: number[] = [];
const times: number[] = [];
let busyUntil = -Infinity;
while (a.next()) {
  if (a.t > busyUntil && busyUntil > -Infinity) { gapsMs.push(a.t - busyUntil); gapEnds.push(times.length); }
  times.push(a.t);
  busyUntil = Math.max(busyUntil, a.t + a.s);
}
const lostAfter = gapEnds.map((i) => {
  let n = 0;
  while (i + n < times.length && times[i + n]! < times[i]! + lossWindowMs) n++;
  return n;
});
const budget = (1 - ctx.sloTarget) * times.length;
console.log(`${name}, ${days} d: ${times.length} requests, ${gapsMs.length} idle gaps; cold start ${cold.ms / 1000} s, SLO ${base.sloMs / 1000} s: a request within ${lossWindowMs / 1000} s of a wake-up is lost; error budget ${(100 * (1 - ctx.sloTarget)).toFixed(0)} % = ${budget.toFixed(0)} requests`);
console.log('| release after idle T | replica-s saved | wake-ups | saved per wake-up | requests lost (at least) | saved per request lost |');
console.log('|---:|---:|---:|---:|---:|---:|');
for (const T of [10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450]) {
  let saved = 0, wakes = 0, lost = 0;
  gapsMs.forEach((g, k) => { if (g > T * 1000) { saved += (g - T * 1000) / 1000; wakes++; lost += lostAfter[k]!; } });
  if (wakes === 0) break;
  console.log(`| ${T} s | ${Math.round(saved).toLocaleString('en-US')} | ${wakes} | ${(saved / wakes).toFixed(0)} s | ${lost} (${((100 * lost) / times.length).toFixed(2)} %) | ${lost ? (saved / lost).toFixed(1) : '–'} s |`);
}
