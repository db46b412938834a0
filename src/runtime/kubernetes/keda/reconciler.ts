// `tide controller` as the operator for keda.sh/v1alpha1 ScaledObjects. An informer keeps the
// ScaledObjects in memory (started only when the cluster serves keda.sh/v1alpha1: KEDA's CRDs or
// Tide's own deploy/kubernetes/crds/); each object is synced every min(pollingInterval, sync period)
// by the shared KEDA autoscaler (src/autoscalers/keda.ts: the same module and pure decider `tide up`
// runs) through a KedaClusterPort: activation 0↔1, cooldown, idleReplicaCount, fallback,
// scalingModifiers, pause annotations and the 1↔N HPA semantics, all applied directly through /scale
// (no HPA is generated). After each decision the ScaledObject's status and KEDA's Events are
// written (./status.ts). Secrets come from TriggerAuthentication / ClusterTriggerAuthentication and
// the target's container env (./auth.ts), only into the metric sources.
//
// Modes as for HPAs: annotation tide.dev/mode on the ScaledObject, else --mode. shadow: decide and
// record, publish a TideRecommendation Event when the recommendation changes, write nothing else.
// active: Tide is KEDA's operator for that object. Tide stops acting on an object whose status
// another manager (e.g. keda-operator) writes after Tide did (ConflictingController), until its
// spec changes.
// Memory: the HPA part's recommendations and scale events go to the ScaledObject's tide.dev/memory
// annotation (../memory-store.ts, as for HPAs: written ahead of each scale write and when they
// change), KEDA's own state to its status; a new leader or a restarted process resumes from both.
import type * as k8s from '@kubernetes/client-node';
import { createAutoscaler } from '../../../autoscalers/factory.ts';
import type { Autoscaler, AutoscalerSpec } from '../../../autoscalers/types.ts';
import type { DecisionEvent } from '../../../core/decision.ts';
import type { KedaDecisionRecord } from '../../../deciders/keda/decide.ts';
import { emptyKedaState } from '../../../deciders/keda/decide.ts';
import type { KedaPolicy, KedaState } from '../../../deciders/keda/types.ts';
import type { HpaControllerConfig, HpaState } from '../../../deciders/hpa/types.ts';
import { scaledObjectDialect, scaledObjectSchema } from '../../../manifests/dialects/keda-scaledobject.ts';
import type { DialectIssue } from '../../../manifests/dialects/types.ts';
import { mergeMappings } from '../../../sources/metric-mapping.ts';
import type { Apis } from '../client.ts';
import { apiCode, apiMessage, toMs } from '../client.ts';
import { Watched } from '../informer.ts';
import { podInfoOf, podsFor, type ResourceMetrics } from '../observe.ts';
import { MEMORY_ANNOTATION, memoryOf, saveMemoryIfChanged } from '../memory-store.ts';
import { DecisionLog } from '../decision-log.ts';
import { getScale, ScaleError, updateScale, type ScaleInfo, type ScaleSource } from '../scale.ts';
import { forEachLimit } from '../schedule.ts';
import { AuthResolver, redact } from './auth.ts';
import { KedaClusterPort } from './port.ts';
import { kedaConditions, scaledObjectStatus, ScaledObjectEvents, writeScaledObjectStatus, type KedaCondition, type ScaledObjectObject } from './status.ts';

export const MODE_ANNOTATION = 'tide.dev/mode';
type Mode = 'shadow' | 'active';
type LogFn = (level: 'info' | 'warn' | 'error' | 'debug', msg: string, fields?: Record<string, unknown>) => void;

