// loadManifests(): YAML files → validated, normalized documents indexed by kind, with every problem
// reported at once as `file:line:col: field.path: what is wrong (what is allowed)`.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { ManifestError, formatDiagnostic, formatPath, type Diagnostic } from './diagnostics.ts';
import type { Dialect, DialectIssue } from './dialects/types.ts';
import { UNKNOWN_FIELD_MARK, selectorMatches } from './k8s/common.ts';
import { nameProblems, quoteName } from './k8s/names.ts';
import { DIALECTS, findDialect, supportedKinds } from './registry.ts';
import type { NormalizedContainer, NormalizedDeployment, NormalizedService } from './types.ts';
import { parseYamlSource, type SourceDoc } from './yaml.ts';
import { applyLocalImage, findLocalImages, missingImageHint, readLocalImages, type LocalImages } from './local-images.ts';
import { ambiguousAutoscalers, crossChecks } from './checks.ts';

export interface ManifestDoc<T = any, N = any> {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  file: string;
  /** Position of the document start. */
  line: number;
  col: number;
  /** The validated object (as written, schema-typed). */
  object: T;
  /** The dialect's normalized form (HpaPolicy, NormalizedDeployment, ...), or the object when it has none. */
  normalized: N;
  dialect: Dialect<T, N>;
  source: SourceDoc;
  /** For autoscalers: the decider and the policy it runs (see Dialect.autoscalerOf). */
  autoscaler?: { decider: 'hpa' | 'kpa' | 'keda'; policy: unknown };
}

export function hasRole(d: Dialect, role: Dialect['role']): boolean {
  return d.role === role || (d.roles ?? []).includes(role);
}

export type ManifestInput = string | { file: string; text: string };

export interface LoadOptions {
  /** Environment used to resolve secretKeyRef/configMapKeyRef locally (default process.env). */
  env?: Record<string, string | undefined>;
  /** Also fail when an autoscaler's scaleTargetRef names a workload not in the files (default false). */
  requireTargets?: boolean;
  /** Kubernetes feature gates that change validation (e.g. HPAScaleToZero); missing ones take v1.37's default. */
  featureGates?: Record<string, boolean>;
  /** Largest file read, bytes (default MAX_MANIFEST_BYTES). */
  maxBytes?: number;
  /**
   * Image → local command mapping (tide-local.yaml): a path, or false for none. Default: the
   * tide-local.yaml next to each manifest file, when there is one.
   */
  localImages?: string | false;
  /** Also fail when a workload's first container has no command locally (what `tide up` runs). */
  runnable?: boolean;
}

export class ManifestBundle {
  readonly documents: ManifestDoc[];
  readonly warnings: Diagnostic[];
  constructor(documents: ManifestDoc[], warnings: Diagnostic[]) {
    this.documents = documents;
    this.warnings = warnings;
  }
  byKind<T = any, N = any>(kind: string): ManifestDoc<T, N>[] { return this.documents.filter((d) => d.kind === kind); }
  byRole(role: Dialect['role']): ManifestDoc[] { return this.documents.filter((d) => hasRole(d.dialect, role)); }
  get deployments(): ManifestDoc<unknown, NormalizedDeployment>[] { return this.byKind('Deployment'); }
  // role filter: serving.knative.dev/v1 Service is kind Service too, but an autoscaler (KPA dialect).
  get services(): ManifestDoc<unknown, NormalizedService>[] { return this.byKind('Service').filter((d) => d.dialect.role === 'service'); }
  get workloads(): ManifestDoc[] { return this.byRole('workload'); }
  get autoscalers(): ManifestDoc[] { return this.byRole('autoscaler'); }
  find(kind: string, name: string): ManifestDoc | undefined { return this.documents.find((d) => d.kind === kind && d.name === name); }

  /** The workload an autoscaler scales; throws ManifestError at the reference when it is dangling. */
  scaleTargetOf(autoscaler: ManifestDoc): ManifestDoc {
    const ref = autoscaler.dialect.scaleTarget?.(autoscaler.object);
    if (!ref && hasRole(autoscaler.dialect, 'workload')) return autoscaler; // e.g. a Knative Service scales itself
    if (!ref) throw new ManifestError([diag(autoscaler.source, [], `${autoscaler.kind} ${autoscaler.name} has no scale target`)]);
    const hit = this.workloads.find((w) => w.kind === ref.kind && w.name === ref.name && sameNs(w, autoscaler));
    if (hit) return hit;
    const ofKind = this.workloads.filter((w) => w.kind === ref.kind).map((w) => w.name);
    const runnable = [...new Set(DIALECTS.filter((d) => hasRole(d, 'workload')).map((d) => d.kind))];
    const allowed = !runnable.includes(ref.kind)
      ? `Tide scales ${runnable.join(', ')}; ${ref.kind} is not supported`
      : ofKind.length ? `${ref.kind}s in these files: ${ofKind.join(', ')}` : `no ${ref.kind} in the files given; add its manifest`;
    throw new ManifestError([diag(autoscaler.source, ref.path, `${ref.kind} "${ref.name}" not found`, allowed)]);
  }

