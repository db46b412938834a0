// The proxy's admission core (src/runtime/local/proxy-router.ts) in-process: a fake engine that records
// every send and every local answer, an observer that records every report, and fake time (setTimeout,
// clearTimeout and performance.now replaced for the length of one test) so request timeouts, cold
// placeholders, drain grace periods and graceful close run without any real waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  DONE, PLACEHOLDER_BODY, ProxyRouter, QUEUED, RoutedExchange, RoutedReplica, STREAMING, UPSTREAM,
} from '../../../src/runtime/local/proxy-router.ts';
import type { CloseOptions, ProxyOptions, RequestObserver } from '../../../src/runtime/local/proxy-types.ts';

// ---------------------------------------------------------------- fake time

interface Timer { at: number; seq: number; fn: (...a: unknown[]) => void; args: unknown[]; }

/** Node's timer semantics on a hand-driven clock: delays below 1 ms (or NaN) are 1 ms; ties fire in order. */
class FakeTime {
  now = 1000;
  private seq = 0;
  readonly pending = new Set<Timer>();
  private saved: { st: typeof setTimeout; ct: typeof clearTimeout; now: () => number } | null = null;
  install(): void {
    this.saved = { st: globalThis.setTimeout, ct: globalThis.clearTimeout, now: performance.now };
    const self = this;
    globalThis.setTimeout = function (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) {
      const d = typeof ms === 'number' && ms >= 1 ? ms : 1;
      const t: Timer = { at: self.now + d, seq: self.seq++, fn, args };
      self.pending.add(t);
      return t;
    } as unknown as typeof setTimeout;
    globalThis.clearTimeout = ((t: Timer | null | undefined) => { if (t) self.pending.delete(t); }) as typeof clearTimeout;
    performance.now = () => this.now;
  }
  uninstall(): void {
    if (!this.saved) return;
    globalThis.setTimeout = this.saved.st;
    globalThis.clearTimeout = this.saved.ct;
    delete (performance as { now?: unknown }).now;
    this.saved = null;
  }
  /** Move the clock forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: Timer | null = null;
      for (const t of this.pending) if (t.at <= end && (next === null || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === null) break;
      this.pending.delete(next);
      this.now = next.at;
      next.fn(...next.args);
    }
    this.now = end;
  }
  /** Advance 1 ms at a time, letting promises run in between (for async waits on fake timers). */
  async run(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      this.advance(1);
      await new Promise((r) => setImmediate(r));
    }
  }
}

function timed(name: string, fn: (time: FakeTime) => unknown): void {
  test(name, async () => {
    const time = new FakeTime();
    time.install();
    try {
      await fn(time);
    } finally {
      time.uninstall();
    }
  });
}

const settled = async <T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> => {
  let out: { done: boolean; value?: T } = { done: false };
  void p.then((value) => { out = { done: true, value }; });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return out;
};

// ---------------------------------------------------------------- fake engine

class X extends RoutedExchange<RoutedReplica> {
  readonly name: string;
  readonly method: string;
  answers: Array<{ status: number; body: string; retryAfter: string | null; contentType?: string; placeholder?: boolean }> = [];
  constructor(name: string, method = 'GET', hasBody = false) {
    super(performance.now(), hasBody);
    this.name = name;
    this.method = method;
  }
  get answered(): number | null {
    return this.answers.length ? this.answers[this.answers.length - 1].status : null;
  }
}

interface Report { status: number; latencyMs: number; queuedMs: number; coldStart: boolean; replica?: string; coldStartMs?: number }

class Obs implements RequestObserver {
  cold = 0;
  done: Report[] = [];
  acceptErrors: string[] = [];
  throws = false;
  onColdRequest(): void {
    this.cold++;
    if (this.throws) throw new Error('observer failure');
  }
  onRequestDone(info: Report): void {
    this.done.push(info);
    if (this.throws) throw new Error('observer failure');
  }
  onAcceptError(e: NodeJS.ErrnoException): void {
    this.acceptErrors.push(e.code ?? e.message);
    if (this.throws) throw new Error('observer failure');
  }
}

class Engine extends ProxyRouter<RoutedReplica, X> {
  protected readonly server = net.createServer();
  sent: string[] = [];
  removed: RoutedReplica[] = [];
  aborted: string[] = [];
  /** Fail every send synchronously (a replica whose connection is refused at once). */
  failOnSend = new Set<string>();
  constructor(opts: Partial<ProxyOptions>, observer?: RequestObserver) {
    super({ host: '127.0.0.1', port: 0, queueLimit: 100, requestTimeoutMs: 0, ...opts }, observer);
  }
  protected newReplica(id: string, host: string, port: number): RoutedReplica {
    return new RoutedReplica(id, host, port);
  }
  protected replicaRemoved(r: RoutedReplica): void {
    this.removed.push(r);
  }
  protected send(x: X, r: RoutedReplica): void {
    this.sent.push(`${x.name}>${r.id}`);
    if (this.failOnSend.has(r.id)) this.failedBeforeHead(x, r, x.method);
  }
  protected abortUpstream(x: X): void {
    this.aborted.push(x.name);
    this.release(x, x.replica!, false);
  }
  protected respondLocal(x: X, status: number, body: string, retryAfter: boolean): void {
    this.clearTimers(x);
    x.state = DONE;
    x.status = status;
    x.answers.push({ status, body, retryAfter: retryAfter ? this.retryAfter : null });
    this.report(x, true);
  }
  protected respondPlaceholder(x: X, status: number, body: string, contentType: string | undefined): void {
    this.clearTimers(x);
    x.state = DONE;
    x.status = status;
    x.answers.push({ status, body, retryAfter: this.retryAfter, contentType, placeholder: true });
    this.report(x, true);
  }
  close(opts: CloseOptions = {}): Promise<void> {
    return this.shutdown(opts.graceMs ?? 0);
  }
  private async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    if (graceMs > 0) await this.settle(graceMs);
    this.closed = true;
    this.flushQueue();
  }
  // test handles
  get isClosing(): boolean {
    return this.closing;
  }
  get busyCount(): number {
    return this.busy;
  }
  flush(): void {
    this.flushQueue();
  }
  request(x: X): X {
    this.admit(x);
    return x;
  }
  req(name: string, method = 'GET', hasBody = false): X {
    return this.request(new X(name, method, hasBody));
  }
  fail(x: X): void {
    this.failedBeforeHead(x, x.replica!, x.method);
  }
  head(x: X, status = 200): void {
    this.responseStarted(x, status);
  }
  /** Response headers, then the whole body: the slot is given back and the exchange reported. */
  finish(x: X, status = 200): void {
    const r = x.replica!;
    this.responseStarted(x, status);
    this.release(x, r, false);
    x.state = DONE;
    this.report(x, true);
  }
  /** The replica dies in the middle of the body (after the headers). */
  cut(x: X): void {
    this.release(x, x.replica!, true);
    x.state = DONE;
  }
  gone(x: X, finished = false): void {
    this.clientGone(x, finished);
  }
  releaseAgain(x: X, r: RoutedReplica, failed = false): void {
    this.release(x, r, failed);
  }
}

