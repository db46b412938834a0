// Secrets as KEDA users have them on a cluster: a trigger's `authenticationRef` names a
// TriggerAuthentication (namespaced) or ClusterTriggerAuthentication (cluster-scoped, its Secrets and
// ConfigMaps in the cluster object namespace), whose `env` entries map a scaler parameter to an
// environment variable of the scale target's container, `configMapTargetRef` entries to a key of a
// ConfigMap and `secretTargetRef` entries to a key of a real Secret (KEDA's order: a later source
// wins); `…FromEnv` metadata reads the same container env. The container env is resolved as KEDA's
// resolver does it: `envFrom` configMapRef / secretRef in order, then `env` (`value` with `$(VAR)`
// expansion, `valueFrom.secretKeyRef`, `valueFrom.configMapKeyRef`), first container unless
// `envSourceContainerName` (or the env entry's `containerName`) names another.
//
// The result never enters a policy, a decision record or a log line: it becomes the metadata the
// metric source is built with (`<parameter>FromEnv` pointing at a private variable) and that
// source's private env. Every value read from a Secret is also returned in `secrets`, so any message
// that leaves the port can be redacted.
//
// Where KEDA resolves a missing TriggerAuthentication, Secret or key to "" and only logs it, Tide
// reports an error naming the object (never its content): the trigger then fails visibly
// (KEDAScalerFailed, Ready/fallback as for any scaler error). Auth providers Tide does not implement
// (podIdentity other than none, Vault, cloud secret managers, filePath, bound service account
// tokens) are errors too. ConfigMap values are not secret (not redacted), except where a variable's
// `$(VAR)` expansion takes in one that is.
import type { Apis } from '../client.ts';
import { apiCode, apiMessage } from '../client.ts';

export interface AuthRef { name: string; kind?: string }

export interface TriggerSpecIn {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: AuthRef;
}

export interface ResolvedTrigger {
  /** Metadata to build the source with: the spec's, plus `<param>FromEnv` for every resolved auth parameter. */
  metadata: Record<string, string>;
  /** The source's private environment (container env + auth parameters). */
  env: Record<string, string>;
  /** Every value that came from a Secret (for redaction). */
  secrets: string[];
}

export interface ResolveContext {
  apis: Apis;
  namespace: string;
  /** Where ClusterTriggerAuthentication Secrets live (KEDA: KEDA_CLUSTER_OBJECT_NAMESPACE, default "keda"). */
  clusterObjectNamespace: string;
  /** The scale target, for its pod template (resolved lazily). */
  target: { group: string; version: string; plural: string; name: string };
  envSourceContainerName?: string;
}

interface PodTemplateContainer {
  name?: string;
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key: string; optional?: boolean }; configMapKeyRef?: { name?: string; key: string; optional?: boolean }; fieldRef?: unknown; resourceFieldRef?: unknown } }[];
  envFrom?: { prefix?: string; secretRef?: { name?: string; optional?: boolean }; configMapRef?: { name?: string; optional?: boolean } }[];
}

interface TriggerAuthSpec {
  podIdentity?: { provider?: string };
  secretTargetRef?: { parameter: string; name: string; key: string }[];
  env?: { parameter: string; name: string; containerName?: string }[];
  configMapTargetRef?: { parameter: string; name: string; key: string }[];
  hashiCorpVault?: unknown;
  azureKeyVault?: unknown;
  awsSecretManager?: unknown;
  gcpSecretManager?: unknown;
  filePath?: string;
  boundServiceAccountToken?: unknown[];
}

export class AuthError extends Error {}

const PRIVATE_PREFIX = 'TIDE_KEDA_AUTH_';

function count(apis: Apis, verb: string): void {
  apis.requests.set(verb, (apis.requests.get(verb) ?? 0) + 1);
}

/** One resolution (one ScaledObject sync): Secrets and the pod template are read at most once each. */
export class AuthResolver {
  private readonly ctx: ResolveContext;
  private readonly secretCache = new Map<string, Promise<Record<string, string>>>();
  private readonly configMapCache = new Map<string, Promise<Record<string, string>>>();
  private containersP: Promise<PodTemplateContainer[]> | undefined;

