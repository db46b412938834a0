// Turns manifest files into what the local runtime runs: Deployments, Services and autoscalers.
// Parsing/validation/normalization belongs to src/spec (loadManifests); this module links the
// objects (HPA → Deployment, Service → Deployment by selector) and adapts them to local types.
import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import { UserError } from '../../core/errors.ts';
import { formatDiagnostic } from '../../manifests/diagnostics.ts';
import { loadManifests, type ManifestDoc } from '../../manifests/load.ts';
import type { NormalizedDeployment } from '../../manifests/types.ts';
import type { HpaPolicy, HpaScalingRules, MetricSpec, MetricTarget } from '../../deciders/hpa/types.ts';
import { isKnativeObject, knativeAutoscaler } from '../../manifests/knative.ts';
import type { KnativeNormalized } from '../../manifests/dialects/knative-workload.ts';
import { formatPath } from '../../manifests/diagnostics.ts';
import { predictivePolicyForDoc } from '../../policies/from-manifest.ts';
import { overLimit, type ReplicaLimits } from './limits.ts';
import { deploymentFromNormalized, deploymentFromObject, quantityToMilli, selectorMatches, serviceFromNormalized, serviceFromObject, type LocalDeployment, type LocalService } from './workload.ts';

/** A Knative Service / InferenceService as the runtime runs it: Deployment + Service + autoscaler. */
export interface KnativeLocal {
  deployment: LocalDeployment;
  service: LocalService;
  autoscaler: AutoscalerItem;
  warnings: string[];
  normalized: KnativeNormalized;
}

/** From a document loadManifests already validated and normalized (undefined for other kinds). */
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
  const a = knativeAutoscaler(n);
  return { deployment, service, autoscaler: { ...a, target: deployment.name, source: { file: doc.file, line: doc.line } }, warnings: [], normalized: n };
}

export interface AutoscalerItem {
  kind: string;            // driver kind: 'hpa' | 'kpa' | 'keda' | 'tide'
  name: string;
  /** Deployment name it scales. */
  target: string;
  /** Decider policy (HpaPolicy for 'hpa'). */
  policy: unknown;
  source?: { file?: string; line?: number };
}

export interface LocalBundle {
  deployments: LocalDeployment[];
  services: LocalService[];
  autoscalers: AutoscalerItem[];
  /** Objects Tide does not run locally (kind → names), and other notes for the user. */
  warnings: string[];
}

interface RawDoc { obj: Record<string, any>; file: string; line: number }

/** Read YAML documents with their file:line, failing with file:line:col on syntax errors. */
export function readDocs(files: string[]): RawDoc[] {
  const out: RawDoc[] = [];
  for (const file of files) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch (e) { throw new UserError(`${file}: cannot read: ${(e as Error).message}`); }
    const lc = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
    if (!Array.isArray(docs)) continue;
    for (const d of docs) {
      if (d.errors.length) {
        const e = d.errors[0];
        const pos = lc.linePos(e.pos[0]);
        throw new UserError(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
      }
      const obj = d.toJS();
      if (obj == null) continue;
      const line = lc.linePos(d.range[0]).line;
      if (typeof obj !== 'object' || Array.isArray(obj)) throw new UserError(`${file}:${line}:1: a manifest document must be a mapping (an object with apiVersion and kind)`);
      if (obj.kind === 'List' && Array.isArray(obj.items)) for (const it of obj.items) out.push({ obj: it, file, line });
      else out.push({ obj, file, line });
    }
  }
  return out;
}

function need(doc: RawDoc, path: string, ok: boolean, what: string): void {
  if (!ok) throw new UserError(`${doc.file}:${doc.line}:1: ${doc.obj.kind ?? 'object'} ${doc.obj.metadata?.name ?? ''}: ${path}: ${what}`.replace(/ {2}/, ' '));
}

