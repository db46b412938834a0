// `kubectl get deployments` and `kubectl get services` rows for apps/v1 Deployments and v1 Services. Pure.
import { age } from './duration.ts';
import { formatLabelSelector } from './selector.ts';
import type { Deployment, Service } from './types.ts';

export const DEPLOYMENT_COLUMNS = ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'];
export const DEPLOYMENT_WIDE_COLUMNS = [...DEPLOYMENT_COLUMNS, 'CONTAINERS', 'IMAGES', 'SELECTOR'];

export function deploymentRow(d: Deployment, now: number, wide = false): string[] {
  const s = d.status ?? {};
  const row = [d.metadata.name, `${s.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, String(s.updatedReplicas ?? 0), String(s.availableReplicas ?? 0), age(d.metadata.creationTimestamp, now)];
  if (wide) {
    const cs = d.spec.template.spec.containers;
    row.push(cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(','), formatLabelSelector(d.spec.selector));
  }
  return row;
}

export const SERVICE_COLUMNS = ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'];
export const SERVICE_WIDE_COLUMNS = [...SERVICE_COLUMNS, 'SELECTOR'];

export function serviceRow(s: Service, now: number, wide = false): string[] {
  const type = s.spec.type ?? 'ClusterIP';
  const ext = s.status?.loadBalancer?.ingress?.map((i) => i.ip || i.hostname).filter(Boolean).join(',') || (s.spec.externalIPs?.join(',') ?? '') || (type === 'LoadBalancer' ? '<pending>' : '<none>');
  const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',') || '<none>';
  const row = [s.metadata.name, type, s.spec.clusterIP || '<none>', ext, ports, age(s.metadata.creationTimestamp, now)];
  if (wide) row.push(Object.entries(s.spec.selector ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',') || '<none>');
  return row;
}
