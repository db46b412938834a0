// `tide --help` lists the commands from src/cli/command-index.ts without importing them: the table
// must say exactly what the modules register (name, help term, description), and name every module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, Help } from 'commander';
import { COMMANDS } from '../../../src/cli/command-index.ts';

const DIR = new URL('../../../src/cli/commands/', import.meta.url);
const BIN = fileURLToPath(new URL('../../../bin/tide.js', import.meta.url));

test('the command index says what each command module registers, for every module', async () => {
  const program = new Command('tide');
  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts')).sort();
  for (const f of files) ((await import(new URL(f, DIR).href)) as { register: (p: Command) => void }).register(program);
  const help = new Help();
  const registered = program.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), description: c.description() }));
  assert.deepEqual(COMMANDS.map((c) => ({ ...c })), registered);
  assert.deepEqual(COMMANDS.map((c) => `${c.name}.ts`), files);
});

test('tide --help lists every command with its module\'s term and description; tide help CMD shows that command\'s own help', () => {
  const out = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  const flat = out.replace(/\s+/g, ' '); // help wraps descriptions at the terminal's width
  for (const c of COMMANDS) assert.ok(flat.includes(` ${c.term} ${c.description} `), `${c.name}: ${c.term} ${c.description}`);
  assert.match(out, /^ {2}help \[command\] +display help for command$/m);
  const get = execFileSync(process.execPath, [BIN, 'help', 'get'], { encoding: 'utf8' });
  assert.match(get, /^Usage: tide get \[options\] <resource\.\.\.>/);
  assert.match(get, /--kubeconfig/);
});
