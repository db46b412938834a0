// Seeded random HPA scenarios for the differential test against upstream's controller code
// (test/upstream-hpa/harness_test.go reads exactly this JSON). Times are milliseconds relative to
// the scenario's start; quantities are Kubernetes quantity strings where the API has quantities.
//
// Coverage: every metric source and target type; pods in every phase, readiness, start-time and
// deletion state; CPU-initialization and readiness-delay boundaries (±1 ms); missing samples,
// samples of unknown pods, missing requests; behavior policies, windows, select policies and
// tolerances; legacy stabilization with controller windows 0..300 s; min/max edges; scale to zero
// and back; multi-step histories where the next step starts from what the previous one decided.

export interface ScenarioController {
  tolerance?: number;
  cpuInitializationPeriodSeconds?: number;
  initialReadinessDelaySeconds?: number;
  downscaleStabilizationSeconds?: number;
  featureGates?: Record<string, boolean>;
  /** Harness only: kube's emulation version, needed to turn a gate off that v1.37 locks on. */
  emulationVersion?: string;
}
export interface ScenarioCondition { type: string; status: string; reason: string; message: string; at?: number }
export interface ScenarioPod {
  name: string;
  phase: string;
  ready?: { status: string; at: number };
  startAt?: number;
  deletionAt?: number;
  containers: { name: string; requests: Record<string, string> }[];
}
export type ScenarioMetric =
  | { kind: 'pods'; samples: { pod: string; value: number; at: number; windowSeconds: number }[] }
  | { kind: 'object'; value: number; at: number }
  | { kind: 'external'; values: number[]; at: number }
  | { kind: 'error'; message: string };
export interface ScenarioStep {
  at: number;
  /** spec undefined: whatever the previous step left; status undefined: = spec. */
  scale: { spec?: number; status?: number; selector?: string };
  pods: ScenarioPod[];
  metrics: ScenarioMetric[];
}
export interface Scenario {
  id: string;
  controller: ScenarioController;
  hpa: Record<string, any>;
  conditions?: ScenarioCondition[];
  history: {
    recommendations: { at: number; replicas: number }[];
    scaleUpEvents: { at: number; change: number; outdated?: boolean }[];
    scaleDownEvents: { at: number; change: number; outdated?: boolean }[];
  };
  steps: ScenarioStep[];
  /** What the generator aimed at, for coverage counts (not read by either side). */
  tags: string[];
}

// ---------------------------------------------------------------- PRNG (mulberry32)

export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]; }
  weighted<T>(xs: readonly [number, T][]): T {
    let total = 0;
    for (const [w] of xs) total += w;
    let r = this.next() * total;
    for (const [w, x] of xs) { if ((r -= w) < 0) return x; }
    return xs[xs.length - 1][1];
  }
}

const S = 1000;

/** A milli-value as a quantity string ("1500m", "2", "3k"). */
export function q(milli: number): string {
  if (milli % 1000 !== 0) return `${milli}m`;
  const v = milli / 1000;
  if (v !== 0 && v % 1000 === 0) return `${v / 1000}k`;
  return `${v}`;
}

type MetricKind =
  | 'cpu-util' | 'cpu-avg' | 'mem-util' | 'mem-avg' | 'ccpu-util' | 'ccpu-avg'
  | 'pods' | 'object-value' | 'object-avg' | 'external-value' | 'external-avg';

interface GenMetric { kind: MetricKind; spec: Record<string, any>; target: number }

