// Derives the compact ServeGen fixtures in src/sim/data/ from a checkout of the public ServeGen
// repository (Alibaba Cloud Model Studio production statistics, Apache-2.0). Kept so that the shipped
// files can be re-derived and checked; nothing at run time reads the upstream checkout.
//   npx node bench/derive-servegen.ts <ServeGen checkout>/data [commit]
//
// Upstream layout: data/<category>/<model>/chunk-<client>-trace.csv, one line per 10-minute window:
//   window_start_s,rate_per_s,cv,pattern,shape,scale   (pattern Gamma|Weibull: the fitted inter-arrival
//   distribution; empty pattern = no requests), and chunk-<client>-dataset.json: per window start,
//   the client's input/output token-count distributions as "{value: probability, ...}" strings.
// Output (gzip CSV, one file per slice):
//   w,client,start_s,rate,cv,pattern,shape,scale        windows with requests only
//   q,client,start_s,field,<16 quantiles>               token-count quantiles at QUANTILES (fields: input_tokens,
//                                                       or text_tokens + image_tokens for the multimodal model; output_tokens)
import { readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

export const QUANTILES = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1];

interface Slice { out: string; dir: string; note: string; pick?: (meanRate: number) => boolean }
const SLICES: Slice[] = [
  { out: 'servegen-deepseek-r1.csv.gz', dir: 'reason/deepseek-r1', note: 'DeepSeek-R1 (reasoning), all 73 clients, 1 day' },
  { out: 'servegen-mm-image.csv.gz', dir: 'multimodal/mm-image', note: 'Qwen-VL image (multimodal), all 35 clients, 1 day' },
  { out: 'servegen-m-large-sparse.csv.gz', dir: 'language/m-large', note: 'language model m-large, the clients averaging < 0.05 requests/s over the 14 days', pick: (r) => r < 0.05 },
];

function quantiles(pmfText: string): number[] | undefined {
  const pairs: [number, number][] = [];
  for (const m of pmfText.matchAll(/(-?[\d.eE+-]+)\s*:\s*([\d.eE+-]+)/g)) pairs.push([Number(m[1]), Number(m[2])]);
  if (!pairs.length) return undefined; // an empty distribution upstream ('{}')
  pairs.sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((s, p) => s + p[1], 0);
  const out: number[] = [];
  for (const q of QUANTILES) {
    if (q === 0) { out.push(pairs.find((p) => p[1] > 0)?.[0] ?? 0); continue; }
    let c = 0;
    let v = pairs[pairs.length - 1][0];
    for (const [x, p] of pairs) { c += p / total; if (c >= q - 1e-12) { v = x; break; } }
    out.push(v);
  }
  return out;
}

const root = process.argv[2];
const commit = process.argv[3] ?? 'unknown';
if (!root) throw new Error('usage: derive-servegen.ts <ServeGen>/data [commit]');
for (const s of SLICES) {
  const dir = join(root, s.dir);
  const lines = [
    `# ServeGen (github.com/alibaba/ServeGen, commit ${commit}, Apache-2.0), data/${s.dir}: ${s.note}`,
    '# w,client,start_s,rate_per_s,cv,pattern,shape,scale | q,client,start_s,field,quantiles ' + QUANTILES.join(' '),
  ];
  const clients = readdirSync(dir).map((f) => /^chunk-(\d+)-trace\.csv$/.exec(f)?.[1]).filter((x): x is string => !!x).map(Number).sort((a, b) => a - b);
  let kept = 0;
  for (const c of clients) {
    const rows = readFileSync(join(dir, `chunk-${c}-trace.csv`), 'utf8').trim().split('\n').map((l) => l.split(','));
    const mean = rows.reduce((a, r) => a + Number(r[1]), 0) / rows.length;
    if (s.pick && !s.pick(mean)) continue;
    const ds = join(dir, `chunk-${c}-dataset.json`);
    if (!existsSync(ds)) continue; // a few upstream dataset files are not retrievable: skip those clients whole
    const windows = rows.filter((r) => r.length === 6 && r[3] !== '' && Number(r[1]) > 0);
    if (!windows.length) continue;
    kept++;
    for (const r of windows) lines.push(['w', c, r[0], Number(r[1]).toPrecision(6), Number(r[2]).toPrecision(4), r[3], Number(r[4]).toPrecision(6), Number(r[5]).toPrecision(6)].join(','));
    const data = JSON.parse(readFileSync(ds, 'utf8')) as Record<string, Record<string, string>>;
    for (const [start, fields] of Object.entries(data)) {
      for (const f of ['input_tokens', 'text_tokens', 'image_tokens', 'output_tokens']) {
        const q = fields[f] ? quantiles(fields[f]) : undefined;
        if (q) lines.push(['q', c, start, f, ...q].join(','));
      }
    }
  }
  writeFileSync(join(new URL('../src/sim/data/', import.meta.url).pathname, s.out), gzipSync(lines.join('\n') + '\n', { level: 9 }));
  console.log(`${s.out}: ${kept} clients, ${lines.length} lines`);
}
