// ScaledObject status and Events as KEDA's operator writes them, from the KEDA decider's record.
//
// status: scaleTargetKind ("apps/v1.Deployment"), scaleTargetGVKR, originalReplicaCount (the
// target's replicas when Tide first saw the object), lastActiveTime, externalMetricNames /
// resourceMetricNames (compositeScalerName with scalingModifiers), conditions Ready / Active /
// Fallback / Paused (KEDA's condition type has no transition time), health (per External metric,
// only with a valid fallback), triggersActivity, pausedReplicaCount, triggersTypes and
// authenticationsTypes. No hpaName: Tide decides 1↔N itself and creates no HPA.
// Written with a merge patch of the status subresource, only when it changed.
//
// Events go on the ScaledObject (involvedObject keda.sh/v1alpha1 ScaledObject), aggregated as
// client-go's correlator does (the same reason+message again → count+1 on one Event).
import type * as k8s from '@kubernetes/client-node';
import type { Condition, DecisionEvent } from '../../../core/decision.ts';
import type { KedaDecisionRecord } from '../../../deciders/keda/decide.ts';
import { COMPOSITE_METRIC_NAME, isResourceTrigger } from '../../../deciders/keda/decide.ts';
import type { KedaPolicy, KedaState } from '../../../deciders/keda/types.ts';
import type { Apis } from '../client.ts';
import { apiCode, MERGE_PATCH } from '../client.ts';
import { EventRecorder } from '../status.ts';
import type { ScaleInfo } from '../scale.ts';

export interface ScaledObjectObject {
  apiVersion?: string;
  kind?: string;
  metadata?: k8s.V1ObjectMeta;
  spec?: {
    scaleTargetRef?: { name?: string; apiVersion?: string; kind?: string; envSourceContainerName?: string };
    triggers?: { type: string; name?: string; metadata?: Record<string, string>; authenticationRef?: { name: string; kind?: string } }[];
    fallback?: unknown;
    [k: string]: unknown;
  };
  status?: ScaledObjectStatus;
}

export interface KedaCondition { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }

export interface ScaledObjectStatus {
  scaleTargetKind?: string;
  scaleTargetGVKR?: { group: string; version: string; kind: string; resource: string };
  originalReplicaCount?: number;
  lastActiveTime?: string;
  externalMetricNames?: string[];
  resourceMetricNames?: string[];
  compositeScalerName?: string;
  conditions?: KedaCondition[];
  health?: Record<string, { numberOfFailures?: number; status?: string }>;
  triggersActivity?: Record<string, { isActive: boolean }>;
  pausedReplicaCount?: number;
  triggersTypes?: string;
  authenticationsTypes?: string;
  [k: string]: unknown;
}

const ORDER = ['Ready', 'Active', 'Fallback', 'Paused'];

/** KEDA's conditions from the decider's (Ready, Active, Fallback, Paused, in KEDA's order; no transition times). */
export function kedaConditions(record: Pick<KedaDecisionRecord, 'conditions'> | undefined, prev: KedaCondition[] | undefined, extra: KedaCondition[] = []): KedaCondition[] {
  const by = new Map<string, KedaCondition>();
  // KEDA's GetInitializedConditions: Unknown for all, Paused False
  for (const t of ORDER) by.set(t, { type: t, status: t === 'Paused' ? 'False' : 'Unknown' });
  for (const c of prev ?? []) if (by.has(c.type)) by.set(c.type, { ...c });
  for (const c of (record?.conditions ?? []) as Condition[]) {
    if (!by.has(c.type)) continue;
    by.set(c.type, { type: c.type, status: c.status, reason: c.reason, message: c.message });
  }
  for (const c of extra) by.set(c.type, c);
  return ORDER.map((t) => by.get(t)!);
}

