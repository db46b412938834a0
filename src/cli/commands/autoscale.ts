import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiJson, defaultStateDir } from '../../runtime/local/client.ts';

export function register(program: Command): void {
  program
    .command('autoscale')
    .description('create an autoscaling/v1 HPA for a running Deployment (like kubectl autoscale)')
    .argument('<kind>', 'deployment')
    .argument('<name>')
    .requiredOption('--max <n>', 'maxReplicas')
    .option('--min <n>', 'minReplicas (default 1)')
    .option('--cpu-percent <n>', 'target average CPU utilization (% of request); default 80 as the API server defaults it')
    .option('--name <name>', 'HPA name (default: the Deployment name)')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (kind: string, name: string, o: { max: string; min?: string; cpuPercent?: string; name?: string; stateDir: string }) => {
      if (!/^(deploy|deployment|deployments)$/.test(kind)) throw new UserError(`error: the local runtime autoscales deployments, not ${JSON.stringify(kind)}`);
      const int = (flag: string, v: string | undefined, min: number) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new UserError(`error: ${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
        return n;
      };
      const body = { deployment: name, name: o.name, max: int('--max', o.max, 1), min: int('--min', o.min, 1), cpuPercent: int('--cpu-percent', o.cpuPercent, 1) };
      const res = await apiJson<{ name: string }>(o.stateDir, 'POST', '/v1/autoscalers', body);
      console.log(`horizontalpodautoscaler.autoscaling/${res.name} autoscaled`);
    });
}
