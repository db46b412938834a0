import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDecideInput, replayRecords, runScenario } from '../../../src/replay/run.ts';
import { parseDurationMs, resolveTime } from '../../../src/replay/time.ts';
import { scenarioJsonSchema, type Scenario } from '../../../src/replay/scenario.ts';
import type { HpaDecisionRecord } from '../../../src/deciders/hpa/types.ts';

const EX = new URL('../../../examples/scenarios/', import.meta.url);
const exampleFile = (f: string) => fileURLToPath(new URL(f, EX));
const runExample = (f: string) => {
  const path = exampleFile(f);
  const input = parseDecideInput(readFileSync(path, 'utf8'), path);
  assert.equal(input.type, 'scenario');
  return runScenario((input as { scenario: Scenario }).scenario, { file: path }) as HpaDecisionRecord[];
};

const HPA_V2 = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`;

test('times: ISO, seconds since start, durations', () => {
  const o = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(resolveTime(30, o), o + 30_000);
  assert.equal(resolveTime('90s', o), o + 90_000);
  assert.equal(resolveTime('-5m', o), o - 300_000);
  assert.equal(resolveTime('1h30m', o), o + 5_400_000);
  assert.equal(resolveTime('2026-01-01T00:01:00Z', o), o + 60_000);
  assert.equal(parseDurationMs('250ms'), 250);
  assert.throws(() => resolveTime('soon', o), /bad time "soon"/);
});

test('example: cpu scale-up (v1 seed HPA + seed Deployment)', () => {
  const recs = runExample('cpu-scale-up.json');
  assert.deepEqual(recs.map((r) => [r.currentReplicas, r.desiredReplicas]), [[2, 2], [2, 4], [4, 6], [6, 6]]);
  assert.deepEqual(recs.map((r) => r.limitedBy), [['stabilization'], ['none'], ['none'], ['tolerance']]);
  assert.equal(recs[1].proposals[0].current, '90%');
  // pods carry the Deployment's requests (200m cpu) and the Deployment's labels
  assert.deepEqual(recs[0].inputs.observation.pods[0].containers, [{ name: 'app-fastapi', requests: { cpu: 200 } }]);
  assert.equal(recs[2].inputs.observation.pods.length, 4);
  assert.equal(recs[0].time, '2026-01-01T12:00:00.000Z');
});

test('example: scale-down held by stabilization, then rate-limited by the policy', () => {
  const recs = runExample('scale-down-stabilized.json');
  assert.deepEqual(recs.map((r) => r.desiredReplicas), [8, 8, 8, 4, 4, 3]);
  assert.ok(recs[1].limitedBy.includes('stabilization'));
  assert.ok(recs[3].limitedBy.includes('policy'));
});

test('example: Pods + External metrics, with a failed metric refusing a scale-down', () => {
  const recs = runExample('pods-external.json');
  assert.deepEqual(recs.map((r) => r.desiredReplicas), [3, 6, 6, 10]);
  assert.deepEqual(recs[2].limitedBy, ['invalid-metrics']);
  assert.equal(recs[2].inputs.observation.metrics[1].kind, 'error');
  assert.deepEqual(recs[1].inputs.observation.metrics[1], { kind: 'external', values: [180000, 60000], timestamp: Date.parse('2026-01-01T12:00:15Z') });
});

test('records replay exactly; a tampered record is reported with the differing fields', () => {
  const recs = runExample('scale-down-stabilized.json');
  const jsonl = recs.map((r) => JSON.stringify(r)).join('\n');
  const input = parseDecideInput(jsonl, 'log.jsonl');
  assert.equal(input.type, 'records');
  const ok = replayRecords((input as { records: HpaDecisionRecord[] }).records);
  assert.deepEqual(ok.mismatches, []);
  assert.deepEqual(ok.records, JSON.parse(JSON.stringify(recs)));
  const tampered = JSON.parse(JSON.stringify(recs)) as HpaDecisionRecord[];
  tampered[3].desiredReplicas = 5;
  tampered[4].inputs.state.recommendations = [];
  const bad = replayRecords(tampered);
  assert.deepEqual(bad.mismatches.map((m) => m.index), [3, 4]);
  assert.deepEqual(bad.mismatches[0].fields, ['desiredReplicas']);
  // without the recommendation history the window no longer holds 4: the decision changes
  assert.ok(bad.mismatches[1].fields.includes('details'), bad.mismatches[1].fields.join());
  assert.ok(!bad.mismatches[1].fields.includes('inputs'));
});

test('JSONL scenario: a header line, then one step per line; actuate false keeps replicas', () => {
  const lines = [
    JSON.stringify({ policy: HPA_V2, replicas: 2, actuate: false, podDefaults: { requests: { cpu: '100m' } } }),
    JSON.stringify({ at: 0, metrics: [{ each: '100m' }] }),
    JSON.stringify({ at: 15, metrics: [{ each: '100m' }] }),
  ].join('\n');
  const input = parseDecideInput(lines, 's.jsonl');
  assert.equal(input.type, 'scenario');
  const recs = runScenario((input as { scenario: Scenario }).scenario) as HpaDecisionRecord[];
  assert.deepEqual(recs.map((r) => [r.currentReplicas, r.desiredReplicas]), [[2, 4], [2, 4]]);
});

test('explicit pods: unready and not-yet-started pods, per-pod values by name', () => {
  const scenario: Scenario = {
    policy: HPA_V2,
    replicas: 3,
    podDefaults: { requests: { cpu: '1' } },
    steps: [{
      at: 600,
      pods: [
        { name: 'a', age: '1h' },
        { name: 'b', age: '1h' },
        { name: 'c', age: '10s', ready: false },
      ],
      metrics: [{ pods: { a: '900m', b: '900m', c: '100m' } }],
    }],
  };
  const [r] = runScenario(scenario) as HpaDecisionRecord[];
  const pods = r.inputs.observation.pods;
  assert.deepEqual(pods.map((p) => [p.name, p.ready?.status, p.startTime]), [
    ['a', 'True', Date.parse('2026-01-01T00:10:00Z') - 3_600_000],
    ['b', 'True', Date.parse('2026-01-01T00:10:00Z') - 3_600_000],
    ['c', 'False', Date.parse('2026-01-01T00:10:00Z') - 10_000],
  ]);
  // 2 ready pods at 90% of 1 cpu, the unready one counts as 0% on scale-up: ceil(3 × 1.8/3 / 0.5) = 4
  assert.equal(r.desiredReplicas, 4);
});

test('a normalized policy object (as in a record) can be given directly', () => {
  const [first] = runExample('cpu-scale-up.json');
  const scenario: Scenario = {
    policy: first.inputs.policy as unknown as Record<string, unknown>,
    replicas: 2,
    podDefaults: { requests: { cpu: '200m' } },
    steps: [{ at: 0, metrics: [{ utilization: 100 }] }],
  };
  const [r] = runScenario(scenario) as HpaDecisionRecord[];
  assert.equal(r.desiredReplicas, 4);
});

test('scenario errors name the field', () => {
  assert.throws(() => parseDecideInput(JSON.stringify({ policy: HPA_V2, steps: [{ at: 0, metrics: [{ eahc: 1 }] }] }), 's.json'), /s\.json: steps\[0\]\.metrics\[0\]/);
  assert.throws(() => parseDecideInput(JSON.stringify({ policy: HPA_V2, steps: [] }), 's.json'), /s\.json: steps: /);
  assert.throws(() => runScenario({ policy: HPA_V2, steps: [{ at: 0, metrics: [{ each: '1', }, { each: '2' }] }] }), /steps\[0\]\.metrics has 2 entries but the policy has 1 metric/);
  assert.throws(() => runScenario({ policy: HPA_V2.replace('averageUtilization: 50', 'averageUtilization: 0'), steps: [{ at: 0 }] }), /averageUtilization: must be greater than 0/);
  assert.throws(() => runScenario({ policy: HPA_V2, podDefaults: { requests: { cpu: '200m' } }, steps: [{ at: 30 }, { at: 0 }] }), /steps\[1\]\.at goes back in time/);
});

test('the JSON Schema is generated from the scenario schema', () => {
  const s = scenarioJsonSchema() as { properties: Record<string, unknown>; required: string[] };
  assert.ok(s.properties.steps && s.properties.policy);
  assert.deepEqual(s.required.sort(), ['policy', 'steps']);
});

test('policy YAML may carry the Deployment; history seeds the stabilization window', () => {
  const dep = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, resources: {requests: {cpu: 400m}}}
      - {name: sidecar, resources: {requests: {cpu: 100m}}}
`;
  const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 10
  metrics:
  - type: ContainerResource
    containerResource: {name: cpu, container: app, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 120}
