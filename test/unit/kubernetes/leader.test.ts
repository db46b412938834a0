// Leader election on a Lease (src/runtime/kubernetes/leader.ts) against an in-memory Lease with the
// apiserver's optimistic concurrency (resourceVersion, 409) and a manual clock: one leader at a time,
// takeover only after the lease duration on the candidate's own clock, a leader that cannot renew
// stops acting at the renew deadline, graceful release hands over at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector, validateLeaderTimings, type LeaderClock, type LeaseRecord, type LeaseStore } from '../../../src/runtime/kubernetes/leader.ts';

class Conflict extends Error {
  code = 409;
}

/** An in-memory Lease: get / create / update with resourceVersion checks; `down` makes every call fail. */
class MemLease {
  rec: LeaseRecord | undefined;
  rv = 0;
  writes: LeaseRecord[] = [];
  down = new Set<string>();
  store(id: string): LeaseStore {
    return {
      description: 'ns/lease',
      get: async () => {
        if (this.down.has(id)) throw new Error('fetch failed');
        return this.rec ? { record: { ...this.rec }, resourceVersion: String(this.rv) } : null;
      },
      create: async (r) => {
        if (this.down.has(id)) throw new Error('fetch failed');
        if (this.rec) throw Object.assign(new Conflict('exists'), { code: 409 });
        this.rec = { ...r }; this.rv++; this.writes.push({ ...r });
        return String(this.rv);
      },
      update: async (r, rv) => {
        if (this.down.has(id)) throw new Error('fetch failed');
        if (rv !== String(this.rv)) throw Object.assign(new Conflict('conflict'), { code: 409 });
        this.rec = { ...r }; this.rv++; this.writes.push({ ...r });
        return String(this.rv);
      },
    };
  }
}

