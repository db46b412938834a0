import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chooseVictims, podStatusString } from '../../../src/runtime/local/supervisor.ts';

const c = (name: string, o: Partial<{ ready: boolean; running: boolean; inFlight: number; restartCount: number; created: number }> = {}) =>
  ({ name, ready: true, running: true, inFlight: 0, restartCount: 0, created: 0, ...o });

test('victims: not running, then not ready, then idle before busy, then newest', () => {
  const cands = [c('busy', { inFlight: 5 }), c('idle-old', { created: 1 }), c('idle-new', { created: 2 }), c('unready', { ready: false, inFlight: 9 }), c('crashing', { running: false, ready: false })];
  assert.deepEqual(chooseVictims(cands, 5), ['crashing', 'unready', 'idle-new', 'idle-old', 'busy']);
  assert.deepEqual(chooseVictims(cands, 0), []);
  assert.deepEqual(chooseVictims([c('a', { inFlight: 2 }), c('b', { inFlight: 1 })], 1), ['b']);
});

test('property: the chosen ready victims are never busier than a kept ready replica', () => {
  fc.assert(fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 12 }), fc.nat(12), (loads, k) => {
    const cands = loads.map((l, i) => c(`r${i}`, { inFlight: l }));
    const chosen = new Set(chooseVictims(cands, k));
    assert.equal(chosen.size, Math.min(k, cands.length));
    const maxChosen = Math.max(-1, ...cands.filter((x) => chosen.has(x.name)).map((x) => x.inFlight));
    const minKept = Math.min(Infinity, ...cands.filter((x) => !chosen.has(x.name)).map((x) => x.inFlight));
    assert.ok(maxChosen <= minKept);
  }));
});

test('kubectl STATUS column', () => {
  assert.equal(podStatusString({ terminating: true, state: { kind: 'running', startedAt: 0 } }), 'Terminating');
  assert.equal(podStatusString({ terminating: false, state: { kind: 'waiting', reason: 'CrashLoopBackOff' } }), 'CrashLoopBackOff');
  assert.equal(podStatusString({ terminating: false, state: { kind: 'terminated', reason: 'Error', exitCode: 1, signal: null, finishedAt: 0 } }), 'Error');
  assert.equal(podStatusString({ terminating: false, state: { kind: 'running', startedAt: 0 } }), 'Running');
});
