// The KPA driver of the local runtime (Knative Service / KServe InferenceService). Like Knative's
// autoscaler: the proxy (Tide's activator, always in front locally) is sampled into per-second
// concurrency/RPS stats, the pure KPA decider ticks every 2 s and at once on a cold request (poke),
// and its decision is actuated, including scale to zero. One place counts in-flight requests: the
// proxy's inFlight + queued (held) counters, so nothing is counted twice.
//
// Also here: knativeToLocal(), which turns a Knative/KServe manifest object into the Deployment,
// Service and autoscaler the runtime runs (validated by the src/spec dialects, positions kept).
import { readFileSync } from 'node:fs';
import type { DecisionRecord } from '../../../core/decision.ts';
import { decideKpa } from '../../../deciders/kpa/decide.ts';
import { kpaConfigFromMap, TICK_INTERVAL_MS } from '../../../deciders/kpa/config.ts';
import { makeKpaPolicy, type KpaRevisionInput } from '../../../deciders/kpa/policy.ts';
import type { KpaDecisionRecord, KpaPolicy, KpaSample, KpaState } from '../../../deciders/kpa/types.ts';
import { UserError } from '../../../core/errors.ts';
import { ManifestError, type Diagnostic, formatPath } from '../../../manifests/diagnostics.ts';
import { zodIssuesToDiagnostics } from '../../../manifests/load.ts';
import { parseYamlSource } from '../../../manifests/yaml.ts';
import type { Dialect, DialectIssue } from '../../../manifests/dialects/types.ts';
import type { KnativeNormalized } from '../../../manifests/dialects/knative-workload.ts';
import { knativeServiceDialect } from '../../../manifests/dialects/knative-service.ts';
import { inferenceServiceDialect } from '../../../manifests/dialects/kserve-inferenceservice.ts';
import type { AutoscalerItem } from '../bundle.ts';
import { deploymentFromNormalized, deploymentFromObject, serviceFromNormalized, serviceFromObject, type LocalDeployment, type LocalService } from '../workload.ts';
import type { ManifestDoc } from '../../../manifests/load.ts';
import type { AutoscalerDriver, AutoscalerStatus, DriverContext, DriverOptions } from './types.ts';
import { autoscalerStatus } from './status.ts';

/** What a 'kpa' AutoscalerItem carries as its policy. */
export interface KpaItemPolicy {
  kpa: KpaPolicy;
  /** The revision inputs, to re-resolve the policy with config-autoscaler overrides. */
  revision: KpaRevisionInput;
  containerConcurrency: number;
  timeoutSeconds: number;
}

// ---- manifests → local objects -------------------------------------------------------------------

export function isKnativeObject(obj: Record<string, unknown>): boolean {
  return (obj.apiVersion === 'serving.knative.dev/v1' && obj.kind === 'Service')
    || (obj.apiVersion === 'serving.kserve.io/v1beta1' && obj.kind === 'InferenceService');
}

export interface KnativeLocal {
  deployment: LocalDeployment;
  service: LocalService;
  autoscaler: AutoscalerItem;
  warnings: string[];
  normalized: KnativeNormalized;
}

/**
 * Validate and normalize one Knative Service / InferenceService found in `file` (by kind and name),
 * with file:line:col errors, then build the runtime's Deployment + Service + autoscaler for it.
 */
