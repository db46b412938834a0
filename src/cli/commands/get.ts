import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiJson, defaultStateDir } from '../../runtime/local/client.ts';
import { humanDuration, table } from '../../runtime/local/format.ts';
import type { AutoscalerStatus } from '../../runtime/local/drivers/types.ts';
import type { ReplicaStatus } from '../../runtime/local/supervisor.ts';

type Kind = 'hpa' | 'pods' | 'deployments' | 'services';
const KINDS: Record<string, Kind> = {
  hpa: 'hpa', horizontalpodautoscaler: 'hpa', horizontalpodautoscalers: 'hpa',
  po: 'pods', pod: 'pods', pods: 'pods',
  deploy: 'deployments', deployment: 'deployments', deployments: 'deployments',
  svc: 'services', service: 'services', services: 'services',
};

export function hpaRows(list: AutoscalerStatus[], now: number): string[][] {
  return list.map((a) => [a.name, a.reference, a.targets, String(a.minReplicas), String(a.maxReplicas), String(a.currentReplicas), humanDuration(now - a.created)]);
}
export const HPA_HEADER = ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'];

export function restartsCell(p: Pick<ReplicaStatus, 'restartCount' | 'lastRestart'>, now: number): string {
  return p.restartCount > 0 && p.lastRestart ? `${p.restartCount} (${humanDuration(now - p.lastRestart)} ago)` : String(p.restartCount);
}
export function podRows(list: ReplicaStatus[], now: number): string[][] {
  return list.map((p) => [p.name, `${p.ready ? 1 : 0}/1`, p.status, restartsCell(p, now), humanDuration(now - p.created)]);
}
export const POD_HEADER = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];

async function fetchRows(kind: Kind, name: string | undefined, stateDir: string): Promise<{ header: string[]; rows: string[][]; keys: string[] }> {
  const now = Date.now();
  if (kind === 'hpa') {
    let list = await apiJson<AutoscalerStatus[]>(stateDir, 'GET', '/v1/autoscalers');
    if (name) {
      list = list.filter((a) => a.name === name);
      if (!list.length) throw new UserError(`Error from server (NotFound): horizontalpodautoscalers.autoscaling "${name}" not found`);
    }
    return { header: HPA_HEADER, rows: hpaRows(list, now), keys: list.map((a) => a.name) };
  }
  if (kind === 'pods') {
    let list = await apiJson<ReplicaStatus[]>(stateDir, 'GET', '/v1/pods');
    if (name) {
      list = list.filter((p) => p.name === name);
      if (!list.length) throw new UserError(`Error from server (NotFound): pods "${name}" not found`);
    }
    return { header: POD_HEADER, rows: podRows(list, now), keys: list.map((p) => p.name) };
  }
  if (kind === 'deployments') {
    const list = (await apiJson<{ name: string; desired: number; replicas: number; ready: number }[]>(stateDir, 'GET', '/v1/deployments')).filter((d) => !name || d.name === name);
    return { header: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE'], rows: list.map((d) => [d.name, `${d.ready}/${d.desired}`, String(d.replicas), String(d.ready)]), keys: list.map((d) => d.name) };
  }
  const list = (await apiJson<{ name: string; port: number | null; manifestPort: number; deployment: string | null; error: string | null; url: string | null }[]>(stateDir, 'GET', '/v1/services')).filter((s) => !name || s.name === name);
  return { header: ['NAME', 'URL', 'DEPLOYMENT', 'STATUS'], rows: list.map((s) => [s.name, s.url ?? '<none>', s.deployment ?? '<none>', s.error ? `error: ${s.error}` : 'serving']), keys: list.map((s) => s.name) };
}

export function register(program: Command): void {
  program
    .command('get')
    .description('list hpa, pods, deployments or svc of the running `tide up` (like kubectl get)')
    .argument('<resource>', 'hpa | pods | deployments | svc')
    .argument('[name]', 'only this object')
    .option('-w, --watch', 'after listing, print a line each time an object changes', false)
    .option('-o, --output <format>', 'json: print the control API objects instead of the table')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (resource: string, name: string | undefined, o: { watch: boolean; stateDir: string; output?: string }) => {
      const kind = KINDS[resource.toLowerCase()];
      if (!kind) throw new UserError(`error: the server doesn't have a resource type "${resource}" (try hpa, pods, deployments, svc)`);
      if (o.output !== undefined) {
        if (o.output !== 'json') throw new UserError(`error: unable to match a printer suitable for the output format "${o.output}", allowed formats are: json`);
        const path = { hpa: '/v1/autoscalers', pods: '/v1/pods', deployments: '/v1/deployments', services: '/v1/services' }[kind];
        const list = (await apiJson<{ name: string }[]>(o.stateDir, 'GET', path)).filter((x) => !name || x.name === name);
        if (name && !list.length) throw new UserError(`Error from server (NotFound): ${resource} "${name}" not found`);
        console.log(JSON.stringify(name ? list[0] : list, null, 2));
        return;
      }
      const first = await fetchRows(kind, name, o.stateDir);
      if (!first.rows.length && !o.watch) { console.error('No resources found in default namespace.'); return; }
      const out = table(first.header, first.rows).split('\n');
      console.log(out.join('\n'));
      if (!o.watch) return;
      // Watch: keep the column widths of the first listing, print changed rows (ignoring AGE).
      const widths = first.header.map((h, i) => Math.max(h.length, ...first.rows.map((r) => r[i].length)));
      const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ');
      const sig = (r: string[]) => r.slice(0, -1).join('\u0000');
      const last = new Map(first.rows.map((r, i) => [first.keys[i], sig(r)]));
      let stop = false;
      process.on('SIGINT', () => { stop = true; process.exit(0); });
      while (!stop) {
        await new Promise((r) => setTimeout(r, 1000));
        const cur = await fetchRows(kind, undefined, o.stateDir).catch((e) => { throw e; });
        cur.rows.forEach((r, i) => {
          if (name && cur.keys[i] !== name) return;
          if (last.get(cur.keys[i]) !== sig(r)) { last.set(cur.keys[i], sig(r)); console.log(fmt(r)); }
        });
      }
    });
}