  /** Services whose selector selects the workload's pods (selector ⊆ pod labels). */
  servicesFor(workload: ManifestDoc): ManifestDoc<unknown, NormalizedService>[] {
    const labels = workload.dialect.podLabels?.(workload.object) ?? {};
    return this.services.filter((s) => sameNs(s, workload) && selectorMatches(s.dialect.selector?.(s.object), labels));
  }

  /** The workload a Service selects; throws ManifestError when none (or several) match. */
  workloadForService(service: ManifestDoc): ManifestDoc {
    const sel = service.dialect.selector?.(service.object);
    const hits = this.workloads.filter((w) => sameNs(w, service) && selectorMatches(sel, w.dialect.podLabels?.(w.object) ?? {}));
    if (hits.length === 1) return hits[0];
    if (hits.length === 0) {
      throw new ManifestError([diag(service.source, ['spec', 'selector'], `selects no Deployment in these files`, sel && Object.keys(sel).length ? `selector ${JSON.stringify(sel)} must be a subset of a pod template's labels` : 'set spec.selector')]);
    }
    throw new ManifestError([diag(service.source, ['spec', 'selector'], `selects several workloads: ${hits.map((h) => `${h.kind}/${h.name}`).join(', ')}`, 'Tide routes a Service to exactly one Deployment')]);
  }
}

function sameNs(a: { namespace?: string }, b: { namespace?: string }): boolean {
  return !a.namespace || !b.namespace || a.namespace === b.namespace;
}

