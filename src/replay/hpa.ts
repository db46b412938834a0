// The HPA in `tide decide`: scenario steps → HpaObservation (pods, per-pod samples, object and
// external values, errors) → decideHpa, carrying the controller memory from step to step.
import { UserError } from '../core/errors.ts';
import { decideHpa, emptyHpaState } from '../deciders/hpa/decide.ts';
import type {
  HpaControllerConfig, HpaDecisionInputs, HpaPolicy, HpaState, MetricObservation, MetricSpec, PodInfo, ScaleEvent,
} from '../deciders/hpa/types.ts';
import type { NormalizedDeployment } from '../manifests/types.ts';
import { milliValue } from '../manifests/quantity.ts';
import type { ReplayDecider, ScenarioRunner, ScenarioSetup } from './registry.ts';
import type { HistoryInput, MetricInput, PodInput, ScenarioStep } from './scenario.ts';
import { resolveDuration, resolveTime } from './time.ts';

const LONG_AGO_MS = 3_600_000; // generated pods started an hour before the step (past every init period)
const DEFAULT_WINDOW_S = 15;

type Containers = { name: string; requests: Record<string, number> }[];

function milliMap(rec: Record<string, string | number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec ?? {})) out[k] = milliValue(v);
  return out;
}

export function historyToState(h: HistoryInput | undefined, origin: number, base: HpaState = emptyHpaState()): HpaState {
  if (!h) return base;
  const ev = (e: { at: number | string; change: number; outdated?: boolean }): ScaleEvent => ({ timestamp: resolveTime(e.at, origin), replicaChange: e.change, ...(e.outdated ? { outdated: true } : {}) });
  // Lists given replace the memory's; lists left out are kept.
  const s: HpaState = { ...base };
  if (h.recommendations) s.recommendations = h.recommendations.map((r) => ({ timestamp: resolveTime(r.at, origin), recommendation: r.replicas }));
  if (h.scaleUpEvents) s.scaleUpEvents = h.scaleUpEvents.map(ev);
  if (h.scaleDownEvents) s.scaleDownEvents = h.scaleDownEvents.map(ev);
  if (h.lastScaleTime !== undefined) s.lastScaleTime = resolveTime(h.lastScaleTime, origin);
  return s;
}

function isHpaPolicy(o: unknown): o is HpaPolicy {
  const p = o as HpaPolicy;
  return !!p && typeof p === 'object' && !('apiVersion' in p) && typeof p.maxReplicas === 'number' && Array.isArray(p.metrics) && !!p.scaleTargetRef;
}

interface AutoPod { name: string; start: number; readyAt: number }

