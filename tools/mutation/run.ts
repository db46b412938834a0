// Mutation testing of the deciders, the autoscalers and the proxy's framing and
// admission code (`npm run mutation`; not part of `npm test`).
//
//   npm run mutation                                  every target, in priority order
//   npm run mutation -- src/deciders/kpa/decide.ts    one file (several may be named)
//   npm run mutation -- --report                      only rewrite docs/mutation.md
//   options: --force (ignore the cache), --tests a.test.ts,b.test.ts (override the test set),
//            --only LINE[,LINE] (only mutants on these lines; for working on survivors)
//
// Each mutant is one process: Node 24 with a module hook (hook.ts) that serves the mutated text of
// the one source file, the file's narrowest test set imported into that process (entry.ts), and a
// reporter that stops at the first failing test (bail.ts). A mutant is killed when a test fails or
// the run exceeds its time limit; mutants on code that the unmodified test run never executes
// (V8 coverage) are reported as 'no coverage' without running.
//
// Incremental: results are kept in tools/mutation/results/. A killed mutant is not run again while
// the mutated file text and the test file that killed it are unchanged; a survivor is run again
// when any file of its test set changed. A file's results are saved every 25 mutants run and on
// SIGINT/SIGTERM, so an interrupted run loses little: the next one reuses them (the report counts only
// results of the file's current text). Survivors are judged in verdicts.json
// ('equivalent: …' or 'not a decision: …'); docs/mutation.md is written from both.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateMutants, type Mutant } from './mutants.ts';
import { TARGETS } from './targets.ts';
import { writeReport } from './report.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const RESULTS = join(HERE, 'results');

export type Status = 'killed' | 'timeout' | 'survived' | 'no-coverage';
export interface MutantResult {
  key: string; line: number; col: number; kind: string; category: Mutant['category'];
  original: string; text: string; status: Status; killedBy?: string;
  /** sha1 of the mutated file text */
  hash: string;
  /** sha1 of the killing test file (killed) or of the whole test set (survived / no coverage) */
  testsHash: string;
}
export interface FileResult { file: string; tests: string[]; baselineMs: number; mutants: MutantResult[]; }

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const nodeBin = process.execPath;

export function resultPath(file: string): string {
  return join(RESULTS, file.replace(/^src\//, '').replace(/[/\\]/g, '__').replace(/\.ts$/, '.json'));
}
export function loadResult(file: string): FileResult | null {
  const p = resultPath(file);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as FileResult : null;
}

interface RunOutcome { failed: boolean; timedOut: boolean; killedBy?: string; ms: number; output: string; }

function runTests(tests: string[], env: Record<string, string>, timeoutMs: number): Promise<RunOutcome> {
  return new Promise((done) => {
    const t0 = Date.now();
    const child = spawn(nodeBin, [
      '--import', pathToFileURL(join(HERE, 'hook.ts')).href,
      '--test-reporter', pathToFileURL(join(HERE, 'bail.ts')).href,
      join(HERE, 'entry.ts'),
    ], {
      cwd: ROOT,
      env: { ...process.env, ...env, TIDE_MUTANT_TESTS: tests.map((t) => join(ROOT, t)).join('\n') },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
    child.stderr.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-20_000); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const m = /MUTANT-KILLED-BY\t([^\t\n]*)\t([^\n]*)/.exec(output);
      const killedBy = m ? `${relative(ROOT, m[1].startsWith('file:') ? fileURLToPath(m[1]) : m[1])} :: ${m[2]}` : undefined;
      done({ failed: code !== 0, timedOut, killedBy, ms: Date.now() - t0, output });
    });
  });
}

/** The long-lived mutant runner (worker.ts); restarted after a timeout and every 150 mutants. */
class Worker {
  private child: ReturnType<typeof spawn> | null = null;
  private gen = 0;
  private used = 0;
  private start(): Promise<void> {
    const child = spawn(nodeBin, [join(HERE, 'worker.ts')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    child.stderr!.on('data', () => { /* tests' own noise */ });
    this.child = child;
    this.used = 0;
    return new Promise((ok, fail) => {
      child.once('message', () => ok());
      child.once('exit', (c) => fail(new Error(`mutation worker exited (${c}) before it was ready`)));
    });
  }
  stop(): void {
    if (this.child) { try { process.kill(-this.child.pid!, 'SIGKILL'); } catch { /* gone */ } }
    this.child = null;
  }
  async run(tests: string[], mutant: { file: string; start: number; end: number; text: string } | null, timeoutMs: number): Promise<RunOutcome> {
    if (!this.child || this.used >= 150) { this.stop(); await this.start(); }
    this.used++;
    const gen = ++this.gen;
    const child = this.child!;
    const t0 = Date.now();
    return new Promise((done) => {
      const timer = setTimeout(() => {
        child.removeAllListeners('exit');
        child.removeAllListeners('message');
        this.stop();
        done({ failed: true, timedOut: true, ms: Date.now() - t0, output: '' });
      }, timeoutMs);
      const onExit = (): void => {
        clearTimeout(timer);
        if (this.child === child) this.child = null;
        done({ failed: true, timedOut: false, killedBy: '(worker crashed)', ms: Date.now() - t0, output: '' });
      };
      child.once('exit', onExit);
      child.once('message', (msg: { gen: number; killedBy: string | null; count: number }) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        const killedBy = msg.killedBy ? msg.killedBy.replace(ROOT + '/', '') : undefined;
        done({ failed: msg.killedBy !== null || msg.count === 0, timedOut: false, killedBy, ms: Date.now() - t0, output: `${msg.count} tests` });
      });
      child.send({ gen, tests: tests.map((t) => join(ROOT, t)), mutant });
    });
  }
}
const worker = new Worker();
/** Saves the running file's results so far (set while a file is being mutated). */
let saveProgress: (() => void) | null = null;
process.on('exit', () => worker.stop());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { worker.stop(); saveProgress?.(); process.exit(130); });
}

