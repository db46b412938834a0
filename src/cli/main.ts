// The `tide` command line. Each subcommand lives in its own module under ./commands, named like the
// command, and exports `register(program)`; this file only discovers and wires them, so adding a
// command touches one file. To start fast (`tide get` well under half a second, bench/cli-startup.ts),
// only the module of the command being run is imported; help and unknown commands import them all.
import { readdirSync } from 'node:fs';
import { Command } from 'commander';

const program = new Command('tide')
  .description('Tide: an autoscaler for ML inference services (HPA, Knative/KServe and KEDA semantics)')
  .version('0.1.0')
  .showHelpAfterError();

const dir = new URL('./commands/', import.meta.url);
const modules = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const wanted = process.argv[2];
const only = wanted && !wanted.startsWith('-') && modules.includes(`${wanted}.ts`) ? [`${wanted}.ts`] : modules;
for (const file of only) {
  const mod = (await import(new URL(file, dir).href)) as { register?: (p: Command) => void };
  if (typeof mod.register !== 'function') throw new Error(`src/cli/commands/${file} does not export register(program)`);
  mod.register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Errors meant for the user (bad manifest, unreachable daemon) carry their own message; no stack.
  const e = err as Error & { userFacing?: boolean };
  console.error(`tide: ${e.userFacing ? e.message : (e.stack ?? String(e))}`);
  process.exitCode = 1;
}
