// Shared outage scenario: a real source in front of the KEDA decider while its server goes down and
// comes back. Asserts: a clear error naming the backend → invalid metric (no scale-down) → fallback
// after failureThreshold (Fallback=True) → restart → automatic recovery (Fallback=False).
import assert from 'node:assert/strict';
import { decideKeda, emptyKedaState } from '../../../src/deciders/keda/decide.ts';
import type { KedaState, TriggerObservation } from '../../../src/deciders/keda/types.ts';
import type { MetricSource } from '../../../src/sources/types.ts';
import { triggerValue } from '../../../src/sources/index.ts';
import type { Service } from '../../support/services.ts';
import { policy, trigger, obs } from '../keda/helpers.ts';

async function observe(type: string, src: MetricSource, now: number): Promise<TriggerObservation> {
  try {
    const samples = await src.read(now);
    return { kind: 'value', value: triggerValue(type, samples), timestamp: now };
  } catch (e) {
    return { kind: 'error', message: (e as Error).message };
  }
}

export async function outageScenario(opts: {
  type: string;
  source: MetricSource;
  service: Service;
  /** Expected value before the outage (the test seeded it). */
  expected: number;
  /** Re-seed data after the restart if the server lost it; returns the value expected then. */
  reseed?: () => Promise<number>;
  errorPattern: RegExp;
}): Promise<void> {
  const { type, source, service } = opts;
  const p = policy({
    triggers: [trigger({ type, metricName: `s0-${type}`, target: 1 })],
    fallback: { failureThreshold: 1, replicas: 7, behavior: 'static' },
    maxReplicaCount: 50,
  });
  let now = Date.now() - 60_000; // real wall time: Prometheus evaluates the query at `now`
  let st: KedaState = { ...emptyKedaState(0), lastActiveTime: now };
  let current = 3;
  const step = async () => {
    now = Math.max(now + 15_000, Date.now());
    // The source reads the present (a Prometheus query at a future instant would see the shutdown's
    // staleness markers but not the first scrape after the restart); the decider's clock runs ahead.
    const o = await observe(type, source, Date.now());
    if (o.kind === 'value') o.timestamp = now;
    const { record, state } = decideKeda(p, obs(current, [o], now), st);
    st = state;
    current = record.desiredReplicas;
    return { o, record };
  };

  const healthy = await step();
  assert.equal(healthy.o.kind, 'value', `healthy read failed: ${healthy.o.kind === 'error' ? healthy.o.message : ''}`);
  assert.equal((healthy.o as { value: number }).value, opts.expected);

  await service.stop();
  const down1 = await step();
  assert.equal(down1.o.kind, 'error');
  assert.match((down1.o as { message: string }).message, opts.errorPattern);
  const before = current;
  assert.equal(down1.record.desiredReplicas, before, 'no scale change on the first failure (invalid metric)');
  assert.equal(down1.record.conditions.find((c) => c.type === 'Fallback')?.status, 'False');
  const down2 = await step();
  assert.equal(down2.o.kind, 'error');
  assert.equal(down2.record.desiredReplicas, 7, `fallback replicas after failureThreshold: ${down2.record.explanation}`);
  assert.equal(down2.record.conditions.find((c) => c.type === 'Fallback')?.status, 'True');
  assert.ok(down2.record.limitedBy.includes('fallback'));

  await service.restart();
  const expectedAfter = opts.reseed ? await opts.reseed() : opts.expected;
  // clients reconnect on their own; allow a few polls
  let rec: Awaited<ReturnType<typeof step>> | undefined;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    rec = await step();
    // Recovered = the right value again (Prometheus answers "empty" = 0 until its first scrape after
    // the restart, which is a valid reading, not yet the recovery).
    if (rec.o.kind === 'value' && rec.o.value === expectedAfter) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(rec?.o.kind, 'value', `no recovery after restart: ${rec?.o.kind === 'error' ? rec.o.message : ''}`);
  assert.equal((rec!.o as { value: number }).value, expectedAfter);
  assert.equal(rec!.record.conditions.find((c) => c.type === 'Fallback')?.status, 'False');
  assert.equal(st.health[`s0-${type}`].status, 'Happy');
}