function target(t: Record<string, any> = {}): MetricTarget {
  const out: MetricTarget = { type: t.type };
  if (t.averageUtilization !== undefined) out.averageUtilization = Number(t.averageUtilization);
  if (t.averageValue !== undefined) out.averageValue = quantityToMilli(t.averageValue);
  if (t.value !== undefined) out.value = quantityToMilli(t.value);
  return out;
}

const DEFAULT_UP: HpaScalingRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
const DEFAULT_DOWN: HpaScalingRules = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function rules(r: Record<string, any> | undefined, d: HpaScalingRules): HpaScalingRules {
  if (!r) return d;
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r.selectPolicy ?? 'Max',
    policies: r.policies ?? d.policies,
    ...(r.tolerance !== undefined ? { tolerance: Number(r.tolerance) } : {}),
  };
}

/** Minimal HPA normalization used when src/spec is not available (v1 and v2). */
export function hpaFromObject(obj: Record<string, any>, file?: string): HpaPolicy {
  const spec = obj.spec ?? {};
  const v1 = String(obj.apiVersion).endsWith('/v1');
  let metrics: MetricSpec[];
  if (v1) {
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage ?? 80 } } }];
  } else {
    metrics = (spec.metrics ?? []).map((m: Record<string, any>): MetricSpec => {
      switch (m.type) {
        case 'Resource': return { type: 'Resource', resource: { name: m.resource.name, target: target(m.resource.target) } };
        case 'ContainerResource': return { type: 'ContainerResource', containerResource: { name: m.containerResource.name, container: m.containerResource.container, target: target(m.containerResource.target) } };
        case 'Pods': return { type: 'Pods', pods: { metric: m.pods.metric, target: target(m.pods.target) } };
        case 'Object': return { type: 'Object', object: { describedObject: m.object.describedObject, metric: m.object.metric, target: target(m.object.target) } };
        default: return { type: 'External', external: { metric: m.external.metric, target: target(m.external.target) } };
      }
    });
    if (!metrics.length) metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  const b = spec.behavior;
  return {
    name: String(obj.metadata?.name),
    namespace: obj.metadata?.namespace,
    scaleTargetRef: spec.scaleTargetRef,
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas,
    metrics,
    behavior: !v1 && b ? { scaleUp: rules(b.scaleUp, DEFAULT_UP), scaleDown: rules(b.scaleDown, DEFAULT_DOWN) } : undefined,
    source: { file, apiVersion: String(obj.apiVersion) },
  };
}

/** Hook for the spec loader: when set, used to validate + normalize before linking. */
export type DocValidator = (docs: RawDoc[]) => void;

