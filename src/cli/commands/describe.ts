import type { Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { apiJson, defaultStateDir } from '../../runtime/local/client.ts';
import { humanDuration, table } from '../../runtime/local/format.ts';
import type { AutoscalerStatus } from '../../runtime/local/drivers/types.ts';
import type { DecisionRecord } from '../../core/decision.ts';
import type { RuntimeEvent, ReplicaStatus } from '../../runtime/local/supervisor.ts';

type HpaView = AutoscalerStatus & { events: RuntimeEvent[]; decisions: DecisionRecord[] };

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

export function describeHpa(h: HpaView, now: number): string {
  const out: string[] = [];
  const metricLines = h.metrics.length
    ? h.metrics.map((p, i) => [`  ${h.metrics.length === h.metricSpecs.length ? h.metricSpecs[i].name : p.metric}:`, `${p.current} / ${p.target}`] as [string, string])
    : h.metricSpecs.map((s) => [`  ${s.name}:`, `<unknown> / ${s.target}`] as [string, string]);
  const pairs: [string, string][] = [
    ['Name', h.name], ['Namespace', 'default'], ['Labels', '<none>'], ['Annotations', h.dryRun ? 'tide.dev/dry-run: true' : '<none>'],
    ['CreationTimestamp', rfc1123(h.created)], ['Reference', h.reference], ['Metrics', '( current / target )'],
  ];
  const w = Math.max(...[...pairs, ...metricLines.map(([k, v]) => [k.replace(/:$/, ''), v] as [string, string])].map(([k]) => k.length)) + 2;
  for (const [k, v] of pairs) out.push(`${(k + ':').padEnd(w)}${v}`);
  for (const [k, v] of metricLines) out.push(`${k.padEnd(w)}${v}`);
  for (const [k, v] of [['Min replicas', String(h.minReplicas)], ['Max replicas', String(h.maxReplicas)], ['Deployment pods', `${h.currentReplicas} current / ${h.desiredReplicas} desired`]]) out.push(`${(k + ':').padEnd(w)}${v}`);
  if (h.conditions.length) {
    out.push('Conditions:');
    out.push(indent(table(['Type', 'Status', 'Reason', 'Message'], [['----', '------', '------', '-------'], ...h.conditions.map((c) => [c.type, c.status, c.reason, c.message])], '  ')));
  } else out.push('Conditions:  <none>');
  const d = h.lastDecision;
  if (d) {
    out.push('Last decision:');
    const driving = d.drivingMetric !== null ? d.proposals[d.drivingMetric] : undefined;
    out.push(...kv([
      ['Time', `${rfc1123(d.now)} (${humanDuration(now - d.now)} ago)`],
      ['Replicas', `${d.currentReplicas} -> ${d.desiredReplicas}${d.rescale ? (h.dryRun ? ' (dry run: not applied)' : ' (rescaled)') : ''}`],
      ['Driving metric', driving ? `${driving.metric}: ${driving.current} / ${driving.target} -> ${driving.proposedReplicas ?? '<none>'} replicas` : '<none>'],
      ['Limited by', d.limitedBy.length ? d.limitedBy.join(', ') : 'none'],
      ['Explanation', d.explanation],
    ]).map((l) => `  ${l}`));
    for (const p of d.proposals) if (p.error) out.push(`  Metric error (${p.metric}): ${p.error}`);
  }
  if (h.events.length) {
    out.push('Events:');
    out.push(indent(table(['Type', 'Reason', 'Age', 'From', 'Message'], [['----', '------', '----', '----', '-------'], ...eventRows(h.events, 'horizontal-pod-autoscaler', now)])));
  } else out.push('Events:           <none>');
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

export function register(program: Command): void {
  program
    .command('describe')
    .description('show an hpa (metrics, conditions, events, last decision explained) or a pod in detail, like kubectl describe')
    .argument('<kind>', 'hpa | pod')
    .argument('[name]')
    .option('--state-dir <dir>', 'the daemon\'s state folder', defaultStateDir())
    .action(async (kind: string, name: string | undefined, o: { stateDir: string }) => {
      const now = Date.now();
      if (/^(hpa|horizontalpodautoscalers?)$/i.test(kind)) {
        const names = name ? [name] : (await apiJson<AutoscalerStatus[]>(o.stateDir, 'GET', '/v1/autoscalers')).map((a) => a.name);
        const views = await Promise.all(names.map((n) => apiJson<HpaView>(o.stateDir, 'GET', `/v1/autoscalers/${encodeURIComponent(n)}`)));
        console.log(views.map((v) => describeHpa(v, now)).join('\n\n\n'));
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