  constructor(ctx: ResolveContext) {
    this.ctx = ctx;
  }

  /** One read per object and resolution (failures are cached too: the next scaler build retries). */
  private once(cache: Map<string, Promise<Record<string, string>>>, namespace: string, name: string, read: () => Promise<Record<string, string>>): Promise<Record<string, string>> {
    const k = `${namespace}/${name}`;
    let p = cache.get(k);
    if (!p) {
      p = read();
      p.catch(() => {});
      cache.set(k, p);
    }
    return p;
  }

  private secret(namespace: string, name: string): Promise<Record<string, string>> {
    return this.once(this.secretCache, namespace, name, async () => {
      count(this.ctx.apis, 'get secret');
      const s = await this.ctx.apis.core.readNamespacedSecret({ namespace, name });
      const out: Record<string, string> = {};
      for (const [key, v] of Object.entries(s.data ?? {})) out[key] = Buffer.from(v, 'base64').toString('utf8');
      for (const [key, v] of Object.entries(s.stringData ?? {})) out[key] = v;
      return out;
    });
  }

  private configMap(namespace: string, name: string): Promise<Record<string, string>> {
    return this.once(this.configMapCache, namespace, name, async () => {
      count(this.ctx.apis, 'get configmap');
      const c = await this.ctx.apis.core.readNamespacedConfigMap({ namespace, name });
      return { ...(c.data ?? {}) }; // binaryData: not text, as KEDA reads only data
    });
  }

  private containers(): Promise<PodTemplateContainer[]> {
    if (!this.containersP) {
      const t = this.ctx.target;
      this.containersP = (async () => {
        count(this.ctx.apis, 'get target');
        let obj: { spec?: { template?: { spec?: { containers?: PodTemplateContainer[] } }; jobTemplate?: unknown } };
        try {
          obj = await this.ctx.apis.custom.getNamespacedCustomObject({ group: t.group, version: t.version, namespace: this.ctx.namespace, plural: t.plural, name: t.name }) as typeof obj;
        } catch (e) {
          throw new AuthError(`cannot read the pod template of ${t.plural}.${t.group} ${this.ctx.namespace}/${t.name} for its container env: ${apiMessage(e)}`);
        }
        const cs = obj.spec?.template?.spec?.containers;
        if (!cs?.length) throw new AuthError('target object doesn\'t have containers');
        return cs;
      })();
      this.containersP.catch(() => {});
    }
    return this.containersP;
  }

  /** KEDA's ResolveContainerEnv: the named container's (or the first one's) env. */
  async containerEnv(containerName?: string): Promise<Record<string, string>> {
    return (await this.containerEnvWithOrigin(containerName)).env;
  }

