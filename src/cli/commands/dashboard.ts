import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiCall, apiJson, defaultStateDir, readDaemonInfo } from '../../runtime/local/client.ts';

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('print a one-time login URL of the live web dashboard of the running `tide up` daemon (open it in a browser; valid 10 minutes, once)')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (o: { stateDir: string }) => {
      const info = readDaemonInfo(o.stateDir);
      // make sure the daemon answers (a stale daemon.json gives a clear error instead of a dead URL)
      const r = await apiCall(info, 'GET', '/healthz');
      if (r.status !== 200) throw new UserError(`the Tide daemon at ${info.url} answered ${r.status} to /healthz`);
      const link = await apiJson<{ url: string }>(o.stateDir, 'POST', '/v1/dashboard/login-codes', {});
      console.log(link.url);
    });
}