export interface KedaReconcilerOptions {
  apis: Apis;
  namespace?: string;
  defaultMode: Mode;
  /** The HPA sync period: a ScaledObject syncs every min(pollingInterval, this). */
  syncPeriodMs: number;
  hpaConfig?: Partial<HpaControllerConfig>;
  pods: Watched<k8s.V1Pod>;
  resourceMetrics: ResourceMetrics;
  /** Deployments/StatefulSets from the controller's informers (no /scale GET for them); others: GET /scale. */
  scaleSource?: ScaleSource;
  served: () => { custom: boolean; external: boolean };
  fieldManager: string;
  /** Namespace of ClusterTriggerAuthentication Secrets (KEDA's KEDA_CLUSTER_OBJECT_NAMESPACE). */
  clusterObjectNamespace: string;
  decisionsFile?: string;
  concurrentSyncs?: number;
  /** How often due objects are looked for (ms, default 500). */
  tickMs?: number;
  log: LogFn;
  /** Leader election: nothing is synced or written while this says no (a warm standby). */
  canActuate?: () => boolean;
  /** Another autoscaler claims this ScaledObject's target (src/runtime/kubernetes/claims.ts): the message naming it, else undefined. */
  conflict?: (so: ScaledObjectObject) => string | undefined;
  /** Keep each active ScaledObject's HPA-part memory in its tide.dev/memory annotation (default true). */
  persistMemory?: boolean;
  /** Leader election: until when the previous leader could still have synced (see memory-store.ts). */
  previousActiveUntil?: () => number | undefined;
  /** Counts each memory annotation write. */
  onMemoryWrite?: (namespace: string, name: string) => void;
}

export interface ScaledObjectEntry {
  namespace: string;
  name: string;
  uid: string;
  mode: Mode;
  port: KedaClusterPort;
  autoscaler?: Autoscaler;
  /** policy key + mode the autoscaler was built for. */
  autoscalerKey?: string;
  /** generation + annotations the policy was built from. */
  policyKey?: string;
  generation?: number;
  policy?: KedaPolicy;
  invalid?: string;
  checkFailed?: string;
  halted?: string;
  haltedGeneration?: number;
  nextDue: number;
  started: boolean;
  lastStatusWriteAt?: number;
  lastPublished?: number;
  last?: KedaDecisionRecord;
  lastError?: string;
  syncs: number;
  /** The last status Tide wrote (the informer's copy may lag behind). */
  status?: ScaledObjectObject['status'];
  /** memoryKey of what the tide.dev/memory annotation holds (last written or restored). */
  memoryKey?: string;
  /** The autoscaler acts (active mode): only then is its memory persisted. */
  autoscalerActive?: boolean;
}

/** The annotations that say how to scale (pauses, tide.dev/mode, …): all but Tide's own memory, which changes at every write. */
function specAnnotations(so: ScaledObjectObject): Record<string, string> {
  const { [MEMORY_ANNOTATION]: _memory, ...rest } = so.metadata?.annotations ?? {};
  return rest;
}

const GROUP = 'keda.sh';
const VERSION = 'v1alpha1';
const RECHECK_MS = 30_000;

export class KedaReconciler {
  readonly o: KedaReconcilerOptions;
  readonly entries = new Map<string, ScaledObjectEntry>();
  informer: Watched<ScaledObjectObject> | undefined;
  private readonly events: ScaledObjectEvents;
  private timer: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  /** Why ScaledObjects are not watched (CRDs not installed, RBAC), when they are not. */
  notWatching: string | undefined = 'not started';

  constructor(o: KedaReconcilerOptions) {
    this.o = o;
    this.events = new ScaledObjectEvents(o.apis, o.fieldManager);
  }

  private count(verb: string): void {
    this.o.apis.requests.set(verb, (this.o.apis.requests.get(verb) ?? 0) + 1);
  }