function engine(opts: Partial<ProxyOptions> = {}, ids = ['r0', 'r1'], observer?: RequestObserver): Engine {
  const p = new Engine(opts, observer);
  for (const id of ids) {
    p.addReplica(id, { host: '127.0.0.1', port: 1 });
    p.setReady(id, true);
  }
  return p;
}

const load = (p: Engine): Record<string, number> => Object.fromEntries(p.stats().replicas.map((r) => [r.id, r.inFlight]));
const where = (...xs: X[]): Array<string | undefined> => xs.map((x) => x.replica?.id);

// ---------------------------------------------------------------- states and records

test('exchange states are four distinct values; a new exchange is queued, cold-free, unrouted', () => {
  assert.equal(new Set([QUEUED, UPSTREAM, STREAMING, DONE]).size, 4);
  const x = new X('a');
  assert.equal(x.state, QUEUED);
  assert.equal(x.cold, false);
  assert.equal(x.retried, false);
  assert.equal(x.holding, false);
  assert.equal(x.dispatchedAt, 0);
  assert.equal(x.status, 0);
  assert.equal(x.replica, null);
  assert.equal(x.exclude, null);
  const r = new RoutedReplica('id', 'h', 7);
  assert.deepEqual([r.id, r.host, r.port, r.ready, r.draining, r.removed, r.inFlight, r.requestsTotal, r.errorsTotal], ['id', 'h', 7, false, false, false, 0, 0, 0]);
});

test('a new router is idle, not closing; stats count requests, in-flight and errors per replica', () => {
  const p = engine({}, ['r0', 'r1']);
  assert.equal(p.isClosing, false);
  assert.equal(p.busyCount, 0);
  const s0 = p.stats();
  assert.deepEqual([s0.queued, s0.inFlight, s0.requestsTotal], [0, 0, 0]);
  assert.equal(typeof s0.now, 'number');
  assert.ok(Math.abs(s0.now - Date.now()) < 60_000);
  assert.deepEqual(s0.replicas, [
    { id: 'r0', ready: true, draining: false, inFlight: 0, requestsTotal: 0, errorsTotal: 0 },
    { id: 'r1', ready: true, draining: false, inFlight: 0, requestsTotal: 0, errorsTotal: 0 },
  ]);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  assert.equal(p.busyCount, 3);
  assert.deepEqual([p.stats().inFlight, p.stats().requestsTotal], [3, 3]);
  p.fail(a); // retried on the other replica
  p.finish(b);
  const s = p.stats();
  assert.equal(s.requestsTotal, 3, 'a retry is not a new request');
  assert.equal(s.inFlight, 2);
  assert.equal(s.replicas.reduce((n, r) => n + r.requestsTotal, 0), 4, 'dispatches: a, b, c and a\'s retry');
  assert.equal(s.replicas.reduce((n, r) => n + r.errorsTotal, 0), 1);
  p.cut(c);
  assert.equal(p.stats().replicas.reduce((n, r) => n + r.errorsTotal, 0), 2, 'a cut mid-body counts as an error');
  assert.equal(p.stats().inFlight, 1);
});

test('addReplica refuses a duplicate id; a replica is unroutable until ready; removal forgets the id', () => {
  const p = new Engine({});
  p.addReplica('r0', { host: '10.0.0.1', port: 8080 });
  assert.throws(() => p.addReplica('r0', { host: '10.0.0.1', port: 8081 }), /already added/);
  const a = p.req('a');
  assert.equal(a.state, QUEUED, 'added but not ready');
  assert.deepEqual(p.sent, []);
  p.setReady('r0', true);
  assert.deepEqual(p.sent, ['a>r0']);
  assert.equal(a.replica!.host, '10.0.0.1');
  assert.equal(a.replica!.port, 8080);
  p.removeReplica('r0');
  assert.equal(p.removed.length, 1);
  assert.equal(p.removed[0].removed, true);
  assert.equal(p.removed[0].ready, false);
  assert.deepEqual(p.stats().replicas, []);
  p.addReplica('r0', { host: '10.0.0.2', port: 1 });
  assert.equal(p.stats().replicas.length, 1);
  p.removeReplica('nope');
  assert.equal(p.removed.length, 1, 'removing an unknown id does nothing');
});

// ---------------------------------------------------------------- routing

test('idle replicas first, round-robin from where the last pick started; then least outstanding', () => {
  const p = engine({}, ['r0', 'r1', 'r2']);
  const xs = ['a', 'b', 'c'].map((n) => p.req(n));
  assert.deepEqual(where(...xs), ['r0', 'r1', 'r2']);
  // all at 1: ties go round-robin (the scan starts one further each pick)
  const ys = ['d', 'e', 'f'].map((n) => p.req(n));
  assert.deepEqual(where(...ys), ['r0', 'r1', 'r2']);
  assert.deepEqual(load(p), { r0: 2, r1: 2, r2: 2 });
  // r1 drops to 1 outstanding: it gets the next one wherever the scan starts
  p.finish(ys[1]);
  assert.equal(p.req('g').replica!.id, 'r1');
  p.finish(xs[2]);
  p.finish(ys[2]); // r2 idle now; r0 2, r1 2
  assert.equal(p.req('h').replica!.id, 'r2');
  // least loaded even when it comes last in the scan and an earlier one is loaded
  const q = engine({}, ['r0', 'r1', 'r2']);
  const a = q.req('a'); // r0
  q.req('b'); // r1
  q.req('c'); // r2
  q.req('d'); // r0 (2)
  q.req('e'); // r1 (2)
  q.finish(a); // r0 1, r1 2, r2 1
  const f = q.req('f'); // scan starts at r2: r2 (1) beats r0 (1) on the tie, r1 (2) never
  assert.equal(f.replica!.id, 'r2');
  const g = q.req('g'); // r0 1, r1 2, r2 2: scan from r0 → r0
  assert.equal(g.replica!.id, 'r0');
  const h = q.req('h'); // all 2: scan from r1
  assert.equal(h.replica!.id, 'r1');
});

