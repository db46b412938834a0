// `--help` shows durations as durations ("15s", "5m"), never as milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const ROOT = new URL('../../../', import.meta.url).pathname;
const commands = readdirSync(`${ROOT}src/cli/commands`).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));

test('every command\'s --help: duration defaults read as durations', () => {
  for (const c of commands) {
    const help = execFileSync(process.execPath, [`${ROOT}bin/tide.js`, c, '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const m of help.matchAll(/(--[\w-]+) <(duration|[\w.]*dur[\w.]*)>[^-]*?\(default: ([^)]+)\)/g)) {
      assert.match(m[3], /^"?\d+(\.\d+)?(ms|s|m|h)"?$/, `tide ${c} ${m[1]}: default ${m[3]}`);
    }
  }
  const up = execFileSync(process.execPath, [`${ROOT}bin/tide.js`, 'up', '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(up, /--sync-period <duration>.*\(default: 15s\)/);
});