  /** Start watching ScaledObjects when the cluster serves them (else re-check every 30 s); resolves once listed or found absent. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tryStart();
  }

  private async tryStart(): Promise<void> {
    if (this.stopped || this.informer) return;
    const { apis, namespace: ns } = this.o;
    const list = () => {
      this.count('list scaledobjects');
      return (ns
        ? apis.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: 'scaledobjects' })
        : apis.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'scaledobjects' })) as Promise<k8s.KubernetesListObject<ScaledObjectObject>>;
    };
    try {
      await list();
    } catch (e) {
      const why = apiCode(e) === 404 ? `the cluster does not serve ${GROUP}/${VERSION} scaledobjects (install KEDA's CRDs or deploy/kubernetes/crds/)` : apiMessage(e);
      if (why !== this.notWatching) this.o.log(apiCode(e) === 404 ? 'info' : 'warn', `not watching ScaledObjects: ${why}`);
      this.notWatching = why;
      this.recheck = setTimeout(() => { this.recheck = undefined; void this.tryStart(); }, RECHECK_MS);
      this.recheck.unref?.();
      return;
    }
    const inf = new Watched<ScaledObjectObject>({
      kc: apis.kc, name: 'scaledobjects',
      log: (msg, fields) => this.o.log('warn', msg, fields),
      path: ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/scaledobjects` : `/apis/${GROUP}/${VERSION}/scaledobjects`,
      list,
      onChange: (verb, obj) => { if (verb === 'delete') void this.onDelete(obj); },
    });
    this.informer = inf;
    inf.start();
    await inf.whenSynced();
    this.notWatching = undefined;
    this.o.log('info', 'ScaledObject informer synced', { scaledObjects: inf.list().length });
    const tick = this.o.tickMs ?? 500;
    this.timer = setInterval(() => { void this.round(); }, tick);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.recheck) clearTimeout(this.recheck);
    this.informer?.stop();
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    for (const e of this.entries.values()) { e.autoscaler?.close(); e.port.close(); }
    this.decisionLog?.close();
  }

  /** The ScaledObjects as claimants of their targets (for src/runtime/kubernetes/claims.ts). */
  claimants(): { kind: string; namespace: string; name: string; scaleTargetRef: { apiVersion?: string; kind: string; name: string } }[] {
    const out = [];
    for (const so of this.informer?.list() ?? []) {
      const ref = so.spec?.scaleTargetRef;
      if (!so.metadata?.namespace || !so.metadata.name || !ref?.name) continue;
      out.push({ kind: 'ScaledObject', namespace: so.metadata.namespace, name: so.metadata.name, scaleTargetRef: { apiVersion: ref.apiVersion ?? 'apps/v1', kind: ref.kind ?? 'Deployment', name: ref.name } });
    }
    return out;
  }

  /** This replica became leader: every ScaledObject starts afresh from what its status holds. */
  leadershipGained(): void {
    for (const e of this.entries.values()) { e.autoscaler?.close(); e.port.close(); }
    this.entries.clear();
  }

  get healthy(): boolean {
    return !this.informer || this.informer.healthy;
  }

  /** One pass: every due ScaledObject, a few at a time. */
  async round(): Promise<void> {
    if (this.busy || this.stopped || !this.informer) return;
    if (!this.informer.healthy || !this.o.pods.healthy) return; // a stale cache never drives a decision
    if (this.o.canActuate && !this.o.canActuate()) return; // a standby: another replica leads
    this.busy = true;
    try {
      const now = Date.now();
      const list = this.informer.list();
      const live = new Set<string>();
      const due: ScaledObjectObject[] = [];
      for (const so of list) {
        const key = `${so.metadata?.namespace}/${so.metadata?.name}`;
        live.add(key);
        const e = this.entries.get(key);
        if (!e || e.uid !== so.metadata?.uid || e.nextDue <= now) due.push(so);
      }
      await forEachLimit(due, this.o.concurrentSyncs ?? 5, async (so) => {
        const key = `${so.metadata?.namespace}/${so.metadata?.name}`;
        try { await this.syncOne(so); } catch (e) {
          const ent = this.entries.get(key);
          const msg = redact(apiMessage(e), ent?.port.secrets() ?? []);
          if (ent) { ent.lastError = msg; ent.nextDue = Date.now() + this.o.syncPeriodMs; }
          this.o.log('error', `ScaledObject sync failed: ${msg}`, { scaledObject: key });
        }
      }, () => this.stopped || (this.o.canActuate !== undefined && !this.o.canActuate()));
      for (const [key, e] of this.entries) if (!live.has(key)) { e.autoscaler?.close(); e.port.close(); this.entries.delete(key); }
    } finally {
      this.busy = false;
    }
  }

