// `tide decide`: run a decider offline on a scenario (JSON/JSONL) and print decision records, or
// replay recorded DecisionRecords (JSONL, as the runtimes log them) and check they reproduce.
import type { Command } from 'commander';
import type { DecisionRecord } from '../../core/decision.ts';
import { UserError } from '../../core/errors.ts';
import { printManifestWarnings } from '../../manifests/load.ts';
import { parseDecideInput, readDecideFile, replayRecords, runScenario } from '../../replay/run.ts';
import { scenarioJsonSchema } from '../../replay/scenario.ts';
import { parseFeatureGates } from '../../deciders/hpa/feature-gates.ts';

interface Flags { output: string; verify?: boolean; actuate?: boolean; schema?: boolean; featureGates?: Record<string, boolean> }

function table(records: DecisionRecord[]): string {
  const rows = records.map((r) => [
    r.time,
    `${r.currentReplicas}→${r.desiredReplicas}`,
    r.proposals.map((p) => `${p.current}/${p.target}`).join(', ') || '-',
    r.limitedBy.join(',') || '-',
    r.explanation,
  ]);
  const head = ['TIME', 'REPLICAS', 'METRICS', 'LIMITED BY', 'WHY'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}

function print(records: DecisionRecord[], output: string): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
  else if (output === 'table') process.stdout.write(`${table(records)}\n`);
  else process.stdout.write(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
}

export function register(program: Command): void {
  program
    .command('decide')
    .description('Run a decider on a scenario (JSON/JSONL) and print its decision records, or replay recorded decisions (--verify)')
    .argument('[file]', 'scenario or DecisionRecord JSONL file; "-" or omitted reads stdin')
    .option('-o, --output <format>', 'jsonl (one record per line), json (array) or table', 'jsonl')
    .option('--verify', 'for recorded decisions: recompute each one and report those that do not reproduce (exit code 2)')
    .option('--no-actuate', 'scenario: keep each step\'s replicas instead of applying the previous decision')
    .option('--schema', 'print the JSON Schema of the scenario format and exit')
    .option('--feature-gates <gates>', 'scenario: kube-controller-manager feature gates for HPAs, over the scenario\'s featureGates (e.g. HPAScaleToZero=false for Kubernetes ≤ 1.36; docs/hpa.md)', (v: string) => parseFeatureGates(v) as Record<string, boolean>)
    .addHelpText('after', '\nFormat: docs/decide.md. Examples: examples/scenarios/*.json')
    .action((file: string | undefined, flags: Flags) => {
      printManifestWarnings(); // KServe mapping warnings etc., as `tide up` shows them
      if (flags.schema) { process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`); return; }
      if (!['jsonl', 'json', 'table'].includes(flags.output)) throw new UserError(`--output must be jsonl, json or table, got "${flags.output}"`);
      const path = file ?? '-';
      if (path === '-' && process.stdin.isTTY) throw new UserError('give a scenario file, or pipe one on stdin (see docs/decide.md)');
      const label = path === '-' ? '<stdin>' : path;
      const input = parseDecideInput(readDecideFile(path), label);
      if (input.type === 'scenario') {
        if (flags.verify) throw new UserError('--verify applies to recorded DecisionRecords, and this input is a scenario');
        let scenario = flags.actuate === false ? { ...input.scenario, actuate: false } : input.scenario;
        if (flags.featureGates) scenario = { ...scenario, featureGates: { ...(scenario.featureGates ?? {}), ...flags.featureGates } };
        print(runScenario(scenario, { file: path === '-' ? undefined : path }), flags.output);
        return;
      }
      const { records, mismatches } = replayRecords(input.records);
      if (!flags.verify) { print(records, flags.output); return; }
      for (const m of mismatches) {
        const diffs = m.fields.map((f) => `    ${f}: recorded ${JSON.stringify((m.expected as any)[f])}, replayed ${JSON.stringify((m.actual as any)[f])}`.slice(0, 600));
        process.stderr.write(`record ${m.index + 1} (${m.time}) does not reproduce:\n${diffs.join('\n')}\n`);
      }
      process.stdout.write(`${records.length - mismatches.length}/${records.length} decisions reproduce\n`);
      if (mismatches.length) process.exitCode = 2;
    });
}