function diag(src: SourceDoc, path: readonly PropertyKey[], message: string, allowed?: string, opts: { key?: boolean; severity?: 'error' | 'warning' } = {}): Diagnostic {
  const p = src.locate(path, { key: opts.key });
  return { severity: opts.severity ?? 'error', file: src.file, line: p.line, col: p.col, path: formatPath(path), message, ...(allowed ? { allowed } : {}) };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: any = root;
  for (const p of path) { if (v == null || typeof v !== 'object') return undefined; v = v[p as any]; }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string "${v}"`;
  return `${typeof v} ${String(v)}`;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) {
    dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
  }
  return dp[a.length][b.length];
}

/** Turn zod issues into positioned diagnostics (one per unknown key, friendly type messages). */
export function zodIssuesToDiagnostics(src: SourceDoc, issues: readonly z.core.$ZodIssue[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const iss of issues) {
    const path = iss.path as PropertyKey[];
    const actual = valueAt(src.value, path);
    if (iss.code === 'unrecognized_keys') {
      const known = iss.message.startsWith(UNKNOWN_FIELD_MARK) ? iss.message.slice(UNKNOWN_FIELD_MARK.length).split(',').filter(Boolean) : [];
      for (const k of iss.keys) {
        const close = known.map((n) => ({ n, d: levenshtein(k, n) })).sort((a, b) => a.d - b.d)[0];
        const allowed = close && close.d <= Math.max(2, Math.floor(k.length / 4)) ? `did you mean "${close.n}"?` : known.length ? `known fields: ${known.join(', ')}` : undefined;
        out.push(diag(src, [...path, k], `unknown field "${k}"`, allowed, { key: true }));
      }
      continue;
    }
    let message = iss.message;
    let allowed: string | undefined;
    const generic = /^Invalid (input|option|value)|^Too (small|big)|^Invalid/.test(message);
    if (iss.code === 'custom' && (iss.params as { allowed?: string } | undefined)?.allowed) allowed = (iss.params as { allowed: string }).allowed;
    if (generic) {
      if (actual === undefined && iss.code === 'invalid_type') message = 'required field is missing';
      else if (iss.code === 'invalid_type') message = `expected ${iss.expected === 'int' ? 'an integer' : iss.expected === 'object' ? 'a mapping' : iss.expected === 'array' ? 'a list' : `a ${iss.expected}`}, got ${describe(actual)}`;
      else if (iss.code === 'invalid_value') { message = `${describe(actual)} is not supported`; allowed = `one of: ${iss.values.map(String).join(', ')}`; }
      else if (iss.code === 'too_small') message = `must be ${iss.inclusive ? 'at least' : 'more than'} ${String(iss.minimum)}${iss.origin === 'array' ? ' item(s)' : iss.origin === 'string' ? ' character(s)' : ''}`;
      else if (iss.code === 'too_big') message = `must be ${iss.inclusive ? 'at most' : 'less than'} ${String(iss.maximum)}`;
      else if (iss.code === 'invalid_format') message = `invalid format (${iss.format})`;
      else if (iss.code === 'invalid_union') message = `invalid value ${describe(actual)}`;
    }
    out.push(diag(src, path, message, allowed));
  }
  return out;
}

/**
 * Largest manifest file read (bytes). The Kubernetes API server refuses a request body over 3 MiB,
 * so no object it accepts comes near this; anything bigger is a mistake or an attack.
 */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function mib(n: number): string { return `${(n / 1024 / 1024).toFixed(1)} MiB`; }

function fileProblem(file: string, message: string, allowed?: string): Diagnostic {
  // line 0: about the file, not a position in it (printed as `file: message`)
  return { severity: 'error', file, line: 0, col: 0, path: '', message, ...(allowed ? { allowed } : {}) };
}

function tooLarge(file: string, size: number, max: number): Diagnostic {
  return fileProblem(file, `file too large: ${mib(size)}`, `Tide reads manifest files up to ${mib(max)}; the Kubernetes API server rejects objects over 3 MiB`);
}

function readInput(input: ManifestInput, max: number): { file: string; text: string } | Diagnostic {
  if (typeof input !== 'string') return Buffer.byteLength(input.text) > max ? tooLarge(input.file, Buffer.byteLength(input.text), max) : input;
  const file = input;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) return fileProblem(file, 'is a directory', `give the manifest files in it, e.g. ${file.replace(/\/+$/, '')}/*.yaml`);
    if (st.isFile() && st.size > max) return tooLarge(file, st.size, max);
    // read at most max+1 bytes (pipes and devices have no size)
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
      total += n;
      if (total > max) return tooLarge(file, total, max);
    }
    return { file, text: Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fileProblem(file, 'no such file');
    if (code === 'EACCES' || code === 'EPERM') return fileProblem(file, 'permission denied');
    if (code === 'EISDIR') return fileProblem(file, 'is a directory', `give the manifest files in it, e.g. ${file.replace(/\/+$/, '')}/*.yaml`);
    return fileProblem(file, `cannot read: ${code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface LoadResult { bundle: ManifestBundle; diagnostics: Diagnostic[]; errors: Diagnostic[] }

/** Load without throwing: every diagnostic (errors and warnings) plus the documents that passed. */
export function loadManifestsLenient(inputs: ManifestInput | ManifestInput[], opts: LoadOptions = {}): LoadResult {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const diagnostics: Diagnostic[] = [];
  const docs: ManifestDoc[] = [];
  const env = opts.env ?? process.env;
  // tide-local.yaml per folder (or the one given), read once
  const mappings = new Map<string, LocalImages | undefined>();
  const mappingFor = (manifestFile: string): LocalImages | undefined => {
    if (opts.localImages === false) return undefined;
    const path = opts.localImages ?? findLocalImages(dirname(resolve(manifestFile)));
    if (!path) return undefined;
    if (!mappings.has(path)) {
      const r = readLocalImages(path);
      diagnostics.push(...r.diagnostics);
      mappings.set(path, r.diagnostics.some((d) => d.severity === 'error') ? undefined : r.config);
    }
    return mappings.get(path);
  };
  for (const input of list) {
    const read = readInput(input, opts.maxBytes ?? MAX_MANIFEST_BYTES);
    if ('severity' in read) { diagnostics.push(read); continue; }
    const parsed = parseYamlSource(read.file, read.text);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.docs.length === 0 && parsed.diagnostics.length === 0) {
      diagnostics.push({ severity: 'error', file: read.file, line: 1, col: 1, path: '', message: read.text.trim() === '' ? 'the file is empty' : 'the file has no manifests (only comments or empty documents)', allowed: 'give files with at least one object (apiVersion, kind, metadata, spec)' });
    }
    for (const src of parsed.docs) {
      const doc = loadOne(src, env, diagnostics, opts.featureGates);
      if (!doc) continue;
      docs.push(doc);
      localCommands(doc, mappingFor(read.file), opts.runnable ?? false, diagnostics);
    }
  }
  // Duplicate objects (same kind, namespace and name).
  const seen = new Map<string, ManifestDoc>();
  for (const d of docs) {
    const key = `${d.kind}/${d.namespace ?? ''}/${d.name}`;
    const first = seen.get(key);
    if (first) diagnostics.push(diag(d.source, ['metadata', 'name'], `duplicate ${d.kind} "${d.name}"`, `first defined at ${first.file}:${first.line}:${first.col}`));
    else seen.set(key, d);
  }
  diagnostics.push(...crossChecks(docs));
  // HPAs that control the same pods: each policy carries who else does, and the decider refuses
  // to act on it as upstream does (AmbiguousSelector)
  for (const amb of ambiguousAutoscalers(docs)) {
    const n = amb.doc.normalized as { selectingHpas?: string[]; metrics?: unknown } | undefined;
    if ((amb.doc.kind === 'HorizontalPodAutoscaler' || amb.doc.kind === 'ScaledObject') && n && typeof n === 'object') n.selectingHpas = amb.selectingHpas;
  }
  const bundle = new ManifestBundle(docs, diagnostics.filter((x) => x.severity === 'warning'));
  warningReporter?.(bundle.warnings);
  if (opts.requireTargets) {
    for (const a of bundle.autoscalers) {
      try { bundle.scaleTargetOf(a); } catch (e) { if (e instanceof ManifestError) diagnostics.push(...e.diagnostics); else throw e; }
    }
  }
  return { bundle, diagnostics, errors: diagnostics.filter((x) => x.severity === 'error') };
}

