// nats-jetstream, postgresql and rabbitmq sources against real servers, each with an outage test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as natsConnect, AckPolicy, type NatsConnection } from 'nats';
import pg from 'pg';
import * as amqp from 'amqplib';
import { startNats, startPostgres, startRabbitMQ, type Service } from '../../support/services.ts';
import { natsJetStreamFromKeda } from '../../../src/sources/nats-jetstream.ts';
import { postgresqlFromKeda } from '../../../src/sources/postgresql.ts';
import { rabbitmqFromKeda } from '../../../src/sources/rabbitmq.ts';
import { createTriggerSource } from '../../../src/sources/index.ts';
import { outageScenario } from './outage.ts';

let nats: Service | null = null;
let pgs: Service | null = null;
let rabbit: Service | null = null;
before(async () => {
  [nats, pgs, rabbit] = await Promise.all([startNats(), startPostgres(), startRabbitMQ()]);
});
after(async () => {
  await Promise.all([nats?.dispose(), pgs?.dispose(), rabbit?.dispose()]);
});

async function seedNats(svc: Service, pending: number, ackPending: number): Promise<void> {
  const nc: NatsConnection = await natsConnect({ servers: `127.0.0.1:${svc.port}` });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'] });
    await jsm.consumers.add('JOBS', { durable_name: 'workers', ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });
    const js = nc.jetstream();
    for (let i = 0; i < pending + ackPending; i++) await js.publish('jobs.x', new TextEncoder().encode(String(i)));
    const c = await js.consumers.get('JOBS', 'workers');
    const batch = await c.fetch({ max_messages: ackPending, expires: 1000 });
    let got = 0;
    for await (const _m of batch) { if (++got >= ackPending) break; } // delivered, not acked
  } finally {
    await nc.close();
  }
}

test('nats-jetstream: consumer lag = num_pending + num_ack_pending from /jsz', { timeout: 30_000 }, async (t) => {
  if (!nats) return t.skip('nats-server not installed');
  await seedNats(nats, 5, 2);
  const src = natsJetStreamFromKeda({ natsServerMonitoringEndpoint: `127.0.0.1:${nats.ports.monitor}`, account: '$G', stream: 'JOBS', consumer: 'workers' }, {});
  assert.equal((await src.read(0))[0].value, 7);
  const noConsumer = natsJetStreamFromKeda({ natsServerMonitoringEndpoint: `127.0.0.1:${nats.ports.monitor}`, account: '$G', stream: 'JOBS', consumer: 'nope' }, {});
  await assert.rejects(noConsumer.read(0), /consumer "nope" not found in stream "JOBS"/);
  const noStream = natsJetStreamFromKeda({ natsServerMonitoringEndpoint: `127.0.0.1:${nats.ports.monitor}`, account: '$G', stream: 'NOPE', consumer: 'workers' }, {});
  await assert.rejects(noStream.read(0), /stream "NOPE" not found/);
});

test('nats-jetstream outage: error → fallback → restart → recovery (JetStream state persists)', { timeout: 60_000 }, async (t) => {
  if (!nats) return t.skip('nats-server not installed');
  const src = createTriggerSource('nats-jetstream', { natsServerMonitoringEndpoint: `127.0.0.1:${nats.ports.monitor}`, account: '$G', stream: 'JOBS', consumer: 'workers' }, { env: {} });
  const before = (await src.read(0))[0].value;
  await outageScenario({
    type: 'nats-jetstream', source: src, service: nats, expected: before,
    errorPattern: /^nats-jetstream 127\.0\.0\.1:\d+: unreachable: connection refused \(is it running\?\)$/,
    // after a restart un-acked deliveries return to pending: the lag stays the same
  });
});

test('postgresql: query → number; connection from env; errors', { timeout: 30_000 }, async (t) => {
  if (!pgs) return t.skip('postgres not installed');
  const admin = new pg.Client({ host: '127.0.0.1', port: pgs.port, user: 'tide', database: 'postgres' });
  await admin.connect();
  await admin.query("CREATE TABLE jobs (id serial, state text); INSERT INTO jobs (state) SELECT 'queued' FROM generate_series(1, 9); INSERT INTO jobs (state) VALUES ('done')");
  await admin.end();
  const q = "SELECT count(*) FROM jobs WHERE state = 'queued'";
  assert.throws(() => postgresqlFromKeda({ connection: 'postgres://x', query: q }, {}), /connectionFromEnv/);
  assert.throws(() => postgresqlFromKeda({ host: '127.0.0.1', password: 'pw', query: q }, {}), /passwordFromEnv/);
  const viaEnv = postgresqlFromKeda({ connectionFromEnv: 'PG_URL', query: q }, { PG_URL: `postgres://tide:s3cret@127.0.0.1:${pgs.port}/postgres` });
  try {
    assert.equal((await viaEnv.read(0))[0].value, 9);
    assert.ok(!viaEnv.describe().includes('s3cret'));
  } finally { await viaEnv.close(); }
  const bad = postgresqlFromKeda({ host: '127.0.0.1', port: String(pgs.port), userName: 'tide', dbName: 'postgres', query: 'SELECT nope FROM jobs' }, {});
  try { await assert.rejects(bad.read(0), /column "nope" does not exist/); } finally { await bad.close(); }
  const text = postgresqlFromKeda({ host: '127.0.0.1', port: String(pgs.port), userName: 'tide', dbName: 'postgres', query: "SELECT 'abc'" }, {});
  try { await assert.rejects(text.read(0), /not a number/); } finally { await text.close(); }
});

