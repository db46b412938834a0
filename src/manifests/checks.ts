// Checks across documents, run on every load: an autoscaler whose target sits in another
// namespace, a Deployment no Service reaches, and HPAs that control the same pods (upstream sets
// ScalingActive=False, AmbiguousSelector on each of them, and none of them scales).
import { formatPath, type Diagnostic } from './diagnostics.ts';
import { selectorMatches } from './k8s/common.ts';
import type { ManifestDoc } from './load.ts';

type Sel = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

function warn(d: ManifestDoc, path: (string | number)[], message: string, allowed?: string): Diagnostic {
  const p = d.source.locate(path);
  return { severity: 'warning', file: d.file, line: p.line, col: p.col, path: formatPath(path), message, ...(allowed ? { allowed } : {}) };
}

const isWorkload = (d: ManifestDoc) => d.dialect.role === 'workload' || (d.dialect.roles ?? []).includes('workload');
const isAutoscaler = (d: ManifestDoc) => d.dialect.role === 'autoscaler' || (d.dialect.roles ?? []).includes('autoscaler');
const ns = (d: { namespace?: string }) => d.namespace ?? '';

/** Label selector in the string form Kubernetes shows (scale.status.selector): "app=web,tier in (a,b)". */
export function formatLabelSelector(sel: Sel | undefined): string {
  if (!sel) return '';
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${vals})` : e.operator === 'NotIn' ? `${e.key} notin (${vals})` : e.operator === 'Exists' ? e.key : `!${e.key}`;
    parts.push({ key: e.key, text });
  }
  return parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((p) => p.text).join(',');
}

/** The HorizontalPodAutoscalers the HPA controller would see: HPAs, and the one KEDA creates per ScaledObject. */
function hpaKey(a: ManifestDoc): string | undefined {
  if (a.kind === 'HorizontalPodAutoscaler') return `${a.namespace ?? 'default'}/${a.name}`;
  if (a.kind === 'ScaledObject') return `${a.namespace ?? 'default'}/keda-hpa-${a.name}`;
  return undefined;
}

function targetOf(a: ManifestDoc, docs: ManifestDoc[]): ManifestDoc | undefined {
  const ref = a.dialect.scaleTarget?.(a.object);
  if (!ref) return undefined;
  return docs.find((w) => isWorkload(w) && w.kind === ref.kind && w.name === ref.name && ns(w) === ns(a))
    ?? docs.find((w) => isWorkload(w) && w.kind === ref.kind && w.name === ref.name && (!w.namespace || !a.namespace));
}

export interface AmbiguousAutoscaler {
  /** The HPA (or ScaledObject) document. */
  doc: ManifestDoc;
  /** Its target's selector, as scale.status.selector shows it. */
  selector: string;
  /** namespace/name of every HPA controlling the same pods (sorted), this one included. */
  selectingHpas: string[];
  /** Upstream's message (ScalingActive=False reason AmbiguousSelector, and the event). */
  message: string;
}

/**
 * HPAs whose target's pods are also selected by another HPA's target selector (upstream
 * validateAndParseSelector + HPAsMatchingPods: pods listed by this HPA's selector, then every HPA
 * in the namespace whose selector matches one of them). Each one gets AmbiguousSelector.
 */
export function ambiguousAutoscalers(docs: ManifestDoc[]): AmbiguousAutoscaler[] {
  const hpas = docs.filter((a) => isAutoscaler(a) && hpaKey(a) && a.dialect.scaleTarget)
    .map((a) => {
      const t = targetOf(a, docs);
      const sel = t ? ((t.object as { spec?: { selector?: Sel } }).spec?.selector) : undefined;
      return { a, key: hpaKey(a)!, ns: a.namespace ?? 'default', sel };
    })
    .filter((h) => h.sel);
  const out: AmbiguousAutoscaler[] = [];
  for (const h of hpas) {
    // the pods this HPA's selector lists: those of every workload in its namespace it matches
    const podLabelSets = docs.filter((w) => isWorkload(w) && (w.namespace ?? 'default') === h.ns)
      .map((w) => w.dialect.podLabels?.(w.object) ?? {})
      .filter((labels) => selectorMatches(h.sel, labels));
    const selecting = new Set<string>();
    for (const labels of podLabelSets) for (const o of hpas) if (o.ns === h.ns && selectorMatches(o.sel, labels)) selecting.add(o.key);
    if (selecting.size > 1) {
      const keys = [...selecting].sort();
      const selector = formatLabelSelector(h.sel);
      // upstream names at most two (its store stops at the second match)
      out.push({ doc: h.a, selector, selectingHpas: keys, message: `pods by selector ${selector} are controlled by more than one HPA (e.g. [${keys.slice(0, 2).join(' ')}])` });
    }
  }
  return out;
}

export function crossChecks(docs: ManifestDoc[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  // scale targets in another namespace
  for (const a of docs) {
    if (!isAutoscaler(a)) continue;
    const ref = a.dialect.scaleTarget?.(a.object);
    if (!ref) continue;
    const same = docs.filter((w) => isWorkload(w) && w.kind === ref.kind && w.name === ref.name);
    if (!same.length || same.some((w) => ns(w) === ns(a))) continue;
    const w = same[0];
    const where = (d: ManifestDoc) => (d.namespace ? `namespace "${d.namespace}"` : 'no namespace (kubectl puts it in the current one, "default" unless -n)');
    out.push(warn(a, ref.path, `${a.kind} ${a.name} is in ${where(a)} but ${ref.kind} "${ref.name}" (${w.file}:${w.line}) has ${where(w)}: an autoscaler only scales objects in its own namespace, so on Kubernetes it would not find its target`, 'give both the same metadata.namespace'));
  }
  // Deployments no Service reaches (Knative/KServe workloads bring their own)
  const services = docs.filter((d) => d.dialect.role === 'service');
  for (const d of docs) {
    if (d.kind !== 'Deployment') continue;
    const labels = d.dialect.podLabels?.(d.object) ?? {};
    if (services.some((s) => (ns(s) === ns(d) || !s.namespace || !d.namespace) && selectorMatches(s.dialect.selector?.(s.object), labels))) continue;
    const app = Object.entries(labels).slice(0, 1).map(([k, v]) => `${k}: ${v}`).join('');
    out.push(warn(d, ['metadata', 'name'], `no Service selects the pods of Deployment ${d.name}, so Tide starts no proxy for it: each replica is reachable only on its own port on 127.0.0.1 (the tide.dev/port annotation in \`tide get pods -o yaml\`), with no load balancing and no holding of requests while it scales`, `to reach it on one port, add a v1 Service with spec.selector {${app}} and the port clients use (or give the file that has it)`));
  }
  for (const amb of ambiguousAutoscalers(docs)) {
    out.push(warn(amb.doc, ['spec', 'scaleTargetRef'], `${amb.message}: Kubernetes sets ScalingActive=False (AmbiguousSelector) on each of them and none scales`, 'one autoscaler per workload'));
  }
  return out;
}