test('least outstanding: a loaded replica early in the scan loses to a lighter one later in it', () => {
  const p = engine({}, ['r0', 'r1', 'r2']);
  const r0a = p.req('a'), r1a = p.req('b'), r2a = p.req('c'); // 1,1,1
  const r0b = p.req('d'), r1b = p.req('e'), r2b = p.req('f'); // 2,2,2
  p.req('g'); p.req('h'); p.req('i'); // 3,3,3; next scan starts at r0
  p.finish(r2a); p.finish(r2b); // r2 at 1
  p.finish(r1a); // r1 at 2
  // r0 3, r1 2, r2 1: the scan starts at r0; the lightest (r2) is last
  assert.equal(p.req('j').replica!.id, 'r2');
  void r0a; void r0b; void r1b;
});

test('no replicas at all: requests wait, and round-robin is not advanced by picks over an empty list', () => {
  const obs = new Obs();
  const p = new Engine({}, obs);
  const a = p.req('a');
  assert.equal(a.state, QUEUED);
  assert.equal(obs.cold, 1);
  p.addReplica('r0', { host: 'h', port: 1 });
  p.addReplica('r1', { host: 'h', port: 1 });
  p.setReady('r0', true); // a → r0 (the only ready one)
  p.setReady('r1', true);
  assert.deepEqual(where(a), ['r0']);
  p.finish(a);
  // one pick so far over two replicas (the pump's): the next scan starts at r1
  assert.equal(p.req('b').replica!.id, 'r1');
  assert.equal(p.req('c').replica!.id, 'r0');
});

test('containerConcurrency caps in-flight per replica; 0, undefined and negative mean unlimited', () => {
  const one = engine({ containerConcurrency: 1 }, ['r0']);
  const a = one.req('a');
  const b = one.req('b');
  assert.equal(a.state, UPSTREAM);
  assert.equal(b.state, QUEUED);
  const two = engine({ containerConcurrency: 2 }, ['r0']);
  assert.deepEqual([two.req('a').state, two.req('b').state, two.req('c').state], [UPSTREAM, UPSTREAM, QUEUED]);
  for (const cc of [0, undefined, -1]) {
    const p = engine({ containerConcurrency: cc }, ['r0']);
    for (let i = 0; i < 5; i++) assert.equal(p.req(`x${i}`).state, UPSTREAM, `containerConcurrency ${cc}`);
  }
});

// ---------------------------------------------------------------- queue

test('the queue is FIFO; its limit answers 503 with Retry-After (default 1 s, or retryAfterSeconds, 0 included)', () => {
  const p = engine({ containerConcurrency: 1, queueLimit: 2 }, ['r0']);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  const d = p.req('d');
  assert.deepEqual([b.state, c.state], [QUEUED, QUEUED]);
  assert.deepEqual(d.answers, [{ status: 503, body: 'no capacity: proxy queue is full\n', retryAfter: '1' }]);
  assert.equal(p.stats().queued, 2);
  p.finish(a);
  assert.equal(b.state, UPSTREAM);
  p.finish(b);
  assert.equal(c.state, UPSTREAM);
  assert.deepEqual(p.sent, ['a>r0', 'b>r0', 'c>r0']);
  for (const [secs, want] of [[5, '5'], [0, '0']] as const) {
    const q = engine({ containerConcurrency: 1, queueLimit: 0, retryAfterSeconds: secs }, ['r0']);
    q.req('a');
    assert.equal(q.req('b').answers[0].retryAfter, want);
  }
});

test('a request arriving while others wait queues behind them even when a slot is free for it (arrival order)', () => {
  // a retry that excludes the only free replica stays at the head; a newcomer does not overtake it
  const p = engine({ containerConcurrency: 1 }, ['r0', 'r1']);
  const a = p.req('a'); // r0
  const b = p.req('b'); // r1
  p.fail(a); // r1 busy, r0 excluded: a waits at the head for r1
  assert.equal(a.state, QUEUED);
  assert.deepEqual(load(p), { r0: 0, r1: 1 });
  const c = p.req('c');
  assert.equal(c.state, QUEUED, 'c waits behind a although r0 is free');
  p.finish(b); // r1 free: a goes there; c takes r0 in the same pump
  assert.deepEqual(where(a, c), ['r1', 'r0']);
  assert.equal(p.stats().queued, 0);
});

test('queued requests that left the queue (timeout, client gone) are skipped; order holds across many', () => {
  const p = engine({ containerConcurrency: 1, queueLimit: 5000 }, ['r0']);
  const first = p.req('first');
  const xs: X[] = [];
  for (let i = 0; i < 3000; i++) xs.push(p.req(`q${i}`));
  // every third one goes away while it waits
  for (let i = 0; i < xs.length; i += 3) p.gone(xs[i]);
  assert.equal(p.stats().queued, 2000);
  p.finish(first);
  const served: string[] = [];
  let cur = xs.find((x) => x.state === UPSTREAM)!;
  while (cur) {
    served.push(cur.name);
    p.finish(cur);
    cur = xs.find((x) => x.state === UPSTREAM)!;
  }
  assert.deepEqual(served, xs.filter((_, i) => i % 3 !== 0).map((x) => x.name));
  assert.equal(p.stats().queued, 0);
  // and the queue works normally afterwards
  const y = p.req('y');
  const z = p.req('z');
  assert.equal(y.state, UPSTREAM);
  assert.equal(z.state, QUEUED);
  p.finish(y);
  assert.equal(z.state, UPSTREAM);
});

test('an emptied queue (all waiting requests gone or served) takes new requests in order again', () => {
  const p = engine({ containerConcurrency: 1 }, ['r0']);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  p.gone(b);
  p.gone(c);
  assert.equal(p.stats().queued, 0);
  const d = p.req('d');
  const e = p.req('e');
  p.finish(a);
  assert.deepEqual([d.state, e.state], [UPSTREAM, QUEUED]);
  p.finish(d);
  assert.equal(e.state, UPSTREAM);
  // served to empty, then again
  p.finish(e);
  const f = p.req('f');
  const g = p.req('g');
  p.finish(f);
  assert.equal(g.state, UPSTREAM);
  assert.deepEqual(p.sent, ['a>r0', 'd>r0', 'e>r0', 'f>r0', 'g>r0']);
});

// ---------------------------------------------------------------- failures and retries

test('GET, HEAD and OPTIONS without a body are retried once on another replica; others get 502 without Retry-After', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS']) {
    const p = engine({}, ['r0', 'r1']);
    const x = p.req('x', m);
    p.fail(x);
    assert.equal(x.state, UPSTREAM, m);
    assert.deepEqual(p.sent, ['x>r0', 'x>r1'], m);
    p.fail(x);
    assert.deepEqual(x.answers, [{ status: 502, body: 'bad gateway: the replica failed before answering\n', retryAfter: null }], `${m}: once only`);
  }
  for (const [m, body] of [['POST', false], ['PUT', false], ['DELETE', false], ['GET', true]] as const) {
    const p = engine({}, ['r0', 'r1']);
    const x = p.req('x', m, body);
    p.fail(x);
    assert.equal(x.answered, 502, `${m} body=${body}`);
    assert.deepEqual(p.sent, ['x>r0']);
  }
  const off = engine({ retryIdempotent: false }, ['r0', 'r1']);
  const x = off.req('x');
  off.fail(x);
  assert.equal(x.answered, 502);
  const on = engine({ retryIdempotent: true }, ['r0', 'r1']);
  const y = on.req('y');
  on.fail(y);
  assert.equal(y.state, UPSTREAM);
});

