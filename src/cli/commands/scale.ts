import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiJson, defaultStateDir } from '../../runtime/local/client.ts';

export function register(program: Command): void {
  program
    .command('scale')
    .description('set the replicas of a running Deployment (like kubectl scale; an HPA on it takes over at its next sync)')
    .argument('<kind>', 'deployment')
    .argument('<name>')
    .requiredOption('--replicas <n>', 'desired replicas')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (kind: string, name: string, o: { replicas: string; stateDir: string }) => {
      if (!/^(deploy|deployment|deployments)$/.test(kind)) throw new UserError(`error: the local runtime scales deployments, not ${JSON.stringify(kind)}`);
      const n = Number(o.replicas);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`error: --replicas must be an integer >= 0, got ${JSON.stringify(o.replicas)}`);
      await apiJson(o.stateDir, 'POST', `/v1/deployments/${encodeURIComponent(name)}/scale`, { replicas: n });
      console.log(`deployment.apps/${name} scaled`);
    });
}
