import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiCall, apiJson, defaultStateDir, readDaemonInfo } from '../../runtime/local/client.ts';
import type { ReplicaStatus } from '../../runtime/local/supervisor.ts';
import { parseSelector } from '../../views/kubectl/selector.ts';
import type { Pod } from '../../views/kubectl/types.ts';
import { KINDS, kubeList } from '../kube.ts';

async function stream(stateDir: string, name: string, follow: boolean, tail: number | undefined, prefix: string): Promise<void> {
  const qs = new URLSearchParams();
  if (follow) qs.set('follow', '1');
  if (tail !== undefined) qs.set('tail', String(tail));
  const info = readDaemonInfo(stateDir);
  let errBody = '';
  let partial = '';
  const r = await apiCall(info, 'GET', `/v1/pods/${encodeURIComponent(name)}/logs?${qs}`, undefined, (chunk) => {
    if (errBody || chunk.startsWith('{"error"')) { errBody += chunk; return; }
    if (!prefix) { process.stdout.write(chunk); return; }
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    if (lines.length) process.stdout.write(lines.map((l) => `${prefix}${l}\n`).join(''));
  });
  if (partial) process.stdout.write(`${prefix}${partial}\n`);
  if (r.status >= 400) throw new UserError(`Error from server (NotFound): ${(() => { try { return JSON.parse(errBody).error; } catch { return errBody; } })()}`);
}

export function register(program: Command): void {
  program
    .command('logs')
    .description('print (or follow) replicas\' stdout/stderr (like kubectl logs): POD, deployment/NAME, or -l app=NAME')
    .argument('[pod]')
    .option('-f, --follow', 'stream new lines', false)
    .option('--tail <n>', 'only the last N lines (default with -l: 10, as kubectl)')
    .option('-l, --selector <selector>', 'every pod matching the label selector, e.g. app=mlp-server')
    .option('--prefix', 'prefix each line with [pod/NAME/CONTAINER] (default with -l when several pods match)')
    .option('--max-log-requests <n>', 'with -l -f: at most this many pods followed at once', '5')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (pod: string | undefined, o: { follow: boolean; tail?: string; selector?: string; prefix?: boolean; maxLogRequests: string; stateDir: string }) => {
      const tail = o.tail !== undefined ? Number(o.tail) : undefined;
      if (tail !== undefined && !Number.isInteger(tail)) throw new UserError(`error: --tail must be an integer, not ${JSON.stringify(o.tail)}`);
      if (o.selector) {
        if (pod) throw new UserError('error: only one of a pod name and -l/--selector may be given');
        try { parseSelector(o.selector); } catch (e) { throw new UserError(`error: ${(e as Error).message}`); }
        const pods = (await kubeList<Pod>(o.stateDir, KINDS.pods, { namespace: 'default', allNamespaces: false }, `labelSelector=${encodeURIComponent(o.selector)}`))
          .filter((p) => !p.metadata.deletionTimestamp).map((p) => ({ name: p.metadata.name, container: p.spec.containers[0]?.name ?? '' }));
        if (!pods.length) { console.error(`No resources found in default namespace.`); return; }
        const max = Number(o.maxLogRequests);
        if (o.follow && pods.length > max) throw new UserError(`error: you are attempting to follow ${pods.length} log streams, but maximum allowed concurrency is ${max}, use --max-log-requests to increase the limit`);
        const prefix = o.prefix ?? pods.length > 1;
        const run = (p: { name: string; container: string }) => stream(o.stateDir, p.name, o.follow, tail ?? 10, prefix ? `[pod/${p.name}/${p.container}] ` : '');
        if (o.follow) await Promise.all(pods.map(run));
        else for (const p of pods) await run(p);
        return;
      }
      if (!pod) throw new UserError('error: expected POD, deployment/NAME or -l SELECTOR');
      let name = pod.replace(/^(?:po|pod|pods)\//, '');
      const m = /^(?:deploy|deployment|deployments)\/(.+)$/.exec(pod);
      if (m) {
        const pods = (await apiJson<ReplicaStatus[]>(o.stateDir, 'GET', `/v1/pods?deployment=${encodeURIComponent(m[1])}`)).filter((p) => !p.deletionTimestamp);
        if (!pods.length) throw new UserError(`error: no pods of deployment ${m[1]}`);
        name = pods[0].name;
      }
      await stream(o.stateDir, name, o.follow, tail, o.prefix ? `[pod/${name}] ` : '');
    });
}
