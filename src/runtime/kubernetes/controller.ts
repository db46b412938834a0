// `tide controller`: the HPA controller on a real cluster. Informers keep HPAs and pods in memory;
// every sync period each HPA is reconciled like kube-controller-manager's HorizontalController does
// it (scale via /scale, pods by the scale's selector, metrics from metrics.k8s.io or the
// custom/external metrics APIs or Prometheus), decided by the same pure HPA decider `tide up` uses,
// and then, per object:
//   shadow (default): nothing is written to the HPA or its target. Tide's decision is compared with
//     the upstream controller's status.desiredReplicas; the agreement is a Prometheus metric, and a
//     changed recommendation is published as an Event (reason TideRecommendation) and on /api/hpas.
//   active (annotation tide.dev/mode: active, or --mode active): Tide scales through /scale, writes
//     the status subresource and the Events upstream writes. If another writer changes the target's
//     replicas or the HPA's status behind it, Tide stops acting on that object (condition + event).
// Decisions go to a JSONL file that `tide decide --verify` replays.
import { createServer, type Server } from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { emptyHpaState } from '../../deciders/hpa/decide.ts';
import { createAutoscaler } from '../../autoscalers/factory.ts';
import type { Autoscaler, AutoscalerSpec } from '../../autoscalers/types.ts';
import { KubernetesClusterPort } from './port.ts';
import type { HpaControllerConfig, HpaDecisionRecord, HpaPolicy } from '../../deciders/hpa/types.ts';
import { type MetricMapping, mergeMappings, mappingFromAnnotations } from '../../sources/metric-mapping.ts';
import type { Apis } from './client.ts';
import { apiCode, apiMessage } from './client.ts';
import { policyOf } from './hpa-policy.ts';
import { stripManagedFields, Watched } from './informer.ts';
import { DecisionLog } from './decision-log.ts';
import { ResourceMetrics, podInfoOf, podsFor, servedMetricsApis } from './observe.ts';
import { closePredictive, predictiveSpecFor, syncPredictive, type PredictiveHost } from './predictive.ts';
import { forEachLimit, RoundScheduler } from './schedule.ts';
import { ClaimRegistry, CONFLICTING_AUTOSCALER, conflictMessage, hpaClaimant } from './claims.ts';
import { memoryOf, saveMemoryIfChanged } from './memory-store.ts';
import { cachedKind, getScale, ScaleError, scaleOfObject, type ScalableObject, type ScaleInfo, type ScaleSource } from './scale.ts';
import { KedaReconciler } from './keda/reconciler.ts';
import { EventRecorder, conditionsFromK8s, setCondition, statusFromRecord, writeStatus, type HpaObject, type HpaStatus } from './status.ts';

export const MODE_ANNOTATION = 'tide.dev/mode';
export type Mode = 'shadow' | 'active';

export type LogFn = (level: 'info' | 'warn' | 'error' | 'debug', msg: string, fields?: Record<string, unknown>) => void;

export interface ControllerOptions {
  apis: Apis;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  /** Mode of HPAs without the tide.dev/mode annotation. */
  defaultMode: Mode;
  syncPeriodMs: number;
  /** HPAs reconciled at the same time (kube-controller-manager --concurrent-horizontal-pod-autoscaler-syncs, default 5). */
  concurrentSyncs?: number;
  hpaConfig?: Partial<HpaControllerConfig>;
  /** JSONL sink for decision records. */
  decisionsFile?: string;
  /** PromQL mapping for Pods/Object/External metrics (file or ConfigMap contents). */
  mapping?: MetricMapping;
  fieldManager?: string;
  /** 127.0.0.1 port for /metrics, /healthz, /readyz, /api/hpas (0 = any free port; undefined = no server). */
  port?: number;
  host?: string;
  log?: LogFn;
  /** keda.sh ScaledObjects (src/runtime/kubernetes/keda/): where ClusterTriggerAuthentication Secrets live (default tide-system); false: do not watch ScaledObjects. */
  keda?: { clusterObjectNamespace?: string; tickMs?: number } | false;
  /**
   * Leader election (src/runtime/kubernetes/leader.ts): only while `isLeader()` does this replica
   * sync and write anything; otherwise it is a warm standby (informers synced, views served).
   */
  leader?: { isLeader(): boolean; previousHolderActiveUntil?(): number | undefined; readonly identity: string; readonly leader: string };
  /** Keep each active HPA's memory in its tide.dev/memory annotation (default true). */
  persistMemory?: boolean;
}

export interface ShadowResult { tide: number; upstream: number | undefined; agree: boolean; at: string }