export function knativeToLocal(obj: Record<string, any>, file: string, line: number): KnativeLocal {
  const dialect = (obj.kind === 'InferenceService' ? inferenceServiceDialect : knativeServiceDialect) as Dialect;
  let text: string | undefined;
  try { text = readFileSync(file, 'utf8'); } catch { text = undefined; }
  const parsed = text !== undefined ? parseYamlSource(file, text) : undefined;
  const src = parsed?.docs.find((d) => {
    const v = d.value as Record<string, any> | null;
    return v && v.kind === obj.kind && v.apiVersion === obj.apiVersion && v.metadata?.name === obj.metadata?.name;
  });
  const diags: Diagnostic[] = [];
  const at = (path: (string | number)[], key?: boolean) => src ? src.locate(path, { key }) : { line, col: 1 };
  const report = (i: DialectIssue) => {
    const p = at(i.path, i.atKey);
    diags.push({ severity: i.severity ?? 'error', file, line: p.line, col: p.col, path: formatPath(i.path), message: i.message, ...(i.allowed ? { allowed: i.allowed } : {}) });
  };
  const r = dialect.schema.safeParse(obj);
  if (!r.success) {
    if (src) throw new ManifestError(zodIssuesToDiagnostics(src, r.error.issues));
    throw new UserError(`${file}:${line}:1: ${obj.kind} ${obj.metadata?.name}: ${r.error.issues.map((i) => `${formatPath(i.path as PropertyKey[])}: ${i.message}`).join('; ')}`);
  }
  const ctx = { file, apiVersion: String(obj.apiVersion), env: process.env, report };
  dialect.validate?.(r.data, ctx);
  if (diags.some((d) => d.severity === 'error')) throw new ManifestError(diags);
  const n = dialect.normalize!(r.data, ctx) as KnativeNormalized;
  const warnings = diags.filter((d) => d.severity === 'warning').map((d) => `${d.file}:${d.line}:${d.col}: ${d.path ? `${d.path}: ` : ''}${d.message}${d.allowed ? ` (${d.allowed})` : ''}`);
  if (n.notRunnable) throw new UserError(`${file}:${line}:1: ${obj.kind} ${n.name}: ${n.notRunnable}`);
  const deployment = deploymentFromObject(n.objects.deployment as Record<string, any>, file, line);
  const service = serviceFromObject(n.objects.service as Record<string, any>, file, line);
  const autoscaler = autoscalerItem(n, deployment, { file, line });
  if (n.timeoutSeconds !== 300) warnings.push(`${file}:${line}: ${obj.kind} ${n.name}: timeoutSeconds ${n.timeoutSeconds} is not applied per service locally (use tide up's request timeout)`);
  return { deployment, service, autoscaler, warnings, normalized: n };
}

/** Same, from a document src/spec already validated and normalized (loadManifests). */
export function knativeLocalFromDoc(doc: ManifestDoc): KnativeLocal | undefined {
  if (!isKnativeObject(doc.object as Record<string, unknown>)) return undefined;
  const n = doc.normalized as KnativeNormalized;
  const where = `${doc.file}:${doc.line}:${doc.col}`;
  if (n.notRunnable) throw new UserError(`${where}: ${doc.kind} ${n.name}: ${n.notRunnable}`);
  let deployment: LocalDeployment;
  try { deployment = deploymentFromNormalized(n.deployment, doc.file, doc.line); } catch (e) {
    const path = doc.kind === 'InferenceService' ? ['spec', 'predictor', 'containers', 0] : ['spec', 'template', 'spec', 'containers', 0];
    const pos = doc.source.locate(path);
    throw new UserError(`${doc.file}:${pos.line}:${pos.col}: ${formatPath(path)}: ${(e as Error).message}`);
  }
  const service = serviceFromNormalized(n.service, doc.file, doc.line);
  return { deployment, service, autoscaler: autoscalerItem(n, deployment, { file: doc.file, line: doc.line }), warnings: [], normalized: n };
}

function autoscalerItem(n: KnativeNormalized, deployment: LocalDeployment, source: { file: string; line: number }): AutoscalerItem {
  if (n.autoscaler.decider === 'kpa') {
    const policy: KpaItemPolicy = { kpa: n.autoscaler.policy, revision: n.autoscaler.revision, containerConcurrency: n.containerConcurrency, timeoutSeconds: n.timeoutSeconds };
    return { kind: 'kpa', name: n.name, target: deployment.name, policy, source };
  }
  return { kind: 'hpa', name: n.autoscaler.policy.name, target: deployment.name, policy: n.autoscaler.policy, source };
}

