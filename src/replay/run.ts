// Scenario runner and record replayer behind `tide decide`.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';
import type { DecisionRecord } from '../core/decision.ts';
import { ManifestBundle, loadManifests, type ManifestDoc, type ManifestInput } from '../manifests/load.ts';
import { findReplayDecider, REPLAY_DECIDERS, type ScenarioSetup } from './registry.ts';
import { scenarioSchema, stepSchema, type Scenario } from './scenario.ts';
import { resolveTime } from './time.ts';

export const DEFAULT_START = '2026-01-01T00:00:00Z';

export type DecideInput =
  | { type: 'scenario'; scenario: Scenario }
  | { type: 'records'; records: DecisionRecord[] };

function parseJsonValues(text: string, file: string): unknown[] {
  const t = text.trim();
  if (t === '') throw new UserError(`${file}: empty input`);
  try { return [JSON.parse(t)]; } catch { /* maybe JSONL */ }
  const out: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('//')) return;
    try { out.push(JSON.parse(l)); } catch (e) { throw new UserError(`${file}:${i + 1}: not valid JSON: ${(e as Error).message}`); }
  });
  return out;
}

function isRecord(o: unknown): o is DecisionRecord {
  return !!o && typeof o === 'object' && 'decider' in o && 'inputs' in o && 'desiredReplicas' in o;
}

function zodErrors(file: string, prefix: string, issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `  ${file}: ${prefix}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '')}: ${i.message}`).join('\n');
}

/** Classify and validate the input: a scenario (JSON object, or JSONL header + steps) or recorded DecisionRecords. */
export function parseDecideInput(text: string, file = '<stdin>'): DecideInput {
  const values = parseJsonValues(text, file);
  const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
  if (flat.length > 0 && flat.every(isRecord)) return { type: 'records', records: flat as DecisionRecord[] };
  let candidate: unknown;
  if (values.length === 1 && !Array.isArray(values[0])) candidate = values[0];
  else {
    // JSONL scenario: the first line is the scenario without (or with some) steps, the others are steps.
    const [head, ...rest] = values as Record<string, unknown>[];
    if (!head || typeof head !== 'object' || !('policy' in head)) throw new UserError(`${file}: expected a scenario (an object with "policy" and "steps") or DecisionRecords (objects with "decider" and "inputs")`);
    const steps = [...((head.steps as unknown[]) ?? [])];
    rest.forEach((s, i) => {
      const r = stepSchema.safeParse(s);
      if (!r.success) throw new UserError(`invalid step on line ${i + 2}:\n${zodErrors(file, '', r.error.issues)}`);
      steps.push(r.data);
    });
    candidate = { ...head, steps };
  }
  const r = scenarioSchema.safeParse(candidate);
  if (!r.success) throw new UserError(`invalid scenario:\n${zodErrors(file, '', r.error.issues)}`);
  return { type: 'scenario', scenario: r.data };
}

