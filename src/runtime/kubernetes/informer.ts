// A list+watch cache that keeps going. client-node's informer re-watches after its 30 s client-side
// timeout and re-lists on 410 Gone, but any other error (apiserver restarting: "fetch failed",
// ECONNREFUSED; 401/403; 5xx) stops it for good. Here an error replaces it with a fresh informer
// (a fresh LIST) after a back-off of 0.5 s doubling to 30 s, reset once a LIST succeeds.
import * as k8s from '@kubernetes/client-node';
import { apiMessage } from './client.ts';

export interface WatchedOptions<T extends k8s.KubernetesObject> {
  kc: k8s.KubeConfig;
  /** Watch path, e.g. /api/v1/pods or /apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers. */
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  /** Called on add/update/delete (after the cache changed). */
  onChange?: (verb: 'add' | 'update' | 'delete', obj: T) => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  name: string;
  /**
   * Applied to every object before it is cached (LIST items and watch events), e.g. dropping
   * metadata.managedFields the controller never reads (kube-controller-manager's informers drop
   * them too): most of a cached pod's size.
   */
  transform?: (obj: T) => T;
}

/** Drop metadata.managedFields (in place): what the caches of pods and workloads do not need. */
export function stripManagedFields<T extends k8s.KubernetesObject>(obj: T): T {
  if (obj?.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export class Watched<T extends k8s.KubernetesObject> {
  private informer: (k8s.Informer<T> & k8s.ObjectCache<T>) | undefined;
  private stopped = true;
  private backoffMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  /** True once the first LIST after (re)start succeeded and no error has happened since. */
  healthy = false;
  /** Number of LISTs done (first start + restarts). */
  lists = 0;
  restarts = 0;
  lastError: string | undefined;
  private readonly synced: { promise: Promise<void>; resolve: () => void };
  private readonly opts: WatchedOptions<T>;

  constructor(opts: WatchedOptions<T>) {
    this.opts = opts;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    this.synced = { promise, resolve };
  }

  /** Resolves after the first successful LIST. */
  whenSynced(): Promise<void> { return this.synced.promise; }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.launch();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const inf = this.informer;
    this.informer = undefined;
    this.generation++;
    if (inf) void inf.stop().catch(() => {});
  }

  list(namespace?: string): readonly T[] {
    return this.informer?.list(namespace) ?? [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer?.get(name, namespace);
  }

  private launch(): void {
    const gen = ++this.generation;
    const o = this.opts;
    const prev = this.informer;
    let listed = false;
    const tf = o.transform;
    const listFn = async () => {
      const l = await o.list();
      this.lists++;
      listed = true;
      if (tf && Array.isArray(l.items)) l.items = l.items.map(tf);
      return l;
    };
    const watch = new k8s.Watch(o.kc);
    if (tf) {
      const inner = watch.watch.bind(watch);
      watch.watch = (path, query, callback, done) => inner(path, query, (phase, obj, raw) => callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? tf(obj) : obj, raw), done);
    }
    const inf = new k8s.ListWatch<T>(o.path, watch, listFn, false, o.labelSelector);
    const fire = (verb: 'add' | 'update' | 'delete') => (obj: T) => { if (gen === this.generation) o.onChange?.(verb, obj); };
    inf.on('add', fire('add'));
    inf.on('update', fire('update'));
    inf.on('delete', fire('delete'));
    inf.on('error', (err: unknown) => {
      if (gen !== this.generation || this.stopped) return;
      this.healthy = false;
      this.lastError = apiMessage(err);
      this.backoffMs = Math.min(this.backoffMs ? this.backoffMs * 2 : 500, 30_000);
      o.log?.(`${o.name} informer stopped: ${this.lastError}; restarting in ${this.backoffMs} ms`, { informer: o.name, error: this.lastError, backoffMs: this.backoffMs });
      this.timer = setTimeout(() => { this.timer = undefined; if (!this.stopped) { this.restarts++; this.launch(); } }, this.backoffMs);
    });
    inf.start().then(() => {
      if (gen !== this.generation) return;
      if (!listed) return;
      // the new cache is complete: swap it in (the old one served reads meanwhile)
      this.informer = inf;
      if (prev && prev !== inf) void prev.stop().catch(() => {});
      this.healthy = true;
      this.backoffMs = 0;
      this.lastError = undefined;
      this.synced.resolve();
    }, () => { /* reported through 'error' */ });
    if (!this.informer) this.informer = inf;
  }
}
