// A long-lived process that runs one mutant after another without a new Node start: each mutant
// gets a fresh copy of the project's module graph (every project module is imported again under a
// URL with ?tidegen=N), the target file's text is replaced by the mutant's, node:test is replaced by
// test-shim.ts, and the recorded tests run in order until the first failure.
import { registerHooks } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT_URL = pathToFileURL(resolve(HERE, '..', '..') + '/').href;
const SHIM = pathToFileURL(join(HERE, 'test-shim.ts')).href;
interface Job { gen: number; tests: string[]; mutant: { file: string; start: number; end: number; text: string } | null; }
const g = globalThis as unknown as { __tideTests?: { name: string; fn: () => unknown; skip: boolean }[] };
let current: Job | null = null;

const genOf = (url: string | undefined): string | null => (url ? /[?&]tidegen=(\d+)/.exec(url)?.[1] ?? null : null);
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'node:test' || specifier === 'test') return { url: SHIM, shortCircuit: true };
    const r = nextResolve(specifier, context);
    const gen = genOf(context.parentURL);
    if (gen !== null && r.url.startsWith(ROOT_URL) && !r.url.includes('/node_modules/') && !r.url.includes('?')) {
      return { ...r, url: `${r.url}?tidegen=${gen}` };
    }
    return r;
  },
  load(url, context, nextLoad) {
    const r = nextLoad(url, context);
    const m = current?.mutant;
    if (m && genOf(url) !== null && url.split('?')[0] === pathToFileURL(m.file).href) {
      const text = String(r.source);
      return { ...r, source: text.slice(0, m.start) + m.text + text.slice(m.end) };
    }
    return r;
  },
});

let failure: string | null = null;
process.on('uncaughtException', (e) => { failure ??= `uncaught: ${String(e).slice(0, 200)}`; });
process.on('unhandledRejection', (e) => { failure ??= `unhandled rejection: ${String(e).slice(0, 200)}`; });

process.on('message', async (job: Job) => {
  current = job;
  g.__tideTests = [];
  failure = null;
  let killedBy: string | null = null;
  let count = 0;
  try {
    for (const t of job.tests) {
      g.__tideTests = [];
      await import(`${pathToFileURL(t).href}?tidegen=${job.gen}`);
      for (const rec of g.__tideTests) {
        if (rec.skip) continue;
        count++;
        try { await rec.fn(); } catch { killedBy = `${t} :: ${rec.name}`; break; }
        if (failure) { killedBy = `${t} :: ${rec.name} (${failure})`; break; }
      }
      if (killedBy) break;
    }
  } catch (e) {
    killedBy = `(import failed: ${String(e).split('\n')[0].slice(0, 160)})`;
  }
  process.send!({ gen: job.gen, killedBy, count });
});
process.send!({ ready: true });
