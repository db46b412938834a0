// The /scale subresource of any scale target, as the upstream HPA controller uses it: the
// scaleTargetRef's apiVersion+kind resolved to a resource by discovery (Deployments, StatefulSets,
// ReplicaSets, any CRD with a scale subresource), read for spec/status replicas and the pod selector
// (status.selector, the string form), written with a resourceVersion-checked update, retried on 409
// (the workload's own controller bumps the resourceVersion right after a scale).
import type { Apis } from './client.ts';
import { apiCode, apiMessage, formatLabelSelector } from './client.ts';

export interface ScaleRef { apiVersion?: string; kind: string; name: string }

export interface ScaleInfo {
  group: string;
  version: string;
  plural: string;
  specReplicas: number;
  statusReplicas: number;
  selector?: string;
  resourceVersion?: string;
  /** Read from an informer's cache (ScaleSource), not from the apiserver just now. */
  fromCache?: boolean;
}

export class ScaleError extends Error {
  readonly code: number | undefined;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function count(apis: Apis, verb: string): void {
  apis.requests.set(verb, (apis.requests.get(verb) ?? 0) + 1);
}

export async function resolveScaleResource(apis: Apis, ref: ScaleRef): Promise<{ group: string; version: string; plural: string }> {
  const apiVersion = ref.apiVersion ?? 'apps/v1';
  const { group, version } = splitApiVersion(apiVersion);
  let res;
  try {
    count(apis, 'discovery');
    res = await apis.discovery.lookup(apiVersion, ref.kind);
  } catch (e) {
    const code = apiCode(e);
    const why = code === 404 ? '' : `: ${apiMessage(e)}`;
    throw new ScaleError(`unable to determine resource for scale target reference: no matches for kind "${ref.kind}" in group "${group}"${why}`, code);
  }
  if (!res) throw new ScaleError(`unable to determine resource for scale target reference: no matches for kind "${ref.kind}" in group "${group}"`, 404);
  const plural = res.name.split('/')[0];
  if (group === '') throw new ScaleError(`core group kind ${ref.kind} is not supported as a scale target by Tide`, 400);
  return { group, version, plural };
}

/** A workload as an informer caches it: what its /scale subresource is computed from. */
export interface ScalableObject {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number; selector?: Parameters<typeof formatLabelSelector>[0] };
  status?: { replicas?: number };
}

/**
 * Informer caches of built-in workloads (apps/v1 Deployments, StatefulSets): their /scale is
 * spec.replicas, status.replicas and spec.selector in string form, at the object's resourceVersion
 * (the apiserver computes the subresource from the same object). `get` returns undefined when the
 * cache cannot answer (not this kind, not synced, not there): the caller GETs /scale then.
 */
export interface ScaleSource {
  get(namespace: string, ref: ScaleRef): ScaleInfo | undefined;
}

const CACHED_KINDS: Record<string, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets' };

/** The plural of a scale target the informers cache (apps/v1 Deployment or StatefulSet), else undefined. */
export function cachedKind(ref: ScaleRef): string | undefined {
  return (ref.apiVersion ?? 'apps/v1') === 'apps/v1' ? CACHED_KINDS[ref.kind] : undefined;
}

/** The /scale subresource the apiserver would answer for a cached Deployment or StatefulSet. */
export function scaleOfObject(plural: string, o: ScalableObject): ScaleInfo {
  const selector = formatLabelSelector(o.spec?.selector);
  return {
    group: 'apps', version: 'v1', plural,
    specReplicas: o.spec?.replicas ?? 1,
    statusReplicas: o.status?.replicas ?? 0,
    ...(selector ? { selector } : {}),
    ...(o.metadata?.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}),
    fromCache: true,
  };
}

/**
 * The target's scale: from `cache` when it has the object (no request), else GET /scale (CRDs,
 * other kinds, a cache that is not synced, an object it does not hold yet).
 */
export async function getScale(apis: Apis, namespace: string, ref: ScaleRef, cache?: ScaleSource): Promise<ScaleInfo> {
  const cached = cache?.get(namespace, ref);
  if (cached) return cached;
  const r = await resolveScaleResource(apis, ref);
  let s: { metadata?: { resourceVersion?: string }; spec?: { replicas?: number }; status?: { replicas?: number; selector?: string } };
  try {
    count(apis, 'get scale');
    s = await apis.custom.getNamespacedCustomObjectScale({ group: r.group, version: r.version, namespace, plural: r.plural, name: ref.name });
  } catch (e) {
    throw new ScaleError(apiMessage(e), apiCode(e));
  }
  return {
    ...r,
    specReplicas: s.spec?.replicas ?? 0,
    statusReplicas: s.status?.replicas ?? 0,
    ...(s.status?.selector ? { selector: s.status.selector } : {}),
    ...(s.metadata?.resourceVersion ? { resourceVersion: s.metadata.resourceVersion } : {}),
  };
}

/**
 * Set spec.replicas through /scale. `expectedFrom` is the spec.replicas the decision was based on:
 * on a 409 the scale is re-read and, if someone else changed spec.replicas meanwhile, the write is
 * abandoned (returns false) rather than overriding them; otherwise it is retried (up to 5 times).
 */
export async function updateScale(apis: Apis, namespace: string, ref: ScaleRef, info: ScaleInfo, replicas: number, fieldManager: string, allowed?: () => boolean): Promise<boolean> {
  let cur = info;
  for (let attempt = 0; attempt < 5; attempt++) {
    // a replica that lost leadership between two attempts writes nothing more
    if (allowed && !allowed()) throw new ScaleError('this replica is not the leader (any more): not writing the scale', 0);
    const body = {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: ref.name, namespace, ...(cur.resourceVersion ? { resourceVersion: cur.resourceVersion } : {}) },
      spec: { replicas },
    };
    try {
      count(apis, 'update scale');
      await apis.custom.replaceNamespacedCustomObjectScale({ group: cur.group, version: cur.version, namespace, plural: cur.plural, name: ref.name, body, fieldManager });
      return true;
    } catch (e) {
      if (apiCode(e) !== 409) throw new ScaleError(apiMessage(e), apiCode(e));
      const again = await getScale(apis, namespace, ref);
      if (again.specReplicas !== info.specReplicas) return false;
      cur = again;
    }
  }
  throw new ScaleError('the scale kept changing (409 Conflict 5 times)', 409);
}