function manifestInputs(ref: unknown, label: string, baseDir: string): ManifestInput[] {
  if (typeof ref === 'string') {
    if (ref.includes('\n') || /^\s*(\{|(apiVersion|kind)\s*:)/.test(ref)) return [{ file: label, text: ref }];
    return [isAbsolute(ref) ? ref : resolve(baseDir, ref)];
  }
  const o = ref as Record<string, unknown>;
  if (typeof o.path === 'string' && Object.keys(o).length === 1) return [isAbsolute(o.path) ? o.path : resolve(baseDir, o.path)];
  return [{ file: label, text: JSON.stringify(o, null, 2) }];
}

export interface RunOptions { file?: string; env?: Record<string, string | undefined> }

/** Load the scenario's manifests and find the autoscaler and its decider. */
export function setupScenario(scenario: Scenario, opts: RunOptions = {}): { setup: ScenarioSetup; decider: string } {
  const file = opts.file ?? '<stdin>';
  const baseDir = opts.file && opts.file !== '-' ? dirname(resolve(opts.file)) : process.cwd();
  const originMs = scenario.start === undefined ? Date.parse(DEFAULT_START) : typeof scenario.start === 'number' ? scenario.start : resolveTime(scenario.start, 0);
  const p = scenario.policy as unknown;
  // An already-normalized policy object (e.g. copied from a record's inputs.policy).
  if (p && typeof p === 'object' && !('apiVersion' in p) && !('path' in p)) {
    const d = scenario.decider ? findReplayDecider(scenario.decider) : REPLAY_DECIDERS.find((x) => x.isPolicy?.(p));
    if (!d) throw new UserError(`${file}: policy: neither a manifest (apiVersion/kind) nor a normalized policy Tide recognises`);
    const bundle = scenario.deployment ? loadManifests(manifestInputs(scenario.deployment, `${file} (deployment)`, baseDir), { env: opts.env }) : new ManifestBundle([], []);
    return { setup: { scenario, policy: p, bundle, originMs }, decider: d.kind };
  }
  const inputs = manifestInputs(scenario.policy, `${file} (policy)`, baseDir);
  if (scenario.deployment !== undefined) inputs.push(...manifestInputs(scenario.deployment, `${file} (deployment)`, baseDir));
  const bundle = loadManifests(inputs, { env: opts.env ?? {}, ...(scenario.featureGates ? { featureGates: scenario.featureGates } : {}) });
  const autoscalers = bundle.autoscalers.filter((a) => a.autoscaler && (!scenario.decider || a.autoscaler.decider === scenario.decider));
  if (autoscalers.length !== 1) {
    throw new UserError(`${file}: policy: expected exactly one autoscaler manifest${scenario.decider ? ` for decider ${scenario.decider}` : ''}, found ${autoscalers.length}${autoscalers.length ? ` (${autoscalers.map((a: ManifestDoc) => `${a.kind}/${a.name}`).join(', ')})` : ''}`);
  }
  const autoscaler = autoscalers[0];
  const { decider, policy } = autoscaler.autoscaler!;
  return { setup: { scenario, autoscaler, policy, bundle, originMs }, decider };
}

/** Run every step of a scenario; returns the decision records in order. */
export function runScenario(scenario: Scenario, opts: RunOptions = {}): DecisionRecord[] {
  const { setup, decider } = setupScenario(scenario, opts);
  const d = findReplayDecider(decider);
  if (!d?.scenario) throw new UserError(`tide decide cannot run ${decider} scenarios yet (supported: ${REPLAY_DECIDERS.filter((x) => x.scenario).map((x) => x.kind).join(', ')})`);
  const runner = d.scenario(setup);
  return scenario.steps.map((s, i) => runner.step(s, i));
}

export interface Mismatch { index: number; time: string; fields: string[]; expected: DecisionRecord; actual: DecisionRecord }

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Recompute recorded decisions from their inputs; list the ones that do not reproduce. */
export function replayRecords(records: DecisionRecord[]): { records: DecisionRecord[]; mismatches: Mismatch[] } {
  const out: DecisionRecord[] = [];
  const mismatches: Mismatch[] = [];
  records.forEach((rec, index) => {
    const d = findReplayDecider(rec.decider);
    if (!d) throw new UserError(`record ${index + 1}: no replay for decider "${rec.decider}" (supported: ${REPLAY_DECIDERS.map((x) => x.kind).join(', ')})`);
    const actual = roundTrip(d.replay(roundTrip(rec.inputs), rec));
    out.push(actual);
    const expected = roundTrip(rec);
    const fields = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
      .filter((k) => JSON.stringify((expected as any)[k]) !== JSON.stringify((actual as any)[k]));
    if (fields.length) mismatches.push({ index, time: rec.time, fields, expected, actual });
  });
  return { records: out, mismatches };
}

/** Read a scenario or records from a path ("-" = stdin text given). */
export function readDecideFile(path: string): string {
  try { return readFileSync(path === '-' ? 0 : path, 'utf8'); } catch (e) { throw new UserError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
}
