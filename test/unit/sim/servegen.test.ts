// The ServeGen loader (src/sim/traces/servegen.ts): reconstruction from per-tenant windows, its
// samplers, and the shipped fixtures (src/sim/data/servegen-*.csv.gz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../src/sim/rng.ts';
import { fromQuantiles, gammaSample, parseServeGen, QUANTILES, readServeGen, reconstruct, weibullSample } from '../../../src/sim/traces/servegen.ts';
import { readTrace } from '../../../src/sim/traces/read.ts';

const dir = mkdtempSync(join(tmpdir(), 'tide-servegen-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const q = (lo: number, hi: number) => QUANTILES.map((p) => lo + p * (hi - lo));
const SMALL = [
  '# ServeGen test slice',
  'w,3,0,0.1,1.0,Gamma,1.0,10.0',
  'w,3,600,0.05,2.0,Weibull,0.5,5.0',
  'w,7,600,0.02,0.5,Gamma,4.0,12.5',
  `q,3,0,input_tokens,${q(100, 200).join(',')}`,
  `q,3,0,output_tokens,${q(10, 20).join(',')}`,
  `q,7,0,text_tokens,${q(50, 50).join(',')}`,
  `q,7,0,image_tokens,${q(1000, 1000).join(',')}`,
  `q,7,0,output_tokens,${q(5, 5).join(',')}`,
].join('\n');

test('reconstruction: ceil(rate x 600) arrivals per window, inside the window, sorted, tokens from the tenant\'s quantiles', () => {
  const t = reconstruct(parseServeGen(SMALL), 'small');
  // 60 + 30 (tenant 3) + 12 (tenant 7)
  assert.equal(t.times.length, 102);
  for (let i = 1; i < t.times.length; i++) assert.ok(t.times[i] >= t.times[i - 1]);
  assert.ok(t.times[0] >= 0 && t.times[t.times.length - 1] < 1_200_000);
  const first = Array.from(t.times).filter((x) => x < 600_000).length;
  assert.equal(first, 60);
  // tenant 7 (second window only): prompt = text 50 + image 1000, output 5; tenant 3 in [100, 200] / [10, 20]
  let seven = 0;
  for (let i = 0; i < t.times.length; i++) {
    if (t.promptTokens![i] === 1050) { seven++; assert.equal(t.outputTokens![i], 5); assert.ok(t.times[i] >= 600_000); continue; }
    assert.ok(t.promptTokens![i] >= 100 && t.promptTokens![i] <= 200);
    assert.ok(t.outputTokens![i] >= 10 && t.outputTokens![i] <= 20);
  }
  assert.equal(seven, 12);
});

test('reconstruction is deterministic per seed, and a slice holds exactly the same requests as the whole', () => {
  const d = parseServeGen(SMALL);
  const a = reconstruct(d, 'a');
  const b = reconstruct(d, 'b');
  assert.deepEqual(Array.from(a.times), Array.from(b.times));
  const c = reconstruct(d, 'c', { seed: 2 });
  assert.notDeepEqual(Array.from(a.times), Array.from(c.times));
  const late = reconstruct(d, 'late', { skipSeconds: 600 });
  assert.equal(late.startMs, 600_000);
  const whole = Array.from(a.times).filter((x) => x >= 600_000).map((x) => x - 600_000);
  assert.deepEqual(Array.from(late.times), whole);
  const only7 = reconstruct(d, 'only7', { clients: [7] });
  assert.equal(only7.times.length, 12);
  const first = reconstruct(d, 'first', { limitSeconds: 600 });
  assert.equal(first.times.length, 60);
});

test('samplers: Gamma and Weibull means; quantile interpolation', () => {
  const rng = new Rng(5);
  const mean = (f: () => number, n = 40_000) => { let s = 0; for (let i = 0; i < n; i++) s += f(); return s / n; };
  assert.ok(Math.abs(mean(() => gammaSample(rng, 3, 2)) - 6) < 0.15);
  assert.ok(Math.abs(mean(() => gammaSample(rng, 0.3, 10)) - 3) < 0.15);
  assert.ok(Math.abs(mean(() => weibullSample(rng, 1, 4)) - 4) < 0.1); // shape 1: exponential
  assert.ok(Math.abs(mean(() => weibullSample(rng, 2, 1)) - Math.sqrt(Math.PI) / 2) < 0.02);
  const pts = q(0, 100);
  assert.equal(fromQuantiles(pts, 0), 0);
  assert.equal(fromQuantiles(pts, 0.5), 50);
  assert.ok(Math.abs(fromQuantiles(pts, 0.925) - 92.5) < 1e-9);
  assert.equal(fromQuantiles(pts, 1), 100);
});

test('malformed files are rejected with file:line', () => {
  assert.throws(() => parseServeGen('w,1,0,0.1,1,Poisson,1,1', 'x.csv'), /x\.csv:1: pattern "Poisson"/);
  assert.throws(() => parseServeGen('# c\nw,1,0,-1,1,Gamma,1,1', 'x.csv'), /x\.csv:2: unreadable window line/);
  assert.throws(() => parseServeGen('q,1,0,output_tokens,1,2', 'x.csv'), /x\.csv:1: expected a "w" line/);
  const f = join(dir, 'servegen-small.csv.gz');
  writeFileSync(f, gzipSync(SMALL));
  assert.equal(readServeGen(f).times.length, 102);
});

const data = new URL('../../../src/sim/data/', import.meta.url).pathname;
test('shipped ServeGen fixtures: detected by name, licensed, and their first hour looks like the release', async () => {
  const stats = async (file: string) => {
    const header = gunzipSync(readFileSync(join(data, file))).toString('utf8').split('\n', 1)[0];
    assert.match(header, /^# ServeGen \(github\.com\/alibaba\/ServeGen, commit [0-9a-f]{40}, Apache-2\.0\)/);
    const t = await readTrace(join(data, file), { limitSeconds: 3600 });
    assert.equal(t.kind, 'requests');
    if (t.kind !== 'requests') throw new Error('kind');
    const out = Array.from(t.outputTokens!).sort((a, b) => a - b);
    const empty = new Set(Array.from(t.times, (x) => Math.floor(x / 1000))).size;
    return { n: t.times.length, outP50: out[out.length >> 1], emptyFrac: 1 - empty / 3600 };
  };
  const r1 = await stats('servegen-deepseek-r1.csv.gz');
  const mm = await stats('servegen-mm-image.csv.gz');
  const sp = await stats('servegen-m-large-sparse.csv.gz');
  // DeepSeek-R1: ~16 requests/s over the day, reasoning outputs of hundreds of tokens
  assert.ok(r1.n > 10_000 && r1.n < 200_000, `r1 ${r1.n}`);
  assert.ok(r1.outP50 > 300, `r1 output p50 ${r1.outP50}`);
  assert.ok(mm.n > 5_000 && mm.n < 100_000, `mm ${mm.n}`);
  assert.ok(mm.outP50 < r1.outP50);
  // the sparse tenants: most seconds have no request
  assert.ok(sp.emptyFrac > 0.5, `sparse empty ${sp.emptyFrac}`);
});

test('the reconstruction reproduces the published burstiness: per-window CV of inter-arrival gaps matches ServeGen\'s measured CV (median)', () => {
  for (const file of ['servegen-deepseek-r1.csv.gz', 'servegen-mm-image.csv.gz']) {
    const text = gunzipSync(readFileSync(join(data, file))).toString('utf8');
    const d = parseServeGen(text, file);
    const cv = new Map<string, number>();
    for (const line of text.split('\n')) { const f = line.split(','); if (f[0] === 'w') cv.set(`${f[1]},${f[2]}`, Number(f[4])); }
    const ratios: number[] = [];
    for (const w of d.windows.filter((x) => x.rate * 600 >= 200).slice(0, 120)) {
      const t = reconstruct({ windows: [w], tokens: d.tokens }, 'one window');
      const g: number[] = [];
      for (let i = 1; i < t.times.length; i++) g.push(t.times[i] - t.times[i - 1]);
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      const sd = Math.sqrt(g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length);
      ratios.push(sd / m / cv.get(`${w.client},${w.startS}`)!);
    }
    ratios.sort((a, b) => a - b);
    const med = ratios[ratios.length >> 1];
    assert.ok(ratios.length >= 100, `${file}: ${ratios.length} windows`);
    assert.ok(med > 0.9 && med < 1.1, `${file}: median CV ratio ${med}`);
  }
});
