// Who claims which scale target, across kinds: HPAs (fed by the controller's HPA informer),
// ScaledObjects (fed by whatever watches them: `claims.replaceKind('ScaledObject', …)`), and any
// other autoscaler kind a shell knows of. Two uses:
//
//  1. AmbiguousSelector exactly as kube-controller-manager computes it (validateAndParseSelector +
//     hpasControllingPodsUnderSelector): the pods listed by this HPA's target selector, then every
//     HPA of the namespace whose (last seen) target selector matches one of those pods. An HPA's
//     selector is known once it has been synced (upstream registers it in the same place); KEDA's
//     ScaledObjects count under the name of the HPA KEDA would generate for them (keda-hpa-NAME), as
//     upstream sees that HPA. More than one: ScalingActive=False, AmbiguousSelector, no scaling.
//  2. Claims across kinds: two autoscalers whose scaleTargetRef names the same object (same
//     namespace, API group, kind and name) — two HPAs, an HPA and a ScaledObject — even when no pod
//     exists yet (where upstream's selector check sees nothing). Tide acts on neither; a condition
//     and an Event name the other claimant.
// A ScaledObject and the HPA KEDA generated for it (owned by it) are one claim, not two.
import { parseSelector, selectorMatchesLabels } from './client.ts';

export interface ScaleTargetRefLike { apiVersion?: string; kind: string; name: string }

export interface Claimant {
  /** 'HorizontalPodAutoscaler', 'ScaledObject', … */
  kind: string;
  namespace: string;
  name: string;
  scaleTargetRef: ScaleTargetRefLike;
  /** The target's pod selector (scale status.selector string form), once known. */
  selector?: string;
  /** The object that owns this one (KEDA's generated HPA → its ScaledObject). */
  ownedBy?: { kind: string; name: string };
}

type Reqs = ReturnType<typeof parseSelector>;

const groupOf = (apiVersion: string | undefined): string => {
  const v = apiVersion ?? 'apps/v1';
  const i = v.indexOf('/');
  return i < 0 ? '' : v.slice(0, i);
};

/** namespace/group/Kind/name of a target: the version does not matter (one object, several versions). */
export function targetKey(namespace: string, ref: ScaleTargetRefLike): string {
  return `${namespace}/${groupOf(ref.apiVersion)}/${ref.kind}/${ref.name}`;
}

const claimKey = (kind: string, namespace: string, name: string) => `${kind}|${namespace}|${name}`;

/** How upstream's HPA controller names a claimant in AmbiguousSelector (KEDA's generated HPA for a ScaledObject). */
export function hpaNameOf(c: Pick<Claimant, 'kind' | 'namespace' | 'name'>): string {
  return c.kind === 'ScaledObject' ? `${c.namespace}/keda-hpa-${c.name}` : `${c.namespace}/${c.name}`;
}

export function describeClaimant(c: Pick<Claimant, 'kind' | 'namespace' | 'name'>): string {
  return `${c.kind} ${c.namespace}/${c.name}`;
}

export class ClaimRegistry {
  private readonly byKey = new Map<string, Claimant & { reqs?: Reqs }>();
  private readonly byTarget = new Map<string, Set<string>>();

  /** Add or replace one claimant (its selector is kept when the new one has none: it is learnt at sync). */
  upsert(c: Claimant): void {
    const k = claimKey(c.kind, c.namespace, c.name);
    const prev = this.byKey.get(k);
    if (prev) this.unindex(k, prev);
    const sel = c.selector ?? (prev && targetKey(prev.namespace, prev.scaleTargetRef) === targetKey(c.namespace, c.scaleTargetRef) ? prev.selector : undefined);
    const entry: Claimant & { reqs?: Reqs } = { ...c };
    if (sel !== undefined) {
      entry.selector = sel;
      try { entry.reqs = parseSelector(sel); } catch { /* an unparsable selector matches nothing */ }
    } else delete entry.selector;
    this.byKey.set(k, entry);
    const t = targetKey(c.namespace, c.scaleTargetRef);
    let s = this.byTarget.get(t);
    if (!s) { s = new Set(); this.byTarget.set(t, s); }
    s.add(k);
  }

  remove(kind: string, namespace: string, name: string): void {
    const k = claimKey(kind, namespace, name);
    const prev = this.byKey.get(k);
    if (!prev) return;
    this.unindex(k, prev);
    this.byKey.delete(k);
  }

  /** Replace every claimant of one kind (a re-list of that kind's informer). */
  replaceKind(kind: string, claimants: readonly Claimant[]): void {
    const keep = new Set(claimants.map((c) => claimKey(c.kind, c.namespace, c.name)));
    for (const [k, c] of [...this.byKey]) if (c.kind === kind && !keep.has(k)) this.remove(c.kind, c.namespace, c.name);
    for (const c of claimants) this.upsert(c);
  }