function genMetric(r: Rng, kind: MetricKind, i: number): GenMetric {
  const util = r.pick([10, 50, 60, 70, 80, 100, 150]);
  const avg = r.pick([100, 250, 500, 1000, 2000, 1500, 30000]);
  switch (kind) {
    case 'cpu-util': return { kind, target: util, spec: { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: util } } } };
    case 'cpu-avg': return { kind, target: avg, spec: { type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: q(avg) } } } };
    case 'mem-util': return { kind, target: util, spec: { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: util } } } };
    case 'mem-avg': {
      const m = r.pick([256, 512, 1024]) * 1024 * 1024 * 1000;
      return { kind, target: m, spec: { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: q(m) } } } };
    }
    case 'ccpu-util': return { kind, target: util, spec: { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: util } } } };
    case 'ccpu-avg': return { kind, target: avg, spec: { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'AverageValue', averageValue: q(avg) } } } };
    case 'pods': return { kind, target: avg, spec: { type: 'Pods', pods: { metric: { name: `rps${i}` }, target: { type: 'AverageValue', averageValue: q(avg) } } } };
    case 'object-value': return { kind, target: avg, spec: { type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'front' }, metric: { name: `requests${i}` }, target: { type: 'Value', value: q(avg) } } } };
    case 'object-avg': return { kind, target: avg, spec: { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: `hits${i}` }, target: { type: 'AverageValue', averageValue: q(avg) } } } };
    case 'external-value': {
      const sel = r.chance(0.5) ? { selector: { matchLabels: { queue: 'jobs', zone: 'a' } } } : {};
      return { kind, target: avg, spec: { type: 'External', external: { metric: { name: `queue${i}`, ...sel }, target: { type: 'Value', value: q(avg) } } } };
    }
    case 'external-avg': {
      const sel = r.chance(0.3) ? { selector: { matchExpressions: [{ key: 'queue', operator: 'In', values: ['jobs', 'mail'] }] } } : {};
      return { kind, target: avg, spec: { type: 'External', external: { metric: { name: `backlog${i}`, ...sel }, target: { type: 'AverageValue', averageValue: q(avg) } } } };
    }
  }
}

const ALL_KINDS: MetricKind[] = ['cpu-util', 'cpu-avg', 'mem-util', 'mem-avg', 'ccpu-util', 'ccpu-avg', 'pods', 'object-value', 'object-avg', 'external-value', 'external-avg'];

function genRules(r: Rng, dir: 'up' | 'down'): Record<string, any> | undefined {
  if (r.chance(0.3)) return undefined;
  const out: Record<string, any> = {};
  if (r.chance(0.6)) out.stabilizationWindowSeconds = r.pick([0, 0, 15, 30, 60, 120, 300]);
  if (r.chance(0.4)) out.selectPolicy = r.weighted([[4, 'Max'], [3, 'Min'], [1, 'Disabled']] as const);
  if (r.chance(0.6)) {
    const n = r.int(1, 3);
    out.policies = Array.from({ length: n }, () => (r.chance(0.5)
      ? { type: 'Pods', value: r.int(1, dir === 'up' ? 6 : 4), periodSeconds: r.pick([15, 30, 60, 120]) }
      : { type: 'Percent', value: r.pick([10, 25, 50, 100, 200, 900]), periodSeconds: r.pick([15, 30, 60, 120]) }));
  }
  if (r.chance(0.25)) out.tolerance = r.pick(['0', '0.05', '0.2', '0.5', '50m']);
  return out;
}

function podName(i: number): string { return `web-${i}`; }

interface PodGen { pod: ScenarioPod; usable: boolean }

