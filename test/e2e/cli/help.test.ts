// `--help` shows durations as durations ("15s", "5m"), never as milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const ROOT = new URL('../../../', import.meta.url).pathname;
const commands = readdirSync(`${ROOT}src/cli/commands`).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));

test('every command\'s --help: duration defaults read as durations', () => {
  for (const c of commands) {
    const help = execFileSync(process.execPath, [`${ROOT}bin/tide.js`, c, '--help'], { encoding: 'utf8' });
    // One chunk per option (wrapped description lines are indented deeper), so a description that
    // names another flag (e.g. "--horizontal-pod-autoscaler-sync-period") does not end the match.
    for (const chunk of help.split(/\n(?= {2}-)/)) {
      const m = /^\s*(?:-\w, )?(--[\w-]+) <(duration|[\w.]*dur[\w.]*)>[\s\S]*\(default: ([^)]+)\)/.exec(chunk.replace(/\s+/g, ' '));
      if (m) assert.match(m[3], /^"?\d+(\.\d+)?(ms|s|m|h)"?$/, `tide ${c} ${m[1]}: default ${m[3]}`);
    }
  }
  const controller = execFileSync(process.execPath, [`${ROOT}bin/tide.js`, 'controller', '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(controller, /--sync-period <duration> HPA sync period \(--horizontal-pod-autoscaler-sync-period\) \(default: 15s\)/);
  const up = execFileSync(process.execPath, [`${ROOT}bin/tide.js`, 'up', '--help'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  assert.match(up, /--sync-period <duration>.*\(default: 15s\)/);
});
