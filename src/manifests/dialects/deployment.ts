// apps/v1 Deployment: what Tide runs locally (replicas, pod template, containers, probes).
import { z } from 'zod';
import { DNS_LABEL, int32, int64, k8sObject, LOCAL_MAX_SECONDS, labelSelectorSchema, metadataSchema, quantity, selectorMatches, stringMap } from '../k8s/common.ts';
import { milliValue } from '../quantity.ts';
import type { NormalizedContainer, NormalizedDeployment, NormalizedEnvVar, NormalizedProbe, ProbeHandler } from '../types.ts';
import type { Dialect, DialectContext } from './types.ts';

const port = () => z.union([int32(), z.string()], { error: 'must be a port number or a port name' });
const nonNeg = () => int32().min(0, { error: 'must be greater than or equal to 0' });

const probeSchema = k8sObject({
  httpGet: k8sObject({
    path: z.string().optional(),
    port: port(),
    host: z.string().optional(),
    scheme: z.enum(['HTTP', 'HTTPS']).optional(),
    httpHeaders: z.array(k8sObject({ name: z.string(), value: z.string() })).optional(),
  }).optional(),
  tcpSocket: k8sObject({ port: port(), host: z.string().optional() }).optional(),
  exec: k8sObject({ command: z.array(z.string()).min(1, { error: 'must have at least one element' }) }).optional(),
  grpc: k8sObject({ port: int32(), service: z.string().optional() }).optional(),
  initialDelaySeconds: nonNeg().optional(),
  periodSeconds: nonNeg().optional(),
  timeoutSeconds: nonNeg().optional(),
  successThreshold: nonNeg().optional(),
  failureThreshold: nonNeg().optional(),
  // upstream: "must be greater than 0" when set (it overrides the pod's grace period for probe failures)
  terminationGracePeriodSeconds: int64().min(1, { error: 'must be greater than 0' }).optional(),
});
type ProbeIn = z.infer<typeof probeSchema>;

const keyRef = () => k8sObject({ name: z.string().optional(), key: z.string(), optional: z.boolean().optional() });

const envVarSchema = k8sObject({
  name: z.string().min(1, { error: 'must not be empty' }),
  value: z.string({ error: 'must be a string (quote numbers and booleans)' }).optional(),
  valueFrom: k8sObject({
    secretKeyRef: keyRef().optional(),
    configMapKeyRef: keyRef().optional(),
    fieldRef: k8sObject({ fieldPath: z.string(), apiVersion: z.string().optional() }).optional(),
    resourceFieldRef: k8sObject({ resource: z.string(), containerName: z.string().optional(), divisor: quantity().optional() }).optional(),
  }).optional(),
});

const CONTAINER_IGNORED = ['imagePullPolicy', 'envFrom', 'volumeMounts', 'volumeDevices', 'securityContext', 'lifecycle',
  'terminationMessagePath', 'terminationMessagePolicy', 'stdin', 'stdinOnce', 'tty', 'resizePolicy', 'restartPolicy', 'restartPolicyRules'];

const containerSchema = k8sObject({
  name: z.string().regex(DNS_LABEL, { error: 'must be a DNS label (lowercase letters, digits and "-")' }),
  image: z.string().optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string({ error: 'must be a string (quote numbers and booleans)' })).optional(),
  workingDir: z.string().optional(),
  env: z.array(envVarSchema).optional(),
  ports: z.array(k8sObject({
    containerPort: int32().min(1, { error: 'must be between 1 and 65535' }).max(65535, { error: 'must be between 1 and 65535' }),
    name: z.string().optional(),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
    hostPort: int32().optional(),
    hostIP: z.string().optional(),
  })).optional(),
  resources: k8sObject({
    requests: z.record(z.string(), quantity()).optional(),
    limits: z.record(z.string(), quantity()).optional(),
    claims: z.unknown().optional(),
  }).optional(),
  readinessProbe: probeSchema.optional(),
  livenessProbe: probeSchema.optional(),
  startupProbe: probeSchema.optional(),
}, CONTAINER_IGNORED);
type ContainerIn = z.infer<typeof containerSchema>;

