import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { defaultStateDir } from '../../runtime/local/client.ts';
import { addClusterFlags, clusterGetIfAsked, type ClusterCliFlags } from '../cluster/flags.ts';
import { columnWidths, GET_TABLE, printRows, printTable } from '../../views/kubectl/tabwriter.ts';
import { HPA_COLUMNS, hpaRow } from '../../views/kubectl/hpa.ts';
import { POD_COLUMNS, POD_WIDE_COLUMNS, podRow } from '../../views/kubectl/pods.ts';
import { DEPLOYMENT_COLUMNS, DEPLOYMENT_WIDE_COLUMNS, deploymentRow, SERVICE_COLUMNS, SERVICE_WIDE_COLUMNS, serviceRow } from '../../views/kubectl/workloads.ts';
import { parseSelector } from '../../views/kubectl/selector.ts';
import { asList, toJson, toYaml } from '../../views/kubectl/output.ts';
import type { Deployment, HorizontalPodAutoscaler, ObjectMeta, Pod, Service } from '../../views/kubectl/types.ts';
import { kindOf, kubeGet, kubeList, listPath, scopeOf, type KindInfo, type Scope } from '../kube.ts';

type Obj = { metadata: ObjectMeta };

/** Header and rows of one kind, as `kubectl get` prints them. */
export function rowsFor(k: KindInfo, items: Obj[], now: number, opts: { wide: boolean; withKind: boolean; allNamespaces: boolean }): { header: string[]; rows: string[][] } {
  let header: string[];
  let rows: string[][];
  switch (k.kind) {
    case 'hpa': header = HPA_COLUMNS; rows = items.map((o) => hpaRow(o as HorizontalPodAutoscaler, now, opts.wide)); break;
    case 'pods': header = opts.wide ? POD_WIDE_COLUMNS : POD_COLUMNS; rows = items.map((o) => podRow(o as Pod, now, opts.wide)); break;
    case 'deployments': header = opts.wide ? DEPLOYMENT_WIDE_COLUMNS : DEPLOYMENT_COLUMNS; rows = items.map((o) => deploymentRow(o as Deployment, now, opts.wide)); break;
    case 'services': header = opts.wide ? SERVICE_WIDE_COLUMNS : SERVICE_COLUMNS; rows = items.map((o) => serviceRow(o as Service, now, opts.wide)); break;
  }
  if (opts.withKind) rows = rows.map((r) => [`${k.singular}/${r[0]}`, ...r.slice(1)]);
  if (opts.allNamespaces) { header = ['NAMESPACE', ...header]; rows = rows.map((r, i) => [items[i].metadata.namespace ?? 'default', ...r]); }
  return { header, rows };
}

interface Request { kind: KindInfo; names: string[] }

/** "hpa,pods", "hpa NAME NAME", "hpa/NAME pod/NAME" → what to fetch, as kubectl reads its arguments. */
export function parseTargets(args: string[]): Request[] {
  if (!args.length) throw new UserError('error: you must specify the type of resource to get (hpa, pods, deployments, svc)');
  if (args.every((a) => a.includes('/'))) {
    const reqs: Request[] = [];
    for (const a of args) {
      const [t, ...n] = a.split('/');
      const kind = kindOf(t);
      const r = reqs.find((x) => x.kind === kind);
      if (r) r.names.push(n.join('/')); else reqs.push({ kind, names: [n.join('/')] });
    }
    return reqs;
  }
  if (args.slice(1).some((a) => a.includes('/'))) throw new UserError('error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form');
  const kinds = args[0].split(',').filter(Boolean).map(kindOf);
  const names = args.slice(1);
  if (names.length && kinds.length > 1) return kinds.map((kind) => ({ kind, names }));
  return kinds.map((kind) => ({ kind, names }));
}

async function fetchAll(stateDir: string, reqs: Request[], scope: Scope, selector: string | undefined): Promise<{ req: Request; items: Obj[]; missing: string[] }[]> {
  const q = selector ? `labelSelector=${encodeURIComponent(selector)}` : '';
  return Promise.all(reqs.map(async (req) => {
    if (!req.names.length) return { req, items: await kubeList<Obj>(stateDir, req.kind, scope, q), missing: [] };
    const items: Obj[] = [];
    const missing: string[] = [];
    for (const n of req.names) {
      try { items.push(await kubeGet<Obj>(stateDir, `${listPath(req.kind, { ...scope, allNamespaces: false })}/${encodeURIComponent(n)}`)); } catch (e) {
        if (/\(NotFound\)/.test((e as Error).message)) missing.push(n); else throw e;
      }
    }
    return { req, items, missing };
  }));
}

export interface GetOptions { watch: boolean; stateDir: string; output?: string; selector?: string; namespace?: string; allNamespaces?: boolean }

