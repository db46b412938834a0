// What `tide up` must remember across a crash (kill -9, OOM) of the daemon, in <stateDir>/state.json:
// each Deployment's spec.replicas, the HPAs created at runtime (`tide autoscale`), and each
// autoscaler's memory (AutoscalerSnapshot: recommendation history, scale events …) so a restarted
// daemon neither jumps back to the manifest's size nor skips a stabilization window.
// Written atomically: a temporary file, fsync, rename — a crash mid-write leaves the previous file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AutoscalerSnapshot } from '../../autoscalers/types.ts';

export interface RuntimeHpaSpec { deployment: string; name: string; min: number; max: number; cpuPercent?: number }

export interface SavedState {
  v: 1;
  savedAt: number;
  pid: number;
  deployments: Record<string, { replicas: number }>;
  runtimeHpas: RuntimeHpaSpec[];
  autoscalers: Record<string, AutoscalerSnapshot>;
}

export const STATE_FILE = 'state.json';

export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The saved state, or undefined (no file, or one this version cannot read: then it is ignored). */
export function loadState(stateDir: string): { state?: SavedState; problem?: string } {
  const p = join(stateDir, STATE_FILE);
  let text: string;
  try { text = readFileSync(p, 'utf8'); } catch { return {}; }
  try {
    const s = JSON.parse(text) as SavedState;
    if (s?.v !== 1 || typeof s.deployments !== 'object' || !Array.isArray(s.runtimeHpas) || typeof s.autoscalers !== 'object') {
      return { problem: `${p} is not a state file of this Tide version (ignored)` };
    }
    return { state: s };
  } catch (e) {
    return { problem: `${p} cannot be read (${(e as Error).message}; ignored)` };
  }
}

export function saveState(stateDir: string, s: SavedState): void {
  writeFileAtomic(join(stateDir, STATE_FILE), JSON.stringify(s) + '\n');
}

export function clearState(stateDir: string): void {
  rmSync(join(stateDir, STATE_FILE), { force: true });
}
