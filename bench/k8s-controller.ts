// `tide controller` on a real control plane with many HPAs (default 100): controller CPU per sync
// round, API requests per round (from the apiserver's audit log, filtered by Tide's ServiceAccount
// and user agent, cross-checked with apiserver_request_total), memory (RSS), and the delay from a
// usage change to Tide's /scale write — split into "usage -> metrics.k8s.io shows it" (metrics-server)
// and "metrics.k8s.io -> /scale write" (Tide). A benchmark, not a test: it prints a table for
// docs/benchmarks.md.
//
//   npx node bench/k8s-controller.ts            # HPAS=100 WINDOW_S=120 SYNC=15s REPEATS=3 METRIC=cpu|external
// METRIC=cpu (default when metrics-server is built): a cpu-utilization HPA per Deployment, usage from
// kwok through metrics-server. METRIC=external: an External metric per HPA from a real Prometheus
// (PromQL mapping; the test's exporter sets each app's value), no metrics-server needed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { planeMissing, startPlane, until, type Plane } from '../test/support/k8s-plane.ts';
import { startPrometheus } from '../test/support/services.ts';
import { TIDE_USER } from '../test/support/k8s-rbac.ts';
import { controllerCredentials, startController } from '../test/k8s/helpers.ts';
import { AuditTail, auditSetup, procStat, resourceOf, type AuditEvent } from './k8s-audit.ts';

const HPAS = Number(process.env.HPAS ?? 100);
const WINDOW_S = Number(process.env.WINDOW_S ?? 120);
const SYNC = process.env.SYNC ?? '15s';
const SYNC_S = Number(SYNC.replace(/s$/, ''));
const REPEATS = Number(process.env.REPEATS ?? 3);
const NS = 'bench';
const METRIC = process.env.METRIC ?? (planeMissing({ metrics: true }) ? 'external' : 'cpu');
/** METRIC=external: each app's value, served to Prometheus by the exporter below (target 50 per replica). */
const load = new Map<string, number>();

function log(msg: string): void { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`); }

function apps(n: number): string {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-${i}, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-${i}}}
  template:
    metadata:
      labels: {app: app-${i}}
      annotations: {kwok.x-k8s.io/usage-cpu: 40m}
    spec:
      containers:
      - {name: app, image: example.com/app:1, resources: {requests: {cpu: 100m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: app-${i}, namespace: ${NS}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: app-${i}}
  minReplicas: 1
  maxReplicas: 5
  metrics:
${METRIC === 'cpu' ? `  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}` : `  - type: External
    external:
      metric: {name: app_load, selector: {matchLabels: {app: app-${i}}}}
      target: {type: AverageValue, averageValue: "50"}`}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`);
  }
  return docs.join('---\n');
}

/** Tide's requests (its ServiceAccount) in the audit log, read incrementally. */
function tideAudit(file: string): AuditTail<AuditEvent> {
  return new AuditTail(file, (e) => (e.user.username === TIDE_USER ? e : undefined));
}

async function auditEvents(audit: AuditTail<AuditEvent>, fromMs: number, toMs: number): Promise<AuditEvent[]> {
  await audit.poll();
  return audit.records.filter((e) => { const t = Date.parse(e.requestReceivedTimestamp); return t >= fromMs && t < toMs; });
}