/** metav1.Time: RFC 3339 in whole seconds. */
function time(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface StatusInputs {
  so: ScaledObjectObject;
  policy: KedaPolicy;
  scale: ScaleInfo | undefined;
  record: KedaDecisionRecord | undefined;
  state: KedaState | undefined;
  /** Conditions decided outside the record (check failures, unpause). */
  extraConditions?: KedaCondition[];
}

export function scaledObjectStatus(i: StatusInputs): ScaledObjectStatus {
  const prev = i.so.status ?? {};
  const ref = i.policy.scaleTargetRef;
  const apiVersion = ref.apiVersion ?? 'apps/v1';
  const out: ScaledObjectStatus = {};
  out.scaleTargetKind = `${apiVersion}.${ref.kind}`;
  if (i.scale) {
    out.scaleTargetGVKR = { group: i.scale.group, version: i.scale.version, kind: ref.kind, resource: i.scale.plural };
    out.originalReplicaCount = prev.originalReplicaCount ?? i.scale.specReplicas;
  } else {
    if (prev.scaleTargetGVKR) out.scaleTargetGVKR = prev.scaleTargetGVKR;
    if (prev.originalReplicaCount !== undefined) out.originalReplicaCount = prev.originalReplicaCount;
  }
  const lat = i.state?.lastActiveTime;
  if (lat !== undefined) out.lastActiveTime = time(lat);
  else if (prev.lastActiveTime) out.lastActiveTime = prev.lastActiveTime;
  const external = i.policy.triggers.filter((t) => !isResourceTrigger(t)).map((t) => t.metricName);
  const resource = i.policy.triggers.filter((t) => isResourceTrigger(t)).map((t) => t.type);
  if (i.policy.scalingModifiers) {
    out.externalMetricNames = [COMPOSITE_METRIC_NAME];
    out.compositeScalerName = COMPOSITE_METRIC_NAME;
  } else if (external.length) out.externalMetricNames = external;
  if (resource.length) out.resourceMetricNames = resource;
  out.conditions = kedaConditions(i.record, prev.conditions, i.extraConditions);
  const health = i.state?.health ?? {};
  if (Object.keys(health).length) {
    out.health = {};
    for (const [k, h] of Object.entries(health)) out.health[k] = { numberOfFailures: h.numberOfFailures, status: h.status };
  }
  const details = i.record?.details.triggers ?? [];
  if (details.length) {
    out.triggersActivity = {};
    for (const d of details) if (!isResourceTrigger(d)) out.triggersActivity[d.metricName] = { isActive: d.active };
    if (!Object.keys(out.triggersActivity).length) delete out.triggersActivity;
  }
  if (i.policy.annotations.pausedReplicas !== undefined) out.pausedReplicaCount = i.policy.annotations.pausedReplicas;
  const types: string[] = [];
  const auths: string[] = [];
  for (const t of i.so.spec?.triggers ?? []) {
    if (!types.includes(t.type)) types.push(t.type);
    const a = t.authenticationRef?.name;
    if (a && !auths.includes(a)) auths.push(a);
  }
  if (types.length) out.triggersTypes = types.join(',');
  if (auths.length) out.authenticationsTypes = auths.join(',');
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Merge-patch the status subresource when it differs from what the object has. */
export async function writeScaledObjectStatus(apis: Apis, so: ScaledObjectObject, status: ScaledObjectStatus, fieldManager: string): Promise<'written' | 'unchanged' | 'gone'> {
  const prev = so.status ?? {};
  const keys = new Set([...Object.keys(prev), ...Object.keys(status)]);
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const k of keys) {
    const a = prev[k];
    const b = status[k];
    if (canonical(a ?? null) === canonical(b ?? null)) continue;
    changed = true;
    // maps merge key by key in a merge patch: replace them whole by nulling removed keys
    if (b && a && typeof b === 'object' && !Array.isArray(b) && typeof a === 'object' && !Array.isArray(a)) {
      const m: Record<string, unknown> = { ...(b as Record<string, unknown>) };
      for (const kk of Object.keys(a as Record<string, unknown>)) if (!(kk in m)) m[kk] = null;
      patch[k] = m;
    } else patch[k] = b ?? null;
  }
  if (!changed) return 'unchanged';
  apis.requests.set('patch scaledobject status', (apis.requests.get('patch scaledobject status') ?? 0) + 1);
  try {
    await apis.custom.patchNamespacedCustomObjectStatus({
      group: 'keda.sh', version: 'v1alpha1', namespace: so.metadata!.namespace!, plural: 'scaledobjects', name: so.metadata!.name!,
      body: { status: patch }, fieldManager,
    }, MERGE_PATCH);
  } catch (e) {
    if (apiCode(e) === 404) return 'gone';
    throw e;
  }
  return 'written';
}

/** core/v1 Events on ScaledObjects: the controller's one EventRecorder, with a ScaledObject as the involved object. */
export class ScaledObjectEvents extends EventRecorder {
  emitFor(so: ScaledObjectObject, e: DecisionEvent): Promise<void> {
    return this.emitOn({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: so.metadata }, e);
  }
}