timed('a retry needs another ready, non-draining replica: with none, 502 at once; a busy one is waited for at the front', () => {
  const single = engine({}, ['r0']);
  const a = single.req('a');
  single.fail(a);
  assert.equal(a.answered, 502, 'the only replica failed');
  assert.equal(single.stats().queued, 0);
  const notReady = engine({}, ['r0']);
  notReady.addReplica('r1', { host: 'h', port: 1 });
  const b = notReady.req('b');
  notReady.fail(b);
  assert.equal(b.answered, 502, 'the other one is not ready');
  const draining = engine({ containerConcurrency: 1 }, ['r0', 'r1']);
  const c = draining.req('c'); // r0
  const c2 = draining.req('c2'); // r1
  void draining.drain('r1', 60_000);
  draining.fail(c);
  assert.equal(c.answered, 502, 'the other one is draining');
  void c2;
  const busy = engine({ containerConcurrency: 1 }, ['r0', 'r1']);
  const d = busy.req('d'); // r0
  const e = busy.req('e'); // r1
  const f = busy.req('f'); // queued
  busy.fail(d);
  assert.equal(f.state, UPSTREAM, 'f gets r0 (it was first in line)');
  assert.equal(f.replica!.id, 'r0');
  assert.equal(d.state, QUEUED, 'd waits for r1, at the front');
  const g = busy.req('g');
  busy.finish(f); // r0 free: d excludes r0 and stays first, g behind it waits too
  assert.deepEqual([d.state, g.state], [QUEUED, QUEUED]);
  busy.finish(e); // r1 free: d goes there, then g takes r0
  assert.deepEqual(where(d, g), ['r1', 'r0']);
});

test('a retry goes in front of requests that were already waiting, also after the queue head has moved', () => {
  const p = engine({ containerConcurrency: 1 }, ['r0', 'r1', 'r2']);
  const a = p.req('a'); // r0
  const b = p.req('b'); // r1
  const c = p.req('c'); // r2
  const w = ['w1', 'w2', 'w3', 'w4'].map((n) => p.req(n));
  p.finish(c); // w1 → r2; the queue head moves past w1
  assert.equal(w[0].replica!.id, 'r2');
  p.fail(a); // r0 free → w2 takes it; a retries at the front (excludes r0)
  assert.equal(w[1].replica!.id, 'r0');
  assert.equal(a.state, QUEUED);
  assert.equal(p.stats().queued, 3);
  p.finish(b); // r1 free → a (front)
  assert.equal(a.replica!.id, 'r1');
  p.finish(w[0]); // r2 → w3
  p.finish(w[1]); // r0 → w4
  assert.deepEqual(where(...w), ['r2', 'r0', 'r2', 'r0']);
  assert.equal(p.stats().queued, 0);
  // a retry into an empty queue head (nothing dispatched from it yet)
  const q = engine({ containerConcurrency: 1 }, ['r0', 'r1']);
  const x = q.req('x'); // r0
  const y = q.req('y'); // r1
  const z = q.req('z');
  q.fail(y); // r1 free → z; y waits for r0 at the front
  assert.equal(z.replica!.id, 'r1');
  const v = q.req('v');
  q.finish(x);
  assert.deepEqual([y.replica!.id, v.state], ['r0', QUEUED]);
});

test('a retry at the front is refused 503 when the queue is full (never past queueLimit)', () => {
  const p = engine({ containerConcurrency: 1, queueLimit: 1 }, ['r0', 'r1']);
  const a = p.req('a');
  p.req('b');
  const c = p.req('c');
  p.fail(a); // r0 → c, a queued at the front (1 of 1)
  assert.equal(a.state, QUEUED);
  p.fail(c); // c's retry would be the second queued: 503
  assert.deepEqual(c.answers, [{ status: 503, body: 'no capacity: proxy queue is full\n', retryAfter: '1' }]);
  assert.equal(p.stats().queued, 1);
});

test('a replica refusing at once: the retry goes straight to another, and no retry happens after close', async () => {
  const p = engine({}, ['r0', 'r1']);
  p.failOnSend.add('r0');
  const x = p.req('x');
  assert.deepEqual(p.sent, ['x>r0', 'x>r1']);
  assert.equal(x.state, UPSTREAM);
  assert.deepEqual(load(p), { r0: 0, r1: 1 });
  const q = engine({}, ['r0', 'r1']);
  const y = q.req('y');
  await q.close();
  q.fail(y);
  assert.equal(y.answered, 502, 'no retry once closed');
  assert.deepEqual(q.sent, ['y>r0']);
});

test('a slot is given back exactly once per dispatch', () => {
  const p = engine({ containerConcurrency: 1 }, ['r0']);
  const a = p.req('a');
  const r0 = a.replica!;
  p.fail(a); // 502, slot back
  assert.equal(p.stats().inFlight, 0);
  p.releaseAgain(a, r0, true);
  assert.deepEqual([p.stats().inFlight, p.stats().replicas[0].inFlight, p.stats().replicas[0].errorsTotal], [0, 0, 1]);
  const b = p.req('b');
  const c = p.req('c');
  p.releaseAgain(b, new RoutedReplica('other', 'h', 1));
  assert.equal(p.stats().inFlight, 1, 'not the replica it holds');
  assert.equal(c.state, QUEUED);
  p.finish(b);
  assert.equal(c.state, UPSTREAM);
  p.releaseAgain(b, r0);
  assert.equal(p.stats().inFlight, 1);
  assert.equal(p.stats().replicas[0].errorsTotal, 1);
});

// ---------------------------------------------------------------- cold starts

test('cold: a request with no ready replica is held, the first of each cold episode pokes the observer once', () => {
  const obs = new Obs();
  const p = new Engine({}, obs);
  p.addReplica('r0', { host: 'h', port: 1 });
  const a = p.req('a');
  const b = p.req('b');
  assert.equal(obs.cold, 1, 'one poke per episode');
  assert.deepEqual([a.cold, b.cold], [true, true]);
  p.setReady('r0', true);
  assert.deepEqual(where(a, b), ['r0', 'r0']);
  p.finish(a);
  p.finish(b);
  assert.deepEqual(obs.done.map((d) => d.coldStart), [true, true]);
  // warm and busy is not cold
  const c = engine({ containerConcurrency: 1 }, ['r0'], obs);
  c.req('x');
  const y = c.req('y');
  assert.equal(y.cold, false);
  assert.equal(obs.cold, 1);
  // a new episode after the replica went away
  p.setReady('r0', false);
  const d = p.req('d');
  assert.equal(d.cold, true);
  assert.equal(obs.cold, 2);
  p.setReady('r0', true);
  assert.equal(d.state, UPSTREAM);
  p.finish(d);
  assert.deepEqual(obs.done.at(-1)!.coldStart, true);
});