  private entryFor(so: ScaledObjectObject): ScaledObjectEntry {
    const ns = so.metadata!.namespace!;
    const name = so.metadata!.name!;
    const key = `${ns}/${name}`;
    let e = this.entries.get(key);
    if (!e || e.uid !== so.metadata?.uid) {
      if (e) { e.autoscaler?.close(); e.port.close(); }
      const allowed = this.o.canActuate;
      const self: { e?: ScaledObjectEntry } = {};
      const port = new KedaClusterPort(this.o.apis, this.o.resourceMetrics, this.o.served, this.o.fieldManager, {
        ...(allowed ? { allowed } : {}),
        // write-ahead: the decision's memory (its scale event) is on the cluster before the scale changes
        beforeScale: () => (self.e ? this.saveMemory(self.e, Date.now()) : Promise.resolve()),
      });
      e = self.e = { namespace: ns, name, uid: so.metadata?.uid ?? '', mode: this.o.defaultMode, port, nextDue: 0, started: false, syncs: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private modeOf(so: ScaledObjectObject): Mode {
    const a = so.metadata?.annotations?.[MODE_ANNOTATION];
    return a === 'active' || a === 'shadow' ? a : this.o.defaultMode;
  }

  private async emit(so: ScaledObjectObject, ent: ScaledObjectEntry, e: DecisionEvent): Promise<void> {
    if (this.o.canActuate && !this.o.canActuate()) return;
    const ev = { ...e, message: redact(e.message, ent.port.secrets()) };
    try { await this.events.emitFor(so, ev); } catch (err) {
      this.o.log('warn', `cannot write event ${e.reason}: ${apiMessage(err)}`, { scaledObject: `${ent.namespace}/${ent.name}` });
    }
  }

  /** The spec through the manifest dialect (schema, KEDA's webhook checks, defaults). */
  private policyOf(so: ScaledObjectObject): { ok: true; policy: KedaPolicy } | { ok: false; message: string } {
    const plain = JSON.parse(JSON.stringify({
      apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject',
      metadata: { name: so.metadata?.name, namespace: so.metadata?.namespace, ...(so.metadata?.annotations ? { annotations: specAnnotations(so) } : {}) },
      spec: so.spec,
    }));
    const parsed = scaledObjectSchema.safeParse(plain);
    if (!parsed.success) {
      return { ok: false, message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message.replace(/^unknown field; known: .*/, 'unknown field')}`).join('; ') };
    }
    const issues: DialectIssue[] = [];
    const ctx = { file: `${so.metadata?.namespace}/${so.metadata?.name}`, apiVersion: 'keda.sh/v1alpha1', env: {}, report: (i: DialectIssue) => { issues.push(i); } };
    scaledObjectDialect.validate?.(parsed.data, ctx);
    const triggers = parsed.data.spec.triggers;
    const errors = issues.filter((i) => {
      if (i.severity === 'warning') return false;
      // a trigger whose parameters come from a TriggerAuthentication or the container env is
      // checked when its source is built from the resolved values (then a KEDAScalerFailed)
      const [a, b, idx, c] = i.path;
      if (a === 'spec' && b === 'triggers' && typeof idx === 'number' && c === 'metadata') {
        const t = triggers[idx];
        if (t?.authenticationRef || Object.keys(t?.metadata ?? {}).some((k) => k.endsWith('FromEnv'))) return false;
      }
      return true;
    });
    if (errors.length) return { ok: false, message: errors.map((i) => `${i.path.join('.')}: ${i.message}${i.allowed ? ` (${i.allowed})` : ''}`).join('; ') };
    const policy = scaledObjectDialect.normalize!(parsed.data, ctx);
    delete policy.source;
    return { ok: true, policy };
  }

  private async checkFailed(so: ScaledObjectObject, ent: ScaledObjectEntry, msg: string, active: boolean): Promise<void> {
    const first = ent.checkFailed !== msg;
    ent.checkFailed = msg;
    ent.lastError = msg;
    if (first) this.o.log('warn', `ScaledObjectCheckFailed: ${msg}`, { scaledObject: `${ent.namespace}/${ent.name}` });
    if (!active) return;
    if (first) await this.emit(so, ent, { type: 'Warning', reason: 'ScaledObjectCheckFailed', message: msg });
    const prev = ent.status ?? so.status;
    const conditions = kedaConditions(undefined, prev?.conditions, [
      { type: 'Ready', status: 'False', reason: 'ScaledObjectCheckFailed', message: msg },
      { type: 'Active', status: 'Unknown', reason: 'UnknownState', message: 'ScaledObject check failed' },
    ]);
    await this.writeStatus(so, ent, { ...(prev ?? {}), conditions });
  }

  private async writeStatus(so: ScaledObjectObject, ent: ScaledObjectEntry, status: NonNullable<ScaledObjectObject['status']>): Promise<void> {
    if (this.o.canActuate && !this.o.canActuate()) return;
    try {
      const base = { ...so, status: ent.status ?? so.status };
      const r = await writeScaledObjectStatus(this.o.apis, base, status, this.o.fieldManager);
      if (r === 'written') { ent.lastStatusWriteAt = Date.now(); ent.status = status; }
      if (r === 'unchanged') ent.status = status;
    } catch (e) {
      this.o.log('warn', `cannot write ScaledObject status: ${apiMessage(e)}`, { scaledObject: `${ent.namespace}/${ent.name}` });
    }
  }

  /** Another manager writes this ScaledObject's status after Tide did (e.g. KEDA's operator runs too). */
  private otherWriter(so: ScaledObjectObject, ent: ScaledObjectEntry): string | undefined {
    if (ent.lastStatusWriteAt === undefined) return undefined;
    for (const mf of so.metadata?.managedFields ?? []) {
      if (mf.subresource !== 'status' || mf.manager === this.o.fieldManager) continue;
      const t = toMs(mf.time) ?? 0;
      // managedFields times have whole seconds
      if (t > Math.floor(ent.lastStatusWriteAt / 1000) * 1000 + 1000) return `${mf.manager} also writes the status of ScaledObject ${ent.namespace}/${ent.name}`;
    }
    return undefined;
  }

  /** Reconcile one ScaledObject. */
  async syncOne(so: ScaledObjectObject): Promise<void> {
    const ent = this.entryFor(so);
    const key = `${ent.namespace}/${ent.name}`;
    const now = Date.now();
    const mode = this.modeOf(so);
    if (mode !== ent.mode) { ent.mode = mode; ent.halted = undefined; }
    const active = mode === 'active';
    ent.syncs++;
    ent.nextDue = now + this.o.syncPeriodMs;

    // 1. the spec (rebuilt on a new generation or changed annotations: pauses do not bump generation)
    const pkey: string = `${so.metadata?.generation ?? 0}\u0000${JSON.stringify(specAnnotations(so))}`;
    if (ent.policyKey !== pkey) {
      const gen = so.metadata?.generation ?? 0;
      if (ent.generation !== gen) { ent.port.reset(); ent.started = false; if (ent.halted && ent.haltedGeneration !== gen) ent.halted = undefined; }
      ent.generation = gen;
      ent.policyKey = pkey;
      const pr = this.policyOf(so);
      if (!pr.ok) { ent.policy = undefined; ent.invalid = pr.message; } else { ent.policy = pr.policy; ent.invalid = undefined; }
    }
    if (!ent.policy) return this.checkFailed(so, ent, `ScaledObject doesn't have correct spec: ${ent.invalid}`, active);
    const policy = ent.policy;
    // another autoscaler (an HPA) names the same target: act on neither; an Event names the other
    const conflict = this.o.conflict?.(so);
    if (conflict) {
      if (ent.lastError !== conflict) this.o.log('warn', conflict, { scaledObject: key });
      ent.lastError = conflict;
      if (active) await this.emit(so, ent, { type: 'Warning', reason: 'ConflictingAutoscaler', message: conflict });
      return;
    }

    if (active && !ent.halted) {
      const other = this.otherWriter(so, ent);
      if (other) {
        ent.halted = other;
        ent.haltedGeneration = so.metadata?.generation;
        this.o.log('warn', `stopped acting: ${other}`, { scaledObject: key });
        await this.emit(so, ent, { type: 'Warning', reason: 'ConflictingController', message: `Tide stopped acting on this ScaledObject: ${other}` });
      }
    }
    if (active && ent.halted) return;

    // 2. the target's scale
    let scale: ScaleInfo;
    try {
      scale = await getScale(this.o.apis, ent.namespace, policy.scaleTargetRef, this.o.scaleSource);
    } catch (e) {
      const err = e instanceof ScaleError ? e.message : apiMessage(e);
      const code = e instanceof ScaleError ? e.code : apiCode(e);
      const what = code === 404 ? "Target resource doesn't exist" : code === 403 ? 'Target resource cannot be read' : "Target resource doesn't expose /scale subresource";
      return this.checkFailed(so, ent, `${what}: ${err}`, active);
    }
    ent.checkFailed = undefined;

    // 3. the shared KEDA autoscaler, observing through this shell's port
    if (!ent.started) {
      ent.started = true;
      if (active) await this.emit(so, ent, { type: 'Normal', reason: 'KEDAScalersStarted', message: 'Started scalers watch' });
    }
    const specTriggers = so.spec?.triggers ?? [];
    const resolver = new AuthResolver({
      apis: this.o.apis, namespace: ent.namespace, clusterObjectNamespace: this.o.clusterObjectNamespace,
      target: { group: scale.group, version: scale.version, plural: scale.plural, name: policy.scaleTargetRef.name },
      ...(so.spec?.scaleTargetRef?.envSourceContainerName ? { envSourceContainerName: so.spec.scaleTargetRef.envSourceContainerName } : {}),
    });
    ent.port.resolve = (i) => resolver.resolveTrigger({ type: specTriggers[i]!.type, metadata: specTriggers[i]!.metadata ?? {}, ...(specTriggers[i]!.authenticationRef ? { authenticationRef: specTriggers[i]!.authenticationRef! } : {}) });
    const built: string[] = [];
    ent.port.onBuilt = (type) => { built.push(type); };
    const podInfos = scale.selector ? podsFor(this.o.pods.list(ent.namespace), scale.selector).map(podInfoOf) : [];
    const autoscaler = this.autoscalerFor(ent, so, policy, active, now, `${pkey}\u0000${active}`);
    ent.port.begin({ now, namespace: ent.namespace, scale, pods: podInfos, mapping: mergeMappings(undefined, undefined) });
    const record = (await autoscaler.sync(now)) as KedaDecisionRecord | null;
    ent.nextDue = now + autoscaler.syncPeriodMs;
    if (active) for (const t of built) await this.emit(so, ent, { type: 'Normal', reason: 'KEDAScalersStarted', message: `Scaler ${t} is built` });
    if (!record) return;
    ent.last = record;
    ent.lastError = undefined;
    for (const r of ent.port.records) this.appendRecord(r);

    if (!active) {
      if (ent.lastPublished !== record.desiredReplicas) {
        ent.lastPublished = record.desiredReplicas;
        await this.emit(so, ent, { type: 'Normal', reason: 'TideRecommendation', message: `Tide (shadow) recommends ${record.desiredReplicas} replicas: ${record.explanation}` });
      }
      return;
    }

    // 4. what KEDA's operator writes: Events, then the status
    const prev = ent.status ?? so.status;
    const wasReady = prev?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    const wasPaused = prev?.conditions?.find((c) => c.type === 'Paused')?.status === 'True';
    const extra: KedaCondition[] = [];
    const a = policy.annotations;
    const pausedNow = a.paused || a.pausedReplicas !== undefined || a.pausedScaleIn || a.pausedScaleOut;
    if ((a.pausedScaleIn || a.pausedScaleOut) && !(a.paused || a.pausedReplicas !== undefined)) extra.push({ type: 'Paused', status: 'True', reason: 'ScaledObjectPaused', message: 'ScaledObject is paused' });
    if (!pausedNow && wasPaused) extra.push({ type: 'Paused', status: 'False', reason: 'ScaledObjectUnpaused', message: 'pause annotation removed for ScaledObject' });
    if (!record.conditions.some((c) => c.type === 'Fallback')) extra.push({ type: 'Fallback', status: 'False', reason: 'NoFallbackFound', message: 'No fallbacks are active on this scaled object' });
    const ready = record.conditions.find((c) => c.type === 'Ready');
    if (ready?.status === 'True' && !wasReady) await this.emit(so, ent, { type: 'Normal', reason: 'ScaledObjectReady', message: 'ScaledObject is ready for scaling' });
    if (pausedNow && !wasPaused) await this.emit(so, ent, { type: 'Normal', reason: 'ScaledObjectPaused', message: 'ScaledObject is paused' });
    if (!pausedNow && wasPaused) await this.emit(so, ent, { type: 'Normal', reason: 'ScaledObjectUnpaused', message: 'pause annotation removed for ScaledObject' });
    for (const e of record.events) await this.emit(so, ent, e);
    for (const e of ent.port.events) {
      if (e.reason === 'FailedRescale' && record.details.kedaScaleTo !== null) {
        const up = record.desiredReplicas > record.currentReplicas;
        await this.emit(so, ent, { type: 'Warning', reason: up ? 'KEDAScaleTargetActivationFailed' : 'KEDAScaleTargetDeactivationFailed', message: `Failed to scale ${record.target} from ${record.currentReplicas} to ${record.desiredReplicas}: ${e.message.replace(/^.*; error: /, '')}` });
      } else await this.emit(so, ent, e);
    }
    if (ent.port.rescaledTo !== undefined) this.o.log('info', `rescaled ${record.currentReplicas} -> ${record.desiredReplicas}: ${redact(record.explanation, ent.port.secrets())}`, { scaledObject: key });
    await this.saveMemory(ent, now);
    const state = autoscaler.snapshot().state as KedaState;
    const status = scaledObjectStatus({ so: { ...so, status: prev }, policy, scale, record, state, extraConditions: extra });
    await this.writeStatus(so, ent, status);
  }

  /** The entry's autoscaler from the factory; a fresh one resumes from what the status says (lastActiveTime, health). */
  private autoscalerFor(ent: ScaledObjectEntry, so: ScaledObjectObject, policy: KedaPolicy, active: boolean, now: number, key: string): Autoscaler {
    if (ent.autoscaler && ent.autoscalerKey === key) return ent.autoscaler;
    const createdAt = toMs(so.metadata?.creationTimestamp);
    const spec: AutoscalerSpec = {
      kind: 'keda',
      name: ent.name,
      namespace: ent.namespace,
      target: { ...policy.scaleTargetRef, namespace: ent.namespace },
      policy: { ...policy, namespace: ent.namespace },
      ...(so.metadata?.annotations ? { annotations: specAnnotations(so) } : {}),
      ...(createdAt !== undefined ? { createdAt } : {}),
    };
    const a = createAutoscaler(spec, ent.port, { syncPeriodMs: this.o.syncPeriodMs, dryRun: !active, ...(this.o.hpaConfig ? { config: this.o.hpaConfig as Record<string, unknown> } : {}) });
    const old = ent.autoscaler;
    if (old) {
      const snap = old.snapshot();
      a.restore(snap);
      old.close();
    } else {
      const state: KedaState = emptyKedaState(createdAt);
      // the HPA part resumes from the memory the previous leader (or process) left on the ScaledObject
      const mem = active && this.o.persistMemory !== false ? memoryOf(so, now, this.o.previousActiveUntil?.()) : undefined;
      if (mem && 'state' in mem) {
        state.hpa = mem.state;
        ent.memoryKey = mem.key;
        this.o.log('info', 'memory restored from the tide.dev/memory annotation', { scaledObject: `${ent.namespace}/${ent.name}`, recommendations: mem.state.recommendations.length, scaleUpEvents: mem.state.scaleUpEvents.length, scaleDownEvents: mem.state.scaleDownEvents.length, writtenAt: new Date(mem.memory.t).toISOString() });
      } else if (mem && mem.why !== 'no memory') this.o.log('warn', `memory not restored: ${mem.why}`, { scaledObject: `${ent.namespace}/${ent.name}` });
      const st = ent.status ?? so.status;
      const lat = toMs(st?.lastActiveTime);
      if (lat !== undefined) state.lastActiveTime = lat;
      for (const [k, h] of Object.entries(st?.health ?? {})) {
        if (h.status === 'Happy' || h.status === 'Failing') state.health[k] = { numberOfFailures: h.numberOfFailures ?? 0, status: h.status };
      }
      a.restore({ v: 1, kind: 'keda', name: ent.name, at: now, state });
    }
    ent.autoscaler = a;
    ent.autoscalerKey = key;
    ent.autoscalerActive = active;
    return a;
  }

  /** Persist an active ScaledObject's HPA-part memory when it changed in a way a later decision depends on (leader only). */
  private async saveMemory(ent: ScaledObjectEntry, now: number): Promise<void> {
    if (this.o.persistMemory === false || !ent.autoscaler || !ent.autoscalerActive) return;
    if (this.o.canActuate && !this.o.canActuate()) return;
    const hpa = (ent.autoscaler.snapshot().state as KedaState | undefined)?.hpa as HpaState | undefined;
    if (!hpa) return;
    try {
      const r = await saveMemoryIfChanged(this.o.apis, 'scaledobject', ent, hpa, now, this.o.fieldManager, ent.memoryKey);
      if (typeof r === 'object') { ent.memoryKey = r.key; this.o.onMemoryWrite?.(ent.namespace, ent.name); }
    } catch (e) {
      this.o.log('warn', `cannot write the ScaledObject's memory: ${apiMessage(e)}`, { scaledObject: `${ent.namespace}/${ent.name}` });
    }
  }

  /** restoreToOriginalReplicaCount: the deleted ScaledObject's target goes back to its original replicas. */
  private async onDelete(so: ScaledObjectObject): Promise<void> {
    const key = `${so.metadata?.namespace}/${so.metadata?.name}`;
    const ent = this.entries.get(key);
    if (ent) { ent.autoscaler?.close(); ent.port.close(); this.entries.delete(key); this.events.forget(ent.uid); }
    const adv = (so.spec?.advanced ?? {}) as { restoreToOriginalReplicaCount?: boolean };
    const orig = so.status?.originalReplicaCount;
    const ref = so.spec?.scaleTargetRef;
    if (this.modeOf(so) !== 'active' || !adv.restoreToOriginalReplicaCount || orig === undefined || !ref?.name) return;
    if (this.o.canActuate && !this.o.canActuate()) return; // the leader restores it
    try {
      const target = { apiVersion: ref.apiVersion ?? 'apps/v1', kind: ref.kind ?? 'Deployment', name: ref.name };
      const scale = await getScale(this.o.apis, so.metadata!.namespace!, target);
      if (scale.specReplicas !== orig) await updateScale(this.o.apis, so.metadata!.namespace!, target, scale, orig, this.o.fieldManager);
      this.o.log('info', `ScaledObject deleted: restored ${target.kind}/${target.name} to its original ${orig} replicas`, { scaledObject: key });
    } catch (e) {
      this.o.log('warn', `ScaledObject deleted: cannot restore the original replica count: ${apiMessage(e)}`, { scaledObject: key });
    }
  }

  private decisionLog: DecisionLog | undefined;
  private appendRecord(record: unknown): void {
    const f = this.o.decisionsFile;
    if (!f) return;
    this.decisionLog ??= new DecisionLog(f, (msg) => this.o.log('warn', msg));
    this.decisionLog.append(record);
  }

  /** JSON view for /api/scaledobjects. */
  snapshot(): Record<string, unknown> {
    return {
      watching: this.notWatching === undefined,
      ...(this.notWatching !== undefined ? { notWatching: this.notWatching } : {}),
      scaledObjects: [...this.entries.values()].map((e) => ({
        namespace: e.namespace,
        name: e.name,
        mode: e.mode,
        halted: e.halted ?? null,
        invalid: e.invalid ?? null,
        checkFailed: e.checkFailed ?? null,
        lastError: e.lastError ?? null,
        syncs: e.syncs,
        last: e.last ? {
          time: e.last.time,
          currentReplicas: e.last.currentReplicas,
          desiredReplicas: e.last.desiredReplicas,
          rescale: e.last.rescale,
          explanation: redact(e.last.explanation, e.port.secrets()),
          limitedBy: e.last.limitedBy,
          phase: e.last.details.phase,
        } : null,
      })),
    };
  }
}
