import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { defaultStateDir } from '../../runtime/local/client.ts';
import { printTable } from '../../views/kubectl/tabwriter.ts';
import { TOP_POD_COLUMNS, topPodRow } from '../../views/kubectl/top.ts';
import type { PodMetrics } from '../../views/kubectl/types.ts';
import { kubeList, scopeOf } from '../kube.ts';

export function register(program: Command): void {
  program
    .command('top')
    .description('CPU and memory of each replica, from the samples the HPA reads (like kubectl top pods)')
    .argument('<resource>', 'pods')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector, e.g. app=mlp-server')
    .option('-n, --namespace <ns>', 'namespace (local objects live in "default")')
    .option('-A, --all-namespaces', 'across namespaces', false)
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (resource: string, name: string | undefined, o: { stateDir: string; selector?: string; namespace?: string; allNamespaces?: boolean }) => {
      if (!/^(po|pods?)$/i.test(resource)) throw new UserError(`error: tide top supports pods, not ${JSON.stringify(resource)}`);
      const scope = scopeOf(o);
      let items = await kubeList<PodMetrics>(o.stateDir, { group: '/apis/metrics.k8s.io/v1beta1', plural: 'pods' }, scope, o.selector ? `labelSelector=${encodeURIComponent(o.selector)}` : '');
      if (name) {
        items = items.filter((m) => m.metadata.name === name);
        if (!items.length) throw new UserError(`error: metrics not available yet (or no pod "${name}")`);
      }
      if (!items.length) throw new UserError('error: metrics not available yet');
      const rows = items.map(topPodRow);
      console.log(printTable(scope.allNamespaces ? ['NAMESPACE', ...TOP_POD_COLUMNS] : TOP_POD_COLUMNS, scope.allNamespaces ? rows.map((r, i) => [items[i].metadata.namespace ?? 'default', ...r]) : rows));
    });
}
