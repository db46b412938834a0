// The PodAutoscaler reconcile step (bounds + scale-to-zero state machine), case by case after
// knative's pkg/reconciler/autoscaling/kpa/scaler_test.go (own numbers). The decider status is set
// directly and no samples are given, so only the reconcile logic acts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKpa, initKpaState } from '../../../src/deciders/kpa/decide.ts';
import { makeKpaPolicy } from '../../../src/deciders/kpa/policy.ts';
import { kpaConfigFromMap } from '../../../src/deciders/kpa/config.ts';
import type { ActiveStatus, KpaAnnotations, KpaPolicy, KpaState } from '../../../src/deciders/kpa/types.ts';

const T0 = 1_700_000_000_000;
const s = (n: number) => n * 1000;

interface Case {
  label: string;
  ann?: KpaAnnotations;
  cfg?: Record<string, string>;
  reachable?: boolean;
  desired: number;               // decider status
  active: ActiveStatus;
  activeFor: number;             // seconds since the Active condition changed
  proxyFor?: number;             // seconds the activator has been in path (SKS Proxy); default long
  serve?: boolean;               // SKS in Serve mode
  initialized?: boolean;
  replicas?: number;
  ready?: number;
  activatorReachable?: boolean;
  want: number;                  // expected replicas after (desiredReplicas)
  rescale: boolean;
}

const cases: Case[] = [
  { label: 'waits to scale to zero just before the stable window of being active', desired: 0, active: 'True', activeFor: 59, want: 1, rescale: false },
  { label: 'custom window: active ≥ window → deactivate (not yet removed)', ann: { windowSeconds: 10 }, desired: 0, active: 'True', activeFor: 10, want: 1, rescale: false },
  { label: 'scale to 1 while waiting for the window (from 3)', desired: 0, active: 'True', activeFor: 30, replicas: 3, ready: 3, want: 1, rescale: true },
  { label: 'inactive, activator in path long enough → remove the last replica', desired: 0, active: 'False', activeFor: 1, proxyFor: 100, want: 0, rescale: true },
  { label: 'inactive, activator in path only 10 s, grace 30 s → wait', desired: 0, active: 'False', activeFor: 10, proxyFor: 10, serve: false, want: 1, rescale: false },
  { label: 'inactive past the grace period → remove', desired: 0, active: 'False', activeFor: 31, proxyFor: 0, want: 0, rescale: true },
  { label: 'retention 60 s: inactive 40 s → keep', ann: { scaleToZeroPodRetentionPeriodSeconds: 60 }, desired: 0, active: 'False', activeFor: 40, want: 1, rescale: false },
  { label: 'retention 60 s: inactive 61 s → remove', ann: { scaleToZeroPodRetentionPeriodSeconds: 60 }, desired: 0, active: 'False', activeFor: 61, want: 0, rescale: true },
  { label: 'unreachable ignores retention', ann: { scaleToZeroPodRetentionPeriodSeconds: 60 }, reachable: false, desired: 0, active: 'False', activeFor: 31, want: 0, rescale: true },
  { label: 'TBC -1: no activator probe needed', ann: { targetBurstCapacity: -1 }, desired: 0, active: 'False', activeFor: 1, activatorReachable: false, want: 0, rescale: true },
  { label: 'activator probe fails → wait', desired: 0, active: 'False', activeFor: 100, activatorReachable: false, want: 1, rescale: false },
  { label: 'activating, deadline not exceeded → wait', desired: 0, active: 'Unknown', activeFor: 100, want: 1, rescale: false },
  { label: 'activating, deadline (600 + 30 s) exceeded → zero', desired: 0, active: 'Unknown', activeFor: 631, want: 0, rescale: true },
  { label: 'min-scale 2 holds before and after grace', ann: { minScale: 2 }, desired: 0, active: 'False', activeFor: 100, replicas: 2, ready: 2, want: 2, rescale: false },
  { label: 'min-scale ignored when unreachable', ann: { minScale: 2 }, reachable: false, desired: 0, active: 'False', activeFor: 100, replicas: 2, ready: 2, want: 0, rescale: true },
  { label: 'scales up', desired: 5, active: 'True', activeFor: 100, want: 5, rescale: true },
  { label: 'scales up to max-scale', ann: { maxScale: 3 }, desired: 5, active: 'True', activeFor: 100, want: 3, rescale: true },
  { label: 'scales an inactive revision up from zero', desired: 4, active: 'False', activeFor: 100, replicas: 0, ready: 0, want: 4, rescale: true },
  { label: 'no metrics yet (-1) and not activating → nothing', desired: -1, active: 'False', activeFor: 100, replicas: 0, ready: 0, want: 0, rescale: false },
  { label: 'initial scale 3 not reached yet: desired 1 lifted to 3', ann: { initialScale: 3 }, desired: 1, active: 'Unknown', activeFor: 1, initialized: false, replicas: 3, ready: 0, want: 3, rescale: false },
  { label: 'initial scale reached before: desired 1 applies', ann: { initialScale: 3 }, desired: 1, active: 'True', activeFor: 100, initialized: true, replicas: 3, ready: 3, want: 1, rescale: true },
  { label: 'enable-scale-to-zero false, min 0 → 1', cfg: { 'enable-scale-to-zero': 'false' }, desired: 0, active: 'False', activeFor: 100, want: 1, rescale: false },
  { label: 'enable-scale-to-zero false, min 2 → 2', cfg: { 'enable-scale-to-zero': 'false' }, ann: { minScale: 2 }, desired: 0, active: 'True', activeFor: 100, replicas: 1, want: 2, rescale: true },
];