function genPod(r: Rng, i: number, c: Required<Pick<ScenarioController, 'cpuInitializationPeriodSeconds' | 'initialReadinessDelaySeconds'>>, now: number, requestCpu: number, tags: Set<string>, opts: { badRequest: boolean; noApp: boolean }): PodGen {
  const initMs = c.cpuInitializationPeriodSeconds * S;
  const delayMs = c.initialReadinessDelaySeconds * S;
  const phase = r.weighted([[80, 'Running'], [6, 'Pending'], [4, 'Failed'], [3, 'Succeeded'], [3, 'Unknown']] as const);
  const pod: ScenarioPod = { name: podName(i), phase, containers: [] };
  // start time relative to the step: long ago, or around the cpu initialization boundary
  const startKind = r.weighted([[45, 'old'], [15, 'init-boundary'], [20, 'young'], [5, 'none'], [15, 'mid']] as const);
  let start: number | undefined;
  if (startKind === 'old') start = now - 3600 * S;
  else if (startKind === 'init-boundary') { start = now - initMs + r.pick([-1, 0, 1]); tags.add('cpu-init-boundary'); }
  else if (startKind === 'young') start = now - r.pick([5, 10, 29, 30, 31, 60]) * S;
  else if (startKind === 'mid') start = now - r.int(1, Math.max(1, c.cpuInitializationPeriodSeconds * 2)) * S;
  if (start !== undefined) pod.startAt = start;
  else tags.add('no-start-time');
  if (r.chance(0.9)) {
    const status = r.weighted([[70, 'True'], [22, 'False'], [8, 'Unknown']] as const);
    let at: number;
    const base = start ?? now - 600 * S;
    const k = r.weighted([[30, 'delay-boundary'], [40, 'after-start'], [30, 'recent']] as const);
    if (k === 'delay-boundary') { at = base + delayMs + r.pick([-1, 0, 1]); tags.add('readiness-delay-boundary'); }
    else if (k === 'after-start') at = base + r.int(0, 120) * S;
    else at = now - r.int(0, 90) * S;
    if (at > now) at = now;
    pod.ready = { status, at };
  } else tags.add('no-ready-condition');
  if (r.chance(0.06)) { pod.deletionAt = now - r.int(0, 30) * S; tags.add('deleting'); }
  const mem = r.pick([256, 512]) * 1024 * 1024 * 1000;
  const app = { name: 'app', requests: { cpu: q(requestCpu), memory: q(mem) } as Record<string, string> };
  if (opts.badRequest) { delete app.requests.cpu; tags.add('missing-request'); }
  if (!opts.noApp) pod.containers.push(app);
  else { tags.add('missing-container'); }
  if (r.chance(0.25) || opts.noApp) pod.containers.push({ name: 'sidecar', requests: { cpu: q(r.pick([100, 250])), memory: q(mem) } });
  const usable = phase !== 'Failed' && phase !== 'Pending' && pod.deletionAt === undefined;
  return { pod, usable };
}

/** Sample value for a pod: usage around target × ratio. */
function sampleFor(r: Rng, m: GenMetric, pod: ScenarioPod, ratio: number): number | undefined {
  const jitter = 0.5 + r.next();
  const f = ratio * jitter;
  const req = (name: string, res: string) => {
    const c = pod.containers.find((x) => x.name === name);
    const v = c?.requests[res];
    if (v === undefined) return 1000;
    return milliOf(v);
  };
  switch (m.kind) {
    case 'cpu-util': return Math.round(((req('app', 'cpu') + (pod.containers.length > 1 ? req('sidecar', 'cpu') : 0)) * m.target * f) / 100);
    case 'mem-util': return Math.round((req('app', 'memory') * m.target * f) / 100 / 1000) * 1000;
    case 'ccpu-util': return Math.round((req('app', 'cpu') * m.target * f) / 100);
    case 'mem-avg': return Math.round((m.target * f) / 1000) * 1000;
    case 'cpu-avg': case 'ccpu-avg': case 'pods': return Math.round(m.target * f);
    default: return undefined;
  }
}

export function milliOf(qty: string): number {
  const m = /^(\d+)(m|k|Mi|Gi|Ki)?$/.exec(qty);
  if (!m) throw new Error(`test quantity ${qty}`);
  const n = Number(m[1]);
  switch (m[2]) {
    case 'm': return n;
    case 'k': return n * 1000 * 1000;
    case 'Ki': return n * 1024 * 1000;
    case 'Mi': return n * 1024 * 1024 * 1000;
    case 'Gi': return n * 1024 * 1024 * 1024 * 1000;
    default: return n * 1000;
  }
}