// ---- the driver ----------------------------------------------------------------------------------

/** Unchanged decisions are still logged this often (decisions.jsonl). */
export const RECORD_HEARTBEAT_MS = 30_000;

/** How often the proxy's in-flight count is sampled to build the per-second time-weighted average. */
export const SAMPLE_PERIOD_MS = 100;

/**
 * Turns proxy snapshots into per-second KPA samples: time-weighted average of in-flight + held
 * requests and the arrivals of that second. Pure bookkeeping (the driver feeds it), testable alone.
 */
export class ProxySampler {
  private weighted = 0;
  private elapsed = 0;
  private lastAt: number | null = null;
  private lastLevel = 0;
  private lastTotal: number | null = null;
  /** Set after an immediate cold-request stat: the next second's report gives that "1" back. */
  private firstAdj = 0;
  readonly pending: KpaSample[] = [];

  /** Record a snapshot (level = in-flight + queued, total = arrivals counter). */
  observe(now: number, level: number, total: number): void {
    if (this.lastAt !== null && now > this.lastAt) {
      const dt = now - this.lastAt;
      this.weighted += this.lastLevel * dt;
      this.elapsed += dt;
    }
    this.lastAt = now;
    this.lastLevel = level;
    if (this.lastTotal === null) this.lastTotal = total;
  }

  /** The activator's immediate stat on the first request of a cold episode (concurrency 1, 1 request). */
  coldRequest(now: number): void {
    this.pending.push({ time: now, concurrency: 1, rps: 1 });
    this.firstAdj = 1;
  }

  /** Close the current second: push its sample when there are ready pods or traffic. */
  report(now: number, total: number, readyPods: number): KpaSample | null {
    this.observe(now, this.lastLevel, total);
    const avg = this.elapsed > 0 ? this.weighted / this.elapsed : this.lastLevel;
    const count = Math.max(0, total - (this.lastTotal ?? total));
    this.weighted = 0; this.elapsed = 0; this.lastTotal = total;
    const concurrency = Math.max(0, avg - this.firstAdj);
    const rps = Math.max(0, count - this.firstAdj);
    this.firstAdj = 0;
    // Scraped pods always report (zeros included); the activator only reports seconds with traffic.
    if (readyPods === 0 && concurrency === 0 && rps === 0) return null;
    const s = { time: now, concurrency: Math.round(concurrency * 1e6) / 1e6, rps };
    this.pending.push(s);
    return s;
  }

  drain(): KpaSample[] {
    return this.pending.splice(0, this.pending.length);
  }
}

function resolvePolicy(p: KpaItemPolicy, overrides: Record<string, unknown>): KpaPolicy {
  const cfgKeys = Object.entries(overrides).filter(([k]) => k !== 'tickIntervalMs' && k !== 'samplePeriodMs');
  if (!cfgKeys.length) return p.kpa;
  const map: Record<string, string> = {};
  for (const [k, v] of cfgKeys) map[k] = String(v);
  return makeKpaPolicy(p.revision, kpaConfigFromMap(map));
}

