// A RabbitMQ queue worker for the KEDA e2e test, run by `tide up` as a replica (plain JS): consumes
// QUEUE with prefetch 1, "works" WORK_MS per message, acks it, and counts done messages in DONE_FILE
// (one line per message). SIGTERM: stop consuming, finish the current message, exit.
import { appendFileSync } from 'node:fs';
import * as amqp from 'amqplib';

const queue = process.env.QUEUE ?? 'work';
const workMs = Number(process.env.WORK_MS ?? '500');
const conn = await amqp.connect(process.env.AMQP_URL);
const ch = await conn.createChannel();
await ch.assertQueue(queue, { durable: true });
await ch.prefetch(1);
let busy = Promise.resolve();
const { consumerTag } = await ch.consume(queue, (msg) => {
  if (!msg) return;
  busy = (async () => {
    await new Promise((r) => setTimeout(r, workMs));
    appendFileSync(process.env.DONE_FILE, `${msg.content.toString()}\n`);
    ch.ack(msg);
  })();
});
process.on('SIGTERM', async () => {
  await ch.cancel(consumerTag).catch(() => {});
  await busy;
  await conn.close().catch(() => {});
  process.exit(0);
});