test('cold: a failing observer does not break the request path; a cold retry does not poke again', () => {
  const obs = new Obs();
  obs.throws = true;
  const p = new Engine({}, obs);
  p.addReplica('r0', { host: 'h', port: 1 });
  const a = p.req('a');
  assert.equal(a.state, QUEUED);
  p.setReady('r0', true);
  assert.equal(a.state, UPSTREAM);
  p.finish(a);
  assert.equal(a.state, DONE);
  const plain = new Engine({});
  plain.addReplica('r0', { host: 'h', port: 1 });
  assert.equal(plain.req('x').state, QUEUED, 'no observer at all');
});

test('cold detection counts ready replicas right through repeated, draining and removed ones', () => {
  const obs = new Obs();
  const p = engine({}, ['r0'], obs);
  p.setReady('r0', true); // again: no double count
  p.setReady('nope', true);
  p.setReady('r0', false);
  const a = p.req('a');
  assert.deepEqual([a.cold, obs.cold], [true, 1], 'r0 was counted once');
  p.setReady('r0', true);
  p.finish(a);
  // drained, then unready: not counted down twice
  void p.drain('r0', 0);
  p.setReady('r0', false);
  p.addReplica('r1', { host: 'h', port: 1 });
  const b = p.req('b');
  assert.deepEqual([b.cold, obs.cold], [true, 2]);
  p.setReady('r1', true);
  p.finish(b);
  // a draining replica that becomes ready again does not count either
  p.setReady('r0', true);
  p.setReady('r1', false);
  const c = p.req('c');
  assert.deepEqual([c.cold, obs.cold], [true, 3]);
  p.setReady('r1', true);
  p.finish(c);
  // removal of a ready replica counts it down; of a draining one, not again
  const q = engine({}, ['r0', 'r1'], obs);
  void q.drain('r1', 0);
  q.removeReplica('r1');
  q.removeReplica('r0');
  q.addReplica('r2', { host: 'h', port: 1 });
  const d = q.req('d');
  assert.deepEqual([d.cold, obs.cold], [true, 4]);
  q.setReady('r2', true);
  const e = q.req('e');
  assert.equal(e.cold, false);
});

timed('cold placeholder: after afterMs a held request gets the placeholder (503 and the default body unless set)', (time) => {
  const p = new Engine({ coldPlaceholder: { afterMs: 50 } });
  p.addReplica('r0', { host: 'h', port: 1 });
  const a = p.req('a');
  time.advance(49);
  assert.equal(a.state, QUEUED);
  time.advance(1);
  assert.deepEqual(a.answers, [{ status: 503, body: PLACEHOLDER_BODY, retryAfter: '1', contentType: undefined, placeholder: true }]);
  assert.equal(p.stats().queued, 0);
  const q = new Engine({ coldPlaceholder: { afterMs: 10, status: 200, body: 'hold on', contentType: 'text/html' } });
  q.addReplica('r0', { host: 'h', port: 1 });
  const b = q.req('b');
  time.advance(10);
  assert.deepEqual(b.answers, [{ status: 200, body: 'hold on', retryAfter: '1', contentType: 'text/html', placeholder: true }]);
  assert.equal(time.pending.size, 0);
});

timed('cold placeholder: not for warm requests that wait for a busy replica, not once dispatched, no timer left', (time) => {
  const p = engine({ containerConcurrency: 1, coldPlaceholder: { afterMs: 10 } }, ['r0']);
  p.req('a');
  const b = p.req('b');
  assert.equal(time.pending.size, 0, 'no placeholder timer for a warm request');
  time.advance(100);
  assert.equal(b.state, QUEUED);
  const q = new Engine({ coldPlaceholder: { afterMs: 10 } });
  q.addReplica('r0', { host: 'h', port: 1 });
  const c = q.req('c');
  assert.equal(time.pending.size, 1);
  time.advance(5);
  q.setReady('r0', true);
  assert.equal(c.state, UPSTREAM);
  assert.equal(time.pending.size, 0, 'the placeholder timer is stopped at dispatch');
  time.advance(100);
  assert.deepEqual(c.answers, []);
  // placeholder() on an exchange that is not queued does nothing
  q.placeholder(c);
  assert.deepEqual([c.state, c.answers.length], [UPSTREAM, 0]);
  // without a placeholder configured, a cold request just waits
  const w = new Engine({});
  w.addReplica('r0', { host: 'h', port: 1 });
  const d = w.req('d');
  time.advance(1e6);
  assert.equal(d.state, QUEUED);
});

// ---------------------------------------------------------------- timeouts

timed('request timeout: 504 while queued (no replica) or upstream (aborted, slot freed); none when 0 or after headers', (time) => {
  const p = engine({ containerConcurrency: 1, requestTimeoutMs: 100 }, ['r0']);
  const a = p.req('a');
  time.advance(50);
  const b = p.req('b');
  time.advance(50);
  assert.deepEqual(a.answers, [{ status: 504, body: 'gateway timeout: the replica did not answer in time\n', retryAfter: null }]);
  assert.deepEqual(p.aborted, ['a']);
  assert.equal(b.state, UPSTREAM, 'a\'s slot went to b');
  time.advance(49);
  assert.equal(b.state, UPSTREAM);
  time.advance(1);
  assert.equal(b.answered, 504, 'b timed out 100 ms after its arrival, queue wait included');
  // queued the whole time (no replica ready): 504 from the queue
  const cold = new Engine({ requestTimeoutMs: 100 });
  cold.addReplica('r0', { host: 'h', port: 1 });
  const c = cold.req('c');
  time.advance(50);
  const d = cold.req('d');
  time.advance(50);
  assert.deepEqual(c.answers, [{ status: 504, body: 'gateway timeout: no replica answered in time\n', retryAfter: null }]);
  assert.equal(d.state, QUEUED);
  assert.equal(cold.stats().queued, 1);
  time.advance(50);
  assert.equal(d.answered, 504);
  assert.deepEqual([cold.stats().queued, cold.aborted.length], [0, 0]);
  assert.equal(p.stats().inFlight, 0);
  // headers in time: the timeout is off
  const e = p.req('e');
  time.advance(99);
  p.head(e);
  assert.equal(e.state, STREAMING);
  assert.equal(time.pending.size, 0);
  time.advance(1000);
  assert.equal(e.state, STREAMING);
  p.timeout(e); // a late call does nothing to a streaming exchange
  assert.equal(e.state, STREAMING);
  assert.deepEqual(p.aborted, ['a', 'b']);
  // requestTimeoutMs 0: no timer at all
  const q = engine({ containerConcurrency: 1, requestTimeoutMs: 0 }, ['r0']);
  q.req('x');
  q.req('y');
  assert.equal(time.pending.size, 0);
  // 1 ms is a timeout too
  const one = engine({ requestTimeoutMs: 1 }, ['r0']);
  const z = one.req('z');
  time.advance(1);
  assert.equal(z.answered, 504);
});

