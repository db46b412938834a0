#!/usr/bin/env node
// Tide runs its TypeScript sources directly: Node 24 strips types natively, so there is no build step.
// Whatever `node` started this file (npx from another folder, `npm install -g` on an older system
// Node), Tide runs on the Node 24 that `npm install` put next to it (the `node` package); only when
// none is there does it ask for one. This file must stay plain JavaScript old Node versions parse.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NEED = 24;
const [major] = process.versions.node.split('.').map(Number);
if (major < NEED) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // the package's own node_modules, or the folder it was installed into (hoisted dependency)
  const candidates = [
    join(root, 'node_modules', 'node', 'bin', 'node'),
    join(root, 'node_modules', '.bin', 'node'),
    join(root, '..', 'node', 'bin', 'node'),
    join(root, '..', '.bin', 'node'),
  ];
  const bundled = candidates.find((p) => existsSync(p) && p !== process.execPath);
  if (bundled && !process.env.TIDE_REEXEC) {
    const r = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, TIDE_REEXEC: '1' } });
    if (r.error) {
      console.error(`tide: cannot run the bundled Node at ${bundled}: ${r.error.message}`);
      process.exit(1);
    }
    if (r.signal) process.kill(process.pid, r.signal);
    process.exit(r.status ?? 1);
  }
  console.error(`tide: Node ${process.versions.node} is too old; Tide needs Node >= ${NEED}, and no Node ${NEED} was found next to it ` +
    `(${join(root, 'node_modules', 'node')}). Run \`npm install\` in ${root} (it installs Node ${NEED} from npm), or put Node ${NEED} first on PATH.`);
  process.exit(1);
}
// cache the type-stripped sources between runs: `tide get` starts several times faster (bench/cli-startup.ts)
try { (await import('node:module')).enableCompileCache?.(); } catch { /* a read-only cache dir only costs speed */ }
await import('../src/cli/main.ts');