export function generateScenario(r: Rng, id: string): Scenario {
  const tags = new Set<string>();
  // ---- controller flags and gates
  const controller: ScenarioController = {};
  if (r.chance(0.3)) controller.tolerance = r.pick([0, 0.05, 0.2]);
  const cpuInit = r.chance(0.3) ? r.pick([60, 120]) : 300;
  const delay = r.chance(0.3) ? r.pick([10, 0]) : 30;
  if (cpuInit !== 300) controller.cpuInitializationPeriodSeconds = cpuInit;
  if (delay !== 30) controller.initialReadinessDelaySeconds = delay;
  const downWin = r.weighted([[50, 300], [15, 0], [20, 60], [15, 120]] as const);
  if (downWin !== 300) controller.downscaleStabilizationSeconds = downWin;
  const gates: Record<string, boolean> = {};
  let scaleToZero = true;
  if (r.chance(0.15)) { gates.HPAConfigurableTolerance = false; controller.emulationVersion = '1.36'; tags.add('gate-tolerance-off'); }
  if (r.chance(0.15)) { scaleToZero = false; tags.add('gate-scale-to-zero-off'); }
  if (controller.emulationVersion || !scaleToZero) gates.HPAScaleToZero = scaleToZero;
  if (Object.keys(gates).length) controller.featureGates = gates;

  // ---- metrics
  const nMetrics = r.weighted([[5, 0], [55, 1], [28, 2], [12, 3]] as const);
  const kinds: MetricKind[] = [];
  for (let i = 0; i < nMetrics; i++) {
    let k = r.pick(ALL_KINDS);
    // one metric per resource source (the fake metrics client keys by source)
    for (let tries = 0; tries < 10 && kinds.some((x) => sameSource(x, k)); tries++) k = r.pick(ALL_KINDS);
    if (kinds.some((x) => sameSource(x, k))) continue;
    kinds.push(k);
  }
  const metrics = kinds.map((k, i) => genMetric(r, k, i));
  const effective: GenMetric[] = metrics.length ? metrics : [{ kind: 'cpu-util', target: 80, spec: {} }];
  for (const m of effective) tags.add(`metric:${m.kind}`);
  const hasObjExt = metrics.some((m) => m.spec.type === 'Object' || m.spec.type === 'External');

  // ---- replicas bounds
  const maxReplicas = r.weighted([[20, r.int(1, 3)], [60, r.int(4, 12)], [20, r.int(13, 40)]] as const);
  let minReplicas: number | undefined = r.chance(0.25) ? undefined : r.int(1, Math.min(maxReplicas, 5));
  if (scaleToZero && hasObjExt && r.chance(0.35)) { minReplicas = 0; tags.add('min-zero'); }
  const min = minReplicas ?? 1;

  const hpa: Record<string, any> = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas },
  };
  if (minReplicas !== undefined) hpa.spec.minReplicas = minReplicas;
  if (metrics.length) hpa.spec.metrics = metrics.map((m) => m.spec);
  const hasBehavior = r.chance(0.55);
  if (hasBehavior) {
    const b: Record<string, any> = {};
    const up = genRules(r, 'up');
    const down = genRules(r, 'down');
    if (up) b.scaleUp = up;
    if (down) b.scaleDown = down;
    hpa.spec.behavior = b;
    tags.add('behavior');
    if (!down || down.stabilizationWindowSeconds === undefined) tags.add('behavior-default-down-window');
  } else tags.add('legacy');

  // ---- starting replicas
  const startKind = r.weighted([[70, 'within'], [8, 'above-max'], [8, 'below-min'], [14, 'zero']] as const);
  let spec0: number;
  if (startKind === 'within') spec0 = r.int(Math.max(min, 1), maxReplicas);
  else if (startKind === 'above-max') spec0 = maxReplicas + r.int(1, 3);
  else if (startKind === 'below-min') spec0 = min > 1 ? r.int(1, min - 1) : r.int(Math.max(min, 1), maxReplicas);
  else spec0 = 0;
  tags.add(`start:${startKind}`);

  // ---- conditions before the first step (scale to zero)
  const conditions: ScenarioCondition[] = [];
  if (spec0 === 0 || r.chance(0.1)) {
    const k = r.weighted([[50, 'True'], [25, 'False'], [25, 'none']] as const);
    if (k === 'True') { conditions.push({ type: 'ScaledToZero', status: 'True', reason: 'ScaledToZero', message: 'the HPA controller scaled the workload to zero', at: -600 * S }); tags.add('scaled-to-zero-condition'); }
    if (k === 'False') conditions.push({ type: 'ScaledToZero', status: 'False', reason: 'NotScaledToZero', message: 'the HPA controller did not scale the workload to zero', at: -600 * S });
  }

  // ---- controller memory before the first step
  const history: Scenario['history'] = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
  if (r.chance(0.7)) {
    const windows = [downWin, 15, 30, 60, 120, 300, ...(hpa.spec.behavior ? [hpa.spec.behavior.scaleDown?.stabilizationWindowSeconds ?? downWin, hpa.spec.behavior.scaleUp?.stabilizationWindowSeconds ?? 0] : [])];
    const n = r.int(1, 6);
    for (let i = 0; i < n; i++) {
      const w = r.pick(windows);
      const at = r.chance(0.4) ? -w * S + r.pick([-1, 0, 1]) * S : -r.int(1, 400) * S;
      history.recommendations.push({ at, replicas: r.int(0, maxReplicas + 2) });
    }
    history.recommendations.sort((a, b) => a.at - b.at);
    tags.add('history');
  }
  if (hasBehavior && r.chance(0.6)) {
    for (const list of [history.scaleUpEvents, history.scaleDownEvents]) {
      const n = r.int(0, 3);
      for (let i = 0; i < n; i++) {
        const p = r.pick([15, 30, 60, 120]);
        const at = r.chance(0.4) ? -p * S + r.pick([-1, 0, 1]) * S : -r.int(1, 200) * S;
        list.push({ at, change: r.int(1, 4), outdated: r.chance(0.1) });
      }
      list.sort((a, b) => a.at - b.at);
    }
    tags.add('scale-events');
  }

  // ---- steps
  const nSteps = r.weighted([[45, 1], [25, 2], [20, 3], [10, 5]] as const);
  if (nSteps > 1) tags.add('multi-step');
  const steps: ScenarioStep[] = [];
  let at = 0;
  const requestCpu = r.pick([100, 250, 500, 1000, 2000]);
  // the load level drifts between steps; ratio 1 = at target
  let ratio = r.weighted([[25, r.pick([0, 0.05, 0.3])], [40, 0.5 + r.next()], [20, 0.85 + r.next() * 0.3], [15, 1.5 + r.next() * 4]] as const);
  for (let si = 0; si < nSteps; si++) {
    if (si > 0) {
      at += r.weighted([[60, 15 * S], [25, r.pick([30, 60, 120, 300, 600]) * S], [15, r.int(1, 400) * S]] as const);
      if (r.chance(0.5)) ratio = r.weighted([[30, r.pick([0, 0.1, 0.5])], [40, 0.5 + r.next()], [30, 1 + r.next() * 3]] as const);
    }
    const scale: ScenarioStep['scale'] = {};
    let spec: number;
    if (si === 0) { spec = spec0; scale.spec = spec0; }
    else if (r.chance(0.8)) spec = -1; // carried: unknown here, pods sized from the last explicit value
    else { spec = r.int(0, maxReplicas + 1); scale.spec = spec; }
    if (r.chance(0.15)) { scale.status = Math.max(0, (spec < 0 ? spec0 : spec) + r.pick([-1, 1, 2])); tags.add('status-differs'); }
    if (r.chance(0.02)) { scale.selector = ''; tags.add('no-selector'); }
    const podCount = Math.max(0, (spec < 0 ? r.int(1, maxReplicas) : spec) + r.weighted([[70, 0], [15, 1], [10, -1], [5, 3]] as const));
    const pods: ScenarioPod[] = [];
    const usable: boolean[] = [];
    const badIndex = r.chance(0.04) ? r.int(0, Math.max(0, podCount - 1)) : -1;
    const noAppIndex = r.chance(0.03) ? r.int(0, Math.max(0, podCount - 1)) : -1;
    for (let i = 0; i < podCount; i++) {
      const g = genPod(r, i, { cpuInitializationPeriodSeconds: cpuInit, initialReadinessDelaySeconds: delay }, at, requestCpu, tags, { badRequest: i === badIndex, noApp: i === noAppIndex });
      pods.push(g.pod);
      usable.push(g.usable);
    }
    const obs: ScenarioMetric[] = [];
    for (const m of metrics) {
      if (r.chance(0.04)) { obs.push({ kind: 'error', message: r.pick(['boom', 'the server is currently unable to handle the request', 'timeout']) }); tags.add('metric-error'); continue; }
      if (m.spec.type === 'Object') {
        const perPod = m.kind === 'object-avg' ? Math.max(1, spec < 0 ? 1 : spec) : 1;
        obs.push({ kind: 'object', value: Math.round(m.target * ratio * perPod * (0.8 + r.next() * 0.4)), at: at - 5 * S });
        continue;
      }
      if (m.spec.type === 'External') {
        const n = r.weighted([[70, 1], [25, 2], [5, 0]] as const);
        if (n === 0) tags.add('external-empty');
        const perPod = m.kind === 'external-avg' ? Math.max(1, spec < 0 ? 1 : spec) : 1;
        const values = Array.from({ length: n }, () => Math.round((m.target * ratio * perPod * (0.5 + r.next())) / n));
        // int64 edges: series that overflow the sum (2^62 is exact in a double), negative series
        if (n > 0 && r.chance(0.03)) { values.push(2 ** 62, 2 ** 62); tags.add('external-int64-overflow'); }
        else if (n > 0 && r.chance(0.02)) { values[0] = -values[0] - 1000; tags.add('external-negative'); }
        obs.push({ kind: 'external', values, at: at - 5 * S });
        continue;
      }
      obs.push(podSamples(r, m, pods, at, ratio, tags));
    }
    if (metrics.length === 0) obs.push(podSamples(r, effective[0], pods, at, ratio, tags));
    steps.push({ at, scale, pods, metrics: obs });
  }
  return { id, controller, hpa, conditions: conditions.length ? conditions : undefined, history, steps, tags: [...tags].sort() };
}