timed('timeout of an upstream exchange leaves the queue count alone; of a queued one, unqueues it once', (time) => {
  const p = engine({ containerConcurrency: 1, requestTimeoutMs: 100 }, ['r0']);
  const a = p.req('a');
  time.advance(1);
  const b = p.req('b');
  const c = p.req('c');
  p.gone(c);
  assert.equal(p.stats().queued, 1);
  time.advance(99); // a times out upstream: b dispatched
  assert.equal(a.answered, 504);
  assert.equal(b.state, UPSTREAM);
  assert.equal(p.stats().queued, 0);
  const d = p.req('d');
  assert.equal(p.stats().queued, 1);
  assert.equal(d.state, QUEUED);
  p.timeout(d);
  assert.equal(p.stats().queued, 0);
  p.timeout(d); // done already: nothing
  assert.equal(d.answers.length, 1);
  p.finish(b);
  assert.equal(p.req('e').state, UPSTREAM);
  assert.equal(p.stats().queued, 0);
});

// ---------------------------------------------------------------- client gone, report

timed('client gone: while queued it leaves the queue; upstream, the exchange is aborted and the slot freed; reported as status 0', (time) => {
  const obs = new Obs();
  const p = engine({ containerConcurrency: 1, requestTimeoutMs: 1000 }, ['r0'], obs);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  time.advance(10);
  p.gone(b);
  assert.equal(b.state, DONE);
  assert.equal(p.stats().queued, 1);
  assert.deepEqual(p.aborted, []);
  p.gone(a);
  assert.deepEqual(p.aborted, ['a']);
  assert.equal(c.state, UPSTREAM);
  assert.equal(p.stats().queued, 0);
  assert.deepEqual(obs.done.map((d) => d.status), [0, 0]);
  assert.equal(time.pending.size, 1, 'only c\'s timeout is left');
  p.head(c, 201);
  p.gone(c, true); // the response was complete when the client went
  assert.deepEqual(obs.done.map((d) => d.status), [0, 0, 201]);
  assert.equal(p.stats().inFlight, 0);
  assert.equal(p.stats().queued, 0);
  assert.equal(c.state, DONE);
  // streaming exchange, client gone mid-body: aborted, reported 0
  const d = p.req('d');
  p.head(d);
  p.gone(d);
  assert.deepEqual(p.aborted, ['a', 'c', 'd']);
  assert.equal(obs.done.at(-1)!.status, 0);
  assert.equal(p.stats().queued, 0);
  assert.equal(time.pending.size, 0);
});

timed('report: latency from arrival, queue time until the first dispatch (retries keep it), cold-start time only when cold', (time) => {
  const obs = new Obs();
  const p = engine({ containerConcurrency: 1 }, ['r0', 'r1'], obs);
  const a = p.req('a'); // r0 at t
  const b = p.req('b'); // r1
  const c = p.req('c'); // queued
  time.advance(10);
  p.finish(a); // c → r0 at +10
  time.advance(10);
  p.fail(c); // retry waits for r1 (r0 excluded)
  time.advance(10);
  p.finish(b); // c → r1 at +30
  time.advance(5);
  p.finish(c, 204);
  assert.deepEqual(obs.done.map((d) => d.status), [200, 200, 204]);
  const rc = obs.done[2];
  assert.deepEqual(rc, { status: 204, latencyMs: 35, queuedMs: 10, coldStart: false, replica: 'r1', coldStartMs: undefined });
  assert.deepEqual(obs.done[0], { status: 200, latencyMs: 10, queuedMs: 0, coldStart: false, replica: 'r0', coldStartMs: undefined });
  // a request never dispatched: queued the whole time, no replica
  const d = p.req('d');
  const e = p.req('e');
  const f = p.req('f');
  time.advance(7);
  p.gone(f);
  assert.deepEqual(obs.done.at(-1), { status: 0, latencyMs: 7, queuedMs: 7, coldStart: false, replica: undefined, coldStartMs: undefined });
  void d; void e;
  // cold: the cold-start time is the queue time
  const q = new Engine({}, obs);
  q.addReplica('r0', { host: 'h', port: 1 });
  const g = q.req('g');
  time.advance(40);
  q.setReady('r0', true);
  time.advance(2);
  q.finish(g);
  assert.deepEqual(obs.done.at(-1), { status: 200, latencyMs: 42, queuedMs: 40, coldStart: true, replica: 'r0', coldStartMs: 40 });
  // a failing observer is contained
  obs.throws = true;
  const h = q.req('h');
  q.finish(h);
  assert.equal(h.state, DONE);
  // an observer without onRequestDone
  const bare = engine({}, ['r0'], { onColdRequest() {} });
  const i = bare.req('i');
  bare.finish(i);
  assert.equal(i.state, DONE);
});

// ---------------------------------------------------------------- drain, remove

timed('drain: unknown and idle replicas at once; a busy one when its last request ends, else at the grace period', async (time) => {
  const p = engine({}, ['r0', 'r1']);
  assert.deepEqual(await settled(p.drain('nope', 1000)), { done: true, value: { drained: true, abandoned: 0 } });
  assert.deepEqual(await settled(p.drain('r0', 1000)), { done: true, value: { drained: true, abandoned: 0 } });
  assert.equal(p.stats().replicas[0].draining, true);
  assert.equal(time.pending.size, 0);
  const a = p.req('a');
  const b = p.req('b');
  assert.deepEqual(where(a, b), ['r1', 'r1'], 'a draining replica takes no new requests');
  const w = p.drain('r1', 1000);
  p.finish(a);
  assert.deepEqual(await settled(w), { done: false });
  p.finish(b);
  assert.deepEqual(await settled(w), { done: true, value: { drained: true, abandoned: 0 } });
  assert.equal(time.pending.size, 0, 'the grace timer is stopped');
  // the grace period runs out
  const q = engine({}, ['r0']);
  q.req('c');
  q.req('d');
  const w2 = q.drain('r0', 30);
  const w3 = q.drain('r0', 60); // drained twice: each waits on its own
  time.advance(29);
  assert.deepEqual(await settled(w2), { done: false });
  time.advance(1);
  assert.deepEqual(await settled(w2), { done: true, value: { drained: false, abandoned: 2 } });
  assert.deepEqual(await settled(w3), { done: false });
  time.advance(30);
  assert.deepEqual(await settled(w3), { done: true, value: { drained: false, abandoned: 2 } });
  // a draining replica's freed slot does not dispatch queued requests
  const s = engine({ containerConcurrency: 1 }, ['r0']);
  const e = s.req('e');
  const f = s.req('f');
  void s.drain('r0', 1000);
  s.finish(e);
  assert.equal(f.state, QUEUED);
  assert.equal(s.stats().replicas[0].inFlight, 0);
});