export async function runGet(args: string[], o: GetOptions, write: (s: string) => void = (s) => process.stdout.write(s), warn: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const reqs = parseTargets(args);
  const scope = scopeOf(o);
  if (o.selector) { try { parseSelector(o.selector); } catch (e) { throw new UserError(`error: ${(e as Error).message}`); } }
  const fmt = o.output;
  if (fmt !== undefined && !['json', 'yaml', 'wide', 'name'].includes(fmt)) throw new UserError(`error: unable to match a printer suitable for the output format "${fmt}", allowed formats are: json,name,wide,yaml`);
  const results = await fetchAll(o.stateDir, reqs, scope, o.selector);
  let code = 0;
  for (const r of results) for (const n of r.missing) { warn(`Error from server (NotFound): ${r.req.kind.qualified} "${n}" not found\n`); code = 1; }
  const all = results.flatMap((r) => r.items);
  if (fmt === 'json' || fmt === 'yaml') {
    const single = reqs.length === 1 && reqs[0].names.length === 1 && all.length === 1;
    const body = single ? all[0] : asList(all);
    if (!single && !all.length && code) return code;
    write((fmt === 'json' ? toJson(body) : await toYaml(body)) + '\n');
    return code;
  }
  if (fmt === 'name') {
    for (const r of results) for (const it of r.items) write(`${r.req.kind.singular}/${it.metadata.name}\n`);
    return code;
  }
  const withKind = reqs.length > 1;
  const opts = { wide: fmt === 'wide', withKind, allNamespaces: scope.allNamespaces };
  const now = Date.now();
  const tables = results.map((r) => ({ r, ...rowsFor(r.req.kind, r.items, now, opts) }));
  const printed = tables.filter((t) => t.rows.length);
  if (!printed.length && !code && !o.watch) {
    warn(scope.allNamespaces ? 'No resources found\n' : `No resources found in ${scope.namespace} namespace.\n`);
    return 0;
  }
  write(printed.map((t) => printTable(t.header, t.rows) + '\n').join('\n'));
  for (const r of results) for (const it of r.items) {
    const err = it.metadata.annotations?.['tide.dev/error'];
    if (err) warn(`warning: ${r.req.kind.singular}/${it.metadata.name} is not served: ${err}\n`);
  }
  if (!o.watch) return code;
  // -w: keep each kind's column widths (tabwriter RememberWidths), print a row when it changes (AGE ignored)
  const state = tables.map((t) => ({
    widths: columnWidths([t.header, ...t.rows], GET_TABLE),
    last: new Map(t.rows.map((row, i) => [t.r.items[i].metadata.name, sig(row)])),
    headerShown: t.rows.length > 0,
    header: t.header,
  }));
  await new Promise<void>((resolveWatch) => {
    let stopped = false;
    process.once('SIGINT', () => { stopped = true; resolveWatch(); });
    const tick = async () => {
      if (stopped) return;
      const cur = await fetchAll(o.stateDir, reqs, scope, o.selector);
      const t = Date.now();
      cur.forEach((c, i) => {
        const st = state[i];
        const { rows } = rowsFor(c.req.kind, c.items, t, opts);
        const changed = rows.filter((row, j) => {
          const key = c.items[j].metadata.name;
          if (st.last.get(key) === sig(row)) return false;
          st.last.set(key, sig(row));
          return true;
        });
        if (!changed.length) return;
        if (!st.headerShown) { st.widths = columnWidths([st.header, ...changed], GET_TABLE); write(printTable(st.header, [], st.widths) + '\n'); st.headerShown = true; }
        write(printRows(changed, st.widths) + '\n');
      });
      setTimeout(() => { tick().catch((e) => { warn(`${(e as Error).message}\n`); resolveWatch(); }); }, 1000);
    };
    setTimeout(() => { tick().catch((e) => { warn(`${(e as Error).message}\n`); resolveWatch(); }); }, 1000);
  });
  return code;
}

/** A row's identity for -w: every cell but AGE (the last column of every kind's default table). */
function sig(row: string[]): string {
  return row.slice(0, -1).join('\u0000');
}

export function register(program: Command): void {
  const cmd = program
    .command('get')
    .description('list hpa, pods, deployments or svc of the running `tide up`, or of a cluster (--kubeconfig/--context/--cluster), exactly like kubectl get (TYPE[,TYPE…] [NAME…] or TYPE/NAME…)')
    .argument('<resource...>', 'hpa | pods | deployments | svc, comma-separated, then names; or TYPE/NAME')
    .option('-w, --watch', 'after listing, print a row each time an object changes', false)
    .option('-o, --output <format>', 'json | yaml (the Kubernetes objects, HPA status included) | wide | name')
    .option('-l, --selector <selector>', 'label selector, e.g. app=mlp-server, tier!=db, env in (a,b)')
    .option('-n, --namespace <ns>', 'namespace (local objects live in "default")')
    .option('-A, --all-namespaces', 'list across namespaces (adds NAMESPACE)', false)
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir());
  addClusterFlags(cmd)
    .action(async (resource: string[], o: GetOptions & ClusterCliFlags) => {
      if (await clusterGetIfAsked(cmd, resource, o)) return;
      process.exitCode = await runGet(resource, o);
    });
}
