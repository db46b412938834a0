import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiCall, apiJson, defaultStateDir, readDaemonInfo } from '../../runtime/local/client.ts';
import type { ReplicaStatus } from '../../runtime/local/supervisor.ts';

export function register(program: Command): void {
  program
    .command('logs')
    .description('print (or follow) a replica\'s stdout/stderr (like kubectl logs); POD or deployment/NAME')
    .argument('<pod>')
    .option('-f, --follow', 'stream new lines', false)
    .option('--tail <n>', 'only the last N lines')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (pod: string, o: { follow: boolean; tail?: string; stateDir: string }) => {
      let name = pod;
      const m = /^(?:deploy|deployment|deployments)\/(.+)$/.exec(pod);
      if (m) {
        const pods = (await apiJson<ReplicaStatus[]>(o.stateDir, 'GET', `/v1/pods?deployment=${encodeURIComponent(m[1])}`)).filter((p) => !p.deletionTimestamp);
        if (!pods.length) throw new UserError(`error: no pods of deployment ${m[1]}`);
        name = pods[0].name;
      }
      const qs = new URLSearchParams();
      if (o.follow) qs.set('follow', '1');
      if (o.tail !== undefined) qs.set('tail', String(Number(o.tail)));
      const info = readDaemonInfo(o.stateDir);
      let errBody = '';
      const r = await apiCall(info, 'GET', `/v1/pods/${encodeURIComponent(name)}/logs?${qs}`, undefined, (chunk) => {
        if (errBody || chunk.startsWith('{"error"')) errBody += chunk; else process.stdout.write(chunk);
      });
      if (r.status >= 400) throw new UserError(`Error from server (NotFound): ${(() => { try { return JSON.parse(errBody).error; } catch { return errBody; } })()}`);
    });
}