/** Offsets of the file that the unmodified run executed (innermost V8 block range with count > 0). */
function coverageOf(dir: string, file: string): ((offset: number) => boolean) | null {
  const url = pathToFileURL(join(ROOT, file)).href;
  const ranges: { s: number; e: number; c: number }[] = [];
  for (const f of readdirSync(dir)) {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { result: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[] };
    for (const script of data.result) {
      if (script.url !== url) continue;
      for (const fn of script.functions) for (const r of fn.ranges) ranges.push({ s: r.startOffset, e: r.endOffset, c: r.count });
    }
  }
  if (ranges.length === 0) return null;
  return (offset) => {
    let best: { s: number; e: number; c: number } | null = null;
    for (const r of ranges) {
      if (r.s <= offset && offset < r.e && (best === null || r.e - r.s <= best.e - best.s)) best = r;
    }
    return best !== null && best.c > 0;
  };
}

async function mutateFile(file: string, opts: { force: boolean; tests?: string[]; only?: Set<number> }): Promise<void> {
  const tests = opts.tests ?? TARGETS[file];
  if (!tests) throw new Error(`${file}: no test set in tools/mutation/targets.ts (give one with --tests)`);
  const abs = join(ROOT, file);
  const text = readFileSync(abs, 'utf8');
  const testText = new Map(tests.map((t) => [t, readFileSync(join(ROOT, t), 'utf8')]));
  // The test set's hash also covers the helpers next to the tests.
  const helperText = [...new Set(tests.map((t) => dirname(t)))].flatMap((d) =>
    readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => readFileSync(join(ROOT, d, f), 'utf8')));
  const setHash = sha1([...testText.values(), ...helperText].join('\0'));
  const fileHash = (t: string): string => sha1(testText.get(t) ?? '');
  const previous = opts.force ? null : loadResult(file);
  const prevByKey = new Map((previous?.mutants ?? []).map((m) => [m.key, m]));

  // Baseline: the unmodified file must pass its tests; its V8 coverage picks the mutants worth running.
  const covDir = mkdtempSync(join(tmpdir(), 'tide-mutation-cov-'));
  const base = await runTests(tests, { NODE_V8_COVERAGE: covDir }, 600_000);
  if (base.failed) {
    rmSync(covDir, { recursive: true, force: true });
    throw new Error(`${file}: the tests fail without any mutant:\n${base.output.slice(-4000)}`);
  }
  const covered = coverageOf(covDir, file);
  rmSync(covDir, { recursive: true, force: true });
  // The same tests in the worker, unmutated: they must pass there too (the shim is not node:test).
  const shimBase = await worker.run(tests, null, 600_000);
  if (shimBase.failed) throw new Error(`${file}: the tests fail in the mutation worker without any mutant: ${shimBase.killedBy}`);
  const timeoutMs = Math.max(10_000, shimBase.ms * 5);

  const all = generateMutants(file, text);
  const mutants = opts.only ? all.filter((m) => opts.only!.has(m.line)) : all;
  const results: MutantResult[] = [];
  let ran = 0, reused = 0;
  // Keep results of mutants outside --only untouched (with --force too: it re-runs only the lines named).
  const stored = opts.force ? loadResult(file) : previous;
  const baselineMs = base.ms;
  const allKeys = new Set(all.map((a) => a.key));
  // Written every 25 mutants run and on SIGINT/SIGTERM, so an interrupted run is reused by the next
  // one: the results so far plus the stored ones of the mutants not reached yet (still checked by
  // hash before reuse). At the end, a full run keeps only this run's results.
  const save = (finished: boolean): MutantResult[] => {
    const doneKeys = new Set(results.map((r) => r.key));
    const keep = (p: MutantResult): boolean => allKeys.has(p.key) &&
      (finished ? opts.only !== undefined && !opts.only.has(p.line) : !doneKeys.has(p.key));
    const merged = opts.only || !finished
      ? [...(stored?.mutants ?? []).filter(keep), ...results].sort((a, b) => a.line - b.line || a.col - b.col)
      : results;
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(resultPath(file), JSON.stringify({ file, tests, baselineMs, mutants: merged } satisfies FileResult, null, 1) + '\n');
    return merged;
  };
  saveProgress = () => save(false);
  const t0 = Date.now();
  process.stdout.write(`${file}: ${mutants.length} mutants, tests: ${tests.join(' ')} (baseline ${base.ms} ms, in the worker ${shimBase.ms} ms)\n`);
  for (const m of mutants) {
    const mutated = text.slice(0, m.start) + m.text + text.slice(m.end);
    const hash = sha1(mutated);
    const base: Omit<MutantResult, 'status' | 'testsHash'> = {
      key: m.key, line: m.line, col: m.col, kind: m.kind, category: m.category, original: m.original, text: m.text, hash,
    };
    const prev = prevByKey.get(m.key);
    if (prev && prev.hash === hash) {
      const killFile = prev.killedBy?.split(' :: ')[0];
      if ((prev.status === 'killed' && killFile && testText.has(killFile) && prev.testsHash === fileHash(killFile)) ||
          (prev.status === 'timeout' && prev.testsHash === setHash) ||
          ((prev.status === 'survived' || prev.status === 'no-coverage') && prev.testsHash === setHash)) {
        results.push(prev); reused++; continue;
      }
    }
    if (covered && !covered(m.start)) { results.push({ ...base, status: 'no-coverage', testsHash: setHash }); continue; }
    const r = await worker.run(tests, { file: abs, start: m.start, end: m.end, text: m.text }, timeoutMs);
    ran++;
    if (ran % 50 === 0) process.stdout.write(`  … ${ran} run, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    let res: MutantResult;
    if (r.timedOut) res = { ...base, status: 'timeout', testsHash: setHash };
    else if (r.failed) {
      const killedBy = r.killedBy ?? '(process failed: ' + r.output.trim().split('\n').slice(-1)[0]?.slice(0, 120) + ')';
      const kf = killedBy.split(' :: ')[0];
      res = { ...base, status: 'killed', killedBy, testsHash: testText.has(kf) ? fileHash(kf) : setHash };
    } else res = { ...base, status: 'survived', testsHash: setHash };
    results.push(res);
    if (res.status === 'survived') process.stdout.write(`  survived  ${file}:${m.line}:${m.col}  ${m.key}\n`);
    if (ran % 25 === 0) save(false);
  }
  saveProgress = null;
  const merged = save(true);
  const dec = merged.filter((m) => m.category === 'decision');
  const killed = dec.filter((m) => m.status === 'killed' || m.status === 'timeout').length;
  process.stdout.write(`${file}: ran ${ran}, reused ${reused}, ${((Date.now() - t0) / 1000).toFixed(0)} s; decision mutants killed ${killed}/${dec.length}\n`);
}

async function main(argv: string[]): Promise<void> {
  const files: string[] = [];
  let force = false, reportOnly = false;
  let tests: string[] | undefined;
  let only: Set<number> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') force = true;
    else if (a === '--report') reportOnly = true;
    else if (a === '--tests') tests = argv[++i].split(',');
    else if (a === '--only') only = new Set(argv[++i].split(',').map(Number));
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else files.push(relative(ROOT, resolve(a)));
  }
  if (!reportOnly) {
    for (const f of files.length ? files : Object.keys(TARGETS)) await mutateFile(f, { force, tests, only });
  }
  worker.stop();
  writeReport(ROOT, Object.keys(TARGETS));
  process.stdout.write('wrote docs/mutation.md\n');
}

await main(process.argv.slice(2));