for (const c of cases) {
  test(`reconcile: ${c.label}`, () => {
    const p: KpaPolicy = makeKpaPolicy({ name: 'r', target: 'Deployment/r', annotations: c.ann ?? {}, reachable: c.reachable ?? true }, kpaConfigFromMap(c.cfg ?? {}));
    const now = T0 + s(1000);
    const st: KpaState = initKpaState(p, 0, T0);
    st.deciderDesired = c.desired;
    st.active = { status: c.active, reason: c.active === 'True' ? 'Active' : c.active === 'False' ? 'NoTraffic' : 'Queued', since: now - s(c.activeFor) };
    st.scaleTargetInitialized = c.initialized ?? true;
    st.sks = c.serve ? { mode: 'Serve', since: now - s(500) } : { mode: 'Proxy', since: now - s(c.proxyFor ?? 500) };
    const replicas = c.replicas ?? 1;
    const { record } = decideKpa(p, { now, readyPods: c.ready ?? replicas, currentReplicas: replicas, samples: [], ...(c.activatorReachable === false ? { activatorReachable: false } : {}) }, st);
    // no data: only the reconcile acts (with TBC -1 "no data" reads as 0, a valid zero demand)
    assert.equal(record.details.valid, p.targetBurstCapacity === -1, record.explanation);
    assert.equal(record.desiredReplicas, c.want, record.explanation);
    assert.equal(record.rescale, c.rescale, record.explanation);
  });
}

test('reconcile: Active → Inactive after a full window, then NoTraffic; activator mode follows EBC', () => {
  const p = makeKpaPolicy({ name: 'r', target: 'Deployment/r', annotations: { windowSeconds: 10 } });
  const st = initKpaState(p, 1, T0);
  st.deciderDesired = 0;
  st.active = { status: 'True', reason: 'Active', since: T0 };
  const out = decideKpa(p, { now: T0 + s(10), readyPods: 1, currentReplicas: 1, samples: [] }, st);
  assert.equal(out.state.active.status, 'False');
  assert.equal(out.state.active.reason, 'NoTraffic');
  assert.ok(out.record.events.some((e) => e.reason === 'Inactive'));
  assert.equal(out.record.details.activatorInPath, true);
});
