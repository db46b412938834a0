// The `tide` command line. Each subcommand lives in its own module under ./commands, named like the
// command, and exports `register(program)`; this file only discovers and wires them, so adding a
// command touches one file (and its line in ./command-index.ts). To start fast (`tide get` well
// under half a second, bench/cli-startup.ts), only the module of the command being run is imported
// (for `tide help CMD`, that command's); the overview (`tide`, `tide --help`, an unknown command)
// is drawn from ./command-index.ts and imports none of them.
import { readdirSync } from 'node:fs';
import { Command, Help } from 'commander';
import { COMMANDS } from './command-index.ts';

const program = new Command('tide')
  .description('Tide: an autoscaler for ML inference services (HPA, Knative/KServe and KEDA semantics)')
  .version('0.1.0')
  .showHelpAfterError();

const dir = new URL('./commands/', import.meta.url);
const modules = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const [first, second] = process.argv.slice(2);
const wanted = first === 'help' ? second : first;
if (wanted && !wanted.startsWith('-') && modules.includes(`${wanted}.ts`)) {
  const mod = (await import(new URL(`${wanted}.ts`, dir).href)) as { register?: (p: Command) => void };
  if (typeof mod.register !== 'function') throw new Error(`src/cli/commands/${wanted}.ts does not export register(program)`);
  mod.register(program);
} else {
  // the overview only: one placeholder per command, listed as its module registers it
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const plain = new Help();
  for (const c of COMMANDS) program.command(c.name).description(c.description);
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? plain.subcommandTerm(cmd) });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Errors meant for the user (bad manifest, unreachable daemon) carry their own message; no stack.
  const e = err as Error & { userFacing?: boolean };
  console.error(`tide: ${e.userFacing ? e.message : (e.stack ?? String(e))}`);
  process.exitCode = 1;
}