/** The containers a workload runs locally, and where they are written (Deployment, Knative Service, InferenceService). */
function localContainers(doc: ManifestDoc): { containers: NormalizedContainer[]; path: (string | number)[] } | undefined {
  if (doc.kind === 'Deployment') return { containers: (doc.normalized as NormalizedDeployment).containers, path: ['spec', 'template', 'spec', 'containers'] };
  const n = doc.normalized as { deployment?: NormalizedDeployment; notRunnable?: string } | undefined;
  if (!n?.deployment || n.notRunnable || !Array.isArray(n.deployment.containers)) return undefined;
  return { containers: n.deployment.containers, path: doc.kind === 'InferenceService' ? ['spec', 'predictor', 'containers'] : ['spec', 'template', 'spec', 'containers'] };
}

/** Apply tide-local.yaml to the containers that leave their command to the image; report the first container if it still has none. */
function localCommands(doc: ManifestDoc, cfg: LocalImages | undefined, runnable: boolean, out: Diagnostic[]): void {
  const lc = localContainers(doc);
  if (!lc) return;
  lc.containers.forEach((c) => applyLocalImage(c, cfg));
  const first = lc.containers[0];
  if (!runnable || !first || (first.command?.length ?? 0) + (first.args?.length ?? 0) > 0) return;
  const at = first.image ? [...lc.path, 0, 'image'] : [...lc.path, 0];
  const what = first.image
    ? `image "${first.image}" has no local command: Tide runs each replica as a local process, and this container leaves its command to the image`
    : 'no command and no image: Tide runs each replica as a local process';
  out.push(diag(doc.source, at, what, missingImageHint(first.image, doc.file, cfg)));
}

let warningReporter: ((warnings: Diagnostic[]) => void) | undefined;

/**
 * Where the warnings of every load go (CLI commands that do not print the bundle's warnings
 * themselves, e.g. decide and simulate, set this to print them on stderr once).
 */
export function reportManifestWarnings(fn: ((warnings: Diagnostic[]) => void) | undefined): void {
  warningReporter = fn;
}

/** For CLI commands: print each manifest warning once on stderr (`file:line:col: warning: …`). */
export function printManifestWarnings(write: (s: string) => void = (s) => process.stderr.write(s)): void {
  const seen = new Set<string>();
  reportManifestWarnings((ws) => {
    for (const w of ws) {
      const line = formatDiagnostic(w);
      if (!seen.has(line)) { seen.add(line); write(`${line}\n`); }
    }
  });
}

/**
 * Load manifest files (paths, or {file, text} pairs): parse, validate and normalize every document.
 * Throws ManifestError listing every error when any document is invalid; warnings stay on the bundle.
 */
export function loadManifests(inputs: ManifestInput | ManifestInput[], opts: LoadOptions = {}): ManifestBundle {
  const r = loadManifestsLenient(inputs, opts);
  if (r.errors.length > 0) throw new ManifestError(r.errors);
  return r.bundle;
}