const POD_IGNORED = ['volumes', 'initContainers', 'ephemeralContainers', 'nodeSelector', 'affinity', 'tolerations', 'serviceAccountName',
  'serviceAccount', 'automountServiceAccountToken', 'imagePullSecrets', 'securityContext', 'restartPolicy', 'dnsPolicy', 'dnsConfig',
  'hostNetwork', 'hostPID', 'hostIPC', 'hostUsers', 'shareProcessNamespace', 'priorityClassName', 'priority', 'preemptionPolicy',
  'schedulerName', 'topologySpreadConstraints', 'runtimeClassName', 'enableServiceLinks', 'hostname', 'subdomain', 'hostAliases',
  'activeDeadlineSeconds', 'nodeName', 'overhead', 'readinessGates', 'setHostnameAsFQDN', 'os', 'schedulingGates', 'resourceClaims', 'resources'];

const DEPLOYMENT_SPEC_IGNORED = ['strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'];

export const deploymentSchema = k8sObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: metadataSchema,
  spec: k8sObject({
    replicas: nonNeg().optional(),
    selector: labelSelectorSchema,
    template: k8sObject({
      metadata: z.looseObject({ labels: stringMap().optional(), annotations: stringMap().optional() }).optional(),
      spec: k8sObject({
        containers: z.array(containerSchema).min(1, { error: 'must have at least one container' }),
        terminationGracePeriodSeconds: int64().min(0, { error: 'must be greater than or equal to 0' }).optional(),
      }, POD_IGNORED),
    }),
  }, DEPLOYMENT_SPEC_IGNORED),
}, ['status']);
export type DeploymentManifest = z.infer<typeof deploymentSchema>;