`;
  const scenario: Scenario = {
    policy: `${dep}---\n${hpa}`,
    history: { recommendations: [{ at: '-60s', replicas: 9 }] },
    steps: [{ at: 0, metrics: [{ utilization: 25 }] }, { at: 90, metrics: [{ utilization: 25 }] }],
  };
  const recs = runScenario(scenario) as HpaDecisionRecord[];
  assert.deepEqual(recs[0].inputs.observation.pods[0].containers, [{ name: 'app', requests: { cpu: 400 } }, { name: 'sidecar', requests: { cpu: 100 } }]);
  // 25% of the app container's 400m on 6 pods → 3. At 0 s the 120 s window still holds the 9
  // recommended 60 s earlier (the result stays at the current 6); at 90 s that entry is 150 s old and
  // out of the window, so 3 wins.
  assert.equal(recs[0].desiredReplicas, 6);
  assert.ok(recs[0].limitedBy.includes('stabilization'));
  assert.equal(recs[1].desiredReplicas, 3);
});

test('a scenario built from a record (normalized policy, raw state and raw observations) decides the same', () => {
  const rec = runExample('scale-down-stabilized.json')[4];
  const i = rec.inputs;
  const scenario: Scenario = {
    policy: i.policy as unknown as Record<string, unknown>,
    state: i.state as unknown as Record<string, unknown>,
    start: 0,
    replicas: i.observation.target.specReplicas,
    config: i.config as unknown as Record<string, number>,
    steps: [{
      at: new Date(i.observation.now).toISOString(),
      pods: i.observation.pods.map((p) => ({ name: p.name, startTime: new Date(p.startTime!).toISOString(), readySince: new Date(p.ready!.lastTransitionTime).toISOString(), containers: p.containers.map((c) => ({ name: c.name, requests: Object.fromEntries(Object.entries(c.requests).map(([k, v]) => [k, `${v}m`])) })) })),
      metrics: i.observation.metrics.map((m) => ({ ...(m as object) }) as never),
    }],
  };
  const [again] = runScenario(scenario) as HpaDecisionRecord[];
  assert.equal(again.desiredReplicas, rec.desiredReplicas);
  assert.deepEqual(again.limitedBy, rec.limitedBy);
  assert.deepEqual(again.details, rec.details);
});