  /** The target's pod selector, learnt from its /scale at sync. */
  setSelector(kind: string, namespace: string, name: string, selector: string | undefined): void {
    const c = this.byKey.get(claimKey(kind, namespace, name));
    if (!c || c.selector === selector) return;
    if (selector === undefined) { delete c.selector; delete c.reqs; return; }
    c.selector = selector;
    try { c.reqs = parseSelector(selector); } catch { delete c.reqs; }
  }

  get(kind: string, namespace: string, name: string): Claimant | undefined {
    return this.byKey.get(claimKey(kind, namespace, name));
  }

  get size(): number { return this.byKey.size; }

  /** Other autoscalers whose scaleTargetRef names the same object as this one's (sorted by kind, name). */
  otherClaimants(kind: string, namespace: string, name: string): Claimant[] {
    const me = this.byKey.get(claimKey(kind, namespace, name));
    if (!me) return [];
    const out: Claimant[] = [];
    for (const k of this.byTarget.get(targetKey(me.namespace, me.scaleTargetRef)) ?? []) {
      const o = this.byKey.get(k)!;
      if (o === me || sameClaim(me, o)) continue;
      out.push(o);
    }
    return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  }

  /**
   * Upstream's hpasControllingPodsUnderSelector for the pods this claimant's selector lists: the HPA
   * names (namespace/name) of every claimant of the namespace whose selector matches one of them,
   * sorted. `pods` are the pods of the namespace the claimant's selector matched.
   */
  selectingHpas(namespace: string, pods: readonly { labels?: Record<string, string> }[]): string[] {
    if (pods.length === 0) return [];
    const names = new Set<string>();
    const all = [...this.byKey.values()].filter((c) => c.namespace === namespace);
    // a ScaledObject whose generated HPA is known counts once, as that HPA
    const owned = new Set(all.filter((c) => c.ownedBy?.kind === 'ScaledObject').map((c) => c.ownedBy!.name));
    const cands = all.filter((c) => c.reqs && !(c.kind === 'ScaledObject' && owned.has(c.name)));
    for (const p of pods) {
      for (const c of cands) {
        if (selectorMatchesLabels(c.reqs!, p.labels)) names.add(hpaNameOf(c));
      }
    }
    return [...names].sort();
  }

  private unindex(k: string, c: Claimant): void {
    const t = targetKey(c.namespace, c.scaleTargetRef);
    const s = this.byTarget.get(t);
    s?.delete(k);
    if (s && s.size === 0) this.byTarget.delete(t);
  }
}

function sameClaim(a: Claimant, b: Claimant): boolean {
  return (a.ownedBy !== undefined && a.ownedBy.kind === b.kind && a.ownedBy.name === b.name)
    || (b.ownedBy !== undefined && b.ownedBy.kind === a.kind && b.ownedBy.name === a.name);
}

/** An HPA object as a claimant (its KEDA owner, when it is the HPA of a ScaledObject). */
export function hpaClaimant(hpa: { metadata?: { namespace?: string; name?: string; ownerReferences?: { kind?: string; name?: string; apiVersion?: string }[] }; spec?: { scaleTargetRef?: ScaleTargetRefLike } }): Claimant | undefined {
  const ns = hpa.metadata?.namespace;
  const name = hpa.metadata?.name;
  const ref = hpa.spec?.scaleTargetRef;
  if (!ns || !name || !ref?.kind || !ref.name) return undefined;
  const owner = hpa.metadata?.ownerReferences?.find((o) => o.kind === 'ScaledObject' && (o.apiVersion ?? '').startsWith('keda.sh/'));
  return {
    kind: 'HorizontalPodAutoscaler', namespace: ns, name,
    scaleTargetRef: { ...(ref.apiVersion ? { apiVersion: ref.apiVersion } : {}), kind: ref.kind, name: ref.name },
    ...(owner?.name ? { ownedBy: { kind: 'ScaledObject', name: owner.name } } : {}),
  };
}

/** The condition/event reason when another autoscaler claims the same target (Tide's, not upstream's). */
export const CONFLICTING_AUTOSCALER = 'ConflictingAutoscaler';

/** Message naming the other claimant(s). */
export function conflictMessage(ref: ScaleTargetRefLike, others: readonly Claimant[]): string {
  return `${ref.kind}/${ref.name} is also the scale target of ${others.map(describeClaimant).join(', ')}: Tide does not act on a target claimed by more than one autoscaler`;
}
