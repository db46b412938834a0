// The daemon's watchdog: started by `tide up` as a separate process (its own process group) whose
// stdin is a pipe from the daemon. The kernel closes that pipe when the daemon dies, however it dies
// (kill -9, OOM killer): the watchdog then kills every replica process of the state folder (the
// TIDE_REPLICA_OF marker, supervisor.ts) and exits. On a clean stop the daemon closes the pipe itself
// after its replicas are gone, and the watchdog finds nothing to do.
//   node reaper.ts <stateDir>
import { reapLeftovers } from './supervisor.ts';

const stateDir = process.argv[2];
if (!stateDir) { console.error('usage: reaper.ts <stateDir>'); process.exit(2); }
for (const sig of ['SIGINT', 'SIGHUP', 'SIGPIPE'] as const) process.on(sig, () => {});
process.stdin.resume();
const done = () => {
  // twice: a replica that was being spawned at the moment of the daemon's death shows up a bit later
  reapLeftovers(stateDir);
  setTimeout(() => { reapLeftovers(stateDir); process.exit(0); }, 300);
};
process.stdin.on('end', done);
process.stdin.on('close', done);
process.stdin.on('error', done);
