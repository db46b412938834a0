// serving.knative.dev/v1 Service: a revision template (containers, containerConcurrency,
// timeoutSeconds, autoscaling annotations on spec.template.metadata) autoscaled by the KPA.
// Locally it runs as a Deployment + Service (Tide's proxy acting as the activator).
import { z } from 'zod';
import { int32, k8sObject, metadataSchema, stringMap } from '../k8s/common.ts';
import type { Dialect, DialectContext } from './types.ts';
import { GROUP } from './knative-annotations.ts';
import { normalizeRevision, revisionContainerSchema, validateRevision, type KnativeNormalized, type RevisionContainer, type RevisionInput } from './knative-workload.ts';

const REVISION_SPEC_IGNORED = ['volumes', 'serviceAccountName', 'imagePullSecrets', 'enableServiceLinks', 'affinity', 'nodeSelector',
  'tolerations', 'securityContext', 'runtimeClassName', 'priorityClassName', 'dnsPolicy', 'dnsConfig', 'hostAliases', 'schedulerName',
  'topologySpreadConstraints', 'initContainers', 'automountServiceAccountToken', 'idleTimeoutSeconds', 'shareProcessNamespace', 'hostIPC', 'hostPID', 'hostNetwork'];

export const knativeServiceSchema = k8sObject({
  apiVersion: z.literal('serving.knative.dev/v1'),
  kind: z.literal('Service'),
  metadata: metadataSchema,
  spec: k8sObject({
    template: k8sObject({
      metadata: z.looseObject({ name: z.string().optional(), labels: stringMap().optional(), annotations: stringMap().optional() }).optional(),
      spec: k8sObject({
        containers: z.array(revisionContainerSchema).min(1, { error: 'must have at least one container' }),
        containerConcurrency: int32().optional(),
        timeoutSeconds: int32().optional(),
        responseStartTimeoutSeconds: int32().optional(),
      }, REVISION_SPEC_IGNORED),
    }),
    traffic: z.array(z.looseObject({})).optional(),
  }),
}, ['status']);
export type KnativeServiceManifest = z.infer<typeof knativeServiceSchema>;

function revisionOf(s: KnativeServiceManifest): RevisionInput {
  const t = s.spec.template;
  const base = ['spec', 'template', 'spec'];
  return {
    sourceKind: 'Service (serving.knative.dev/v1)',
    name: s.metadata.name,
    ...(s.metadata.namespace ? { namespace: s.metadata.namespace } : {}),
    deploymentName: s.metadata.name,
    serviceName: s.metadata.name,
    labels: t.metadata?.labels ?? {},
    annotations: t.metadata?.annotations ?? {},
    annotationPath: (k) => ['spec', 'template', 'metadata', 'annotations', k],
    containers: t.spec.containers as RevisionContainer[],
    containersPath: [...base, 'containers'],
    ...(t.spec.containerConcurrency !== undefined ? { containerConcurrency: t.spec.containerConcurrency } : {}),
    containerConcurrencyPath: [...base, 'containerConcurrency'],
    ...(t.spec.timeoutSeconds !== undefined ? { timeoutSeconds: t.spec.timeoutSeconds } : {}),
    timeoutPath: [...base, 'timeoutSeconds'],
    ...(t.spec.responseStartTimeoutSeconds !== undefined ? { responseStartTimeoutSeconds: t.spec.responseStartTimeoutSeconds } : {}),
  };
}

function validate(s: KnativeServiceManifest, ctx: DialectContext): void {
  // Autoscaling annotations on the Service's own metadata are rejected by Knative.
  for (const k of Object.keys(s.metadata.annotations ?? {})) {
    if (k.startsWith(`${GROUP}/`)) ctx.report({ path: ['metadata', 'annotations', k], atKey: true, message: 'autoscaling annotations must be put under "spec.template.metadata.annotations" to work' });
  }
  validateRevision(revisionOf(s), ctx);
}

function normalize(s: KnativeServiceManifest, ctx: DialectContext): KnativeNormalized {
  return normalizeRevision(revisionOf(s), ctx);
}

export const knativeServiceDialect: Dialect<KnativeServiceManifest, KnativeNormalized> = {
  apiVersions: ['serving.knative.dev/v1'],
  kind: 'Service',
  role: 'autoscaler',
  nameRule: 'dns1035-label', // Knative's ValidateObjectMetadata: it names a Kubernetes Service
  roles: ['workload'],
  decider: 'kpa',
  autoscalerOf: (n) => ({ decider: n.autoscaler.decider, policy: n.autoscaler.policy }),
  schema: knativeServiceSchema,
  validate,
  normalize,
  podLabels: (s) => ({ ...(s.spec.template.metadata?.labels ?? {}), 'serving.knative.dev/service': s.metadata.name, app: s.metadata.name }),
};
