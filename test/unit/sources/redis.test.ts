import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startRedis, type Service } from '../../support/services.ts';
import { redisListFromKeda } from '../../../src/sources/redis.ts';
import { redisStreamsFromKeda } from '../../../src/sources/redis-streams.ts';
import { createTriggerSource, triggerTargets } from '../../../src/sources/index.ts';
import { outageScenario } from './outage.ts';

let svc: Service | null = null;
let client: Redis;
before(async () => {
  svc = await startRedis();
  if (svc) {
    client = new Redis({ host: '127.0.0.1', port: svc.port, lazyConnect: false, maxRetriesPerRequest: 1 });
    client.on('error', () => {}); // it reconnects across the outage test
  }
});
after(async () => {
  client?.disconnect();
  await svc?.dispose();
});
const addr = () => `127.0.0.1:${svc!.port}`;

test('redis list length (list, set, sorted set, missing key)', { timeout: 20_000 }, async (t) => {
  if (!svc) return t.skip('redis-server not installed');
  await client.rpush('jobs', 'a', 'b', 'c');
  await client.sadd('jobset', 'x', 'y');
  await client.zadd('jobz', 1, 'p');
  const mk = (listName: string) => redisListFromKeda({ address: addr(), listName }, {});
  for (const [name, n] of [['jobs', 3], ['jobset', 2], ['jobz', 1], ['nothing', 0]] as const) {
    const s = mk(name);
    assert.deepEqual((await s.read(5)).map((x) => x.value), [n]);
    await s.close();
  }
  await client.set('str', 'v');
  const bad = mk('str');
  await assert.rejects(bad.read(0), /redis 127\.0\.0\.1:\d+: key str is a string/);
  await bad.close();
  assert.deepEqual(triggerTargets('redis', { listName: 'jobs', listLength: '10', activationListLength: '2' }, 0), { target: 10, activationTarget: 2, metricName: 's0-redis-jobs' });
});

test('redis password comes from env, never inline', { timeout: 10_000 }, async (t) => {
  if (!svc) return t.skip('redis-server not installed');
  assert.throws(() => redisListFromKeda({ address: addr(), listName: 'jobs', password: 'hunter2' }, {}), /passwordFromEnv/);
  assert.throws(() => redisListFromKeda({ address: addr(), listName: 'jobs', passwordFromEnv: 'NOPE_NOT_SET' }, {}), /NOPE_NOT_SET.*not set/);
  await client.config('SET', 'requirepass', 'hunter2');
  const good = redisListFromKeda({ address: addr(), listName: 'jobs', passwordFromEnv: 'RPW' }, { RPW: 'hunter2' });
  const bad = redisListFromKeda({ address: addr(), listName: 'jobs', passwordFromEnv: 'RPW' }, { RPW: 'wrong-secret' });
  try {
    assert.ok(!good.describe().includes('hunter2'));
    assert.equal((await good.read(0))[0].value, 3);
    await assert.rejects(bad.read(0), (e: Error) => /^redis 127\.0\.0\.1:\d+: /.test(e.message) && !e.message.includes('wrong-secret'));
  } finally {
    await good.close();
    await bad.close();
    const admin = new Redis({ host: '127.0.0.1', port: svc.port, password: 'hunter2', lazyConnect: true });
    admin.on('error', () => {});
    await admin.connect();
    await admin.config('SET', 'requirepass', '');
    admin.disconnect();
  }
});

test('redis-streams: stream length, pending entries, consumer-group lag', { timeout: 20_000 }, async (t) => {
  if (!svc) return t.skip('redis-server not installed');
  for (let i = 0; i < 6; i++) await client.xadd('events', '*', 'n', String(i));
  const len = redisStreamsFromKeda({ address: addr(), stream: 'events' }, {});
  assert.equal(len.target, 5);
  assert.equal((await len.source.read(0))[0].value, 6);
  await len.source.close();

  // group not created yet: lag falls back to XLEN
  const lag = redisStreamsFromKeda({ address: addr(), stream: 'events', consumerGroup: 'g', lagCount: '3' }, {});
  assert.equal(lag.target, 3);
  assert.equal((await lag.source.read(0))[0].value, 6);
  await client.xgroup('CREATE', 'events', 'g', '0');
  await client.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', 'events', '>');
  assert.equal((await lag.source.read(0))[0].value, 4); // 6 entries, 2 delivered
  await lag.source.close();

  const pel = redisStreamsFromKeda({ address: addr(), stream: 'events', consumerGroup: 'g' }, {});
  assert.equal(pel.target, 5);
  assert.equal((await pel.source.read(0))[0].value, 2); // delivered, not acked
  await pel.source.close();

  const missing = redisStreamsFromKeda({ address: addr(), stream: 'events', consumerGroup: 'nope' }, {});
  await assert.rejects(missing.source.read(0), /consumer group nope does not exist/);
  await missing.source.close();
  assert.equal(triggerTargets('redis-streams', { stream: 'events', consumerGroup: 'g', lagCount: '3', activationLagCount: '1' }, 2).metricName, 's2-redis-streams-events');
});

test('a connection that breaks under a read (client still "ready") is retried after the reconnect, no raw ioredis text', { timeout: 20_000 }, async (t) => {
  if (!svc) return t.skip('redis-server not installed');
  await client.del('brk');
  await client.rpush('brk', 'a', 'b');
  const src = redisListFromKeda({ address: addr(), listName: 'brk' }, {});
  try {
    assert.equal((await src.read(0))[0].value, 2);
    // what a server going away looks like in the instant before ioredis notices: the socket is no
    // longer writable while the client's status is still "ready" (ioredis: "Stream isn't writeable
    // and enableOfflineQueue options is false")
    const c = (src.conn as unknown as { client: Redis & { stream: { end(): void } } }).client;
    assert.equal(c.status, 'ready');
    c.stream.end();
    assert.equal((await src.read(0))[0].value, 2);
  } finally {
    await src.close();
  }
});

test('every source names a refused connection the same way', { timeout: 20_000 }, async () => {
  const { connectionFailure } = await import('../../../src/sources/common.ts');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(connectionFailure(refused), 'connection refused (is it running?)');
  assert.equal(connectionFailure(new AggregateError([refused, refused])), 'connection refused (is it running?)');
  assert.equal(connectionFailure(Object.assign(new Error('fetch failed'), { cause: refused })), 'connection refused (is it running?)');
  for (const m of ["Stream isn't writeable and enableOfflineQueue options is false", 'Connection is closed.', 'Connection terminated unexpectedly', 'Channel closed', 'socket hang up']) {
    assert.equal(connectionFailure(new Error(m)), 'connection lost', m);
  }
  assert.equal(connectionFailure(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), undefined);
});

test('redis outage: error → no scale-down → fallback → restart → recovery', { timeout: 60_000 }, async (t) => {
  if (!svc) return t.skip('redis-server not installed');
  await client.del('q');
  await client.rpush('q', '1', '2', '3', '4');
  const src = createTriggerSource('redis', { address: addr(), listName: 'q' }, { env: {} });
  try {
    await outageScenario({
      type: 'redis', source: src, service: svc, expected: 4,
      errorPattern: /^redis 127\.0\.0\.1:\d+: unreachable: connection refused \(is it running\?\)$/,
      reseed: async () => {
        // the test server keeps no data across restarts
        for (let i = 0; i < 50; i++) {
          try { await client.rpush('q', 'a', 'b'); return 2; } catch { await new Promise((r) => setTimeout(r, 200)); }
        }
        throw new Error('could not reseed');
      },
    });
  } finally {
    await src.close();
  }
});
