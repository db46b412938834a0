// The replica log file when the disk fills up: writes fail with ENOSPC → one "full" report, lines are
// counted and dropped, the disk is probed again, and writing resumes (with a note of the loss) once
// space is back. The file system is the real one with ENOSPC injected into write().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFile, nodeLogFs, type LogFs } from '../../../src/runtime/local/logfile.ts';
import { LogBuffer } from '../../../src/runtime/local/supervisor.ts';

function diskThatFills() {
  const disk = { full: false, failedWrites: 0 };
  const fs: LogFs = {
    open: nodeLogFs.open,
    close: nodeLogFs.close,
    write(fd, data, cb) {
      if (disk.full) { disk.failedWrites++; setImmediate(() => cb(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))); return; }
      nodeLogFs.write(fd, data, cb);
    },
  };
  return { disk, fs };
}

// The file appears only once the asynchronous open() has run: read it as empty until then.
const readLog = (path: string): string => {
  try { return readFileSync(path, 'utf8'); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ''; throw e; }
};

const until = async (what: string, fn: () => boolean) => {
  for (let i = 0; i < 2000 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fn(), what);
};

test('ENOSPC: one report, lines dropped and counted, retries, resumes when space is back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-logfile-'));
  const path = join(dir, 'pod.log');
  const { disk, fs } = diskThatFills();
  const full: string[] = [];
  const resumed: number[] = [];
  const f = new LogFile(path, { fs, retryMs: 10, onFull: (code) => full.push(code), onResume: (n) => resumed.push(n) });
  try {
    f.write('one');
    f.write('two');
    await until('written', () => readLog(path) === 'one\ntwo\n');
    disk.full = true;
    f.write('three');
    await until('full', () => f.state === 'full');
    for (let i = 0; i < 5; i++) f.write(`lost ${i}`);
    await until('probed again while still full', () => disk.failedWrites >= 3);
    assert.deepEqual(full, ['ENOSPC'], 'reported once per outage');
    assert.equal(f.state, 'full');
    disk.full = false;
    await until('resumed', () => resumed.length === 1);
    assert.deepEqual(resumed, [6]);
    f.write('four');
    await until('writing again', () => readLog(path).endsWith('four\n'));
    assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\n--- tide: 6 log line(s) were not written to this file (the disk was full or failing)\nfour\n');
    // a second outage is reported again
    disk.full = true;
    f.write('five');
    await until('full again', () => full.length === 2);
  } finally {
    await f.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the replica log buffer keeps every line in memory while the file cannot be written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-logfile-'));
  const { disk } = diskThatFills();
  disk.full = true;
  // LogBuffer builds its LogFile with the real fs; a path in a missing folder fails like a full disk
  const reports: string[] = [];
  const b = new LogBuffer(10, join(dir, 'missing', 'pod.log'), { onFull: (code) => reports.push(code) });
  try {
    for (let i = 0; i < 20; i++) b.push(`line ${i}`);
    assert.equal(b.lines.length, 10);
    assert.equal(b.lines.at(-1), 'line 19');
    await until('reported', () => reports.length === 1);
    assert.deepEqual(reports, ['ENOENT']);
  } finally {
    b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
