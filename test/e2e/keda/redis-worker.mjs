// A queue worker for the KEDA e2e test, run by `tide up` as a replica (plain JS): pops items from a
// Redis list (BLPOP), "works" WORK_MS per item, counts processed items in `<LIST>:done`, and answers
// /health on PORT. SIGTERM: finish the current item, then exit.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const [host, port] = (process.env.REDIS_ADDR ?? '127.0.0.1:6379').split(':');
const list = process.env.LIST ?? 'jobs';
const workMs = Number(process.env.WORK_MS ?? '500');
const redis = new Redis({ host, port: Number(port), maxRetriesPerRequest: 1 });
redis.on('error', () => {});
let stopping = false;

const server = createServer((_req, res) => res.end('ok'));
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

process.on('SIGTERM', () => { stopping = true; });

while (!stopping) {
  let item = null;
  try {
    item = await redis.blpop(list, 0.5);
  } catch {
    await new Promise((r) => setTimeout(r, 200));
    continue;
  }
  if (!item) continue;
  await new Promise((r) => setTimeout(r, workMs));
  await redis.incr(`${list}:done`);
}
server.close();
redis.disconnect();
process.exit(0);