function validateProbe(p: ProbeIn, path: (string | number)[], liveOrStartup: boolean, ctx: DialectContext): void {
  const handlers = (['httpGet', 'tcpSocket', 'exec', 'grpc'] as const).filter((h) => p[h] !== undefined);
  if (handlers.length === 0) ctx.report({ path, message: 'must specify a handler type', allowed: 'one of httpGet, tcpSocket, exec, grpc' });
  if (handlers.length > 1) ctx.report({ path: [...path, handlers[1]], atKey: true, message: 'may not specify more than 1 handler type', allowed: `already has ${handlers[0]}` });
  if (liveOrStartup && p.successThreshold !== undefined && p.successThreshold !== 1 && p.successThreshold !== 0) ctx.report({ path: [...path, 'successThreshold'], message: 'must be 1', allowed: 'liveness and startup probes only take successThreshold 1' });
  // Kubernetes accepts 0 for these and replaces it with the default (SetDefaults_Probe), although
  // the documented minimum is 1: say so rather than letting "0" look like "never" or "at once".
  for (const [f, def] of PROBE_DEFAULTS) {
    if (p[f] === 0) ctx.report({ severity: 'warning', path: [...path, f], message: `0 is replaced by the default ${def}${f === 'successThreshold' || f === 'failureThreshold' ? '' : 's'}, as Kubernetes does`, allowed: `the minimum value is 1; write ${def} or omit the field` });
  }
  for (const f of ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds'] as const) longWait(p[f], [...path, f], ctx);
  longWait(p.terminationGracePeriodSeconds, [...path, 'terminationGracePeriodSeconds'], ctx);
}

const PROBE_DEFAULTS = [['periodSeconds', 10], ['timeoutSeconds', 1], ['successThreshold', 1], ['failureThreshold', 3]] as const;

/** A valid but enormous duration (e.g. terminationGracePeriodSeconds: 1e12): held to what local timers can wait. */
function longWait(v: number | undefined, path: (string | number)[], ctx: DialectContext): void {
  if (v === undefined || v <= LOCAL_MAX_SECONDS) return;
  ctx.report({ severity: 'warning', path, message: `${v} seconds is ${(v / 31_557_600).toPrecision(3)} years; Tide's local runtime waits at most ${LOCAL_MAX_SECONDS} s (24.8 days)`, allowed: `write a realistic duration; locally ${LOCAL_MAX_SECONDS} is used` });
}

const localSeconds = (v: number) => Math.min(v, LOCAL_MAX_SECONDS);

function validate(d: DeploymentManifest, ctx: DialectContext): void {
  const sel = d.spec.selector;
  if (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0) {
    ctx.report({ path: ['spec', 'selector'], message: 'empty selector is invalid for deployment', allowed: 'set matchLabels matching spec.template.metadata.labels' });
  } else if (!selectorMatches(sel, d.spec.template.metadata?.labels ?? {})) {
    ctx.report({ path: ['spec', 'template', 'metadata', 'labels'], message: '`selector` does not match template `labels`', allowed: 'the pod template labels must satisfy spec.selector' });
  }
  const seen = new Set<string>();
  d.spec.template.spec.containers.forEach((c, i) => {
    const base = ['spec', 'template', 'spec', 'containers', i];
    if (c.name.length > 63) ctx.report({ path: [...base, 'name'], message: `must be no more than 63 characters (got ${c.name.length})` });
    if (seen.has(c.name)) ctx.report({ path: [...base, 'name'], message: `duplicate container name "${c.name}"`, allowed: 'names must be unique in a pod' });
    seen.add(c.name);
    if (c.readinessProbe) validateProbe(c.readinessProbe, [...base, 'readinessProbe'], false, ctx);
    if (c.livenessProbe) validateProbe(c.livenessProbe, [...base, 'livenessProbe'], true, ctx);
    if (c.startupProbe) validateProbe(c.startupProbe, [...base, 'startupProbe'], true, ctx);
    if (i === 0) longWait(d.spec.template.spec.terminationGracePeriodSeconds, ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'], ctx);
    (c.env ?? []).forEach((e, j) => {
      const vf = e.valueFrom;
      if (e.value !== undefined && vf) ctx.report({ path: [...base, 'env', j, 'valueFrom'], atKey: true, message: 'may not be specified when `value` is not empty' });
      if (vf) {
        const n = (['secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef'] as const).filter((k) => vf[k] !== undefined).length;
        if (n !== 1) ctx.report({ path: [...base, 'env', j, 'valueFrom'], message: n === 0 ? 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`' : 'may not have more than one field specified at a time' });
      }
    });
    const names = new Set<string>();
    (c.ports ?? []).forEach((p, j) => {
      if (p.name !== undefined) {
        if (names.has(p.name)) ctx.report({ path: [...base, 'ports', j, 'name'], message: `duplicate port name "${p.name}"` });
        names.add(p.name);
      }
    });
  });
}

function normalizeProbe(p: ProbeIn | undefined): NormalizedProbe | undefined {
  if (!p) return undefined;
  let handler: ProbeHandler;
  if (p.httpGet) handler = { type: 'httpGet', path: p.httpGet.path || '/', port: p.httpGet.port, host: p.httpGet.host, scheme: p.httpGet.scheme ?? 'HTTP', headers: p.httpGet.httpHeaders ?? [] };
  else if (p.tcpSocket) handler = { type: 'tcpSocket', port: p.tcpSocket.port, host: p.tcpSocket.host };
  else if (p.exec) handler = { type: 'exec', command: p.exec.command };
  else handler = { type: 'grpc', port: p.grpc!.port, service: p.grpc!.service };
  // Kubernetes defaults (SetDefaults_Probe): a 0 or missing value takes the default.
  return {
    handler,
    initialDelaySeconds: localSeconds(p.initialDelaySeconds ?? 0),
    periodSeconds: localSeconds(p.periodSeconds || 10),
    timeoutSeconds: localSeconds(p.timeoutSeconds || 1),
    successThreshold: p.successThreshold || 1,
    failureThreshold: p.failureThreshold || 3,
  };
}

function normalizeEnv(c: ContainerIn, base: (string | number)[], ctx: DialectContext): NormalizedEnvVar[] {
  return (c.env ?? []).map((e, j): NormalizedEnvVar => {
    if (!e.valueFrom) return { name: e.name, value: e.value ?? '' };
    const vf = e.valueFrom;
    const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
    if (ref) {
      const what = vf.secretKeyRef ? 'secretKeyRef' : 'configMapKeyRef';
      const objKind = vf.secretKeyRef ? 'Secret' : 'ConfigMap';
      const from = `${what} ${ref.name ?? ''}/${ref.key}`;
      const local = ctx.env[e.name] ?? ctx.env[ref.key];
      const path = [...base, 'env', j, 'valueFrom', what];
      if (local !== undefined) {
        const src = ctx.env[e.name] !== undefined ? e.name : ref.key;
        ctx.report({ severity: 'warning', path, message: `${objKind} ${ref.name ?? ''} key ${ref.key} is not available locally: using Tide's environment variable ${src} for ${e.name}` });
        return { name: e.name, value: local, from };
      }
      ctx.report({ severity: 'warning', path, message: `${objKind} ${ref.name ?? ''} key ${ref.key} is not available locally and ${e.name} is not set in Tide's environment: the replicas start without ${e.name}`, allowed: `export ${e.name}=... before running tide` });
      return { name: e.name, from };
    }
    if (vf.fieldRef) return { name: e.name, from: `fieldRef ${vf.fieldRef.fieldPath}`, fieldPath: vf.fieldRef.fieldPath };
    return { name: e.name, from: `resourceFieldRef ${vf.resourceFieldRef!.resource}` };
  });
}

function quantities(rec: Record<string, string | number> | undefined): { milli: Record<string, number>; raw: Record<string, string> } {
  const milli: Record<string, number> = {};
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec ?? {})) { milli[k] = milliValue(v); raw[k] = String(v); }
  return { milli, raw };
}

function normalize(d: DeploymentManifest, ctx: DialectContext): NormalizedDeployment {
  const containers = d.spec.template.spec.containers.map((c, i): NormalizedContainer => {
    const base = ['spec', 'template', 'spec', 'containers', i];
    const req = quantities(c.resources?.requests);
    const lim = quantities(c.resources?.limits);
    // Kubernetes defaults requests to limits when only limits are given.
    for (const k of Object.keys(lim.milli)) if (!(k in req.milli)) { req.milli[k] = lim.milli[k]; req.raw[k] = lim.raw[k]; }
    return {
      name: c.name,
      image: c.image,
      command: c.command,
      args: c.args,
      env: normalizeEnv(c, base, ctx),
      ports: (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP' })),
      requests: req.milli, limits: lim.milli, requestsRaw: req.raw, limitsRaw: lim.raw,
      readinessProbe: normalizeProbe(c.readinessProbe),
      livenessProbe: normalizeProbe(c.livenessProbe),
      startupProbe: normalizeProbe(c.startupProbe),
      workingDir: c.workingDir,
    };
  });
  return {
    name: d.metadata.name,
    namespace: d.metadata.namespace,
    replicas: d.spec.replicas ?? 1,
    selector: d.spec.selector,
    podLabels: d.spec.template.metadata?.labels ?? {},
    podAnnotations: d.spec.template.metadata?.annotations ?? {},
    containers,
    terminationGracePeriodSeconds: localSeconds(d.spec.template.spec.terminationGracePeriodSeconds ?? 30),
    labels: d.metadata.labels ?? {},
    annotations: d.metadata.annotations ?? {},
  };
}

export const deploymentDialect: Dialect<DeploymentManifest, NormalizedDeployment> = {
  apiVersions: ['apps/v1'],
  kind: 'Deployment',
  role: 'workload',
  schema: deploymentSchema,
  validate,
  normalize,
  podLabels: (d) => d.spec.template.metadata?.labels ?? {},
};