export function createKpaDriver(item: AutoscalerItem, ctx: DriverContext, opts: DriverOptions): AutoscalerDriver {
  const itemPolicy = item.policy as KpaItemPolicy;
  const policy = resolvePolicy(itemPolicy, opts.overrides);
  const target = item.target;
  const tick = Number(opts.overrides.tickIntervalMs ?? TICK_INTERVAL_MS);
  const samplePeriod = Number(opts.overrides.samplePeriodMs ?? SAMPLE_PERIOD_MS);
  const sampler = new ProxySampler();
  const created = ctx.now();
  let state: KpaState | null = null;
  let last: KpaDecisionRecord | undefined;
  let lastScaleTime: number | undefined;
  let closed = false;
  let lastKey = '';
  let lastRecordedAt = -Infinity;

  const readyPods = () => ctx.pods(target).filter((r) => r.ready).length;
  const snapshot = (now: number) => {
    const st = ctx.proxyStats(target);
    sampler.observe(now, st ? st.inFlight + st.queued : 0, st?.requestsTotal ?? 0);
  };
  const sampleTimer = setInterval(() => snapshot(ctx.now()), samplePeriod);
  sampleTimer.unref?.();
  // One report per second. Each tick re-anchors the reporting phase on itself (closing the second
  // just before deciding, unless a report happened < 0.5 s ago), so the decision always reads a
  // bucket written in its own second — a 1-bucket panic window (window 6-10 s) is never read stale.
  let lastReportAt = -Infinity;
  const reportNow = (now: number) => {
    snapshot(now);
    sampler.report(now, ctx.proxyStats(target)?.requestsTotal ?? 0, readyPods());
    lastReportAt = now;
  };
  let reportTimer: NodeJS.Timeout | undefined;
  const armReports = () => {
    if (reportTimer) clearInterval(reportTimer);
    reportTimer = setInterval(() => reportNow(ctx.now()), 1000);
    reportTimer.unref?.();
  };
  armReports();

  function decide(now: number, poke: boolean): KpaDecisionRecord {
    const { record, state: next } = decideKpa(policy, {
      now,
      readyPods: readyPods(),
      currentReplicas: ctx.specReplicas(target),
      samples: sampler.drain(),
      ...(poke ? { poke: true } : {}),
    }, state);
    state = next;
    last = record;
    if (record.rescale && !ctx.dryRun) {
      ctx.scale(target, record.desiredReplicas);
      lastScaleTime = now;
    }
    // Every tick decides (2 s), but only decisions that say something new are logged: a rescale, an
    // event, a change of outcome/mode, or a heartbeat every 30 s. Each record replays on its own.
    const key = JSON.stringify([record.desiredReplicas, record.details.deciderDesired, record.details.panicking, record.details.activatorInPath, record.conditions[0]?.status, record.limitedBy, record.details.valid]);
    if (record.rescale || record.events.length > 0 || key !== lastKey || now - lastRecordedAt >= RECORD_HEARTBEAT_MS) {
      ctx.record(policy.name, record as DecisionRecord);
      lastKey = key;
      lastRecordedAt = now;
    }
    return record;
  }

  const driver: AutoscalerDriver = {
    kind: 'kpa',
    name: policy.name,
    target,
    syncPeriodMs: tick,
    async sync(now: number) {
      if (closed) return null;
      if (now - lastReportAt >= 500) { reportNow(now); armReports(); }
      return decide(now, false);
    },
    poke() {
      if (closed) return;
      const now = ctx.now();
      snapshot(now);
      sampler.coldRequest(now);
      // Knative's Poke: decide at once only when the revision is (being) scaled to zero.
      if (state === null || state.deciderDesired <= 0) decide(now, true);
    },
    status(): AutoscalerStatus {
      const d = last?.details;
      const cur = d && d.stableAverage !== null ? `${fmt(d.panicking ? d.panicAverage! : d.stableAverage)}${d.panicking ? ' (panic)' : ''}` : '<unknown>';
      return autoscalerStatus(ctx, target, {
        kind: 'kpa',
        name: policy.name,
        reference: policy.target,
        targets: `${cur}/${fmt(policy.targetValue)} ${policy.metric}`,
        minReplicas: policy.minScale,
        maxReplicas: policy.maxScale,
        created,
        ...(lastScaleTime !== undefined ? { lastScaleTime } : {}),
        metricSpecs: [{ name: `${policy.metric} (revision total; stable ${policy.stableWindowSeconds}s, panic ${policy.panicWindowSeconds}s)`, target: `${fmt(policy.targetValue)} per pod` }],
      }, last as DecisionRecord | undefined);
    },
    close() {
      closed = true;
      clearInterval(sampleTimer);
      if (reportTimer) clearInterval(reportTimer);
    },
  };
  return driver;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '').replace(/\.$/, '');
}
