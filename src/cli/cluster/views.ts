// `tide get hpa|pods|deploy|svc [-w] [-n NS | -A]` and `tide describe hpa NAME` against a cluster:
// fetch the objects (./kube.ts), format them with the kubectl views (src/views/kubectl), add Tide's
// column / section (./tide-info.ts). Fetching stays here; formatting stays pure there.
import { UserError } from '../../core/errors.ts';
import {
  describeHpa, formatHpaTargets, hpaRow, podRow, deploymentRow, serviceRow, printTable, printRows, columnWidths, GET_TABLE,
  HPA_COLUMNS, POD_COLUMNS, POD_WIDE_COLUMNS, DEPLOYMENT_COLUMNS, DEPLOYMENT_WIDE_COLUMNS, SERVICE_COLUMNS, SERVICE_WIDE_COLUMNS, humanDuration, tabwrite, DESCRIBE_TABLE, toJson, toYaml, asList,
} from '../../views/kubectl/index.ts';
import type { Event, HorizontalPodAutoscaler, Pod, Deployment, Service } from '../../views/kubectl/index.ts';
import { collectionPath, connect, type Cluster, type ClusterFlags, type KubeList, type WatchEvent } from './kube.ts';
import { tideCell, tideSection, tideSummary } from './tide-info.ts';

export type ClusterKind = 'hpa' | 'pods' | 'deployments' | 'services';

interface KindInfo<T> {
  groupVersion: string;
  resource: string;
  /** kubectl's name for NotFound messages: horizontalpodautoscalers.autoscaling */
  qualified: string;
  columns: string[];
  row(o: T, now: number, wide: boolean): string[];
}

const KINDS: Record<ClusterKind, KindInfo<never>> = {
  hpa: { groupVersion: 'autoscaling/v2', resource: 'horizontalpodautoscalers', qualified: 'horizontalpodautoscalers.autoscaling', columns: HPA_COLUMNS, row: ((o: HorizontalPodAutoscaler, now: number, wide: boolean) => hpaRow(o, now, wide)) as never },
  pods: { groupVersion: 'v1', resource: 'pods', qualified: 'pods', columns: POD_COLUMNS, row: ((o: Pod, now: number, wide: boolean) => podRow(o, now, wide)) as never },
  deployments: { groupVersion: 'apps/v1', resource: 'deployments', qualified: 'deployments.apps', columns: DEPLOYMENT_COLUMNS, row: ((o: Deployment, now: number, wide: boolean) => deploymentRow(o, now, wide)) as never },
  services: { groupVersion: 'v1', resource: 'services', qualified: 'services', columns: SERVICE_COLUMNS, row: ((o: Service, now: number, wide: boolean) => serviceRow(o, now, wide)) as never },
};

type Obj = { metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string } };

export interface GetOptions extends ClusterFlags {
  watch?: boolean;
  output?: string;
  /** -l: a label selector, passed to the API server. */
  selector?: string;
  /** Stop watching (tests); default: until SIGINT. */
  signal?: AbortSignal;
  /** Where lines go (tests); default console.log. */
  print?: (text: string) => void;
  now?: () => number;
}

function headerFor(kind: ClusterKind, c: Cluster, wide: boolean): string[] {
  let cols = !wide ? KINDS[kind].columns : kind === 'pods' ? POD_WIDE_COLUMNS : kind === 'deployments' ? DEPLOYMENT_WIDE_COLUMNS : kind === 'services' ? SERVICE_WIDE_COLUMNS : KINDS[kind].columns;
  if (kind === 'hpa') cols = [...cols, 'TIDE'];
  return c.allNamespaces ? ['NAMESPACE', ...cols] : cols;
}

async function hpaEvents(c: Cluster, namespace: string | undefined, hpaName?: string): Promise<Event[]> {
  const fieldSelector = ['involvedObject.kind=HorizontalPodAutoscaler', ...(hpaName ? [`involvedObject.name=${hpaName}`] : [])].join(',');
  const path = namespace ? `/api/v1/namespaces/${encodeURIComponent(namespace)}/events` : '/api/v1/events';
  try {
    return (await c.get<KubeList<Event>>(path, { fieldSelector })).items;
  } catch {
    return []; // no right to read events: the views still work, without Tide's column
  }
}

/** The events of one object, as kubectl describe selects them (name, namespace, kind and uid). */
function eventsOf(events: Event[], o: Obj): Event[] {
  return events.filter((e) => e.involvedObject.name === o.metadata.name && (e.involvedObject.namespace ?? e.metadata.namespace) === o.metadata.namespace
    && (!o.metadata.uid || (e.involvedObject as { uid?: string }).uid === o.metadata.uid));
}

function rowFor(kind: ClusterKind, c: Cluster, o: Obj, events: Event[], now: number, wide: boolean): string[] {
  const row = KINDS[kind].row(o as never, now, wide);
  if (kind === 'hpa') row.push(tideCell(tideSummary(o as unknown as HorizontalPodAutoscaler, eventsOf(events, o))));
  return c.allNamespaces ? [o.metadata.namespace ?? '', ...row] : row;
}