  /** The container env, and which of its variables came from a Secret. */
  async containerEnvWithOrigin(containerName?: string): Promise<{ env: Record<string, string>; fromSecret: Set<string> }> {
    const cs = await this.containers();
    const c = containerName ? cs.find((x) => x.name === containerName) : cs[0];
    if (!c) throw new AuthError(`couldn't find container with name ${containerName} on Target object`);
    const ns = this.ctx.namespace;
    const out: Record<string, string> = {};
    const fromSecret = new Set<string>();
    for (const src of c.envFrom ?? []) {
      const prefix = src.prefix ?? '';
      if (src.secretRef?.name) {
        try {
          const data = await this.secret(ns, src.secretRef.name);
          for (const [k, v] of Object.entries(data)) { out[prefix + k] = v; fromSecret.add(prefix + k); }
        } catch (e) {
          if (src.secretRef.optional) continue;
          throw new AuthError(`error reading secret ref ${src.secretRef.name} on namespace ${ns}: ${apiMessage(e)}`);
        }
      }
      if (src.configMapRef?.name) {
        try {
          const data = await this.configMap(ns, src.configMapRef.name);
          for (const [k, v] of Object.entries(data)) { out[prefix + k] = v; fromSecret.delete(prefix + k); }
        } catch (e) {
          if (src.configMapRef.optional) continue;
          throw new AuthError(`error reading config ref ${src.configMapRef.name} on namespace ${ns}: ${apiMessage(e)}`);
        }
      }
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined && e.value !== '') {
        out[e.name] = expand(e.value, out);
        if ([...fromSecret].some((n) => e.value!.includes(`$(${n})`))) fromSecret.add(e.name); else fromSecret.delete(e.name);
        continue;
      }
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) {
        let data: Record<string, string>;
        try { data = await this.secret(ns, ref.name ?? ''); } catch (err) {
          if (ref.optional) continue;
          throw new AuthError(`error resolving secret name ${ref.name} for env ${e.name} in namespace ${ns}: ${apiMessage(err)}`);
        }
        if (data[ref.key] === undefined) {
          if (ref.optional) continue;
          throw new AuthError(`error resolving secret name ${ref.name} for env ${e.name} in namespace ${ns}: the secret has no key ${JSON.stringify(ref.key)}`);
        }
        out[e.name] = data[ref.key];
        fromSecret.add(e.name);
        continue;
      }
      const cref = e.valueFrom?.configMapKeyRef;
      if (cref) {
        let data: Record<string, string>;
        try { data = await this.configMap(ns, cref.name ?? ''); } catch (err) {
          if (cref.optional) continue;
          throw new AuthError(`error resolving config ${cref.name} for env ${e.name} in namespace ${ns}: ${apiMessage(err)}`);
        }
        if (data[cref.key] === undefined) {
          if (cref.optional) continue;
          throw new AuthError(`error resolving config ${cref.name} for env ${e.name} in namespace ${ns}: the configmap has no key ${JSON.stringify(cref.key)}`);
        }
        out[e.name] = data[cref.key];
        fromSecret.delete(e.name);
        continue;
      }
      if (e.valueFrom) continue; // fieldRef / resourceFieldRef: skipped, as KEDA does
      out[e.name] = '';
      fromSecret.delete(e.name);
    }
    return { env: out, fromSecret };
  }

  private async triggerAuthSpec(ref: AuthRef): Promise<{ spec: TriggerAuthSpec; secretNamespace: string; what: string }> {
    // secretNamespace: where its Secrets and ConfigMaps are (KEDA's triggerNamespace)
    const apis = this.ctx.apis;
    const kind = ref.kind ?? 'TriggerAuthentication';
    try {
      if (kind === '' || kind === 'TriggerAuthentication') {
        count(apis, 'get triggerauthentication');
        const o = await apis.custom.getNamespacedCustomObject({ group: 'keda.sh', version: 'v1alpha1', namespace: this.ctx.namespace, plural: 'triggerauthentications', name: ref.name }) as { spec?: TriggerAuthSpec };
        return { spec: o.spec ?? {}, secretNamespace: this.ctx.namespace, what: `TriggerAuthentication ${this.ctx.namespace}/${ref.name}` };
      }
      if (kind === 'ClusterTriggerAuthentication') {
        count(apis, 'get clustertriggerauthentication');
        const o = await apis.custom.getClusterCustomObject({ group: 'keda.sh', version: 'v1alpha1', plural: 'clustertriggerauthentications', name: ref.name }) as { spec?: TriggerAuthSpec };
        return { spec: o.spec ?? {}, secretNamespace: this.ctx.clusterObjectNamespace, what: `ClusterTriggerAuthentication ${ref.name}` };
      }
    } catch (e) {
      throw new AuthError(`error getting triggerAuth ${ref.name}: ${apiCode(e) === 404 ? `${kind} ${ref.name} not found` : apiMessage(e)}`);
    }
    throw new AuthError(`unknown trigger auth kind ${kind}`);
  }

  /** The auth parameters of one authenticationRef (KEDA's resolveAuthRef). */
  async authParams(ref: AuthRef): Promise<{ params: Record<string, string>; secret: Set<string> }> {
    const { spec, secretNamespace, what } = await this.triggerAuthSpec(ref);
    const unsupported: string[] = [];
    if (spec.podIdentity && (spec.podIdentity.provider ?? 'none') !== 'none') unsupported.push(`podIdentity provider ${spec.podIdentity.provider}`);
    for (const f of ['hashiCorpVault', 'azureKeyVault', 'awsSecretManager', 'gcpSecretManager', 'filePath', 'boundServiceAccountToken'] as const) {
      const v = spec[f];
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) unsupported.push(f);
    }
    if (unsupported.length) throw new AuthError(`${what}: ${unsupported.join(', ')} not supported by Tide (supported: env, configMapTargetRef, secretTargetRef)`);
    const out: Record<string, string> = {};
    const secret = new Set<string>();
    for (const e of spec.env ?? []) {
      const { env, fromSecret } = await this.containerEnvWithOrigin(e.containerName || this.ctx.envSourceContainerName);
      out[e.parameter] = env[e.name] ?? '';
      if (fromSecret.has(e.name)) secret.add(e.parameter); else secret.delete(e.parameter);
    }
    for (const e of spec.configMapTargetRef ?? []) {
      if (!e.name || !e.key) throw new AuthError(`${what}: configMapTargetRef for parameter ${e.parameter}: name and key are required`);
      let data: Record<string, string>;
      try { data = await this.configMap(secretNamespace, e.name); } catch (err) {
        throw new AuthError(`${what}: error trying to get configmap ${secretNamespace}/${e.name}: ${apiMessage(err)}`);
      }
      if (data[e.key] === undefined) throw new AuthError(`${what}: configmap ${secretNamespace}/${e.name} has no key ${JSON.stringify(e.key)}`);
      out[e.parameter] = data[e.key];
      secret.delete(e.parameter);
    }
    for (const e of spec.secretTargetRef ?? []) {
      if (!e.name || !e.key) throw new AuthError(`${what}: secretTargetRef for parameter ${e.parameter}: name and key are required`);
      let data: Record<string, string>;
      try { data = await this.secret(secretNamespace, e.name); } catch (err) {
        throw new AuthError(`${what}: error trying to get secret ${secretNamespace}/${e.name}: ${apiMessage(err)}`);
      }
      if (data[e.key] === undefined) throw new AuthError(`${what}: secret ${secretNamespace}/${e.name} has no key ${JSON.stringify(e.key)}`);
      out[e.parameter] = data[e.key];
      secret.add(e.parameter);
    }
    return { params: out, secret };
  }

  /** Everything a trigger's source needs: the container env (when `…FromEnv` is used) and its auth parameters. */
  async resolveTrigger(t: TriggerSpecIn): Promise<ResolvedTrigger> {
    const metadata = { ...t.metadata };
    const env: Record<string, string> = {};
    const secrets: string[] = [];
    if (Object.keys(metadata).some((k) => k.endsWith('FromEnv') && metadata[k] !== '')) {
      const ce = await this.containerEnvWithOrigin(this.ctx.envSourceContainerName);
      for (const [k, v] of Object.entries(metadata)) {
        if (!k.endsWith('FromEnv') || v === '') continue;
        const val = ce.env[v];
        if (val === undefined) continue;
        env[v] = val;
        if (ce.fromSecret.has(v)) secrets.push(val);
      }
    }
    if (t.authenticationRef?.name) {
      const { params, secret } = await this.authParams(t.authenticationRef);
      for (const [p, v] of Object.entries(params)) {
        if (v === '') continue; // as KEDA: an empty parameter is as good as none
        const name = `${PRIVATE_PREFIX}${p}`;
        env[name] = v;
        metadata[`${p}FromEnv`] = name; // auth parameters win over the metadata's own (KEDA's order)
        delete metadata[p];
        if (secret.has(p)) secrets.push(v);
      }
    }
    return { metadata, env, secrets };
  }
}

/** Kubernetes' $(VAR) expansion of an env value against the variables before it ($$ escapes). */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name] : m;
  });
}

/** Replace every secret value (at least 3 characters long) in a message. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length < 3) continue;
    out = out.split(s).join('<redacted>');
  }
  return out;
}