async function requestTotal(plane: Plane): Promise<number> {
  const text = await plane.kubectl(['get', '--raw', '/metrics']);
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('apiserver_request_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function podCpuMilli(plane: Plane, app: string): Promise<number[]> {
  const r = JSON.parse(await plane.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=app%3D${app}`]));
  return (r.items ?? []).map((it: { containers: { usage: { cpu: string } }[] }) => {
    const q = it.containers[0].usage.cpu;
    return q.endsWith('n') ? Number(q.slice(0, -1)) / 1e6 : q.endsWith('u') ? Number(q.slice(0, -1)) / 1e3 : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
  });
}

async function main(): Promise<void> {
  const auditCfg = auditSetup('tide-bench-k8s-', `- level: Metadata
  users: ["${TIDE_USER}"]`);
  const dir = auditCfg.dir;
  const audit = tideAudit(auditCfg.file);
  const t0 = Date.now();
  const exporter = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(['# TYPE app_load gauge', ...[...load].map(([app, v]) => `app_load{app="${app}"} ${v}`)].join('\n') + '\n');
  });
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', () => r()));
  exporter.unref();
  for (let i = 0; i < HPAS; i++) load.set(`app-${i}`, 40);
  const prom = METRIC === 'external' ? await startPrometheus([`127.0.0.1:${(exporter.address() as { port: number }).port}`]) : null;
  if (METRIC === 'external' && !prom) throw new Error('prometheus is not installed (sudo bash .ci/install-services.sh)');
  const mapping = join(dir, 'tide-metrics.yaml');
  if (prom) writeFileSync(mapping, `prometheus: http://127.0.0.1:${prom.port}\nmetrics:\n  app_load: sum(app_load{<<.LabelMatchers>>})\n`);
  const plane = await startPlane({ metrics: METRIC === 'cpu', metricResolution: '10s', apiserverArgs: auditCfg.apiserverArgs });
  if (!plane) throw new Error('the test plane is not built: WITH_METRICS_SERVER=1 bash test/k8s/plane/build.sh');
  let controller: Awaited<ReturnType<typeof startController>> | undefined;
  try {
    log(`plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await controllerCredentials(plane); // deploy/kubernetes/ applied; the controller runs with only its token
    await plane.kubectl(['create', 'namespace', NS]);
    await plane.kubectl(['apply', '-f', '-'], apps(HPAS));
    await until(`${HPAS} ready pods`, async () => {
      const out = await plane.kubectl(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
      return out.split('\n').filter((s) => s === 'True').length >= HPAS;
    }, 300_000, 2000);
    if (METRIC === 'cpu') await until(`metrics for ${HPAS} pods`, async () => {
      const r = JSON.parse(await plane.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`]));
      return (r.items ?? []).length >= HPAS;
    }, 300_000, 2000);
    log(`${HPAS} Deployments + HPAs ready with metrics`);

    controller = await startController(plane, ['--mode', 'active', '--sync-period', SYNC, ...(prom ? ['--metrics-mapping', mapping] : [])]);
    const pid = controller.proc.pid!;
    const started = procStat(pid);
    log(`controller ready (RSS ${started.rssMiB.toFixed(0)} MiB, ${started.cpuS.toFixed(2)} CPU-s to start)`);
    // warm up: two rounds, and every HPA has a status written by Tide
    await until('status on every HPA', async () => {
      const field = METRIC === 'cpu' ? '.status.currentMetrics[0].resource.current.averageUtilization' : '.status.currentMetrics[0].external.current.averageValue';
      const out = await plane.kubectl(['-n', NS, 'get', 'hpa', '-o', `jsonpath={range .items[*]}{${field}}{"\\n"}{end}`]);
      return out.split('\n').filter((s) => s !== '').length >= HPAS;
    }, 180_000, 2000);
    await new Promise((r) => setTimeout(r, 2 * SYNC_S * 1000));

    // steady state: CPU, memory and API requests over WINDOW_S
    const a = procStat(pid);
    const ra = await requestTotal(plane);
    const roundsA = (await controller.api()).rounds;
    const wStart = Date.now();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const wEnd = Date.now();
    const b = procStat(pid);
    const rb = await requestTotal(plane);
    const roundsB = (await controller.api()).rounds;
    await new Promise((r) => setTimeout(r, 2500)); // audit batch flush
    // the controller's own count: a round over many HPAs can take longer than the sync period
    const rounds = Math.max(1, roundsB - roundsA);
    const roundWallS = (wEnd - wStart) / 1000 / rounds;
    const evs = await auditEvents(audit, wStart, wEnd);
    const byKind = new Map<string, number>();
    for (const e of evs) {
      const k = `${e.verb} ${resourceOf(e)}`;
      byKind.set(k, (byKind.get(k) ?? 0) + 1);
    }
    const agents = [...new Set(evs.map((e) => e.userAgent ?? ''))];

    // delay: usage change -> metrics.k8s.io shows it -> Tide's /scale write
    const delays: { metricsS: number; scaleS: number; totalS: number }[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const app = `app-${(i * 37 + 11) % HPAS}`;
      const pod = (await plane.kubectl(['-n', NS, 'get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
      const before = Number(await plane.kubectl(['-n', NS, 'get', 'deployment', app, '-o', 'jsonpath={.spec.replicas}']));
      const tChange = Date.now();
      if (METRIC === 'cpu') await plane.kubectl(['-n', NS, 'annotate', 'pod', pod, '--overwrite', 'kwok.x-k8s.io/usage-cpu=180m']);
      else load.set(app, 180);
      let tMetrics = 0;
      let tScale = 0;
      const visible = async () => {
        if (METRIC === 'cpu') return (await podCpuMilli(plane, app)).some((m) => m > 150);
        const r = await (await fetch(`http://127.0.0.1:${prom!.port}/api/v1/query?query=${encodeURIComponent(`app_load{app="${app}"}`)}`)).json() as { data: { result: { value: [number, string] }[] } };
        return Number(r.data.result[0]?.value[1]) > 150;
      };
      await until(`${app} rescaled`, async () => {
        if (!tMetrics && await visible()) tMetrics = Date.now();
        const r = Number(await plane.kubectl(['-n', NS, 'get', 'deployment', app, '-o', 'jsonpath={.spec.replicas}']));
        if (r !== before) { tScale = Date.now(); tMetrics ||= tScale; return true; }
        return false;
      }, 120_000, 200);
      // the write's own time, from the audit log (polling above only bounds it)
      await new Promise((r) => setTimeout(r, 2500));
      const write = (await auditEvents(audit, tChange, Date.now())).find((e) => e.objectRef?.subresource === 'scale' && e.objectRef.name === app && (e.verb === 'update' || e.verb === 'patch'));
      if (write) tScale = Date.parse(write.requestReceivedTimestamp);
      tMetrics = Math.min(tMetrics, tScale);
      delays.push({ metricsS: (tMetrics - tChange) / 1000, scaleS: (tScale - tMetrics) / 1000, totalS: (tScale - tChange) / 1000 });
      log(`${app}: usage 40 -> 180 (per replica target 50): metrics after ${delays.at(-1)!.metricsS.toFixed(1)} s, /scale write ${delays.at(-1)!.scaleS.toFixed(1)} s later`);
    }
    const end = procStat(pid);

    const cpuPerRound = (b.cpuS - a.cpuS) / rounds;
    const fmt = (n: number, d = 1) => n.toFixed(d);
    const lines = [
      `## Kubernetes controller (${HPAS} HPAs on the test plane)`,
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${process.env.BENCH_MACHINE ?? 'shared 2-core box'}): \`npx node bench/k8s-controller.ts\` — ${HPAS} Deployments (1 pod each, kwok) with`,
      `${METRIC === 'cpu' ? 'a cpu-utilization HPA each, metrics-server at 10 s resolution' : 'an External-metric HPA each (AverageValue 50, PromQL `sum(app_load{app=...})` on a real Prometheus scraping every 1 s)'}, \`tide controller --mode active --sync-period ${SYNC}\` out of cluster with only its ServiceAccount token; steady window ${WINDOW_S} s = ${rounds} sync rounds (counted by the controller; one every ${fmt(roundWallS)} s).`,
      '',
      '| measure | value |',
      '|---|---|',
      `| controller CPU per sync round (${HPAS} HPAs) | ${fmt((cpuPerRound) * 1000, 0)} ms (${fmt(cpuPerRound * 1000 / HPAS, 2)} ms per HPA) |`,
      `| controller CPU, average over the window | ${fmt((b.cpuS - a.cpuS) / ((wEnd - wStart) / 1000) * 100, 1)} % of one core |`,
      `| sync round, wall time (start to start) | ${fmt(roundWallS)} s for ${HPAS} HPAs (sync period ${SYNC}) |`,
      `| API requests per sync round (audit log, user ${TIDE_USER}) | ${fmt(evs.length / rounds)} |`,
      ...[...byKind.entries()].sort((x, y) => y[1] - x[1]).map(([k, v]) => `| &nbsp;&nbsp;${k} | ${fmt(v / rounds)} per round |`),
      `| user agents seen | ${agents.map((x) => `\`${x}\``).join(', ')} |`,
      `| all clients' requests per round (apiserver_request_total delta: kcm, scheduler, kwok, metrics-server, Tide) | ${fmt((rb - ra) / rounds)} |`,
      `| controller RSS: after start / end of window / peak | ${fmt(started.rssMiB, 0)} / ${fmt(b.rssMiB, 0)} / ${fmt(end.hwmMiB, 0)} MiB |`,
      `| usage change -> ${METRIC === 'cpu' ? 'metrics.k8s.io' : 'Prometheus'} shows it | ${delays.map((d) => fmt(d.metricsS)).join(', ')} s |`,
      `| ${METRIC === 'cpu' ? 'metrics.k8s.io' : 'Prometheus'} shows it -> Tide's /scale write | ${delays.map((d) => fmt(d.scaleS)).join(', ')} s (at most one sync period: rounds start every ${SYNC}, 5 HPAs at a time) |`,
      `| usage change -> /scale write, total | ${delays.map((d) => fmt(d.totalS)).join(', ')} s |`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await controller?.stop();
    await plane.stop();
    await prom?.dispose();
    exporter.close();
  }
}

await main();
