// Leader election for `tide controller` replicas on a coordination.k8s.io/v1 Lease, with client-go's
// semantics (k8s.io/client-go/tools/leaderelection, as kube-controller-manager runs it):
//   - a candidate acquires the Lease when it is unheld or when its record has not changed for
//     leaseDuration as measured on the candidate's OWN clock since it last saw the record change
//     (no comparison of timestamps written by another machine, so clock skew does not matter);
//   - every write is an update with the resourceVersion just read (optimistic concurrency: of two
//     candidates racing for the same record exactly one wins, the other gets 409);
//   - the leader renews every retryPeriod; when it has not renewed for renewDeadline it stops
//     leading. renewDeadline < leaseDuration, so a leader that cannot reach the apiserver has
//     stopped acting before anyone else may acquire the Lease.
// Unlike kube-controller-manager (which exits when it loses the Lease), a Tide replica that loses it
// becomes a warm standby again (informers stay synced) and may be elected later.
// `isLeader()` is the actuation gate: it is false as soon as renewDeadline has passed since the last
// successful renew, even when the renew loop itself is stuck (a hung request, a blocked event loop).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { apiCode, apiMessage } from './client.ts';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions: number;
}

export interface LeaseRead { record: LeaseRecord; resourceVersion: string }

/** The Lease object as the elector needs it; errors with HTTP status 404 / 409 as the apiserver gives. */
export interface LeaseStore {
  /** The Lease, or null when it does not exist. */
  get(): Promise<LeaseRead | null>;
  /** Create it; rejects (409) when it exists. */
  create(r: LeaseRecord): Promise<string>;
  /** Replace it if its resourceVersion is still `rv`; rejects (409) otherwise. */
  update(r: LeaseRecord, rv: string): Promise<string>;
  /** What the store is, for logs: "tide-system/tide-controller". */
  readonly description: string;
}

