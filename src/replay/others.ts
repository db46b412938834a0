// Replay (not yet scenarios) for the KPA, KEDA and Tide deciders: recompute a recorded decision from
// its inputs. Scenario runners for them can be added here later (ReplayDecider.scenario).
import { UserError } from '../core/errors.ts';
import { decideKeda, type KedaInputs } from '../deciders/keda/decide.ts';
import { decideKpa } from '../deciders/kpa/decide.ts';
import type { KpaInputs } from '../deciders/kpa/types.ts';
import { kpaScenarioHooks } from './kpa-scenario.ts';
import type { ReplayDecider } from './registry.ts';
import { decidePredictive, type PredictiveRecord } from '../policies/predictive.ts';

export const kpaReplay: ReplayDecider = {
  kind: 'kpa',
  replay(inputs, record) {
    const i = inputs as KpaInputs;
    if (!i || !i.policy || !i.observation) throw new UserError('a KPA record needs inputs.policy and inputs.observation');
    return decideKpa(i.policy, i.observation, i.state ?? null, record?.now ?? i.observation.now).record;
  },
  ...kpaScenarioHooks,
};

export const kedaReplay: ReplayDecider = {
  kind: 'keda',
  replay(inputs) {
    const i = inputs as KedaInputs;
    if (!i || !i.policy || !i.observation || !i.state) throw new UserError('a KEDA record needs inputs.policy, inputs.observation and inputs.state');
    return decideKeda(i.policy, i.observation, i.state, i.now, i.config).record;
  },
};

/** Tide's predictive policy (decider 'tide', from `tide up`'s tide driver): replay only. */
export const tideReplay: ReplayDecider = {
  kind: 'tide',
  replay(inputs) {
    const i = inputs as PredictiveRecord['inputs'];
    if (!i || !i.policy || !i.observation || !i.state) throw new UserError('a tide record needs inputs.policy, inputs.observation and inputs.state');
    return decidePredictive(i.policy, i.observation, i.state).record;
  },
};