export function loadBundle(files: string[], opts: { limits?: ReplicaLimits; featureGates?: Record<string, boolean> } = {}): LocalBundle {
  // Validation, defaults and positions come from src/spec; ManifestError reads file:line:col: path: problem.
  // dangling scaleTargetRefs are reported by scaleTargetOf below (autoscalers without one, e.g.
  // Knative/KServe objects, carry their own workload)
  // runnable: an image without a local command is an error naming the tide-local.yaml to write
  const m = loadManifests(files, { runnable: true, ...(opts.featureGates ? { featureGates: opts.featureGates } : {}) });
  const deployments: LocalDeployment[] = [];
  const services: LocalService[] = [];
  const autoscalers: AutoscalerItem[] = [];
  const warnings: string[] = m.warnings.map((w) => formatDiagnostic(w));
  const at = (d: ManifestDoc) => `${d.file}:${d.line}:${d.col}`;
  let totalReplicas = 0;
  for (const w of m.workloads) {
    if (isKnativeObject(w.object)) continue; // below, with its autoscaler
    const n = w.normalized as NormalizedDeployment;
    if (!Array.isArray(n?.containers) || !n.podLabels) { warnings.push(`${at(w)}: ${w.kind} ${w.name} is not run by the local runtime (ignored)`); continue; }
    if (opts.limits) {
      // the replica cap (limits.ts): refuse before a single process is started
      const replicas = Number((w.object as { spec?: { replicas?: unknown } })?.spec?.replicas ?? 1);
      const why = Number.isFinite(replicas) ? overLimit(opts.limits, replicas, totalReplicas) : undefined;
      if (why) {
        const pos = w.source.locate(['spec', 'replicas']);
        throw new UserError(`${w.file}:${pos.line}:${pos.col}: spec.replicas: ${why}`);
      }
      totalReplicas += Number.isFinite(replicas) ? replicas : 0;
    }
    try { deployments.push(deploymentFromNormalized({ ...n, name: w.name }, w.file, w.line)); } catch (e) {
      throw new UserError(`${at(w)}: spec.template.spec.containers[0]: ${(e as Error).message}`);
    }
  }
  for (const s of m.services) {
    if (!s.normalized.ports.length) { warnings.push(`${at(s)}: Service ${s.name} has no ports (ignored)`); continue; }
    services.push(serviceFromNormalized(s.normalized, s.file, s.line));
  }
  // Knative Service / KServe InferenceService: one document = Deployment + Service + autoscaler.
  for (const a of m.autoscalers) {
    if (a.dialect.scaleTarget) continue;
    const k = knativeLocalFromDoc(a);
    if (!k) continue;
    deployments.push(k.deployment); services.push(k.service); autoscalers.push(tideOr(a, k.autoscaler, k.deployment)); warnings.push(...k.warnings);
  }
  for (const a of m.autoscalers) {
    if (!a.dialect.scaleTarget && isKnativeObject(a.object)) continue;
    const kind = a.dialect.decider;
    if (!kind) { warnings.push(`${at(a)}: ${a.kind} ${a.name} has no decider (ignored)`); continue; }
    const target = m.scaleTargetOf(a);
    autoscalers.push(tideOr(a, { kind, name: a.name, target: target.name, policy: a.normalized, source: { file: a.file, line: a.line } }, deployments.find((d) => d.name === target.name)));
    const max = Number((a.normalized as { maxReplicas?: unknown; maxReplicaCount?: unknown })?.maxReplicas ?? (a.normalized as { maxReplicaCount?: unknown })?.maxReplicaCount);
    if (opts.limits && Number.isFinite(max) && max > opts.limits.perDeployment) {
      warnings.push(`${at(a)}: ${a.kind} ${a.name}: its maximum of ${max} replicas is above the cap of ${opts.limits.perDeployment} per Deployment; Tide will not scale ${target.name} beyond ${opts.limits.perDeployment} (${opts.limits.basis})`);
    }
  }
  for (const d of m.documents) {
    if (d.dialect.role === 'other') warnings.push(`${at(d)}: ${d.kind} ${d.name} is not run by the local runtime (ignored)`);
  }
  // an env var the manifest checks already warned about (file:line:col: … valueFrom … NAME …) is not repeated
  for (const d of deployments) for (const [k, why] of Object.entries(d.container.unresolvedEnv)) {
    if (!warnings.some((w) => w.includes('valueFrom') && w.includes(` ${k} `))) warnings.push(`Deployment ${d.name}: env ${k}: ${why}`);
  }
  for (const d of deployments) if (d.ignoredContainers.length) warnings.push(`Deployment ${d.name}: only the first container runs locally; ignored: ${d.ignoredContainers.join(', ')}`);
  return { deployments, services, autoscalers, warnings };
}

/** The line `tide up` prints for a bundle warning: "warning: …" once, also for diagnostics that carry their own "file:line:col: warning:". */
export function warningLine(w: string): string {
  return /^(\S+:\d+:\d+: )?warning: /.test(w) ? w : `warning: ${w}`;
}

/**
 * An autoscaler annotated `tide.dev/policy: predictive` is driven by Tide's predictive policy (driver
 * 'tide', policy = PredictivePolicy) instead of its native decider; the decision is the simulator's
 * (predictivePolicyForDoc), so `tide up` and `tide simulate` run the same policy from the same manifest.
 */