/** `tide get KIND [NAME]` on a cluster. Returns when done (or, with watch, when the signal aborts). */
export async function clusterGet(kind: ClusterKind, name: string | undefined, o: GetOptions): Promise<void> {
  const print = o.print ?? ((t: string) => console.log(t));
  const now = o.now ?? Date.now;
  if (name && o.allNamespaces) throw new UserError('error: a resource cannot be retrieved by name across all namespaces');
  const c = await connect(o);
  const info = KINDS[kind];
  const coll = collectionPath(c, info.groupVersion, info.resource);
  const wide = o.output === 'wide';
  if (o.output !== undefined && !['json', 'yaml', 'wide', 'name'].includes(o.output)) {
    throw new UserError(`error: unable to match a printer suitable for the output format "${o.output}", allowed formats are: json,name,wide,yaml`);
  }
  let items: Obj[];
  let rv: string | undefined;
  if (name) {
    const one = await c.get<Obj>(`${coll}/${encodeURIComponent(name)}`).catch((e: Error) => {
      if (/\(NotFound\)/.test(e.message)) throw new UserError(`Error from server (NotFound): ${info.qualified} "${name}" not found`);
      throw e;
    });
    items = [one];
  } else {
    const list = await c.get<KubeList<Obj>>(coll, { labelSelector: o.selector });
    items = list.items;
    rv = list.metadata?.resourceVersion;
  }
  if (o.output === 'json' || o.output === 'yaml') {
    const withKind = items.map((it) => ({ apiVersion: info.groupVersion, kind: { hpa: 'HorizontalPodAutoscaler', pods: 'Pod', deployments: 'Deployment', services: 'Service' }[kind], ...it }));
    const doc = name ? withKind[0] : asList(withKind);
    print(o.output === 'json' ? toJson(doc) : await toYaml(doc));
    return;
  }
  if (o.output === 'name') {
    const prefix = { hpa: 'horizontalpodautoscaler.autoscaling', pods: 'pod', deployments: 'deployment.apps', services: 'service' }[kind];
    for (const it of items) print(`${prefix}/${it.metadata.name}`);
    return;
  }
  const events = kind === 'hpa' ? await hpaEvents(c, c.allNamespaces ? undefined : c.namespace, name) : [];
  const header = headerFor(kind, c, wide);
  const rows = items.map((it) => rowFor(kind, c, it, events, now(), wide));
  if (!rows.length && !o.watch) {
    process.stderr.write(c.allNamespaces ? 'No resources found\n' : `No resources found in ${c.namespace} namespace.\n`);
    return;
  }
  if (rows.length || !o.watch) print(printTable(header, rows));
  if (!o.watch) return;

  // -w: like kubectl, a row per change, with the first listing's column widths.
  const widths = columnWidths([header, ...rows], GET_TABLE);
  let printedHeader = rows.length > 0;
  const fieldSelector = name ? `metadata.name=${name}` : undefined;
  const watchQuery = new URLSearchParams({ ...(fieldSelector ? { fieldSelector } : {}), ...(o.selector ? { labelSelector: o.selector } : {}) }).toString();
  let resourceVersion = rv ?? (items[0]?.metadata.resourceVersion);
  let backoff = 500;
  while (!o.signal?.aborted) {
    try {
      await c.watch<Obj>(coll + (watchQuery ? `?${watchQuery}` : ''), resourceVersion, (ev: WatchEvent<Obj>) => {
        if (ev.type === 'BOOKMARK') { resourceVersion = ev.object.metadata.resourceVersion; return; }
        if (ev.type === 'ERROR') { resourceVersion = undefined; return; } // 410 Gone: start over from now
        resourceVersion = ev.object.metadata.resourceVersion;
        void (async () => {
          const evs = kind === 'hpa' ? await hpaEvents(c, ev.object.metadata.namespace, ev.object.metadata.name) : [];
          const row = rowFor(kind, c, ev.object, evs, now(), wide);
          if (!printedHeader) { print(printTable(header, [row])); printedHeader = true; return; }
          print(printRows([row], widths));
        })();
      }, o.signal);
      backoff = 500;
    } catch (e) {
      if (o.signal?.aborted) break;
      if (e instanceof UserError && /\((Forbidden|NotFound|Unauthorized)\)/.test(e.message)) throw e;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

/** kubectl's kind prefix of NAME (and of -o name) when several types are printed. */
const PREFIX: Record<ClusterKind, string> = { hpa: 'horizontalpodautoscaler.autoscaling', pods: 'pod', deployments: 'deployment.apps', services: 'service' };
const KIND_NAME: Record<ClusterKind, string> = { hpa: 'HorizontalPodAutoscaler', pods: 'Pod', deployments: 'Deployment', services: 'Service' };

/**
 * `tide get hpa,pods [NAME…]` (several types, or several names) on a cluster, printed as kubectl
 * prints them: one table per type in the order asked, a blank line between tables, NAME prefixed
 * with the kind (`horizontalpodautoscaler.autoscaling/web`) when more than one type is asked; one
 * List for -o json|yaml; NotFound names reported on stderr (exit status 1) while the rest is
 * printed. One type with at most one name is clusterGet (which also watches).
 * Returns the exit status.
 */
export async function clusterGetMany(reqs: { kind: ClusterKind; names: string[] }[], o: GetOptions): Promise<number> {
  if (reqs.length === 1 && reqs[0].names.length <= 1) {
    await clusterGet(reqs[0].kind, reqs[0].names[0], o);
    return 0;
  }
  const print = o.print ?? ((t: string) => console.log(t));
  const warn = (t: string) => process.stderr.write(`${t}\n`);
  const now = o.now ?? Date.now;
  if (o.watch) throw new UserError('error: on a cluster, tide get -w watches one TYPE [NAME] at a time (use kubectl get -w for several)');
  if (reqs.some((r) => r.names.length) && o.allNamespaces) throw new UserError('error: a resource cannot be retrieved by name across all namespaces');
  if (o.output !== undefined && !['json', 'yaml', 'wide', 'name'].includes(o.output)) {
    throw new UserError(`error: unable to match a printer suitable for the output format "${o.output}", allowed formats are: json,name,wide,yaml`);
  }
  const c = await connect(o);
  let code = 0;
  const got = await Promise.all(reqs.map(async (r) => {
    const info = KINDS[r.kind];
    const coll = collectionPath(c, info.groupVersion, info.resource);
    if (!r.names.length) return { r, items: (await c.get<KubeList<Obj>>(coll, { labelSelector: o.selector })).items, missing: [] as string[] };
    const items: Obj[] = [];
    const missing: string[] = [];
    for (const n of r.names) {
      try { items.push(await c.get<Obj>(`${coll}/${encodeURIComponent(n)}`)); } catch (e) {
        if (/\(NotFound\)/.test((e as Error).message)) missing.push(n); else throw e;
      }
    }
    return { r, items, missing };
  }));
  for (const g of got) for (const n of g.missing) { warn(`Error from server (NotFound): ${KINDS[g.r.kind].qualified} "${n}" not found`); code = 1; }
  if (o.output === 'json' || o.output === 'yaml') {
    const all = got.flatMap((g) => g.items.map((it) => ({ apiVersion: KINDS[g.r.kind].groupVersion, kind: KIND_NAME[g.r.kind], ...it })));
    if (!all.length && code) return code;
    const doc = asList(all);
    print(o.output === 'json' ? toJson(doc) : await toYaml(doc));
    return code;
  }
  if (o.output === 'name') {
    for (const g of got) for (const it of g.items) print(`${PREFIX[g.r.kind]}/${it.metadata.name}`);
    return code;
  }
  const wide = o.output === 'wide';
  const withKind = reqs.length > 1;
  const nameCol = c.allNamespaces ? 1 : 0;
  const tables: string[] = [];
  for (const g of got) {
    if (!g.items.length) continue;
    const events = g.r.kind === 'hpa' ? await hpaEvents(c, c.allNamespaces ? undefined : c.namespace) : [];
    const rows = g.items.map((it) => rowFor(g.r.kind, c, it, events, now(), wide));
    if (withKind) for (const row of rows) row[nameCol] = `${PREFIX[g.r.kind]}/${row[nameCol]}`;
    tables.push(printTable(headerFor(g.r.kind, c, wide), rows));
  }
  if (!tables.length) {
    if (!code) warn(c.allNamespaces ? 'No resources found' : `No resources found in ${c.namespace} namespace.`);
    return code;
  }
  print(tables.join('\n\n'));
  return code;
}

export interface DescribeOptions extends ClusterFlags { print?: (text: string) => void; now?: () => number }

/** `tide describe hpa [NAME]` on a cluster: kubectl's describe, then Tide's section. */
export async function clusterDescribeHpa(name: string | undefined, o: DescribeOptions): Promise<void> {
  const print = o.print ?? ((t: string) => console.log(t));
  const now = (o.now ?? Date.now)();
  const c = await connect(o);
  const coll = collectionPath(c, 'autoscaling/v2', 'horizontalpodautoscalers');
  let hpas: HorizontalPodAutoscaler[];
  if (name) {
    hpas = [await c.get<HorizontalPodAutoscaler>(`${coll}/${encodeURIComponent(name)}`).catch((e: Error) => {
      if (/\(NotFound\)/.test(e.message)) throw new UserError(`Error from server (NotFound): horizontalpodautoscalers.autoscaling "${name}" not found`);
      throw e;
    })];
  } else {
    hpas = (await c.get<KubeList<HorizontalPodAutoscaler>>(coll)).items;
    if (!hpas.length) { process.stderr.write(`No resources found in ${c.allNamespaces ? 'any' : c.namespace} namespace.\n`); return; }
  }
  const events = await hpaEvents(c, c.allNamespaces ? undefined : c.namespace, name);
  const texts = hpas.map((h) => {
    const evs = eventsOf(events, h as unknown as Obj);
    const section = tabwrite(tideSection(tideSummary(h, evs), now, humanDuration), DESCRIBE_TABLE);
    return describeHpa(h, evs, now, { trailer: section });
  });
  print(texts.join('\n\n\n'));
}

export { formatHpaTargets };
