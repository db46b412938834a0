import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiJson, defaultStateDir } from '../../runtime/local/client.ts';
import { addClusterFlags, clusterDescribeIfAsked, type ClusterCliFlags } from '../cluster/flags.ts';
import { humanDuration, table } from '../../runtime/local/format.ts';
import type { AutoscalerStatus } from '../../autoscalers/types.ts';
import type { DecisionRecord } from '../../core/decision.ts';
import type { RuntimeEvent, ReplicaStatus } from '../../runtime/local/supervisor.ts';
import { describeHpa } from '../../views/kubectl/hpa.ts';
import type { Event, HorizontalPodAutoscaler } from '../../views/kubectl/types.ts';
import { KINDS, kubeGet, kubeList, listPath, scopeOf } from '../kube.ts';


function rfc1123(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function kv(pairs: [string, string][]): string[] {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w)}${v}`);
}

function indent(text: string, n = 2): string {
  return text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
}

/** Group repeated events as kubectl does ("3x over 2m"). */
export function eventRows(events: RuntimeEvent[], from: string, now: number): string[][] {
  const groups: { e: RuntimeEvent; first: number; count: number }[] = [];
  for (const e of events) {
    const g = groups.find((x) => x.e.reason === e.reason && x.e.message === e.message && x.e.type === e.type);
    if (g) { g.count++; g.e = e; } else groups.push({ e, first: e.time, count: 1 });
  }
  groups.sort((a, b) => a.e.time - b.e.time);
  return groups.map(({ e, first, count }) => [e.type, e.reason, count > 1 ? `${humanDuration(now - e.time)} (x${count} over ${humanDuration(e.time - first)})` : humanDuration(now - e.time), from, e.message]);
}

/** Tide's addition after kubectl's sections: the last decision, explained. */
export function lastDecisionSection(d: Omit<DecisionRecord, 'inputs'> | undefined, dryRun: boolean, now: number): string | undefined {
  if (!d) return undefined;
  const out: string[] = ['Last decision (tide):'];
  const driving = d.drivingMetric !== null ? d.proposals[d.drivingMetric] : undefined;
  out.push(...kv([
    ['Time', `${rfc1123(d.now)} (${humanDuration(now - d.now)} ago)`],
    ['Replicas', `${d.currentReplicas} -> ${d.desiredReplicas}${d.rescale ? (dryRun ? ' (dry run: not applied)' : ' (rescaled)') : ''}`],
    ['Driving metric', driving ? `${driving.metric}: ${driving.current} / ${driving.target} -> ${driving.proposedReplicas ?? '<none>'} replicas` : '<none>'],
    ['Limited by', d.limitedBy.length ? d.limitedBy.join(', ') : 'none'],
    ['Explanation', d.explanation],
  ]).map((l) => `  ${l}`));
  for (const p of d.proposals) if (p.error) out.push(`  Metric error (${p.metric}): ${p.error}`);
  return out.join('\n');
}

export function describePod(p: ReplicaStatus & { events: RuntimeEvent[]; usage: { cpuMilli?: number; memoryBytes?: number }; inFlight: number; requests: Record<string, number> }, now: number): string {
  const st = p.state;
  const stateLines = (s: ReplicaStatus['state'] | undefined): [string, string][] => {
    if (!s) return [];
    if (s.kind === 'running') return [['State', 'Running'], ['  Started', rfc1123(s.startedAt)]];
    if (s.kind === 'waiting') return [['State', 'Waiting'], ['  Reason', s.reason], ...(s.message ? [['  Message', s.message] as [string, string]] : [])];
    return [['State', 'Terminated'], ['  Reason', s.reason], ['  Exit Code', String(s.exitCode)], ['  Finished', rfc1123(s.finishedAt)], ...(s.message ? [['  Message', s.message] as [string, string]] : [])];
  };
  const last = p.lastState ? stateLines(p.lastState).map(([k, v]) => [k === 'State' ? 'Last State' : k, v] as [string, string]) : [];
  const out = kv([
    ['Name', p.name], ['Namespace', 'default'], ['Start Time', p.startTime ? rfc1123(p.startTime) : '<none>'],
    ['Labels', Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(',') || '<none>'],
    ['Status', p.status], ['PID', p.pid ? String(p.pid) : '<none>'], ['Port', String(p.port)],
    ...stateLines(st), ...last,
    ['Ready', p.ready ? 'True' : 'False'], ['Restart Count', String(p.restartCount)],
    ['Requests', Object.entries(p.requests).map(([k, v]) => `${k}: ${k === 'cpu' ? `${v}m` : `${Math.round(v / 1000)}`}`).join(', ') || '<none>'],
    ['Usage', `cpu ${p.usage.cpuMilli ?? '?'}m, memory ${p.usage.memoryBytes !== undefined ? `${Math.round(p.usage.memoryBytes / 1048576)}Mi` : '?'}`],
    ['In flight', String(p.inFlight)],
  ]);
  for (const pr of p.probes) out.push(`${pr.kind[0].toUpperCase()}${pr.kind.slice(1)}: ${pr.value ? 'passing' : 'failing'}${pr.lastMessage ? ` (${pr.lastMessage})` : ''}`);
  if (p.events.length) {
    out.push('Events:');
    out.push(indent(table(['Type', 'Reason', 'Age', 'From', 'Message'], [['----', '------', '----', '----', '-------'], ...eventRows(p.events, 'tide', now)])));
  } else out.push('Events:  <none>');
  return out.join('\n');
}

const AUTOSCALER_KINDS = new Set(['HorizontalPodAutoscaler', 'PodAutoscaler', 'ScaledObject']);

export function register(program: Command): void {
  const cmd = program
    .command('describe')
    .description('show an hpa (metrics, conditions, events, last decision explained) or a pod in detail, like kubectl describe; of the running `tide up`, or of a cluster (--kubeconfig/--context/--cluster)')
    .argument('<kind>', 'hpa | pod')
    .argument('[name]')
    .option('-n, --namespace <ns>', 'namespace (local objects live in "default")')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir());
  addClusterFlags(cmd)
    .action(async (kind: string, name: string | undefined, o: { stateDir: string; namespace?: string } & ClusterCliFlags) => {
      if (await clusterDescribeIfAsked(cmd, kind, name, o)) return;
      const now = Date.now();
      if (/^(hpa|horizontalpodautoscalers?)(\.autoscaling)?$/i.test(kind)) {
        const hpaKind = KINDS.hpa;
        const scope = scopeOf(o);
        const objs = name
          ? [await kubeGet<HorizontalPodAutoscaler>(o.stateDir, `${listPath(hpaKind, scope)}/${encodeURIComponent(name)}`)]
          : await kubeList<HorizontalPodAutoscaler>(o.stateDir, hpaKind, scope);
        const texts = await Promise.all(objs.map(async (h) => {
          const ns = h.metadata.namespace ?? 'default';
          const events = (await kubeList<Event>(o.stateDir, { group: '/api/v1', plural: 'events' }, { namespace: ns, allNamespaces: false },
            `fieldSelector=${encodeURIComponent(`involvedObject.name=${h.metadata.name}`)}`))
            .filter((e) => AUTOSCALER_KINDS.has(e.involvedObject.kind));
          const view = await apiJson<AutoscalerStatus>(o.stateDir, 'GET', `/v1/autoscalers/${encodeURIComponent(h.metadata.name)}`).catch(() => undefined);
          return describeHpa(h, events, now, { trailer: lastDecisionSection(view?.lastDecision, !!view?.dryRun, now) });
        }));
        if (!texts.length) { console.error(`No resources found in ${scope.namespace} namespace.`); return; }
        console.log(texts.join('\n\n\n'));
        return;
      }
      if (/^(po|pods?)$/i.test(kind)) {
        const names = name ? [name] : (await apiJson<ReplicaStatus[]>(o.stateDir, 'GET', '/v1/pods')).map((p) => p.name);
        const views = await Promise.all(names.map((n) => apiJson<Parameters<typeof describePod>[0]>(o.stateDir, 'GET', `/v1/pods/${encodeURIComponent(n)}`)));
        console.log(views.map((v) => describePod(v, now)).join('\n\n\n'));
        return;
      }
      throw new UserError(`error: describe supports hpa and pod, not ${JSON.stringify(kind)}`);
    });
}
