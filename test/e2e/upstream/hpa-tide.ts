// Tide's side of the HPA differential test: a scenario (hpa-scenarios.ts) through Tide's manifest
// loader and decideHpa, step by step, with the decider state carried between steps; and the
// comparison with what upstream's controller decided (test/upstream-hpa/harness_test.go).
import { decideHpa, emptyHpaState } from '../../../src/deciders/hpa/decide.ts';
import type { HpaControllerConfig, HpaObservation, HpaPolicy, HpaState, MetricObservation, PodInfo } from '../../../src/deciders/hpa/types.ts';
import type { HpaDecisionRecord } from '../../../src/deciders/hpa/types.ts';
import { loadManifests } from '../../../src/manifests/index.ts';
import { milliOf, type Scenario } from './hpa-scenarios.ts';

/** Any fixed epoch: Tide's times are absolute, the scenario's relative. */
export const BASE = Date.UTC(2000, 0, 1);

export interface StepResult {
  currentReplicas: number;
  desiredReplicas: number;
  rescaled: boolean;
  scaleSpecAfter: number;
  conditions: { type: string; status: string; reason: string; message: string; at?: number }[];
  events: { type: string; reason: string; message: string }[];
  lastScaleAt?: number;
  error?: string;
}
export interface ScenarioResult { id: string; error?: string; steps: StepResult[]; records?: HpaDecisionRecord[] }

export function tideConfig(s: Scenario): Partial<HpaControllerConfig> {
  const c = s.controller;
  const cfg: Partial<HpaControllerConfig> = {};
  if (c.tolerance !== undefined) cfg.tolerance = c.tolerance;
  if (c.cpuInitializationPeriodSeconds !== undefined) cfg.cpuInitializationPeriodSeconds = c.cpuInitializationPeriodSeconds;
  if (c.initialReadinessDelaySeconds !== undefined) cfg.initialReadinessDelaySeconds = c.initialReadinessDelaySeconds;
  if (c.downscaleStabilizationSeconds !== undefined) cfg.downscaleStabilizationSeconds = c.downscaleStabilizationSeconds;
  if (c.featureGates) cfg.featureGates = { ...c.featureGates };
  return cfg;
}

export function loadPolicy(s: Scenario): HpaPolicy {
  const gates = s.controller.featureGates;
  const bundle = loadManifests({ file: `${s.id}.yaml`, text: JSON.stringify(s.hpa) }, gates ? { featureGates: gates } : {});
  const doc = bundle.autoscalers[0];
  return doc.normalized as HpaPolicy;
}

function pods(s: Scenario['steps'][number]): PodInfo[] {
  return s.pods.map((p) => {
    const out: PodInfo = {
      name: p.name,
      phase: p.phase as PodInfo['phase'],
      labels: { app: 'web' },
      containers: p.containers.map((c) => {
        const requests: Record<string, number> = {};
        for (const [k, v] of Object.entries(c.requests)) requests[k] = milliOf(v);
        return { name: c.name, requests };
      }),
    };
    if (p.ready) out.ready = { status: p.ready.status as 'True', lastTransitionTime: BASE + p.ready.at };
    if (p.startAt !== undefined) out.startTime = BASE + p.startAt;
    if (p.deletionAt !== undefined) out.deletionTimestamp = BASE + p.deletionAt;
    return out;
  });
}

function metrics(s: Scenario['steps'][number]): MetricObservation[] {
  return s.metrics.map((m): MetricObservation => {
    switch (m.kind) {
      case 'pods': return { kind: 'pods', samples: m.samples.map((x) => ({ pod: x.pod, value: x.value, timestamp: BASE + x.at, windowSeconds: x.windowSeconds })) };
      case 'object': return { kind: 'object', value: m.value, timestamp: BASE + m.at };
      case 'external': return { kind: 'external', values: m.values.slice(), timestamp: BASE + m.at };
      case 'error': return { kind: 'error', message: m.message };
    }
  });
}

const rel = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso) - BASE);

export function runTide(s: Scenario, keepRecords = false): ScenarioResult {
  let policy: HpaPolicy;
  try {
    policy = loadPolicy(s);
  } catch (e) {
    return { id: s.id, error: `load: ${(e as Error).message}`, steps: [] };
  }
  const config = tideConfig(s);
  let state: HpaState = emptyHpaState();
  state.recommendations = s.history.recommendations.map((r) => ({ timestamp: BASE + r.at, recommendation: r.replicas }));
  state.scaleUpEvents = s.history.scaleUpEvents.map((e) => ({ timestamp: BASE + e.at, replicaChange: e.change, outdated: e.outdated === true }));
  state.scaleDownEvents = s.history.scaleDownEvents.map((e) => ({ timestamp: BASE + e.at, replicaChange: e.change, outdated: e.outdated === true }));
  if (s.conditions) {
    state.conditions = s.conditions.map((c) => ({ type: c.type, status: c.status as 'True', reason: c.reason, message: c.message, ...(c.at !== undefined ? { lastTransitionTime: new Date(BASE + c.at).toISOString() } : {}) }));
  }
  const steps: StepResult[] = [];
  const records: HpaDecisionRecord[] = [];
  let carried = 0;
  let lastScaleAt: number | undefined;
  for (let i = 0; i < s.steps.length; i++) {
    const st = s.steps[i];
    const spec = st.scale.spec ?? (i > 0 ? carried : 0);
    const obs: HpaObservation = {
      now: BASE + st.at,
      target: { specReplicas: spec, statusReplicas: st.scale.status ?? spec, selector: st.scale.selector ?? 'app=web' },
      pods: pods(st),
      metrics: metrics(st),
    };
    const { record, state: next } = decideHpa(policy, obs, state, config);
    state = next;
    if (keepRecords) records.push(record);
    carried = record.desiredReplicas;
    if (record.rescale) lastScaleAt = st.at;
    steps.push({
      currentReplicas: spec,
      desiredReplicas: record.desiredReplicas,
      rescaled: record.rescale,
      scaleSpecAfter: record.desiredReplicas,
      conditions: record.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? '', message: c.message ?? '', at: rel(c.lastTransitionTime) })),
      events: record.events.map((e) => ({ type: e.type, reason: e.reason, message: e.message })),
      ...(lastScaleAt !== undefined ? { lastScaleAt } : {}),
    });
    Object.assign(steps[steps.length - 1], { limitedBy: record.limitedBy, path: record.details.path });
  }
  return { id: s.id, steps, ...(keepRecords ? { records } : {}) };
}