test('postgresql outage: error → fallback → restart → recovery', { timeout: 60_000 }, async (t) => {
  if (!pgs) return t.skip('postgres not installed');
  const src = createTriggerSource('postgresql', { host: '127.0.0.1', port: String(pgs.port), userName: 'tide', dbName: 'postgres', query: "SELECT count(*) FROM jobs WHERE state = 'queued'" }, { env: {} });
  try {
    await outageScenario({ type: 'postgresql', source: src, service: pgs, expected: 9, errorPattern: /^postgresql 127\.0\.0\.1:\d+\/postgres: unreachable: connection refused \(is it running\?\)$/ });
  } finally { await src.close(); }
});

async function seedRabbit(svc: Service, n: number): Promise<void> {
  const c = await amqp.connect(`amqp://guest:guest@127.0.0.1:${svc.port}`);
  try {
    const ch = await c.createChannel();
    await ch.assertQueue('work', { durable: true });
    for (let i = 0; i < n; i++) ch.sendToQueue('work', Buffer.from(String(i)), { persistent: true });
    await ch.close();
  } finally { await c.close(); }
}

test('rabbitmq: QueueLength via AMQP and management API, MessageRate, secrets via hostFromEnv', { timeout: 60_000 }, async (t) => {
  if (!rabbit) return t.skip('rabbitmq-server not installed');
  await seedRabbit(rabbit, 6);
  const env = { AMQP_URL: `amqp://guest:guest@127.0.0.1:${rabbit.port}/`, MGMT_URL: `http://guest:guest@127.0.0.1:${rabbit.ports.management}/` };
  assert.throws(() => rabbitmqFromKeda({ host: env.AMQP_URL, queueName: 'work' }, {}), /hostFromEnv/);
  const viaAmqp = rabbitmqFromKeda({ hostFromEnv: 'AMQP_URL', queueName: 'work', mode: 'QueueLength', value: '2' }, env);
  try {
    assert.equal((await viaAmqp.read(0))[0].value, 6);
    assert.ok(!viaAmqp.describe().includes('guest:guest'));
    const missing = rabbitmqFromKeda({ hostFromEnv: 'AMQP_URL', queueName: 'nope' }, env);
    await assert.rejects(missing.read(0), /queue nope: .*NOT_FOUND/);
    await missing.close();
  } finally { await viaAmqp.close(); }
  const viaHttp = rabbitmqFromKeda({ hostFromEnv: 'MGMT_URL', queueName: 'work', protocol: 'http' }, env);
  // the management API refreshes queue stats every collect_statistics_interval (1 s here)
  let n = 0;
  for (let i = 0; i < 50 && n !== 6; i++) { n = (await viaHttp.read(0))[0].value; if (n !== 6) await new Promise((r) => setTimeout(r, 200)); }
  assert.equal(n, 6);
  const rate = rabbitmqFromKeda({ hostFromEnv: 'MGMT_URL', queueName: 'work', mode: 'MessageRate', protocol: 'http' }, env);
  const r = (await rate.read(0))[0].value;
  assert.ok(r >= 0 && Number.isFinite(r));
  assert.throws(() => rabbitmqFromKeda({ hostFromEnv: 'AMQP_URL', queueName: 'work', mode: 'MessageRate' }, env), /management API/);
});

test('rabbitmq outage: error → fallback → restart → recovery (durable queue survives)', { timeout: 120_000 }, async (t) => {
  if (!rabbit) return t.skip('rabbitmq-server not installed');
  const env = { AMQP_URL: `amqp://guest:guest@127.0.0.1:${rabbit.port}/` };
  const src = createTriggerSource('rabbitmq', { hostFromEnv: 'AMQP_URL', queueName: 'work' }, { env });
  try {
    await outageScenario({ type: 'rabbitmq', source: src, service: rabbit, expected: 6, errorPattern: /^rabbitmq amqp:\/\/127\.0\.0\.1:\d+: unreachable: connection refused \(is it running\?\)$/ });
  } finally { await src.close(); }
});