function sameSource(a: MetricKind, b: MetricKind): boolean {
  const src = (k: MetricKind) => (k.startsWith('cpu') ? 'cpu' : k.startsWith('mem') ? 'mem' : k.startsWith('ccpu') ? 'ccpu' : k);
  return src(a) === src(b);
}

function podSamples(r: Rng, m: GenMetric, pods: ScenarioPod[], now: number, ratio: number, tags: Set<string>): ScenarioMetric {
  const samples: { pod: string; value: number; at: number; windowSeconds: number }[] = [];
  if (r.chance(0.03)) { tags.add('no-samples'); return { kind: 'pods', samples }; }
  for (const p of pods) {
    if (r.chance(0.08)) { tags.add('missing-sample'); continue; }
    const v = sampleFor(r, m, p, ratio);
    if (v === undefined) continue;
    const windowSeconds = r.pick([15, 30, 60]);
    let at = now - r.int(0, 60) * S;
    // around "one full window since the last readiness transition"
    if (p.ready && r.chance(0.3)) { at = p.ready.at + windowSeconds * S + r.pick([-1, 0, 1]); tags.add('sample-window-boundary'); }
    if (at > now) at = now;
    samples.push({ pod: p.name, value: Math.max(0, v), at, windowSeconds });
  }
  if (r.chance(0.05)) { samples.push({ pod: 'stranger-0', value: r.int(0, 3000), at: now - S, windowSeconds: 60 }); tags.add('sample-of-unknown-pod'); }
  return { kind: 'pods', samples };
}

export function generateScenarios(seed: number, count: number): Scenario[] {
  const r = new Rng(seed);
  return Array.from({ length: count }, (_, i) => generateScenario(r, `${seed}-${i}`));
}

/** JSON with integers beyond 2^53 written exactly (JSON.stringify would print 4611686018427388000 for 2^62). */
export function scenarioJson(s: Scenario): string {
  return JSON.stringify(s, (_k, v) => (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) ? `__INT__${BigInt(v)}` : v)).replace(/"__INT__(-?\d+)"/g, '$1');
}
