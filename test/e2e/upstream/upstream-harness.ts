// What the differential tests share: whether Go is here, building a harness with its build.sh
// (cached by the script), running it over JSON lines, and the seeded generator the formula and KPA
// scenario generators draw from (xorshift32; the HPA scenarios keep their own mulberry32 stream).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function haveGo(): boolean {
  for (const go of ['go', '/usr/local/go/bin/go']) if (spawnSync(go, ['version'], { stdio: 'ignore' }).status === 0) return true;
  return false;
}

/** Runs `script` (relative to the repository) and returns the harness binary path it prints last. */
export function buildHarness(script: string): string {
  const r = spawnSync('bash', [join(ROOT, script)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  return r.stdout.trim().split('\n').pop()!;
}

/** One harness process over all inputs: one JSON line in, one JSON line out each, in order. */
export function runJsonLines<T>(bin: string, inputs: readonly unknown[]): T[] {
  const run = spawnSync(bin, [], { input: inputs.map((c) => JSON.stringify(c)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`${bin} exited ${run.status}:\n${run.stderr.slice(-4000)}`);
  const out = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as T);
  if (out.length !== inputs.length) throw new Error(`${bin}: ${out.length} answers to ${inputs.length} inputs`);
  return out;
}

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s / 2 ** 32; }
  int(a: number, b: number): number { return a + Math.floor(this.next() * (b - a + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]; }
  chance(p: number): boolean { return this.next() < p; }
}