function loadOne(src: SourceDoc, env: Record<string, string | undefined>, out: Diagnostic[], featureGates?: Record<string, boolean>): ManifestDoc | undefined {
  const v = src.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    out.push(diag(src, [], `a manifest document must be a mapping with apiVersion and kind, got ${describe(v)}`));
    return undefined;
  }
  const o = v as Record<string, unknown>;
  let bad = false;
  for (const f of ['apiVersion', 'kind'] as const) {
    if (typeof o[f] !== 'string' || o[f] === '') {
      out.push(diag(src, o[f] === undefined ? [] : [f], o[f] === undefined ? `${f}: required field is missing` : `expected a string, got ${describe(o[f])}`, f === 'kind' ? `supported: ${supportedKinds().join(', ')}` : undefined));
      bad = true;
    }
  }
  if (bad) return undefined;
  const apiVersion = o.apiVersion as string;
  const kind = o.kind as string;
  const dialect = findDialect(apiVersion, kind);
  if (!dialect) {
    const sameKind = DIALECTS.filter((d) => d.kind === kind).flatMap((d) => d.apiVersions);
    if (sameKind.length) out.push(diag(src, ['apiVersion'], `apiVersion "${apiVersion}" is not supported for ${kind}`, `use ${[...new Set(sameKind)].join(' or ')}`));
    else out.push(diag(src, ['kind'], `unsupported kind "${kind}" (apiVersion ${apiVersion})`, `supported: ${supportedKinds().join(', ')}`));
    return undefined;
  }
  // Names become file names, URLs and label values: validated as Kubernetes does, whatever else is wrong.
  let nameErrors = 0;
  const meta = o.metadata as Record<string, unknown> | undefined;
  const checkName = (field: 'name' | 'namespace', rule: Parameters<typeof nameProblems>[1], what: string) => {
    const n = meta && typeof meta === 'object' ? meta[field] : undefined;
    if (typeof n !== 'string' || n === '') return;
    for (const p of nameProblems(n, rule)) { out.push(diag(src, ['metadata', field], `${quoteName(n)} is not a valid ${what}: ${p}`)); nameErrors++; }
  };
  checkName('name', dialect.nameRule ?? 'dns1123-subdomain', `${kind} name`);
  checkName('namespace', 'dns1123-label', 'namespace');
  const r = dialect.schema.safeParse(v);
  let errors = 0;
  const semantic: Diagnostic[] = [];
  const ctx = {
    file: src.file,
    apiVersion,
    env,
    ...(featureGates ? { featureGates } : {}),
    report: (i: DialectIssue) => {
      const sev = i.severity ?? 'error';
      if (sev === 'error') errors++;
      semantic.push(diag(src, i.path, i.message, i.allowed, { key: i.atKey, severity: sev }));
    },
  };
  if (!r.success) {
    const structural = zodIssuesToDiagnostics(src, r.error.issues);
    out.push(...structural);
    // Best effort, so that every problem is reported at once: run the semantic rules on the raw
    // document too, keeping only errors about fields the schema found no fault with.
    try { dialect.validate?.(v as any, ctx); } catch { /* the raw document is too broken for this rule */ }
    const faulty = structural.map((d) => d.path);
    const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
    out.push(...semantic.filter((d) => d.severity === 'error' && !faulty.some((f) => related(d.path, f))));
    return undefined;
  }
  const object = r.data as Record<string, any>;
  dialect.validate?.(object, ctx);
  out.push(...semantic.filter((d) => d.severity === 'error'));
  if (errors > 0 || nameErrors > 0) return undefined;
  const normalized = dialect.normalize ? dialect.normalize(object, ctx) : object;
  out.push(...semantic.filter((d) => d.severity === 'warning'));
  const m = (object.metadata ?? {}) as { name?: string; namespace?: string };
  const autoscaler = dialect.autoscalerOf
    ? dialect.autoscalerOf(normalized, object)
    : hasRole(dialect, 'autoscaler') && dialect.decider ? { decider: dialect.decider, policy: normalized } : undefined;
  return {
    apiVersion, kind,
    name: m.name ?? '',
    ...(m.namespace ? { namespace: m.namespace } : {}),
    file: src.file, line: src.start.line, col: src.start.col,
    object, normalized, dialect: dialect as Dialect, source: src,
    ...(autoscaler ? { autoscaler } : {}),
  };
}

/**
 * The container port a Service port sends traffic to: a number as is, a name looked up in the
 * Deployment's container ports (as kube-proxy does per pod). undefined when the name is unknown.
 */
export function resolveTargetPort(port: { targetPort: number | string }, deployment: NormalizedDeployment): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  for (const c of deployment.containers) for (const p of c.ports) if (p.name === port.targetPort) return p.containerPort;
  return undefined;
}