function tideOr(doc: ManifestDoc, item: AutoscalerItem, dep: LocalDeployment | undefined): AutoscalerItem {
  const policy = predictivePolicyForDoc(doc, { target: `Deployment/${item.target}`, ...(dep?.containerConcurrency ? { defaultSlots: dep.containerConcurrency } : {}) });
  return policy ? { ...item, kind: 'tide', policy } : item;
}

/** The same, straight from YAML without src/spec's validation (kept for callers holding raw objects). */
export function loadBundleRaw(files: string[]): LocalBundle {
  const docs = readDocs(files);
  const deployments: LocalDeployment[] = [];
  const services: LocalService[] = [];
  const autoscalers: AutoscalerItem[] = [];
  const warnings: string[] = [];
  for (const d of docs) {
    const { obj } = d;
    need(d, 'kind', typeof obj.kind === 'string', 'required (Deployment, Service, HorizontalPodAutoscaler)');
    need(d, 'metadata.name', typeof obj.metadata?.name === 'string' && obj.metadata.name.length > 0, 'required');
    try {
      switch (obj.kind) {
        case 'Deployment':
          need(d, 'spec.template.spec.containers', Array.isArray(obj.spec?.template?.spec?.containers) && obj.spec.template.spec.containers.length > 0, 'required (at least one container)');
          deployments.push(deploymentFromObject(obj, d.file, d.line));
          break;
        case 'Service':
          need(d, 'spec.ports', Array.isArray(obj.spec?.ports) && obj.spec.ports.length > 0 && Number.isInteger(Number(obj.spec.ports[0].port)), 'required (at least one port with a numeric port)');
          services.push(serviceFromObject(obj, d.file, d.line));
          break;
        case 'HorizontalPodAutoscaler': {
          need(d, 'spec.scaleTargetRef', obj.spec?.scaleTargetRef?.kind === 'Deployment' && typeof obj.spec.scaleTargetRef.name === 'string', 'required, kind Deployment with a name (the local runtime scales Deployments)');
          need(d, 'spec.maxReplicas', Number.isInteger(obj.spec?.maxReplicas) && obj.spec.maxReplicas >= 1, 'required, an integer >= 1');
          const policy = hpaFromObject(obj, d.file);
          autoscalers.push({ kind: 'hpa', name: policy.name, target: policy.scaleTargetRef.name, policy, source: { file: d.file, line: d.line } });
          break;
        }
        default:
          warnings.push(`${d.file}:${d.line}: ${obj.kind} ${obj.metadata.name} is not run by the local runtime (ignored)`);
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${d.file}:${d.line}:1: ${obj.kind} ${obj.metadata?.name}: ${(e as Error).message}`);
    }
  }
  for (const a of autoscalers) {
    if (!deployments.some((x) => x.name === a.target)) {
      throw new UserError(`${a.source?.file}:${a.source?.line}:1: ${a.kind === 'hpa' ? 'HorizontalPodAutoscaler' : a.kind} ${a.name}: spec.scaleTargetRef: Deployment ${JSON.stringify(a.target)} is not in the given files (have: ${deployments.map((x) => x.name).join(', ') || 'none'})`);
    }
  }
  for (const d of deployments) for (const [k, why] of Object.entries(d.container.unresolvedEnv)) warnings.push(`Deployment ${d.name}: env ${k}: ${why}`);
  for (const d of deployments) if (d.ignoredContainers.length) warnings.push(`Deployment ${d.name}: only the first container runs locally; ignored: ${d.ignoredContainers.join(', ')}`);
  return { deployments, services, autoscalers, warnings };
}

/** The Deployment a Service routes to (selector ⊆ pod labels). */
export function serviceTarget(svc: LocalService, deployments: LocalDeployment[]): LocalDeployment | undefined {
  return deployments.find((d) => selectorMatches(svc.selector, d.labels));
}