/** A manual clock: timers run in time order as `advance` passes them, with the promises they start settled in between. */
class ManualClock implements LeaderClock {
  t = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  mono() { return this.t; }
  wall() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = ++this.seq; this.timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimeout(h: unknown) { this.timers.delete(h as number); }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

function elector(lease: MemLease, clock: ManualClock, id: string, events: string[]) {
  return new LeaderElector({
    store: lease.store(id), identity: id, clock, random: () => 0,
    leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000,
    onStartedLeading: () => events.push(`${id} started`),
    onStoppedLeading: () => events.push(`${id} stopped`),
  });
}

/** Two electors on one lease, a started 1 ms before b, then `settleMs` on the shared manual clock. */
async function twoElectors(settleMs: number) {
  const lease = new MemLease();
  const clock = new ManualClock();
  const ev: string[] = [];
  const a = elector(lease, clock, 'a', ev);
  const b = elector(lease, clock, 'b', ev);
  a.start();
  await clock.advance(1);
  b.start();
  await clock.advance(settleMs);
  return { lease, clock, ev, a, b };
}

test('one leader; a killed leader is replaced only after the lease duration, measured on the standby\'s clock', async () => {
  const { lease, clock, ev, a, b } = await twoElectors(30_000);
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  assert.deepEqual(ev, ['a started']);
  assert.equal(lease.rec!.holderIdentity, 'a');
  assert.equal(lease.rec!.leaseTransitions, 0);
  const acquired = lease.rec!.acquireTime;
  assert.ok(lease.rec!.renewTime! > acquired!, 'renewals move renewTime, not acquireTime');
  // kill -9 a: no release, no more renewals
  await a.stop(false);
  ev.length = 0;
  const killedAt = clock.t;
  const lastRenew = lease.rec!.renewTime!;
  await clock.advance(14_000);
  assert.equal(b.isLeader(), false, 'not before the lease duration');
  await clock.advance(6_000);
  assert.equal(b.isLeader(), true);
  assert.deepEqual(ev, ['b started']);
  assert.equal(lease.rec!.holderIdentity, 'b');
  assert.equal(lease.rec!.leaseTransitions, 1);
  const took = lease.rec!.acquireTime! - killedAt;
  assert.ok(lease.rec!.acquireTime! - lastRenew >= 15_000, 'at least the lease duration after the last renew b saw');
  assert.ok(took <= 15_000 + 2_000 * 2.2, `takeover ${took} ms after the kill`);
  // b saw a renew: a could act until its last renew (as b saw it) + the renew deadline
  assert.ok(b.previousHolderActiveUntil()! >= lastRenew + 10_000 - 2_000);
  await b.stop();
});

test('a leader that cannot renew stops acting at the renew deadline, before anyone can take over', async () => {
  const { lease, clock, ev, a, b } = await twoElectors(5_000);
  assert.equal(a.isLeader(), true);
  lease.down.add('a'); // partitioned from the apiserver
  const cut = clock.t;
  let aStoppedAt: number | undefined;
  let bStartedAt: number | undefined;
  for (let i = 0; i < 300; i++) {
    await clock.advance(100);
    if (aStoppedAt === undefined && !a.isLeader()) aStoppedAt = clock.t;
    if (bStartedAt === undefined && b.isLeader()) bStartedAt = clock.t;
  }
  assert.ok(aStoppedAt !== undefined && bStartedAt !== undefined, JSON.stringify(ev));
  assert.ok(aStoppedAt! - cut <= 10_000 + 100, `a stopped ${aStoppedAt! - cut} ms after the cut`);
  assert.ok(bStartedAt! > aStoppedAt!, 'never two leaders at once');
  assert.ok(ev.indexOf('a stopped') < ev.indexOf('b started'), ev.join(', '));
  // a comes back: it is a standby now, it does not take the Lease back
  lease.down.delete('a');
  await clock.advance(20_000);
  assert.equal(a.isLeader(), false);
  assert.equal(b.isLeader(), true);
  await a.stop(); await b.stop();
});

test('isLeader() turns false at the deadline even when the renew request hangs', async () => {
  const lease = new MemLease();
  const clock = new ManualClock();
  const store = lease.store('a');
  let hang = false;
  const a = new LeaderElector({
    store: { ...store, get: () => (hang ? new Promise(() => {}) : store.get()) }, identity: 'a', clock, random: () => 0,
  });
  a.start();
  await clock.advance(3_000);
  assert.equal(a.isLeader(), true);
  hang = true; // the last renew was at 2 s
  await clock.advance(8_500);
  assert.equal(a.isLeader(), true, 'within the renew deadline of the last renew');
  await clock.advance(2_000);
  assert.equal(a.isLeader(), false);
});

test('graceful stop releases the Lease: the standby takes over at its next retry', async () => {
  const { lease, clock, a, b } = await twoElectors(4_000);
  await a.stop();
  assert.equal(lease.rec!.holderIdentity, '');
  const at = clock.t;
  await clock.advance(2_500);
  assert.equal(b.isLeader(), true);
  assert.ok(lease.rec!.acquireTime! - at <= 2_000);
  await b.stop();
});

test('racing candidates: the resourceVersion lets exactly one win', async () => {
  const lease = new MemLease();
  const clock = new ManualClock();
  const ev: string[] = [];
  const cs = ['a', 'b', 'c'].map((id) => elector(lease, clock, id, ev));
  for (const c of cs) c.start();
  await clock.advance(10_000);
  assert.equal(cs.filter((c) => c.isLeader()).length, 1);
  assert.equal(ev.length, 1);
  for (const c of cs) await c.stop();
});

test('timings are checked as client-go does', () => {
  assert.deepEqual(validateLeaderTimings(15_000, 10_000, 2_000), []);
  assert.match(validateLeaderTimings(10_000, 10_000, 2_000).join(), /lease-duration must be greater/);
  assert.match(validateLeaderTimings(15_000, 2_000, 2_000).join(), /renew-deadline must be greater than 1.2/);
});