// ---------------------------------------------------------------- comparison

export interface Divergence { id: string; step: number; field: string; upstream: unknown; tide: unknown }

/**
 * The limit rules upstream's conditions imply. Upstream leaves conditions it does not reach this
 * sync as they were (e.g. ScalingLimited on the straight-to-max path), so only the conditions of the
 * branch Tide took are read; that Tide took the same branch shows in the replicas and conditions.
 */
function impliedRules(u: StepResult, path: string): string[][] {
  const out: string[][] = [];
  const get = (t: string) => u.conditions.find((c) => c.type === t);
  const active = get('ScalingActive');
  if (path === 'above-max') return [['max']];
  if (path === 'below-min') return [['min']];
  if (path === 'scaling-disabled') return active?.reason === 'ScalingDisabled' ? [['disabled']] : [['?']];
  if (path === 'invalid-metrics') return active?.status === 'False' ? [['invalid-metrics']] : [['?']];
  const able = get('AbleToScale');
  if (able?.reason === 'ScaleDownStabilized' || able?.reason === 'ScaleUpStabilized') out.push(['stabilization']);
  const limited = get('ScalingLimited');
  if (limited?.status === 'True' && active?.status !== 'False') {
    if (limited.reason === 'TooManyReplicas') out.push(['max']);
    if (limited.reason === 'TooFewReplicas') out.push(['min']);
    if (limited.reason === 'ScaleUpLimit') out.push(['policy', 'legacy-scale-up-limit', 'disabled']);
    if (limited.reason === 'ScaleDownLimit') out.push(['policy', 'disabled']);
  }
  return out;
}

export function compare(s: Scenario, up: ScenarioResult, tide: ScenarioResult): Divergence[] {
  const d: Divergence[] = [];
  const add = (step: number, field: string, u: unknown, t: unknown) => d.push({ id: s.id, step, field, upstream: u, tide: t });
  if (up.error || tide.error) {
    if (up.error !== tide.error) add(-1, 'error', up.error, tide.error);
    return d;
  }
  const n = Math.max(up.steps.length, tide.steps.length);
  for (let i = 0; i < n; i++) {
    const u = up.steps[i];
    const t = tide.steps[i];
    if (!u || !t) { add(i, 'steps', up.steps.length, tide.steps.length); break; }
    const before = d.length;
    if (u.currentReplicas !== t.currentReplicas) add(i, 'currentReplicas', u.currentReplicas, t.currentReplicas);
    // the decision: what the scale was set to (or kept at)
    if (u.scaleSpecAfter !== t.desiredReplicas) add(i, 'desiredReplicas', u.scaleSpecAfter, t.desiredReplicas);
    // status.desiredReplicas: upstream leaves the previous value there when no metric could be
    // computed (it returns before setStatus); otherwise it is the decision
    const limitedByNow = (t as StepResult & { limitedBy?: string[] }).limitedBy ?? [];
    const expectStatus = limitedByNow.includes('invalid-metrics') ? (i > 0 ? up.steps[i - 1].desiredReplicas : 0) : t.desiredReplicas;
    if (u.desiredReplicas !== expectStatus) add(i, 'status.desiredReplicas', u.desiredReplicas, expectStatus);
    if (u.rescaled !== t.rescaled) add(i, 'rescaled', u.rescaled, t.rescaled);
    const fmt = (c: StepResult['conditions'][number]) => `${c.type}=${c.status} ${c.reason}: ${c.message} @${c.at}`;
    const uc = u.conditions.map(fmt);
    const tc = t.conditions.map(fmt);
    if (uc.join('\n') !== tc.join('\n')) add(i, 'conditions', uc, tc);
    const fe = (e: StepResult['events'][number]) => `${e.type} ${e.reason}: ${e.message}`;
    const ue = u.events.map(fe);
    const te = t.events.map(fe);
    if (ue.join('\n') !== te.join('\n')) add(i, 'events', ue, te);
    if ((u.lastScaleAt ?? null) !== (t.lastScaleAt ?? null)) add(i, 'lastScaleAt', u.lastScaleAt, t.lastScaleAt);
    const limitedBy = (t as StepResult & { limitedBy?: string[] }).limitedBy ?? [];
    for (const alts of impliedRules(u, (t as StepResult & { path?: string }).path ?? '')) {
      if (!alts.some((r) => limitedBy.includes(r))) add(i, 'limitedBy', `one of ${alts.join('|')}`, limitedBy);
    }
    if (d.length > before) break; // later steps start from a different place
  }
  return d;
}
