// Deciders `tide decide` can drive, keyed by DecisionRecord.decider. To plug in KPA/KEDA: add a
// module exporting a ReplayDecider and list it in REPLAY_DECIDERS.
import type { DecisionRecord } from '../core/decision.ts';
import type { ManifestBundle, ManifestDoc } from '../manifests/load.ts';
import type { Scenario, ScenarioStep } from './scenario.ts';
import { hpaReplay } from './hpa.ts';
import { kedaReplay, kpaReplay, tideReplay } from './others.ts';

export interface ScenarioSetup {
  scenario: Scenario;
  /** The autoscaler document and the bundle it came from (with the Deployment when given). */
  autoscaler?: ManifestDoc;
  /** The decider policy to run: the autoscaler's normalized policy, or a normalized policy given as an object. */
  policy: unknown;
  bundle: ManifestBundle;
  originMs: number;
}

export interface ScenarioRunner {
  /** Run one step; returns the record (whose `inputs` replay it). */
  step(step: ScenarioStep, index: number): DecisionRecord;
}

export interface ReplayDecider {
  kind: DecisionRecord['decider'];
  /** Recompute a decision from a record's inputs (for replay and --verify). */
  replay(inputs: unknown, record?: DecisionRecord): DecisionRecord;
  /** Build a scenario runner (optional: a decider may only support replay). */
  scenario?(setup: ScenarioSetup): ScenarioRunner;
  /** Does a raw object look like this decider's normalized policy? */
  isPolicy?(o: unknown): boolean;
}

export const REPLAY_DECIDERS: ReplayDecider[] = [hpaReplay, kpaReplay, kedaReplay, tideReplay];

export function findReplayDecider(kind: string): ReplayDecider | undefined {
  return REPLAY_DECIDERS.find((d) => d.kind === kind);
}

export function registerReplayDecider(d: ReplayDecider): void {
  const i = REPLAY_DECIDERS.findIndex((x) => x.kind === d.kind);
  if (i >= 0) REPLAY_DECIDERS[i] = d; else REPLAY_DECIDERS.push(d);
}
