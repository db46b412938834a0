// KPA scenarios in `tide decide`: `state` (a KPA record's inputs.state) continues a run exactly;
// `history` (the HPA's memory) and malformed states are refused, naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../../src/replay/run.ts';
import type { Scenario } from '../../../src/replay/scenario.ts';
import { UserError } from '../../../src/core/errors.ts';

const KSVC = `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/target: "10"
        autoscaling.knative.dev/target-utilization-percentage: "100"
    spec:
      containers: [{command: [node, server.js]}]
`;

const STEPS = [
  { at: 0, metrics: [{ value: 20 }] },
  { at: 2, metrics: [{ value: 20 }] },
  { at: 4, metrics: [{ values: [60, 60] }] },
  { at: 6, metrics: [{ value: 60 }] },
  { at: 8, metrics: [{ value: 10 }] },
];

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('KPA scenario `state`: starting from a record\'s inputs.state continues the run exactly', () => {
  const full = json(runScenario({ policy: KSVC, replicas: 2, steps: STEPS } as unknown as Scenario));
  assert.equal((full[2] as any).details.panicking, true, 'the run panics at step 2');
  const cont = json(runScenario({
    policy: KSVC, replicas: full[1]!.desiredReplicas, state: (full[2]!.inputs as any).state, steps: STEPS.slice(2),
  } as unknown as Scenario));
  assert.deepEqual(cont, full.slice(2));
  // Without the state, the same steps start from an empty memory and decide differently.
  const fresh = json(runScenario({ policy: KSVC, replicas: full[1]!.desiredReplicas, steps: STEPS.slice(2) } as unknown as Scenario));
  assert.notDeepEqual(fresh.map((r) => r.details), full.slice(2).map((r) => r.details));
});

test('KPA scenario: `history` and steps[i].history are refused with a clear error', () => {
  const hist = { recommendations: [{ at: 0, replicas: 3 }] };
  assert.throws(() => runScenario({ policy: KSVC, history: hist, steps: STEPS } as unknown as Scenario),
    (e: Error) => e instanceof UserError && /^history: is the HPA's memory .* does not apply to a KPA; give "state"/.test(e.message));
  const steps = json(STEPS) as any[];
  steps[1].history = hist;
  assert.throws(() => runScenario({ policy: KSVC, steps } as unknown as Scenario),
    (e: Error) => e instanceof UserError && /^steps\[1\]\.history: is the HPA's memory/.test(e.message));
});

test('KPA scenario: a `state` that is not a KPA state names what is wrong', () => {
  assert.throws(() => runScenario({ policy: KSVC, state: { recommendations: [] }, steps: STEPS } as unknown as Scenario),
    (e: Error) => e instanceof UserError && /^state: not a KPA state: missing stable, panic, .*inputs\.state/.test(e.message));
  const full = json(runScenario({ policy: KSVC, steps: STEPS } as unknown as Scenario));
  const st = { ...(full[1]!.inputs as any).state, extra: 1 };
  assert.throws(() => runScenario({ policy: KSVC, state: st, steps: STEPS } as unknown as Scenario),
    (e: Error) => e instanceof UserError && /^state: unknown KPA state field\(s\) extra/.test(e.message));
  assert.throws(() => runScenario({ policy: KSVC, state: { ...(full[1]!.inputs as any).state, stable: 5 }, steps: STEPS } as unknown as Scenario),
    (e: Error) => e instanceof UserError && /^state\.stable: expected the window object/.test(e.message));
});