export interface LeaderClock {
  /** Monotonic milliseconds (durations only). */
  mono(): number;
  /** Wall-clock epoch ms (what goes into the Lease's acquireTime / renewTime). */
  wall(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export const systemLeaderClock: LeaderClock = {
  mono: () => performance.now(),
  wall: () => Date.now(),
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return t; },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LeaderElectionOptions {
  store: LeaseStore;
  /** Unique per replica; default hostname + "_" + a random UUID (as kube-controller-manager). */
  identity?: string;
  /** --leader-elect-lease-duration (client-go default 15 s). */
  leaseDurationMs?: number;
  /** --leader-elect-renew-deadline (10 s). */
  renewDeadlineMs?: number;
  /** --leader-elect-retry-period (2 s). */
  retryPeriodMs?: number;
  clock?: LeaderClock;
  /** Jitter factor on retries while not leading (client-go JitterFactor 1.2); tests pass a fixed function. */
  random?: () => number;
  onStartedLeading?: () => void;
  onStoppedLeading?: (why: string) => void;
  /** The holder changed (another replica, or this one). */
  onNewLeader?: (identity: string) => void;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

/** Check the three durations as client-go's NewLeaderElector does; returns the problems. */
export function validateLeaderTimings(leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number): string[] {
  const out: string[] = [];
  if (leaseDurationMs <= renewDeadlineMs) out.push('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  if (renewDeadlineMs <= 1.2 * retryPeriodMs) out.push('--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period');
  if (leaseDurationMs < 1000 || renewDeadlineMs < 1 || retryPeriodMs < 1) out.push('lease duration must be at least 1s, renew deadline and retry period positive');
  return out;
}

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly o: LeaderElectionOptions;
  private readonly clock: LeaderClock;
  private leading = false;
  /** mono() of the last successful acquire/renew while leading. */
  private lastRenewMono = -Infinity;
  private observed: { key: string; record: LeaseRecord; rv: string } | undefined;
  /** mono() when the observed record last changed. */
  private observedMono = -Infinity;
  /** wall() when the observed record last changed while another replica held it (its last sign of life). */
  private foreignSeenWall: number | undefined;
  private timer: unknown;
  private deadlineTimer: unknown;
  private running = false;
  private busy: Promise<void> | undefined;
  private knownLeader: string | undefined;
  /** Acquisitions by this replica (each one a new term). */
  terms = 0;
  /** mono() when this replica last became leader, and the wall time. */
  acquiredAtWall: number | undefined;

  constructor(o: LeaderElectionOptions) {
    this.o = o;
    this.clock = o.clock ?? systemLeaderClock;
    this.identity = o.identity ?? defaultIdentity();
    this.leaseDurationMs = o.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = o.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = o.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
    const bad = validateLeaderTimings(this.leaseDurationMs, this.renewDeadlineMs, this.retryPeriodMs);
    if (bad.length) throw new Error(bad.join('; '));
  }

  /** May this replica actuate now? (Holds the Lease and renewed it less than renewDeadline ago.) */
  isLeader(): boolean {
    if (!this.leading) return false;
    if (this.clock.mono() - this.lastRenewMono >= this.renewDeadlineMs) {
      this.lose(`could not renew the Lease ${this.o.store.description} for ${this.renewDeadlineMs} ms (renew deadline)`);
      return false;
    }
    return true;
  }

  /** The holder as last observed ('' when none). */
  get leader(): string { return this.observed?.record.holderIdentity ?? ''; }

  /**
   * The newest moment the previous holder is known to have been able to act (epoch ms): the wall time
   * its record last changed as seen here, plus the renew deadline (it stops acting by then). Undefined
   * when this replica never saw another holder renew.
   */
  previousHolderActiveUntil(): number | undefined {
    return this.foreignSeenWall === undefined ? undefined : this.foreignSeenWall + this.renewDeadlineMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stop campaigning; a leader releases the Lease (holder '' and 1 s duration, as client-go's ReleaseOnCancel) so a standby takes over at once. */
  async stop(release = true): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.busy;
    const was = this.leading && this.isLeader();
    this.lose('stopping');
    if (release && was && this.observed) {
      const r = this.observed.record;
      try {
        await this.o.store.update({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: r.leaseTransitions, acquireTime: this.clock.wall(), renewTime: this.clock.wall() }, this.observed.rv);
        this.o.log?.('info', `released the Lease ${this.o.store.description}`);
      } catch (e) {
        this.o.log?.('warn', `could not release the Lease ${this.o.store.description}: ${apiMessage(e)}`);
      }
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => { this.timer = undefined; this.busy = this.tick(); }, ms);
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (e) {
      this.o.log?.(this.leading ? 'warn' : 'info', `${this.leading ? 'renewing' : 'acquiring'} the Lease ${this.o.store.description} failed: ${apiMessage(e)}`);
    }
    if (!this.running) return;
    const now = this.clock.mono();
    if (ok) {
      this.lastRenewMono = now;
      if (!this.leading) {
        this.leading = true;
        this.terms++;
        this.acquiredAtWall = this.clock.wall();
        this.armDeadline();
        this.o.log?.('info', `became leader (Lease ${this.o.store.description})`, { identity: this.identity });
        this.o.onStartedLeading?.();
      } else this.armDeadline();
    } else if (this.leading) {
      // renew failed: still leading until the deadline (isLeader checks it too)
      if (now - this.lastRenewMono >= this.renewDeadlineMs) this.lose(`could not renew the Lease ${this.o.store.description} within the renew deadline (${this.renewDeadlineMs} ms)`);
    }
    // leaders renew every retryPeriod; candidates retry with jitter (client-go: JitterUntil retryPeriod, 1.2)
    const jitter = this.leading ? 1 : 1 + 1.2 * (this.o.random ?? Math.random)();
    this.schedule(this.retryPeriodMs * jitter);
  }

  private armDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    // fires even when the renew request hangs: stop acting at the deadline, not at the next tick
    this.deadlineTimer = this.clock.setTimeout(() => { this.deadlineTimer = undefined; this.isLeader(); }, this.renewDeadlineMs);
  }

  private lose(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    if (this.deadlineTimer !== undefined) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.o.log?.('warn', `stopped leading: ${why}`, { identity: this.identity });
    this.o.onStoppedLeading?.(why);
  }

  private observe(read: LeaseRead): void {
    const key = JSON.stringify(read.record);
    if (!this.observed || this.observed.key !== key) {
      this.observedMono = this.clock.mono();
      const h = read.record.holderIdentity;
      if (h && h !== this.identity) this.foreignSeenWall = this.clock.wall();
      if (h !== this.knownLeader) {
        this.knownLeader = h;
        if (h) this.o.onNewLeader?.(h);
      }
    }
    this.observed = { key, record: read.record, rv: read.resourceVersion };
  }

  /** One attempt (client-go tryAcquireOrRenew). True when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const wall = this.clock.wall();
    const mine = (prev: LeaseRecord | undefined): LeaseRecord => ({
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: prev && prev.holderIdentity === this.identity && prev.acquireTime !== undefined ? prev.acquireTime : wall,
      renewTime: wall,
      leaseTransitions: prev ? (prev.holderIdentity === this.identity ? prev.leaseTransitions : prev.leaseTransitions + 1) : 0,
    });
    const read = await this.o.store.get();
    if (!read) {
      const rec = mine(undefined);
      try {
        const rv = await this.o.store.create(rec);
        this.observe({ record: rec, resourceVersion: rv });
        return true;
      } catch (e) {
        if (apiCode(e) === 409) return false; // someone else created it first
        throw e;
      }
    }
    this.observe(read);
    const r = read.record;
    const heldByOther = r.holderIdentity !== '' && r.holderIdentity !== this.identity;
    // the holder's lease counts from when WE saw its record change, on our clock
    if (heldByOther && this.observedMono + this.leaseDurationMs > this.clock.mono()) return false;
    const next = mine(r);
    try {
      const rv = await this.o.store.update(next, read.resourceVersion);
      this.observe({ record: next, resourceVersion: rv });
      return true;
    } catch (e) {
      if (apiCode(e) === 409) return false; // lost a race: another replica wrote the record
      throw e;
    }
  }
}

const toMs = (t: unknown): number | undefined => {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(String(t));
  return Number.isNaN(ms) ? undefined : ms;
};

/** A Lease through coordination.k8s.io/v1 (needs get, create, update on leases in its namespace). */
export function kubernetesLeaseStore(kc: k8s.KubeConfig, namespace: string, name: string, count?: (verb: string) => void): LeaseStore {
  const api = kc.makeApiClient(k8s.CoordinationV1Api);
  const toSpec = (r: LeaseRecord): k8s.V1LeaseSpec => ({
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    leaseTransitions: r.leaseTransitions,
    ...(r.acquireTime !== undefined ? { acquireTime: new k8s.V1MicroTime(r.acquireTime) } : {}),
    ...(r.renewTime !== undefined ? { renewTime: new k8s.V1MicroTime(r.renewTime) } : {}),
  });
  return {
    description: `${namespace}/${name}`,
    async get() {
      count?.('get lease');
      try {
        const l = await api.readNamespacedLease({ namespace, name });
        const s = l.spec ?? {};
        const acquireTime = toMs(s.acquireTime);
        const renewTime = toMs(s.renewTime);
        return {
          record: {
            holderIdentity: s.holderIdentity ?? '',
            leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
            leaseTransitions: s.leaseTransitions ?? 0,
            ...(acquireTime !== undefined ? { acquireTime } : {}),
            ...(renewTime !== undefined ? { renewTime } : {}),
          },
          resourceVersion: l.metadata?.resourceVersion ?? '',
        };
      } catch (e) {
        if (apiCode(e) === 404) return null;
        throw e;
      }
    },
    async create(r) {
      count?.('create lease');
      const l = await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(r) } });
      return l.metadata?.resourceVersion ?? '';
    },
    async update(r, rv) {
      count?.('update lease');
      const l = await api.replaceNamespacedLease({ namespace, name, body: { metadata: { name, namespace, resourceVersion: rv }, spec: toSpec(r) } });
      return l.metadata?.resourceVersion ?? '';
    },
  };
}
