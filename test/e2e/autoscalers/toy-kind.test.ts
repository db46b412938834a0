// A new autoscaler kind added through the shared layer only (src/autoscalers: the port, Core, the
// factory), run unchanged by the simulator and by `tide up` (the real local runtime, real processes).
// The toy steps the target up one replica per sync while every pod is ready, to `policy.to`; it is
// also the smallest example of a kind (docs/architecture.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionRecord } from '../../../src/core/decision.ts';
import { Core, then } from '../../../src/autoscalers/common.ts';
import { registerAutoscaler, unregisterAutoscaler } from '../../../src/autoscalers/factory.ts';
import type { ClusterPort } from '../../../src/autoscalers/port.ts';
import type { Autoscaler, AutoscalerOptions, AutoscalerSpec } from '../../../src/autoscalers/types.ts';
import { simulate, defaultService } from '../../../src/sim/engine.ts';
import { generate } from '../../../src/sim/workload.ts';
import { autoscalerController } from '../../../src/sim/port.ts';
import { loadBundle } from '../../../src/runtime/local/bundle.ts';
import { LocalRuntime } from '../../../src/runtime/local/controller.ts';
import { deploymentYaml, serviceYaml, sleep } from '../runtime/helpers.ts';

interface ToyPolicy { to: number }

function createToyAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions): Autoscaler {
  const policy = spec.policy as ToyPolicy;
  const core = new Core(spec, port, !!opts.dryRun);
  const period = opts.syncPeriodMs ?? 15_000;
  let steps = 0;
  return {
    kind: 'toy', name: spec.name, ref: core.ref, target: spec.target.name,
    syncPeriodMs: period, firstSyncDelayMs: opts.firstSyncDelayMs ?? period, pokeDelivery: 'resync-hint',
    sync(now) {
      return then(port.getScale(core.ref.target), (scale) => then(port.readyPods(core.ref.target), (ready) => {
        const current = scale.specReplicas;
        const desired = ready >= current && current < policy.to ? current + 1 : current;
        const record = {
          decider: 'toy', autoscaler: spec.name, target: `${spec.target.kind}/${spec.target.name}`, time: new Date(now).toISOString(), now,
          currentReplicas: current, desiredReplicas: desired, rescale: desired !== current, drivingMetric: null, proposals: [],
          limitedBy: [desired === current ? 'max' : 'none'], explanation: `${ready}/${current} ready: ${desired === current ? 'stay' : 'one more'}`,
          conditions: [], events: [], inputs: { ready, current }, details: { steps },
        } as unknown as DecisionRecord;
        if (record.rescale) steps++;
        return core.finish(record, now);
      }));
    },
    poke() {},
    status() {
      return core.status({ kind: 'toy', name: spec.name, reference: `${spec.target.kind}/${spec.target.name}`, targets: `${steps} steps`, minReplicas: 1, maxReplicas: policy.to, metricSpecs: [] });
    },
    metric: () => ({ value: steps, target: policy.to, label: 'steps' }),
    snapshot: () => core.snapshot('toy', { steps }),
    restore(s) { steps = core.restore<{ steps: number }>('toy', s).steps; },
    close() {},
  };
}

test('a toy kind registered with the factory runs in the simulator and in tide up', { timeout: 120_000 }, async (t) => {
  registerAutoscaler('toy', createToyAutoscaler);
  t.after(() => unregisterAutoscaler('toy'));
  const spec = (name: string): AutoscalerSpec => ({ kind: 'toy', name, target: { apiVersion: 'apps/v1', kind: 'Deployment', name }, policy: { to: 3 } satisfies ToyPolicy });

  // the simulator: 1 → 2 → 3 replicas, one step per sync once the new replica is ready (5 s cold start)
  const ctl = autoscalerController(spec('model'), { keepRecords: true, syncOffsetMs: 10_000, config: { syncPeriodSeconds: 10 } });
  const trace = generate({ kind: 'poisson', rps: 2 }, 120_000, 1);
  const r = simulate({ seed: 1, trace, service: { ...defaultService, coldStart: { kind: 'fixed', ms: 5000 } }, sloMs: 1000, initialReplicas: 1 }, ctl);
  assert.equal(r.summary.maxReplicas, 3);
  assert.equal(r.summary.scalingActions, 2);
  assert.deepEqual(ctl.records.filter((x) => x.rescale).map((x) => [x.currentReplicas, x.desiredReplicas]), [[1, 2], [2, 3]]);
  assert.equal(ctl.autoscaler()!.status().targets, '2 steps');

  // tide up: the same kind on the local runtime's port, real replicas behind the proxy
  const dir = mkdtempSync(join(tmpdir(), 'tide-toy-'));
  const file = join(dir, 'app.yaml');
  writeFileSync(file, [deploymentYaml({ name: 'toy' }), serviceYaml('toy')].join('---\n'));
  const bundle = loadBundle([file]);
  bundle.autoscalers.push({ kind: 'toy', name: 'toy', target: 'toy', policy: { to: 3 } });
  const rt = new LocalRuntime({ files: [file], bundle, stateDir: join(dir, '.tide'), ephemeralPorts: true, syncPeriodMs: 300 });
  try {
    await rt.start();
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const ready = rt.replicas('toy', false).filter((x) => x.ready).length;
      if (ready === 3) break;
      await sleep(100);
    }
    assert.equal(rt.replicas('toy', false).filter((x) => x.ready).length, 3);
    const st = rt.drivers.get('toy')!.status();
    assert.equal(st.kind, 'toy');
    assert.equal(st.targets, '2 steps');
    const lines = readFileSync(join(dir, '.tide', 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.filter((x) => x.rescale).map((x) => [x.currentReplicas, x.desiredReplicas]), [[1, 2], [2, 3]]);
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