timed('drain then remove: removal answers the drain waiters at once (with what is still in flight) and drops the replica', async (time) => {
  const p = engine({}, ['r0', 'r1']);
  const a = p.req('a');
  const w = p.drain('r0', 1000);
  p.removeReplica('r0');
  assert.deepEqual(await settled(w), { done: true, value: { drained: false, abandoned: 1 } });
  assert.deepEqual(p.removed.map((r) => r.id), ['r0']);
  assert.deepEqual(p.stats().replicas.map((r) => r.id), ['r1']);
  assert.equal(time.pending.size, 0);
  assert.equal(p.req('b').replica!.id, 'r1');
  // the engine then fails a's exchange: retried on r1
  p.fail(a);
  assert.equal(a.replica!.id, 'r1');
  // a removed replica that ends a drain later settles nothing twice
  time.advance(2000);
});

// ---------------------------------------------------------------- close

test('close() answers every queued request 503 (once), leaves in-flight ones to the engine, and flushes a clean queue', async () => {
  const p = engine({ containerConcurrency: 1 }, ['r0']);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  const d = p.req('d');
  p.gone(c);
  await p.close();
  assert.deepEqual([b.answers, d.answers], [
    [{ status: 503, body: 'proxy shutting down\n', retryAfter: '1' }],
    [{ status: 503, body: 'proxy shutting down\n', retryAfter: '1' }],
  ]);
  assert.deepEqual(c.answers, [], 'gone already: not answered');
  assert.equal(a.state, UPSTREAM);
  assert.equal(p.stats().queued, 0);
  assert.equal(p.isClosing, true);
  // after a flush the queue is empty and usable (the router itself does not refuse after close)
  const q = engine({ containerConcurrency: 1 }, ['r0']);
  const e = q.req('e');
  q.req('f');
  q.req('g');
  q.finish(e); // head moves past f
  q.flush();
  const h = q.req('h');
  const i = q.req('i');
  assert.deepEqual([h.state, i.state, q.stats().queued], [QUEUED, QUEUED, 2]);
});

timed('graceful close waits while requests are queued or in flight, up to graceMs', async (time) => {
  const p = engine({ containerConcurrency: 1 }, ['r0']);
  const a = p.req('a');
  const b = p.req('b');
  let closed = false;
  const done = p.close({ graceMs: 100 }).then(() => { closed = true; });
  await time.run(30);
  assert.equal(closed, false);
  p.finish(a);
  await time.run(20);
  assert.equal(closed, false, 'b still in flight');
  p.finish(b);
  await time.run(12);
  assert.equal(closed, true, 'settled within a poll interval of the last request');
  await done;
  // nothing finishes: close after graceMs, the queued one answered 503
  const q = engine({ containerConcurrency: 1 }, ['r0']);
  q.req('c');
  const d = q.req('d');
  let closed2 = false;
  const t0 = time.now;
  void q.close({ graceMs: 50 }).then(() => { closed2 = true; });
  await time.run(45);
  assert.equal(closed2, false);
  await time.run(10);
  assert.equal(closed2, true);
  assert.ok(time.now - t0 >= 50);
  assert.equal(d.answered, 503);
  // nothing busy: no wait
  const r = engine({}, ['r0']);
  let closed3 = false;
  void r.close({ graceMs: 1000 }).then(() => { closed3 = true; });
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  assert.equal(closed3, true);
});

// ---------------------------------------------------------------- listen

test('listen() binds (port 0: an ephemeral one), rejects a taken port, and reports later server errors to the observer', async () => {
  const obs = new Obs();
  const p = new Engine({ host: '127.0.0.1', port: 0 }, obs);
  await p.listen();
  const port = p.port;
  assert.ok(port > 0);
  const q = new Engine({ host: '127.0.0.1', port }, obs);
  await assert.rejects(q.listen(), /EADDRINUSE/);
  const srv = (p as unknown as { server: net.Server }).server;
  const err = Object.assign(new Error('accept failed'), { code: 'EMFILE' });
  srv.emit('error', err);
  obs.throws = true;
  srv.emit('error', err); // a failing observer is contained
  assert.deepEqual(obs.acceptErrors, ['EMFILE', 'EMFILE']);
  assert.equal(srv.listening, true);
  await new Promise<void>((r) => srv.close(() => r()));
});

// ---------------------------------------------------------------- more edges (survivors of the first mutation run)

test('cold episodes: a draining replica turning unready does not start a new episode; drains and removals count down once', () => {
  const obs = new Obs();
  const p = engine({}, ['r0'], obs);
  void p.drain('r0', 0);
  const a = p.req('a');
  assert.deepEqual([a.cold, obs.cold], [true, 1]);
  p.setReady('r0', false); // it was not counted any more: nothing changes
  const b = p.req('b');
  assert.deepEqual([b.cold, obs.cold], [true, 1], 'same cold episode: no second poke');
  // draining twice, or draining a replica that is not ready, counts nothing down
  const q = engine({ containerConcurrency: 1 }, ['r0', 'r1'], obs);
  q.addReplica('r2', { host: 'h', port: 1 });
  void q.drain('r0', 0);
  void q.drain('r0', 0);
  void q.drain('r2', 0);
  q.req('c'); // r1
  const d = q.req('d');
  assert.equal(d.state, QUEUED);
  assert.equal(d.cold, false, 'r1 is still ready');
  // removing a ready replica counts it down exactly once
  const s = engine({ containerConcurrency: 1 }, ['r0', 'r1'], obs);
  s.removeReplica('r0');
  s.setReady('r1', false);
  const e = s.req('e');
  assert.equal(e.cold, true);
});

