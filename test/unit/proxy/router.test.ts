// The engine-agnostic admission core (src/runtime/local/proxy-router.ts) driven in-process by a fake
// engine: no sockets, no timers; sends are recorded and failed or answered by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { DONE, ProxyRouter, QUEUED, RoutedExchange, RoutedReplica, UPSTREAM } from '../../../src/runtime/local/proxy-router.ts';
import type { ProxyOptions } from '../../../src/runtime/local/proxy-types.ts';

class X extends RoutedExchange<RoutedReplica> {
  readonly name: string;
  readonly method: string;
  answered: number | null = null;
  constructor(name: string, method = 'GET', hasBody = false) {
    super(0, hasBody);
    this.name = name;
    this.method = method;
  }
}

class FakeRouter extends ProxyRouter<RoutedReplica, X> {
  protected readonly server = net.createServer();
  sent: Array<[string, string]> = [];
  constructor(opts: Partial<ProxyOptions>) {
    super({ host: '127.0.0.1', port: 0, queueLimit: 10, requestTimeoutMs: 0, ...opts }, undefined);
  }
  protected newReplica(id: string, host: string, port: number): RoutedReplica {
    return new RoutedReplica(id, host, port);
  }
  protected replicaRemoved(): void {}
  protected send(x: X, r: RoutedReplica): void {
    this.sent.push([x.name, r.id]);
  }
  protected abortUpstream(x: X): void {
    this.release(x, x.replica!, false);
  }
  protected respondLocal(x: X, status: number): void {
    this.clearTimers(x);
    x.state = DONE;
    x.status = status;
    x.answered = status;
  }
  protected respondPlaceholder(x: X, status: number): void {
    this.respondLocal(x, status);
  }
  async close(): Promise<void> {
    this.closed = true;
    this.flushQueue();
  }
  // test handles
  request(x: X): X {
    this.admit(x);
    return x;
  }
  fail(x: X): void {
    this.failedBeforeHead(x, x.replica!, x.method);
  }
  finish(x: X): void {
    this.responseStarted(x, 200);
    this.release(x, x.replica!, false);
    x.state = DONE;
    x.answered = 200;
  }
}

function router(opts: Partial<ProxyOptions>, ids = ['r0', 'r1']): FakeRouter {
  const p = new FakeRouter(opts);
  for (const id of ids) {
    p.addReplica(id, { host: '127.0.0.1', port: 1 });
    p.setReady(id, true);
  }
  return p;
}

test('a retry goes to the front of the queue but never past queueLimit (issue 16)', () => {
  const p = router({ containerConcurrency: 1, queueLimit: 1 });
  const a = p.request(new X('a'));
  const b = p.request(new X('b'));
  const c = p.request(new X('c'));
  assert.equal(c.state, QUEUED);
  assert.notEqual(a.replica, b.replica);
  // a fails: its slot goes to c (first in line), a is retried at the front, excluding its replica
  const ra = a.replica!;
  p.fail(a);
  assert.equal(c.state, UPSTREAM);
  assert.equal(c.replica, ra);
  assert.equal(a.state, QUEUED);
  assert.equal(p.stats().queued, 1);
  // the queue is full now: a new request gets 503
  const d = p.request(new X('d'));
  assert.equal(d.answered, 503);
  // c fails too: its retry would need a second queue place, and is answered 503 instead
  p.fail(c);
  assert.equal(p.stats().queued, 1, 'the queue never exceeds its limit');
  assert.equal(c.answered, 503);
  // b finishes: a (excluded from ra) gets b's replica
  const rb = b.replica!;
  p.finish(b);
  assert.equal(a.state, UPSTREAM);
  assert.equal(a.replica, rb);
  assert.equal(p.stats().queued, 0);
});

test('retryIdempotent: false answers 502 at once; requests with a body or non-idempotent methods are never retried', () => {
  const off = router({ retryIdempotent: false });
  const a = off.request(new X('a'));
  off.fail(a);
  assert.equal(a.answered, 502);
  const on = router({});
  const g = on.request(new X('g'));
  on.fail(g);
  assert.equal(g.state, UPSTREAM, 'GET retried on the other replica');
  assert.equal(on.sent.length, 2);
  on.fail(g);
  assert.equal(g.answered, 502, 'retried once only');
  const post = on.request(new X('p', 'POST'));
  on.fail(post);
  assert.equal(post.answered, 502);
  const withBody = on.request(new X('b', 'GET', true));
  on.fail(withBody);
  assert.equal(withBody.answered, 502);
});

test('drain: unknown and idle replicas drain at once; busy ones when their last request ends or at the grace period', async () => {
  const p = router({}, ['r0']);
  assert.deepEqual(await p.drain('nope', 1000), { drained: true, abandoned: 0 });
  assert.deepEqual(await p.drain('r0', 1000), { drained: true, abandoned: 0 });
  const q = router({}, ['r0']);
  const x = q.request(new X('x'));
  const waiting = q.drain('r0', 60_000);
  const y = q.request(new X('y'));
  assert.equal(y.state, QUEUED, 'a draining replica takes no new requests');
  q.finish(x);
  assert.deepEqual(await waiting, { drained: true, abandoned: 0 });
  const r = router({}, ['r0']);
  r.request(new X('z'));
  assert.deepEqual(await r.drain('r0', 5), { drained: false, abandoned: 1 });
});

test('close() answers every queued request 503', async () => {
  const p = router({ containerConcurrency: 1 }, ['r0']);
  const a = p.request(new X('a'));
  const queued = [p.request(new X('b')), p.request(new X('c'))];
  await p.close();
  assert.deepEqual(queued.map((x) => x.answered), [503, 503]);
  assert.equal(a.state, UPSTREAM);
  assert.equal(p.stats().queued, 0);
});