export interface HpaEntry {
  namespace: string;
  name: string;
  uid: string;
  mode: Mode;
  port: KubernetesClusterPort;
  autoscaler?: Autoscaler;
  autoscalerGeneration?: number;
  autoscalerActive?: boolean;
  last?: HpaDecisionRecord;
  /** Why this object is not acted on (conflict with another writer, invalid spec). */
  halted?: string;
  haltedGeneration?: number;
  invalid?: string;
  /** Another autoscaler claims the same target (cross-kind conflict): its message. */
  conflict?: string;
  /** upstream's selectingHpas the autoscaler was built with (AmbiguousSelector). */
  autoscalerSelecting?: string;
  /** memoryKey of what the tide.dev/memory annotation holds (last written or restored). */
  memoryKey?: string;
  /** What Tide last wrote to the target's scale (active mode). */
  lastScaleWrite?: { replicas: number; at: number };
  lastStatusWriteAt?: number;
  /** When Tide began acting on this object (this process, this mode): the reference for "another writer is live". */
  activeSince?: number;
  shadow?: ShadowResult;
  lastPublished?: number;
  agreements: number;
  disagreements: number;
  lastError?: string;
  syncs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubernetesController {
  readonly opts: ControllerOptions;
  readonly apis: Apis;
  readonly hpas: Watched<HpaObject>;
  readonly pods: Watched<k8s.V1Pod>;
  /**
   * Deployments and StatefulSets (list + watch): their /scale is read from here instead of one GET per
   * HPA and sync. Other targets (CRDs, ReplicaSets), an object not in the cache yet, or a cache that
   * cannot list (an older ClusterRole without list/watch on them) fall back to GET /scale.
   */
  readonly targets: Record<string, Watched<ScalableObject & k8s.KubernetesObject>>;
  readonly scaleSource: ScaleSource;
  readonly entries = new Map<string, HpaEntry>();
  readonly registry = new Registry();
  /** Who claims which target, across kinds (HPAs fed here; ScaledObjects by their watcher: claims.replaceKind('ScaledObject', …)). */
  readonly claims = new ClaimRegistry();
  private readonly events: EventRecorder;
  private readonly resourceMetrics: ResourceMetrics;
  private readonly fieldManager: string;
  private served = { resource: true, custom: false, external: false };
  private scheduler: RoundScheduler | undefined;
  private stopped = false;
  private server: Server | undefined;
  /** The ScaledObject operator (undefined with keda: false). */
  keda: KedaReconciler | undefined;
  private readonly decisions: DecisionLog | undefined;
  rounds = 0;
  private readonly m: {
    syncs: Counter; desired: Gauge; upstreamDesired: Gauge; agreement: Counter; rescales: Counter;
    halted: Gauge; apiRequests: Gauge; roundSeconds: Histogram; informerHealthy: Gauge; relists: Gauge; leader: Gauge; memoryWrites: Counter;
  };
  private wasLeader = false;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    this.apis = opts.apis;
    this.fieldManager = opts.fieldManager ?? 'tide-controller';
    this.events = new EventRecorder(this.apis, this.fieldManager);
    this.resourceMetrics = new ResourceMetrics(this.apis);
    if (opts.decisionsFile) this.decisions = new DecisionLog(opts.decisionsFile, (msg) => this.log('warn', msg));
    const log = (msg: string, fields?: Record<string, unknown>) => this.log('warn', msg, fields);
    const ns = opts.namespace;
    const { core, autoscaling, kc } = this.apis;
    this.hpas = new Watched<HpaObject>({
      kc, name: 'hpa', log,
      path: ns ? `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers` : '/apis/autoscaling/v2/horizontalpodautoscalers',
      list: () => { this.count('list hpa'); return ns ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns }) : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(); },
      onChange: (verb, obj) => this.onHpa(verb, obj),
    });
    this.pods = new Watched<k8s.V1Pod>({
      kc, name: 'pods', log,
      path: ns ? `/api/v1/namespaces/${ns}/pods` : '/api/v1/pods',
      transform: stripManagedFields,
      list: () => { this.count('list pods'); return ns ? core.listNamespacedPod({ namespace: ns }) : core.listPodForAllNamespaces(); },
    });
    const target = (plural: string) => new Watched<ScalableObject & k8s.KubernetesObject>({
      kc, name: plural, log,
      path: ns ? `/apis/apps/v1/namespaces/${ns}/${plural}` : `/apis/apps/v1/${plural}`,
      transform: stripManagedFields,
      list: () => {
        this.count(`list ${plural}`);
        return (ns ? this.apis.custom.listNamespacedCustomObject({ group: 'apps', version: 'v1', namespace: ns, plural }) : this.apis.custom.listClusterCustomObject({ group: 'apps', version: 'v1', plural })) as Promise<k8s.KubernetesListObject<ScalableObject & k8s.KubernetesObject>>;
      },
    });
    this.targets = { deployments: target('deployments'), statefulsets: target('statefulsets') };
    this.scaleSource = {
      get: (namespace, ref) => {
        const plural = cachedKind(ref);
        const w = plural ? this.targets[plural] : undefined;
        if (!w?.healthy) return undefined;
        const o = w.get(ref.name, namespace);
        return o ? scaleOfObject(plural!, o) : undefined;
      },
    };
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'tide_controller_' });
    const L = ['namespace', 'hpa'];
    this.m = {
      syncs: new Counter({ name: 'tide_k8s_syncs_total', help: 'HPA reconciles by mode and result', labelNames: [...L, 'mode', 'result'], registers: [r] }),
      desired: new Gauge({ name: 'tide_k8s_desired_replicas', help: "Tide's desired replicas from its last decision", labelNames: L, registers: [r] }),
      upstreamDesired: new Gauge({ name: 'tide_k8s_upstream_desired_replicas', help: "status.desiredReplicas written by the cluster's own HPA controller (shadow mode)", labelNames: L, registers: [r] }),
      agreement: new Counter({ name: 'tide_k8s_shadow_decisions_total', help: "Shadow decisions compared with upstream's status.desiredReplicas (result=agree|disagree)", labelNames: [...L, 'result'], registers: [r] }),
      rescales: new Counter({ name: 'tide_k8s_rescales_total', help: 'Scale writes through /scale (active mode)', labelNames: L, registers: [r] }),
      halted: new Gauge({ name: 'tide_k8s_halted', help: '1 when Tide stopped acting on an HPA (another writer, invalid spec)', labelNames: [...L, 'reason'], registers: [r] }),
      apiRequests: new Gauge({ name: 'tide_k8s_api_requests', help: 'API requests made by the controller since start, by verb', labelNames: ['verb'], registers: [r] }),
      roundSeconds: new Histogram({ name: 'tide_k8s_sync_round_seconds', help: 'Duration of one sync round over all HPAs', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [r] }),
      informerHealthy: new Gauge({ name: 'tide_k8s_informer_healthy', help: '1 when the informer has a complete, current list', labelNames: ['informer'], registers: [r] }),
      relists: new Gauge({ name: 'tide_k8s_informer_lists', help: 'LISTs done by an informer (first + after errors)', labelNames: ['informer'], registers: [r] }),
      leader: new Gauge({ name: 'tide_k8s_leader', help: '1 while this replica holds the leader Lease (or runs without leader election), 0 while it is a standby', registers: [r] }),
      memoryWrites: new Counter({ name: 'tide_k8s_memory_writes_total', help: 'tide.dev/memory annotation writes (HPA memory persisted for failover)', labelNames: L, registers: [r] }),
    };
  }

  private count(verb: string): void {
    this.apis.requests.set(verb, (this.apis.requests.get(verb) ?? 0) + 1);
  }

  log(level: 'info' | 'warn' | 'error' | 'debug', msg: string, fields: Record<string, unknown> = {}): void {
    if (this.opts.log) this.opts.log(level, msg, fields);
  }

  /** Start informers, wait for their first LIST, start the HTTP endpoints and the sync loop. */
  async start(): Promise<void> {
    if (this.opts.port !== undefined) await this.listen(this.opts.port, this.opts.host ?? '127.0.0.1');
    this.hpas.start();
    this.pods.start();
    for (const w of Object.values(this.targets)) w.start();
    await Promise.all([this.hpas.whenSynced(), this.pods.whenSynced()]);
    // the workload caches are an optimization: wait a little for them, not for a list that is forbidden
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(Object.values(this.targets).map((w) => w.whenSynced())), new Promise<void>((r) => { timer = setTimeout(r, 3000); })]);
    clearTimeout(timer);
    this.served = await servedMetricsApis(this.apis);
    this.log('info', 'informers synced', { hpas: this.hpas.list().length, pods: this.pods.list().length, served: this.served });
    if (this.stopped) return;
    if (this.opts.keda !== false) {
      const k = this.opts.keda ?? {};
      this.keda = new KedaReconciler({
        apis: this.apis, ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}), defaultMode: this.opts.defaultMode, syncPeriodMs: this.opts.syncPeriodMs,
        ...(this.opts.hpaConfig ? { hpaConfig: this.opts.hpaConfig } : {}), pods: this.pods, resourceMetrics: this.resourceMetrics, scaleSource: this.scaleSource, served: () => this.served,
        fieldManager: this.fieldManager, clusterObjectNamespace: k.clusterObjectNamespace ?? 'tide-system', ...(this.opts.decisionsFile ? { decisionsFile: this.opts.decisionsFile } : {}),
        ...(this.opts.concurrentSyncs ? { concurrentSyncs: this.opts.concurrentSyncs } : {}), ...(k.tickMs ? { tickMs: k.tickMs } : {}),
        log: (level, msg, fields) => this.log(level, msg, fields),
        canActuate: () => this.canActuate(),
        ...(this.opts.persistMemory === false ? { persistMemory: false } : {}),
        previousActiveUntil: () => this.opts.leader?.previousHolderActiveUntil?.(),
        onMemoryWrite: (namespace, name) => this.m.memoryWrites.inc({ namespace, hpa: `ScaledObject/${name}` }),
        conflict: (so) => {
          if (Date.now() - this.claimsAt > 1000) this.refreshClaims();
          const ns = so.metadata?.namespace ?? '';
          const name = so.metadata?.name ?? '';
          const others = this.claims.otherClaimants('ScaledObject', ns, name);
          const ref = so.spec?.scaleTargetRef;
          return others.length && ref?.name ? conflictMessage({ kind: ref.kind ?? 'Deployment', name: ref.name }, others) : undefined;
        },
      });
      await this.keda.start();
    }
    // rounds start every sync period (start to start) and never overlap
    this.scheduler = new RoundScheduler({
      periodMs: this.opts.syncPeriodMs,
      run: () => this.round(),
      onError: (e) => this.log('error', `sync round failed: ${(e as Error).stack ?? e}`),
      onOverrun: (a, b) => this.log('warn', `sync round took ${b - a} ms, longer than the sync period (${this.opts.syncPeriodMs} ms): the next one starts late (raise --concurrent-syncs?)`),
    });
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.scheduler?.stop();
    await this.keda?.stop();
    this.hpas.stop();
    this.pods.stop();
    for (const w of Object.values(this.targets)) w.stop();
    this.decisions?.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections?.();
  }

  get address(): { host: string; port: number } | undefined {
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  ready(): boolean {
    return this.hpas.healthy && this.pods.healthy;
  }

  /** May this replica write (scale, status, events, memory)? Always without leader election. */
  canActuate(): boolean {
    return this.opts.leader ? this.opts.leader.isLeader() : true;
  }

  private claimsAt = -Infinity;
  /** Feed the claims with every HPA and ScaledObject in the caches (each round; at most once a second otherwise). */
  refreshClaims(hpas: readonly HpaObject[] = this.hpas.list()): void {
    this.claimsAt = Date.now();
    this.claims.replaceKind('HorizontalPodAutoscaler', hpas.map(hpaClaimant).filter((c) => c !== undefined));
    if (this.keda) this.claims.replaceKind('ScaledObject', this.keda.claimants());
  }

  /** This replica became leader: forget per-HPA state so every autoscaler resumes from the memory on the cluster. */
  leadershipGained(): void {
    for (const e of this.entries.values()) e.autoscaler?.close();
    this.entries.clear();
    this.keda?.leadershipGained();
  }

  private onHpa(verb: 'add' | 'update' | 'delete', obj: HpaObject): void {
    const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    if (verb === 'delete') {
      const e = this.entries.get(key);
      if (e) { this.entries.delete(key); this.events.forget(e.uid); e.autoscaler?.close(); closePredictive(e); }
      this.log('info', 'HPA deleted: forgetting its state', { hpa: key });
    }
  }

  /** One pass over every HPA in the cache. */
  async round(): Promise<void> {
    const t0 = process.hrtime.bigint();
    this.rounds++;
    this.resourceMetrics.clear();
    if (!this.ready()) {
      // a stale or partial cache must not drive decisions (no spurious scaling while reconnecting)
      this.log('warn', 'skipping sync round: informers are not current', { hpa: this.hpas.lastError, pods: this.pods.lastError });
      this.updateGauges();
      return;
    }
    const leading = this.canActuate();
    if (leading !== this.wasLeader) this.log('info', leading ? 'leading: syncing HPAs' : 'standby: not syncing (another replica leads)', { leader: this.opts.leader?.leader });
    this.wasLeader = leading;
    if (!leading) { this.updateGauges(); return; } // a warm standby: informers synced, nothing written
    const list = [...this.hpas.list()].sort((a, b) => `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
    const live = new Set<string>();
    for (const hpa of list) live.add(`${hpa.metadata?.namespace}/${hpa.metadata?.name}`);
    this.refreshClaims(list);
    // each HPA once per round (the list is keyed), several at a time
    await forEachLimit(list, this.opts.concurrentSyncs ?? 5, async (hpa) => {
      const key = `${hpa.metadata?.namespace}/${hpa.metadata?.name}`;
      try { await this.syncOne(hpa); } catch (e) {
        const ent = this.entries.get(key);
        if (ent) ent.lastError = apiMessage(e);
        this.log('error', `sync failed: ${apiMessage(e)}`, { hpa: key });
      }
    }, () => this.stopped || !this.canActuate()); // a leader that lost the Lease mid-round stops there
    if (this.stopped) return;
    for (const key of [...this.entries.keys()]) if (!live.has(key)) this.entries.delete(key);
    this.m.roundSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    this.updateGauges();
  }

  private updateGauges(): void {
    this.m.leader.set(this.canActuate() ? 1 : 0);
    for (const [verb, n] of this.apis.requests) this.m.apiRequests.set({ verb }, n);
    for (const [name, inf] of [['hpa', this.hpas], ['pods', this.pods], ...Object.entries(this.targets)] as const) {
      this.m.informerHealthy.set({ informer: name }, inf.healthy ? 1 : 0);
      this.m.relists.set({ informer: name }, inf.lists);
    }
  }

  private entryFor(hpa: HpaObject): HpaEntry {
    const ns = hpa.metadata!.namespace!;
    const name = hpa.metadata!.name!;
    const key = `${ns}/${name}`;
    let e = this.entries.get(key);
    if (!e || e.uid !== hpa.metadata?.uid) {
      e?.autoscaler?.close();
      const self: { e?: HpaEntry } = {};
      const port = new KubernetesClusterPort(this.apis, this.resourceMetrics, () => this.served, this.fieldManager, {
        allowed: () => this.canActuate(),
        // write-ahead: the decision's memory (its scale event) is on the cluster before the scale changes
        beforeScale: () => (self.e ? this.saveMemory(self.e, Date.now()) : Promise.resolve()),
      });
      e = self.e = { namespace: ns, name, uid: hpa.metadata?.uid ?? '', mode: this.opts.defaultMode, port, agreements: 0, disagreements: 0, syncs: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private modeOf(hpa: HpaObject): Mode {
    const a = hpa.metadata?.annotations?.[MODE_ANNOTATION];
    if (a === 'active' || a === 'shadow') return a;
    return this.opts.defaultMode;
  }

  private async emit(hpa: HpaObject, e: { type: 'Normal' | 'Warning'; reason: string; message: string }): Promise<void> {
    if (!this.canActuate()) return;
    try { await this.events.emit(hpa, e); } catch (err) { this.log('warn', `cannot write event ${e.reason}: ${apiMessage(err)}`, { hpa: `${hpa.metadata?.namespace}/${hpa.metadata?.name}` }); }
  }

  /** Reconcile one HPA. */
  async syncOne(hpa: HpaObject): Promise<void> {
    const ent = this.entryFor(hpa);
    const key = `${ent.namespace}/${ent.name}`;
    const labels = { namespace: ent.namespace, hpa: ent.name };
    const mode = this.modeOf(hpa);
    if (mode !== ent.mode) {
      this.log('info', `mode ${ent.mode} -> ${mode}`, { hpa: key });
      ent.mode = mode;
      ent.halted = undefined;
      ent.activeSince = undefined;
    }
    if (ent.halted && ent.haltedGeneration !== hpa.metadata?.generation) ent.halted = undefined; // a spec edit re-arms it
    ent.syncs++;
    const now = Date.now();
    const active = mode === 'active';
    if (active && ent.activeSince === undefined) ent.activeSince = now;

    // 1. the spec, through the manifest dialect
    const pr = policyOf(hpa);
    if (!pr.ok) {
      const msg = `the HPA spec cannot be used: ${pr.problems.join('; ')}`;
      const first = ent.invalid !== msg;
      ent.invalid = msg;
      this.m.syncs.inc({ ...labels, mode, result: 'invalid' });
      if (first) {
        this.log('warn', msg, { hpa: key });
        if (active) {
          await this.emit(hpa, { type: 'Warning', reason: 'InvalidSpec', message: msg });
          const status = setCondition(hpa.status ?? { currentReplicas: 0, desiredReplicas: 0 }, { type: 'ScalingActive', status: 'False', reason: 'InvalidSpec', message: msg }, new Date(now));
          await this.writeStatusLogged(hpa, ent, status);
        }
      }
      return;
    }
    ent.invalid = undefined;
    const policy = pr.policy;

    // 2. the target's scale
    let scale: ScaleInfo;
    try {
      scale = await getScale(this.apis, ent.namespace, policy.scaleTargetRef, this.scaleSource);
      // replicas other than Tide set: the cache may not have Tide's own write yet; ask the apiserver
      // before the never-fight check calls it another writer's
      if (scale.fromCache && ent.lastScaleWrite && scale.specReplicas !== ent.lastScaleWrite.replicas) scale = await getScale(this.apis, ent.namespace, policy.scaleTargetRef);
    } catch (e) {
      const err = e instanceof ScaleError ? e.message : apiMessage(e);
      ent.lastError = err;
      this.m.syncs.inc({ ...labels, mode, result: 'failed-get-scale' });
      this.log('warn', `FailedGetScale: ${err}`, { hpa: key });
      if (active && !ent.halted) {
        await this.emit(hpa, { type: 'Warning', reason: 'FailedGetScale', message: err });
        const status = setCondition(hpa.status ?? { currentReplicas: 0, desiredReplicas: 0 }, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${err}` }, new Date(now));
        await this.writeStatusLogged(hpa, ent, status);
      }
      return;
    }

    // claims: the selector is known now (upstream registers it at the same point)
    this.claims.setSelector('HorizontalPodAutoscaler', ent.namespace, ent.name, scale.selector);
    const others = this.claims.otherClaimants('HorizontalPodAutoscaler', ent.namespace, ent.name);
    const matched = scale.selector ? podsFor(this.pods.list(ent.namespace), scale.selector) : [];
    const selecting = scale.selector ? this.claims.selectingHpas(ent.namespace, matched.map((p) => ({ labels: p.metadata?.labels ?? {} }))) : [];
    // several HPAs over the same pods: the decider says AmbiguousSelector as upstream; else another kind on the same target
    if (others.length && selecting.length <= 1) {
      const msg = conflictMessage(policy.scaleTargetRef, others);
      if (ent.conflict !== msg) this.log('warn', msg, { hpa: key });
      ent.conflict = msg;
      this.m.syncs.inc({ ...labels, mode, result: 'conflict' });
      if (active) {
        await this.emit(hpa, { type: 'Warning', reason: CONFLICTING_AUTOSCALER, message: msg });
        const status = setCondition(hpa.status ?? { currentReplicas: scale.specReplicas, desiredReplicas: scale.specReplicas }, { type: 'ScalingActive', status: 'False', reason: CONFLICTING_AUTOSCALER, message: msg }, new Date(now));
        await this.writeStatusLogged(hpa, ent, { ...status, currentReplicas: scale.specReplicas });
      }
      return;
    }
    ent.conflict = undefined;

    // 3. never fight: someone else changed the replicas Tide set, or writes this HPA's status
    if (active && !ent.halted) {
      const other = await this.otherWriter(hpa, ent, scale, policy.scaleTargetRef);
      if (other) {
        ent.halted = other;
        ent.haltedGeneration = hpa.metadata?.generation;
        this.m.halted.set({ ...labels, reason: 'conflict' }, 1);
        this.log('warn', `stopped acting: ${other}`, { hpa: key });
        await this.emit(hpa, { type: 'Warning', reason: 'ConflictingController', message: `Tide stopped acting on this HPA: ${other}` });
        const status = setCondition(hpa.status ?? { currentReplicas: scale.specReplicas, desiredReplicas: scale.specReplicas }, { type: 'AbleToScale', status: 'False', reason: 'ConflictingController', message: `Tide stopped acting on this HPA: ${other}` }, new Date(now));
        await this.writeStatusLogged(hpa, ent, status);
      }
    }

    if (active && ent.halted) {
      this.m.syncs.inc({ ...labels, mode, result: 'halted' });
      return;
    }

    // 4. the shared HPA autoscaler (src/autoscalers/hpa.ts) observes through this shell's port
    const ns = ent.namespace;
    const selector = scale.selector;
    const podInfos = selector ? matched.map(podInfoOf) : [];
    const mapping = mergeMappings(this.opts.mapping, mappingFromAnnotations(hpa.metadata?.annotations));
    // tide.dev/policy: predictive -> Tide's own policy decides, from Prometheus demand series (predictive.ts)
    const predictive = predictiveSpecFor(hpa, policy, ns);
    if (predictive) {
      const result = await syncPredictive(this.predictiveHost(ent), { entry: ent, hpa, spec: predictive, scale, pods: podInfos, mapping, namespace: ns, active, now });
      if (active && ent.lastScaleWrite === undefined) ent.lastScaleWrite = { replicas: scale.specReplicas, at: now };
      if (ent.last) this.m.desired.set(labels, ent.last.desiredReplicas);
      this.m.syncs.inc({ ...labels, mode, result });
      return;
    }
    closePredictive(ent);
    const autoscaler = this.autoscalerFor(ent, hpa, selecting.length > 1 ? { ...policy, selectingHpas: selecting } : policy, active, now);
    ent.port.begin({ now, namespace: ns, scale, pods: podInfos, mapping });
    const record = (await autoscaler.sync(now)) as HpaDecisionRecord | null;
    if (!record) return;
    ent.last = record;
    ent.lastError = undefined;
    this.m.desired.set(labels, record.desiredReplicas);
    for (const r of ent.port.records) this.appendRecord(r as HpaDecisionRecord);

    if (!active) {
      await this.shadow(hpa, ent, record);
      this.m.syncs.inc({ ...labels, mode, result: 'shadow' });
      return;
    }

    // 5. what kube-controller-manager writes at the end of a reconcile: events, then the status
    const rescaled = ent.port.rescaledTo !== undefined;
    if (rescaled) {
      ent.lastScaleWrite = { replicas: record.desiredReplicas, at: now };
      this.m.rescales.inc(labels);
      this.log('info', `rescaled ${record.currentReplicas} -> ${record.desiredReplicas}: ${record.explanation}`, { hpa: key, from: record.currentReplicas, to: record.desiredReplicas });
    } else if (ent.lastScaleWrite === undefined) {
      // adopt the current count as "ours" so that a later foreign change is noticed
      ent.lastScaleWrite = { replicas: scale.specReplicas, at: now };
    }
    if (record.rescale && !rescaled) {
      const err = ent.port.events.find((e) => e.reason === 'FailedRescale')?.message.replace(/^.*; error: /, '') ?? 'unknown error';
      await this.emit(hpa, { type: 'Warning', reason: 'FailedRescale', message: `New size: ${record.desiredReplicas}; reason: ${record.details.rescaleReason}; error: ${err}` });
      let status = statusFromRecord(hpa, record, false);
      status = setCondition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${err}` }, new Date(now));
      await this.writeStatusLogged(hpa, ent, status);
      this.m.syncs.inc({ ...labels, mode, result: 'failed-rescale' });
      this.log('warn', `rescale failed: ${err}`, { hpa: key });
      return;
    }
    for (const e of record.events) await this.emit(hpa, e);
    for (const e of ent.port.events) if (e.reason !== 'FailedRescale') await this.emit(hpa, e);
    await this.saveMemory(ent, now);
    await this.writeStatusLogged(hpa, ent, statusFromRecord(hpa, record, rescaled));
    this.m.syncs.inc({ ...labels, mode, result: rescaled ? 'rescaled' : 'ok' });
  }

  /** The controller's writers, lent to the predictive path (same status, events, records and shadow bookkeeping). */
  private predictiveHost(ent: HpaEntry): PredictiveHost {
    const labels = { namespace: ent.namespace, hpa: ent.name };
    const hpa = `${ent.namespace}/${ent.name}`;
    return {
      emit: (h, e) => this.emit(h, e),
      writeStatus: (h, st) => this.writeStatusLogged(h, ent, st),
      appendRecord: (r) => this.appendRecord(r as HpaDecisionRecord),
      shadow: (h, r) => this.shadow(h, ent, r as unknown as HpaDecisionRecord),
      rescaled: (r) => {
        ent.lastScaleWrite = { replicas: r.desiredReplicas, at: Date.now() };
        this.m.rescales.inc(labels);
        this.log('info', `rescaled ${r.currentReplicas} -> ${r.desiredReplicas}: ${r.explanation}`, { hpa, from: r.currentReplicas, to: r.desiredReplicas });
      },
      log: (level, msg) => this.log(level, msg, { hpa }),
    };
  }

  /** The entry's autoscaler, (re)built from the factory when the spec or the mode changed; its memory carries over. */
  private autoscalerFor(ent: HpaEntry, hpa: HpaObject, policy: HpaPolicy, active: boolean, now: number): Autoscaler {
    const gen = hpa.metadata?.generation ?? 0;
    const selecting = (policy.selectingHpas ?? []).join(' ');
    if (ent.autoscaler && ent.autoscalerGeneration === gen && ent.autoscalerActive === active && ent.autoscalerSelecting === selecting) return ent.autoscaler;
    const spec: AutoscalerSpec = {
      kind: 'hpa',
      name: ent.name,
      namespace: ent.namespace,
      target: { ...policy.scaleTargetRef, namespace: ent.namespace },
      policy: { ...policy, namespace: ent.namespace },
      ...(hpa.metadata?.annotations ? { annotations: hpa.metadata.annotations } : {}),
    };
    const a = createAutoscaler(spec, ent.port, { syncPeriodMs: this.opts.syncPeriodMs, dryRun: !active, ...(this.opts.hpaConfig ? { config: this.opts.hpaConfig as Record<string, unknown> } : {}) });
    if (ent.autoscaler) {
      a.restore(ent.autoscaler.snapshot());
      ent.autoscaler.close();
    } else {
      // a fresh controller: keep the conditions' transition times and lastScaleTime the status already has
      // an active HPA resumes from the memory the previous leader (or process) left on the cluster
      const mem = active && this.opts.persistMemory !== false ? memoryOf(hpa, now, this.opts.leader?.previousHolderActiveUntil?.()) : undefined;
      const state = mem && 'state' in mem ? mem.state : emptyHpaState();
      if (mem && 'state' in mem) {
        ent.memoryKey = mem.key;
        this.log('info', 'memory restored from the tide.dev/memory annotation', { hpa: `${ent.namespace}/${ent.name}`, recommendations: state.recommendations.length, scaleUpEvents: state.scaleUpEvents.length, scaleDownEvents: state.scaleDownEvents.length, writtenAt: new Date(mem.memory.t).toISOString() });
      } else if (mem && mem.why !== 'no memory') this.log('warn', `memory not restored: ${mem.why}`, { hpa: `${ent.namespace}/${ent.name}` });
      const conds = conditionsFromK8s(hpa.status);
      if (conds) state.conditions = conds;
      const lst = hpa.status?.lastScaleTime ? new Date(hpa.status.lastScaleTime as unknown as string).getTime() : undefined;
      if (lst !== undefined) state.lastScaleTime = lst;
      a.restore({ v: 1, kind: 'hpa', name: ent.name, at: now, state, ...(lst !== undefined ? { lastScaleTime: lst } : {}) });
    }
    ent.autoscaler = a;
    ent.autoscalerGeneration = gen;
    ent.autoscalerActive = active;
    ent.autoscalerSelecting = selecting;
    return a;
  }

  /** Persist an active HPA's memory when it changed in a way a later decision depends on (leader only). */
  private async saveMemory(ent: HpaEntry, now: number): Promise<void> {
    if (this.opts.persistMemory === false || !ent.autoscaler || !ent.autoscalerActive || !this.canActuate()) return;
    try {
      const state = ent.autoscaler.snapshot().state as import('../../deciders/hpa/types.ts').HpaState;
      const r = await saveMemoryIfChanged(this.apis, 'hpa', ent, state, now, this.fieldManager, ent.memoryKey);
      if (typeof r === 'object') { ent.memoryKey = r.key; this.m.memoryWrites.inc({ namespace: ent.namespace, hpa: ent.name }); }
    } catch (e) {
      this.log('warn', `cannot write the HPA's memory: ${apiMessage(e)}`, { hpa: `${ent.namespace}/${ent.name}` });
    }
  }

  private async writeStatusLogged(hpa: HpaObject, ent: HpaEntry, status: HpaStatus): Promise<void> {
    if (!this.canActuate()) return;
    try {
      const r = await writeStatus(this.apis, hpa, status, this.fieldManager);
      if (r === 'written') ent.lastStatusWriteAt = Date.now();
      if (r === 'gone') this.log('info', 'HPA deleted while syncing; status not written', { hpa: `${ent.namespace}/${ent.name}` });
    } catch (e) {
      this.log('warn', `cannot write HPA status: ${apiMessage(e)}`, { hpa: `${ent.namespace}/${ent.name}` });
    }
  }

  /** Another controller at work on this object? (a description, or undefined) */
  private async otherWriter(hpa: HpaObject, ent: HpaEntry, scale: ScaleInfo, ref: { apiVersion?: string; kind: string; name: string }): Promise<string | undefined> {
    // the HPA status: another manager wrote it within one sync period before Tide began acting, or at
    // any time since. Not "after Tide's last write": managedFields times have one-second resolution, and
    // two controllers that compute the same status stop writing once one of them has, so the other's
    // first write (an HPA controller writes a new HPA's status at once) may be the only one there is.
    // A controller switched off more than a sync period before Tide took over is not flagged.
    const since = (ent.activeSince ?? Date.now()) - this.opts.syncPeriodMs;
    for (const mf of hpa.metadata?.managedFields ?? []) {
      if (mf.subresource !== 'status' || mf.manager === this.fieldManager) continue;
      const t = mf.time ? new Date(mf.time as unknown as string).getTime() : 0;
      if (t >= since) return `${mf.manager} also writes the status of HorizontalPodAutoscaler ${ent.namespace}/${ent.name}`;
    }
    // the target's replicas: changed since Tide set them
    const w = ent.lastScaleWrite;
    if (w && scale.specReplicas !== w.replicas) {
      let who = 'another writer';
      try {
        this.count('get target');
        const obj = await this.apis.custom.getNamespacedCustomObject({ group: scale.group, version: scale.version, namespace: ent.namespace, plural: scale.plural, name: ref.name }) as { metadata?: { managedFields?: k8s.V1ManagedFieldsEntry[] } };
        const owners = (obj.metadata?.managedFields ?? []).filter((mf) => mf.manager !== this.fieldManager && JSON.stringify(mf.fieldsV1 ?? {}).includes('"f:replicas"') && JSON.stringify(mf.fieldsV1 ?? {}).includes('"f:spec"'));
        if (owners.length) who = owners.map((o) => `${o.manager}${o.subresource ? ` (${o.subresource})` : ''}`).join(', ');
      } catch { /* keep the generic name */ }
      return `${who} changed ${ref.kind}/${ref.name} replicas from ${w.replicas} to ${scale.specReplicas}`;
    }
    return undefined;
  }

  private async shadow(hpa: HpaObject, ent: HpaEntry, record: HpaDecisionRecord): Promise<void> {
    const upstream = hpa.status?.desiredReplicas;
    const labels = { namespace: ent.namespace, hpa: ent.name };
    const hasUpstream = upstream !== undefined && (hpa.status?.conditions?.length ?? 0) > 0;
    const agree = hasUpstream && upstream === record.desiredReplicas;
    ent.shadow = { tide: record.desiredReplicas, upstream: hasUpstream ? upstream : undefined, agree, at: record.time };
    if (hasUpstream) {
      this.m.upstreamDesired.set(labels, upstream!);
      this.m.agreement.inc({ ...labels, result: agree ? 'agree' : 'disagree' });
      if (agree) ent.agreements++; else ent.disagreements++;
    }
    if (ent.lastPublished !== record.desiredReplicas) {
      ent.lastPublished = record.desiredReplicas;
      await this.emit(hpa, {
        type: 'Normal',
        reason: 'TideRecommendation',
        message: `Tide (shadow) recommends ${record.desiredReplicas} replicas${hasUpstream ? `; upstream desired ${upstream}` : ''}: ${record.explanation}`,
      });
    }
  }

  private appendRecord(record: HpaDecisionRecord): void {
    this.decisions?.append(record);
  }

  /** JSON view for /api/hpas (tests, `tide describe` against a cluster). */
  snapshot(): Record<string, unknown>[] {
    return [...this.entries.values()].map((e) => ({
      namespace: e.namespace,
      name: e.name,
      mode: e.mode,
      halted: e.halted ?? null,
      conflict: e.conflict ?? null,
      invalid: e.invalid ?? null,
      lastError: e.lastError ?? null,
      syncs: e.syncs,
      shadow: e.shadow ?? null,
      agreements: e.agreements,
      disagreements: e.disagreements,
      last: e.last ? {
        time: e.last.time,
        currentReplicas: e.last.currentReplicas,
        desiredReplicas: e.last.desiredReplicas,
        rescale: e.last.rescale,
        explanation: e.last.explanation,
        limitedBy: e.last.limitedBy,
        proposals: e.last.proposals,
        conditions: e.last.conditions,
      } : null,
    }));
  }

  /** Leader election as this replica sees it (null without leader election). */
  leaderView(): { identity: string; leading: boolean; leader: string } | null {
    const l = this.opts.leader;
    return l ? { identity: l.identity, leading: l.isLeader(), leader: l.leader } : null;
  }

  private listen(port: number, host: string): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => { res.writeHead(code, { 'Content-Type': type }); res.end(body); };
      if (url.pathname === '/healthz' || url.pathname === '/livez') return send(200, 'ok\n');
      if (url.pathname === '/readyz') return this.ready() ? send(200, 'ok\n') : send(503, `not ready: hpa informer ${this.hpas.healthy ? 'ok' : this.hpas.lastError ?? 'syncing'}, pods informer ${this.pods.healthy ? 'ok' : this.pods.lastError ?? 'syncing'}\n`);
      if (url.pathname === '/metrics') {
        this.updateGauges();
        void this.registry.metrics().then((t) => send(200, t, this.registry.contentType), (e) => send(500, String(e)));
        return;
      }
      if (url.pathname === '/api/scaledobjects') return send(200, JSON.stringify(this.keda?.snapshot() ?? { watching: false, scaledObjects: [] }), 'application/json');
      if (url.pathname === '/api/hpas') return send(200, JSON.stringify({ rounds: this.rounds, ready: this.ready(), leader: this.leaderView(), hpas: this.snapshot(), requests: Object.fromEntries(this.apis.requests), informers: { hpa: { lists: this.hpas.lists, restarts: this.hpas.restarts, healthy: this.hpas.healthy }, pods: { lists: this.pods.lists, restarts: this.pods.restarts, healthy: this.pods.healthy }, ...Object.fromEntries(Object.entries(this.targets).map(([k, w]) => [k, { lists: w.lists, restarts: w.restarts, healthy: w.healthy }])) } }), 'application/json');
      send(404, 'not found\n');
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
  }
}

export { sleep, apiCode };