test('a queue emptied after its head moved starts over at its first place', () => {
  const p = engine({ containerConcurrency: 1 }, ['r0']);
  const a = p.req('a');
  const b = p.req('b');
  const c = p.req('c');
  p.finish(a); // b dispatched: the head moved
  p.gone(c); // the queue is empty now
  const d = p.req('d');
  const e = p.req('e');
  p.finish(b);
  assert.deepEqual([d.state, e.state], [UPSTREAM, QUEUED], 'd before e');
  // the same after a flush (close): the next queued one is the first
  const q = engine({ containerConcurrency: 1 }, ['r0']);
  const f = q.req('f');
  const g = q.req('g');
  q.req('h');
  q.finish(f); // g dispatched
  q.flush(); // h answered 503
  const i = q.req('i');
  const j = q.req('j');
  assert.equal(q.stats().queued, 2);
  q.finish(g);
  assert.deepEqual([i.state, j.state], [UPSTREAM, QUEUED]);
});

timed('a cold request retried after its replica failed waits again with a fresh placeholder timer; answers stop every timer', (time) => {
  const p = new Engine({ containerConcurrency: 1, coldPlaceholder: { afterMs: 50 } });
  p.addReplica('r0', { host: 'h', port: 1 });
  p.addReplica('r1', { host: 'h', port: 1 });
  const x = p.req('x');
  const y = p.req('y');
  p.setReady('r0', true);
  p.setReady('r1', true);
  assert.deepEqual(where(x, y), ['r0', 'r1']);
  assert.equal(time.pending.size, 0);
  p.fail(x); // r1 busy: x waits for it, still cold
  assert.equal(x.state, QUEUED);
  assert.equal(time.pending.size, 1, 'a new placeholder timer');
  time.advance(50);
  assert.equal(x.answers[0]?.placeholder, true);
  // a cold request answered 504 stops its placeholder timer too
  const q = new Engine({ requestTimeoutMs: 10, coldPlaceholder: { afterMs: 1000 } });
  q.addReplica('r0', { host: 'h', port: 1 });
  const z = q.req('z');
  assert.equal(time.pending.size, 2);
  time.advance(10);
  assert.equal(z.answered, 504);
  assert.equal(time.pending.size, 0);
});

// ---------------------------------------------------------------- random traffic against invariants

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

timed('random traffic: nothing is lost or served twice, counts match, fresh requests leave the queue in arrival order', (time) => {
  let retriedFromQueue = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
    const cc = 1 + Math.floor(rand() * 2);
    const p = engine({ containerConcurrency: cc, queueLimit: 6, requestTimeoutMs: 40 }, ['r0', 'r1', 'r2']);
    const xs: X[] = [];
    const sentCount = new Map<string, number>();
    for (let step = 0; step < 250; step++) {
      const live = xs.filter((x) => x.state === UPSTREAM || x.state === STREAMING);
      const queued = xs.filter((x) => x.state === QUEUED);
      const k = rand();
      if (k < 0.35) xs.push(p.req(`x${xs.length}`, rand() < 0.8 ? 'GET' : 'POST'));
      else if (k < 0.55 && live.length) p.finish(live[Math.floor(rand() * live.length)]);
      else if (k < 0.7 && live.length) {
        const x = live[Math.floor(rand() * live.length)];
        if (x.state === UPSTREAM) {
          const wasRetried = x.retried;
          p.fail(x);
          if (!wasRetried && (x.state as number) === QUEUED) retriedFromQueue++;
        } else p.cut(x);
      } else if (k < 0.78 && live.length) p.head(live[Math.floor(rand() * live.length)]);
      else if (k < 0.84 && queued.length) p.gone(queued[Math.floor(rand() * queued.length)]);
      else if (k < 0.88) {
        // a replica starts or stops refusing connections at once (its sends fail synchronously)
        const id = `r${Math.floor(rand() * 3)}`;
        if (p.failOnSend.has(id)) p.failOnSend.delete(id);
        else if (p.failOnSend.size < 2) p.failOnSend.add(id);
      }
      else time.advance(1 + Math.floor(rand() * 10));
      // invariants after every step
      const st = p.stats();
      assert.equal(st.queued, xs.filter((x) => x.state === QUEUED).length, `seed ${seed} step ${step}: queued count`);
      for (const r of st.replicas) {
        const holding = xs.filter((x) => x.holding && x.replica?.id === r.id).length;
        assert.equal(r.inFlight, holding, `seed ${seed} step ${step}: ${r.id} in flight`);
        assert.ok(r.inFlight <= cc);
      }
      assert.ok(st.queued <= 6);
    }
    // let everything finish: every request ends answered or served, none is left waiting
    p.failOnSend.clear();
    for (let guard = 0; guard < 1000; guard++) {
      const live = xs.filter((x) => x.state === UPSTREAM || x.state === STREAMING);
      if (live.length === 0) break;
      p.finish(live[0]);
    }
    assert.equal(xs.filter((x) => x.state === QUEUED).length, 0, `seed ${seed}: nobody left waiting with free replicas`);
    assert.equal(p.stats().inFlight, 0);
    for (const s of p.sent) sentCount.set(s, (sentCount.get(s) ?? 0) + 1);
    for (const x of xs) {
      const sends = p.sent.filter((s) => s.startsWith(`${x.name}>`)).length;
      assert.ok(sends <= 2, `${x.name} sent ${sends} times`);
      assert.ok(x.answers.length <= 1, `${x.name} answered ${x.answers.length} times`);
    }
    // fresh (never retried) requests are dispatched in arrival order
    const firstSend = p.sent.map((s) => s.split('>')[0]).filter((n, i, a) => a.indexOf(n) === i);
    const arrivals = firstSend.map((n) => Number(n.slice(1)));
    assert.deepEqual(arrivals, [...arrivals].sort((a, b) => a - b), `seed ${seed}: first dispatches in arrival order`);
  }
  assert.ok(retriedFromQueue > 5, `retries waited in the queue ${retriedFromQueue} times`);
});

test('a retry put at the front while the queue head sits past a gone entry is served, and first', () => {
  const p = engine({ containerConcurrency: 3 }, ['r0', 'r1']);
  const xs = ['a', 'b', 'z', 'c', 'y', 'e'].map((n) => p.req(n));
  const [a, b, z, c, y] = xs;
  assert.deepEqual(where(...xs), ['r0', 'r1', 'r0', 'r1', 'r0', 'r1']);
  p.fail(a); // r1 full: a waits, excluding r0
  p.fail(z); // the same: z waits in front of a
  assert.deepEqual([a.state, z.state, p.stats().queued], [QUEUED, QUEUED, 2]);
  p.gone(z); // the queue is [gone z, a]
  p.fail(y); // y waits too; the pump stepped past z, so y goes into z's old place
  assert.equal(p.stats().queued, 2);
  p.finish(b); // one slot on r1: y (the front) first
  assert.deepEqual([y.state, y.replica!.id, a.state], [UPSTREAM, 'r1', QUEUED]);
  p.finish(c);
  assert.deepEqual([a.state, a.replica!.id], [UPSTREAM, 'r1']);
  assert.equal(p.stats().queued, 0);
});
