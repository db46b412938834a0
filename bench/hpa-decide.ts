// Benchmark: HPA decisions per second, one core, warm.
// Workload: 10 pods, 2 metrics (cpu Utilization + a Pods metric), v2 behavior (upstream defaults),
// a state with a realistic history (20 recommendations, a few scale events). Baseline measured in
// the same run: the same loop over a 1-pod, 1-metric HPA. Goal: >= 200k decisions/s.
// Run: npx node bench/hpa-decide.ts
import { decideHpa, emptyHpaState } from '../src/deciders/hpa/decide.ts';
import { defaultScaleDownRules, defaultScaleUpRules } from '../src/deciders/hpa/normalize.ts';
import type { HpaObservation, HpaPolicy, HpaState, MetricSpec, PodInfo, PodMetricSample } from '../src/deciders/hpa/types.ts';

const GOAL = 200_000;
const T0 = Date.UTC(2026, 0, 1);

function makePods(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `web-${i}`,
    phase: 'Running' as const,
    ready: { status: 'True' as const, lastTransitionTime: T0 - 3_600_000 },
    startTime: T0 - 3_700_000,
    containers: [{ name: 'app', requests: { cpu: 500 } }],
  }));
}

function samples(pods: PodInfo[], base: number): PodMetricSample[] {
  return pods.map((p, i) => ({ pod: p.name, value: base + ((i * 37) % 50), timestamp: T0 - 5000, windowSeconds: 30 }));
}

function scenario(nPods: number, twoMetrics: boolean): { policy: HpaPolicy; obs: HpaObservation[]; state: HpaState } {
  const metrics: MetricSpec[] = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }];
  if (twoMetrics) metrics.push({ type: 'Pods', pods: { metric: { name: 'queue_depth' }, target: { type: 'AverageValue', averageValue: 4000 } } });
  const policy: HpaPolicy = {
    name: 'web', namespace: 'default', scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1, maxReplicas: 50, metrics,
    behavior: { scaleUp: defaultScaleUpRules(), scaleDown: defaultScaleDownRules(300) },
  };
  const pods = makePods(nPods);
  // a few observation variants so the loop is not a single constant input
  const obs: HpaObservation[] = [250, 300, 330, 420].map((cpuBase, k) => ({
    now: T0 + k * 15_000,
    target: { specReplicas: nPods, statusReplicas: nPods, selector: 'app=web' },
    pods,
    metrics: twoMetrics
      ? [{ kind: 'pods' as const, samples: samples(pods, cpuBase) }, { kind: 'pods' as const, samples: samples(pods, 3000 + k * 500) }]
      : [{ kind: 'pods' as const, samples: samples(pods, cpuBase) }],
  }));
  const state: HpaState = emptyHpaState();
  for (let i = 0; i < 20; i++) state.recommendations.push({ timestamp: T0 - (20 - i) * 15_000, recommendation: nPods });
  state.scaleUpEvents.push({ timestamp: T0 - 100_000, replicaChange: 2 });
  state.scaleDownEvents.push({ timestamp: T0 - 400_000, replicaChange: 1 });
  return { policy, obs, state };
}

function measure(name: string, s: ReturnType<typeof scenario>, ms: number): number {
  let sink = 0;
  // warm-up
  for (let i = 0; i < 20_000; i++) sink += decideHpa(s.policy, s.obs[i & 3], s.state).record.desiredReplicas;
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) sink += decideHpa(s.policy, s.obs[(n + i) & 3], s.state).record.desiredReplicas;
    n += 1000;
    elapsed = process.hrtime.bigint() - start;
  }
  const rate = n / (Number(elapsed) / 1e9);
  if (sink === -1) console.log('');
  console.log(`${name.padEnd(28)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} decisions/s`);
  return rate;
}

const ms = Number(process.env.BENCH_MS ?? 2000);
const base = measure('baseline 1 pod, 1 metric', scenario(1, false), ms);
const main = measure('10 pods, 2 metrics, behavior', scenario(10, true), ms);
console.log(`ratio vs baseline: ${(main / base).toFixed(2)}x   ratio vs goal (200k/s): ${(main / GOAL).toFixed(2)}x ${main >= GOAL ? 'OK' : 'BELOW GOAL'}`);