function createRunner(setup: ScenarioSetup): ScenarioRunner {
  const sc = setup.scenario;
  const origin = setup.originMs;
  const policy = setup.policy as HpaPolicy;
  let deployment: NormalizedDeployment | undefined;
  if (setup.autoscaler) {
    const target = setup.bundle.workloads.find((w) => w.kind === policy.scaleTargetRef.kind && w.name === policy.scaleTargetRef.name);
    if (target?.kind === 'Deployment') deployment = target.normalized as NormalizedDeployment;
    else if (!target && setup.bundle.deployments.length === 1 && sc.deployment !== undefined) {
      throw new UserError(`the scenario's deployment is "${setup.bundle.deployments[0].name}" but the policy scales ${policy.scaleTargetRef.kind} "${policy.scaleTargetRef.name}"`);
    }
  }
  const config = { ...(sc.config ?? {}), ...(sc.featureGates ? { featureGates: { ...sc.featureGates } } : {}) } as Partial<HpaControllerConfig>;
  const actuate = sc.actuate ?? true;
  const targetName = policy.scaleTargetRef.name;
  const defaults = sc.podDefaults ?? {};
  const defaultContainers: Containers = defaults.containers
    ? defaults.containers.map((c) => ({ name: c.name, requests: milliMap(c.requests) }))
    : defaults.requests
      ? [{ name: deployment?.containers[0]?.name ?? 'main', requests: milliMap(defaults.requests) }]
      : deployment ? deployment.containers.map((c) => ({ name: c.name, requests: { ...c.requests } })) : [];
  const defaultAge = defaults.age !== undefined ? resolveDuration(defaults.age) : LONG_AGO_MS;
  const readyAfter = sc.newPodReadyAfter !== undefined ? resolveDuration(sc.newPodReadyAfter) : 0;
  const podLabels = defaults.labels ?? deployment?.podLabels ?? {};

  const base = sc.state ? { ...emptyHpaState(), ...(structuredClone(sc.state) as Partial<HpaState>) } : emptyHpaState();
  let state = sc.history ? historyToState(sc.history, origin, base) : base;
  let replicas = sc.replicas ?? deployment?.replicas ?? policy.minReplicas;
  let autoPods: AutoPod[] = [];
  let counter = 0;
  let lastTime: number | undefined;

  const syncAutoPods = (n: number, now: number, first: boolean) => {
    while (autoPods.length > n) autoPods.pop();
    while (autoPods.length < n) {
      const start = first ? now - defaultAge : (lastTime ?? now);
      autoPods.push({ name: `${targetName}-${counter++}`, start, readyAt: first ? start : start + readyAfter });
    }
  };

  const podFromInput = (p: PodInput, i: number, now: number): PodInfo => {
    const start = p.startTime !== undefined ? resolveTime(p.startTime, origin) : p.age !== undefined ? now - resolveDuration(p.age) : now - defaultAge;
    const readyStatus = p.ready === undefined ? 'True' : typeof p.ready === 'boolean' ? (p.ready ? 'True' : 'False') : p.ready;
    const containers: Containers = p.containers
      ? p.containers.map((c) => ({ name: c.name, requests: milliMap(c.requests) }))
      : p.requests ? [{ name: defaultContainers[0]?.name ?? 'main', requests: milliMap(p.requests) }] : defaultContainers.map((c) => ({ name: c.name, requests: { ...c.requests } }));
    const pod: PodInfo = {
      name: p.name ?? `${targetName}-${i}`,
      phase: p.phase ?? 'Running',
      ready: { status: readyStatus, lastTransitionTime: p.readySince !== undefined ? resolveTime(p.readySince, origin) : start },
      startTime: start,
      labels: p.labels ?? podLabels,
      containers,
    };
    if (p.deletionTimestamp !== undefined) pod.deletionTimestamp = resolveTime(p.deletionTimestamp, origin);
    return pod;
  };

  const requestOf = (pod: PodInfo, spec: MetricSpec): number => {
    if (spec.type === 'Resource') return pod.containers.reduce((a, c) => a + (c.requests[spec.resource.name] ?? 0), 0);
    if (spec.type === 'ContainerResource') return pod.containers.find((c) => c.name === spec.containerResource.container)?.requests[spec.containerResource.name] ?? 0;
    return 0;
  };

  const observe = (m: MetricInput | null | undefined, spec: MetricSpec, pods: PodInfo[], now: number, idx: number, stepIdx: number): MetricObservation => {
    const where = `steps[${stepIdx}].metrics[${idx}]`;
    if (m == null) return { kind: 'error', message: `no value given for metric ${idx} in the scenario` };
    if (m.kind) {
      if (m.kind === 'pods') return { kind: 'pods', samples: m.samples ?? [] };
      if (m.kind === 'object') return { kind: 'object', value: Number(m.value ?? 0), timestamp: m.timestampMs ?? now };
      if (m.kind === 'external') return { kind: 'external', values: (m.values ?? []).map(Number), timestamp: m.timestampMs ?? now };
      return { kind: 'error', message: m.message ?? m.error ?? 'error' };
    }
    if (m.error !== undefined) return { kind: 'error', message: m.error };
    const ts = m.timestamp !== undefined ? resolveTime(m.timestamp, origin) : now;
    const win = m.window !== undefined ? resolveDuration(m.window) / 1000 : DEFAULT_WINDOW_S;
    if (spec.type === 'Object') {
      if (m.value === undefined) throw new UserError(`${where}: an Object metric needs "value"`);
      return { kind: 'object', value: milliValue(m.value), timestamp: ts };
    }
    if (spec.type === 'External') {
      const vals = m.values ?? (m.value !== undefined ? [m.value] : undefined);
      if (!vals) throw new UserError(`${where}: an External metric needs "values" (or "value")`);
      return { kind: 'external', values: vals.map((v) => milliValue(v)), timestamp: ts };
    }
    const running = pods.filter((p) => p.phase === 'Running');
    const sample = (pod: PodInfo, value: number) => ({ pod: pod.name, value, timestamp: ts, windowSeconds: win });
    if (m.each !== undefined) { const v = milliValue(m.each); return { kind: 'pods', samples: running.map((p) => sample(p, v)) }; }
    if (m.utilization !== undefined) {
      if (spec.type === 'Pods') throw new UserError(`${where}: "utilization" applies to Resource metrics; give "each" or "pods" for a Pods metric`);
      const u = m.utilization;
      return { kind: 'pods', samples: running.map((p) => sample(p, Math.ceil((requestOf(p, spec) * u) / 100))) };
    }
    if (m.pods !== undefined) {
      if (Array.isArray(m.pods)) {
        const samples = [];
        for (let i = 0; i < m.pods.length && i < pods.length; i++) { const v = m.pods[i]; if (v !== null) samples.push(sample(pods[i], milliValue(v))); }
        if (m.pods.length > pods.length) throw new UserError(`${where}.pods: ${m.pods.length} values for ${pods.length} pods`);
        return { kind: 'pods', samples };
      }
      const byName = m.pods;
      for (const n of Object.keys(byName)) if (!pods.some((p) => p.name === n)) throw new UserError(`${where}.pods: no pod named "${n}" (pods: ${pods.map((p) => p.name).join(', ')})`);
      return { kind: 'pods', samples: pods.filter((p) => p.name in byName).map((p) => sample(p, milliValue(byName[p.name]))) };
    }
    throw new UserError(`${where}: give one of each, utilization, pods, value, values or error`);
  };

  return {
    step(step: ScenarioStep, index: number) {
      const now = resolveTime(step.at, origin);
      if (lastTime !== undefined && now < lastTime) throw new UserError(`steps[${index}].at goes back in time (${new Date(now).toISOString()} < ${new Date(lastTime).toISOString()})`);
      if (step.replicas !== undefined) replicas = step.replicas;
      if (step.history) state = historyToState(step.history, origin, state);
      syncAutoPods(replicas, now, lastTime === undefined);
      let pods: PodInfo[];
      if (Array.isArray(step.pods)) pods = step.pods.map((p, i) => podFromInput(p, i, now));
      else {
        if (typeof step.pods === 'number') syncAutoPods(step.pods, now, false);
        pods = autoPods.map((a) => ({
          name: a.name, phase: 'Running',
          ready: now >= a.readyAt ? { status: 'True', lastTransitionTime: a.readyAt } : { status: 'False', lastTransitionTime: a.start },
          startTime: a.start, labels: podLabels,
          containers: defaultContainers.map((c) => ({ name: c.name, requests: { ...c.requests } })),
        }));
      }
      const specs = policy.metrics;
      const inputs = step.metrics ?? [];
      if (inputs.length > specs.length) throw new UserError(`steps[${index}].metrics has ${inputs.length} entries but the policy has ${specs.length} metric(s)`);
      specs.forEach((s, i) => {
        // Utilization and container metrics read the pods' containers; generated pods get them from
        // the Deployment or podDefaults. Without either, say so (the calculator would only report
        // "no metrics returned matched known pods").
        const needs = s.type === 'ContainerResource' || (s.type === 'Resource' && s.resource.target.type === 'Utilization');
        if (!needs || !pods.some((p) => p.phase === 'Running' && p.containers.length === 0)) return;
        const res = s.type === 'Resource' ? s.resource.name : s.containerResource.name;
        const what = s.type === 'Resource' ? `${res} Utilization` : `ContainerResource ${res} of container ${s.containerResource.container}`;
        const cause = sc.deployment === undefined && !deployment
          ? 'the scenario has no "deployment"'
          : `the Deployment the policy scales (${policy.scaleTargetRef.kind} "${targetName}") is not in "deployment"`;
        throw new UserError(`steps[${index}]: policy metric ${i} (${what}) needs the pods' resource requests, but ${cause}: add "deployment": { "path": "deployment.yaml" } (the Deployment with resources.requests), or "podDefaults": { "requests": { "${res}": "200m" } }, or per-pod "requests"`);
      });
      const metrics = specs.map((s, i) => observe(inputs[i], s, pods, now, i, index));
      const observation = {
        now,
        target: { specReplicas: replicas, statusReplicas: step.statusReplicas ?? replicas, ...(step.selector ? { selector: step.selector } : {}) },
        pods,
        metrics,
      };
      const { record, state: next } = decideHpa(policy, observation, state, config);
      state = next;
      lastTime = now;
      if (actuate) replicas = record.desiredReplicas;
      return record;
    },
  };
}

export const hpaReplay: ReplayDecider = {
  kind: 'hpa',
  replay(inputs) {
    const i = inputs as HpaDecisionInputs;
    if (!i || !i.policy || !i.observation || !i.state) throw new UserError('an HPA record needs inputs.policy, inputs.observation and inputs.state');
    return decideHpa(i.policy, i.observation, i.state, i.config).record;
  },
  scenario: createRunner,
  isPolicy: isHpaPolicy,
};
