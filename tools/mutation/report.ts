// Writes docs/mutation.md from tools/mutation/results/*.json, verdicts.json and baseline.json.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileResult, MutantResult } from './run.ts';
import { generateMutants } from './mutants.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const resultPath = (file: string): string =>
  join(HERE, 'results', file.replace(/^src\//, '').replace(/[/\\]/g, '__').replace(/\.ts$/, '.json'));

/** null: the file's first measurement already had the new tests (no honest first-run rate). */
interface Baseline { [file: string]: { killed: number; total: number; survivors: string[] } | null }
type Verdicts = Record<string, Record<string, string>>;

const readJson = <T>(p: string, dflt: T): T => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) as T : dflt);
const isKilled = (m: MutantResult): boolean => m.status === 'killed' || m.status === 'timeout';
const pct = (a: number, b: number): string => (b === 0 ? '–' : `${((100 * a) / b).toFixed(0)} %`);
const code = (s: string): string => '`' + s.replace(/`/g, "'").replace(/\|/g, '\\|') + '`';

/** Decision-relevant kill rates of issue 16's seeded sample (326 mutants), before this work. */
const ISSUE_SAMPLE: Record<string, string> = {
  'src/deciders/hpa/replica-calculator.ts': '65 %', 'src/deciders/hpa/normalize.ts': '87 %', 'src/deciders/kpa/aggregation.ts': '90 %',
  'src/deciders/kpa/config.ts': '62 %', 'src/deciders/kpa/decide.ts': '79 %', 'src/deciders/kpa/policy.ts': '86 %',
  'src/deciders/kpa/scaling.ts': '86 %', 'src/replay/kpa-scenario.ts': '31 %', 'src/deciders/keda/decide.ts': '64 %',
};

export function writeReport(root: string, files: string[]): void {
  const baselinePath = join(HERE, 'baseline.json');
  const baseline = readJson<Baseline>(baselinePath, {});
  const verdicts = readJson<Verdicts>(join(HERE, 'verdicts.json'), {});
  const rows: string[] = [];
  const details: string[] = [];
  const stillOpen: string[] = [];
  let changed = false;
  for (const file of files) {
    const stored = readJson<FileResult | null>(resultPath(file), null);
    // Only results of the file's current text count: a run saved part-way keeps older results of the
    // mutants it has not reached (for reuse), which are stale when the file changed since.
    const src = join(root, file);
    const text = existsSync(src) ? readFileSync(src, 'utf8') : '';
    const all = text ? generateMutants(file, text) : [];
    const current = new Map(all.map((m) => [m.key, createHash('sha1').update(text.slice(0, m.start) + m.text + text.slice(m.end)).digest('hex')]));
    const r = stored && { ...stored, mutants: stored.mutants.filter((m) => current.get(m.key) === m.hash) };
    if (!r) { rows.push(`| ${file} | not run yet | | | | | | | | ${ISSUE_SAMPLE[file] ?? '–'} |`); stillOpen.push(`${file} (not run yet)`); continue; }
    const dec = r.mutants.filter((m) => m.category === 'decision');
    if (!(file in baseline)) {
      baseline[file] = { killed: dec.filter(isKilled).length, total: dec.length, survivors: dec.filter((m) => !isKilled(m)).map((m) => m.key) };
      changed = true;
    }
    const v = verdicts[file] ?? {};
    const killed = dec.filter(isKilled);
    const left = dec.filter((m) => !isKilled(m));
    const equivalent = left.filter((m) => v[m.key]?.startsWith('equivalent'));
    const notDecision = left.filter((m) => v[m.key]?.startsWith('not a decision'));
    const open = left.filter((m) => !v[m.key]);
    const judged = dec.length - equivalent.length - notDecision.length;
    // a run cut short with --only: say how much of the file was measured
    const keys = new Set(r.mutants.map((m) => m.key));
    const missing = all.filter((m) => !keys.has(m.key)).length;
    const partial = missing > 0 ? ` (partial: ${all.length - missing} of ${all.length} mutants run)` : '';
    const notes: string[] = [];
    if (partial) notes.push(`partial: ${all.length - missing} of ${all.length} mutants run`);
    if (open.length) notes.push(`${open.length} unjudged survivor${open.length === 1 ? '' : 's'}`);
    if (killed.length < 0.9 * judged) notes.push('below 90 %');
    if (notes.length) stillOpen.push(`${file} (${notes.join(', ')})`);
    const b = baseline[file];
    rows.push(`| ${file}${partial} | ${dec.length} | ${killed.length} | ${equivalent.length} | ${notDecision.length} | ${open.length} | **${pct(killed.length, judged)}** | ${pct(killed.length, dec.length)} | ${b ? pct(b.killed, b.total) : '–'} | ${ISSUE_SAMPLE[file] ?? '–'} |`);
    const newlyKilled = b ? killed.filter((m) => b.survivors.includes(m.key)) : [];
    const sec: string[] = [`### ${file}`, '', `Tests: ${r.tests.map(code).join(', ')}. Message-only mutants (not counted): ${r.mutants.length - dec.length}.`, ''];
    if (newlyKilled.length) {
      sec.push('Survivors of the first run, killed by a new test:', '');
      for (const m of newlyKilled) sec.push(`- line ${m.line}: ${code(m.original)} → ${code(m.text || '(removed)')} in ${code(m.key.replace(/ @\d+ .*$/, ''))} — ${m.killedBy ?? m.status}`);
      sec.push('');
    }
    if (left.length) {
      sec.push('Surviving mutants:', '');
      for (const m of left) sec.push(`- line ${m.line}: ${code(m.original)} → ${code(m.text || '(removed)')} in ${code(m.key.replace(/ @\d+ .*$/, ''))}${m.status === 'no-coverage' ? ' (no coverage)' : ''} — ${v[m.key] ?? '**not judged yet**'}`);
      sec.push('');
    }
    details.push(...sec);
  }
  if (changed) writeFileSync(baselinePath, JSON.stringify(baseline, null, 1) + '\n');
  const md = [
    '# Mutation testing',
    '',
    'How well the unit tests pin down what the deciders, the autoscalers and the proxy\'s framing and',
    'admission code decide: every single-token change of the code (an operator, a comparison boundary, a',
    'constant, a condition forced true or false, a removed statement, `Math.min`↔`max`, `floor`↔`ceil`, a',
    'dropped `??` default) is applied to the file alone, and that file\'s unit tests are run against it.',
    'A test must fail for the mutant to count as killed.',
    '',
    '```',
    'npm run mutation                                  # every file below (long: run it niced, alone)',
    'npm run mutation -- src/deciders/kpa/decide.ts    # one file',
    'npm run mutation -- --report                      # only rewrite this page from the stored results',
    '```',
    '',
    'The tool is `tools/mutation/` (our own: one Node process per mutant, the mutated text served by a',
    'module hook, the first failing test stops the run). It is incremental: `tools/mutation/results/`',
    'keeps each mutant\'s outcome; a killed mutant is not re-run while its mutated text and the test file',
    'that killed it are unchanged, a survivor is re-run when its test set changed (`--force` re-runs all).',
    'Mutants that only change the words of an error or a message (inside `throw`, `new …Error(…)`,',
    'template literals, string concatenation) are not counted. Survivors are judged by hand in',
    '`tools/mutation/verdicts.json`: *equivalent* (no input can tell the mutant from the original) or',
    '*not a decision* (changes only the decision record — limitedBy attribution, details, events, condition',
    'messages, proposal rows —, an explanation, a status view or the dashboard, not what is scaled or answered).',
    '',
    'Kill rate = killed / (decision mutants − equivalent − not a decision); "of all" = killed / decision',
    'mutants, with no survivor judged (for comparison with "first run"). "First run" is this tool\'s',
    'rate with the tests as they were on main when the file was first measured (all decision mutants,',
    'none judged; – where the first measurement already had the new tests). "Issue sample" is the',
    'decision-relevant rate of the seeded 326-mutant sample that issue 16 reported.',
    '',
    '| file | decision mutants | killed | equivalent | not a decision | open survivors | kill rate | of all | first run | issue sample |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Still open (issue 16): ${stillOpen.length ? stillOpen.join('; ') : 'nothing'}.`,
    '',
    'Test sets (tools/mutation/targets.ts) are the fast in-process tests of each file. The proxy\'s are its',
    'framing functions and the router driven by a fake engine on fake time; the socket-level raw-engine',
    'tests and the 90 s differential test stay out (too slow per mutant here). test/unit/runtime/tide-driver.test.ts',
    'mocks timers through the test context, which the worker\'s node:test stand-in does not have:',
    'src/autoscalers/tide.ts is measured with test/unit/autoscalers/tide.test.ts instead.',
    '',
    '## Per file',
    '',
    ...details,
  ].join('\n');
  writeFileSync(join(root, 'docs', 'mutation.md'), md + '\n');
}
