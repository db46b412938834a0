// kubectl's connection flags for `tide get` / `tide describe` (docs/kubernetes.md, "Views against a
// cluster"): --kubeconfig, --context or --cluster select a cluster instead of the local daemon;
// -n / -A (defined by the commands themselves) scope either one.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { wantsCluster, type ClusterFlags } from './kube.ts';

export interface ClusterCliFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  cluster?: boolean;
  stateDir?: string;
}

export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file: talk to that cluster (default $KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context: talk to that cluster')
    .option('--cluster', 'talk to the cluster of the current kubeconfig context, not the local daemon');
}

function flagsOf(o: ClusterCliFlags): ClusterFlags {
  return { kubeconfig: o.kubeconfig, context: o.context, namespace: o.namespace, allNamespaces: o.allNamespaces, cluster: o.cluster };
}

/** Whether this invocation is for a cluster (see wantsCluster); --state-dir given on the command line means the daemon. */
export function onCluster(cmd: Command, o: ClusterCliFlags): boolean {
  const explicitLocal = cmd.getOptionValueSource('stateDir') === 'cli';
  return wantsCluster(flagsOf(o), explicitLocal, join(resolve(o.stateDir ?? '.tide'), 'daemon.json'));
}

/** `tide get` against a cluster when asked: one TYPE [NAME] or TYPE/NAME. Returns false for the daemon. */
export async function clusterGetIfAsked(cmd: Command, args: string[], o: ClusterCliFlags & { watch?: boolean; output?: string; selector?: string }): Promise<boolean> {
  if (!onCluster(cmd, o)) return false;
  // the same argument forms as the local view: TYPE[,TYPE…] [NAME…] or TYPE/NAME…
  const { parseTargets } = await import('../commands/get.ts');
  const reqs = parseTargets(args).map((r) => ({ kind: r.kind.kind, names: r.names }));
  const { clusterGetMany } = await import('./views.ts');
  const ac = new AbortController();
  if (o.watch) process.once('SIGINT', () => { ac.abort(); process.exit(0); });
  const code = await clusterGetMany(reqs, { ...flagsOf(o), watch: o.watch, output: o.output, selector: o.selector, signal: ac.signal });
  if (code) process.exitCode = code;
  return true;
}

/** `tide describe hpa [NAME]` against a cluster when asked. */
export async function clusterDescribeIfAsked(cmd: Command, kind: string, name: string | undefined, o: ClusterCliFlags): Promise<boolean> {
  if (!onCluster(cmd, o)) return false;
  if (!/^(hpa|horizontalpodautoscalers?)(\.autoscaling)?$/i.test(kind)) throw new UserError(`error: on a cluster, tide describe shows hpa (use kubectl describe ${kind})`);
  const { clusterDescribeHpa } = await import('./views.ts');
  await clusterDescribeHpa(name, flagsOf(o));
  return true;
}
