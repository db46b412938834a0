// v1 Service: which Deployment's pods receive a port's traffic (selector ⊆ pod labels).
import { z } from 'zod';
import { int32, k8sObject, metadataSchema, stringMap } from '../k8s/common.ts';
import type { NormalizedService } from '../types.ts';
import type { Dialect, DialectContext } from './types.ts';

const portNumber = () => int32().min(1, { error: 'must be between 1 and 65535' }).max(65535, { error: 'must be between 1 and 65535' });

const SERVICE_SPEC_IGNORED = ['type', 'clusterIP', 'clusterIPs', 'externalIPs', 'sessionAffinity', 'sessionAffinityConfig', 'externalTrafficPolicy',
  'internalTrafficPolicy', 'ipFamilies', 'ipFamilyPolicy', 'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'externalName',
  'publishNotReadyAddresses', 'healthCheckNodePort', 'allocateLoadBalancerNodePorts', 'trafficDistribution'];

export const serviceSchema = k8sObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: metadataSchema,
  spec: k8sObject({
    selector: stringMap().optional(),
    ports: z.array(k8sObject({
      name: z.string().optional(),
      port: portNumber(),
      targetPort: z.union([portNumber(), z.string().min(1)], { error: 'must be a port number (1-65535) or a container port name' }).optional(),
      protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
      nodePort: int32().optional(),
      appProtocol: z.string().optional(),
    })).optional(),
  }, SERVICE_SPEC_IGNORED),
}, ['status']);
export type ServiceManifest = z.infer<typeof serviceSchema>;

function validate(s: ServiceManifest, ctx: DialectContext): void {
  const ports = s.spec.ports ?? [];
  if (ports.length === 0) ctx.report({ path: ['spec', 'ports'], message: 'required value', allowed: 'at least one port' });
  if (ports.length > 1) {
    const names = new Set<string>();
    ports.forEach((p, i) => {
      if (!p.name) ctx.report({ path: ['spec', 'ports', i], message: 'name is required when a service has more than one port' });
      else if (names.has(p.name)) ctx.report({ path: ['spec', 'ports', i, 'name'], message: `duplicate port name "${p.name}"` });
      if (p.name) names.add(p.name);
    });
  }
}

function normalize(s: ServiceManifest): NormalizedService {
  return {
    name: s.metadata.name,
    namespace: s.metadata.namespace,
    selector: s.spec.selector ?? {},
    ports: (s.spec.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ?? 'TCP' })),
    labels: s.metadata.labels ?? {},
  };
}

export const serviceDialect: Dialect<ServiceManifest, NormalizedService> = {
  apiVersions: ['v1'],
  kind: 'Service',
  role: 'service',
  nameRule: 'dns1035-label', // ValidateServiceName
  schema: serviceSchema,
  validate,
  normalize,
  selector: (s) => s.spec.selector,
};
