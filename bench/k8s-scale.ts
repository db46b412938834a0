// `tide controller` at scale next to kube-controller-manager's own HPA controller, on one private test
// plane in one run: N HPAs (default 1,000) over M namespaces (default 50), one Deployment of P kwok
// pods (default 3) per HPA, CPU usage from kwok's pod annotations through metrics-server.
// A benchmark, not a test: it prints a table for docs/benchmarks.md.
//
//   nice -n 10 npx node bench/k8s-scale.ts                  # 1,000 HPAs / 50 namespaces / 3 pods
//   nice -n 10 npx node bench/k8s-scale.ts --hpas 100       # quick mode (5 namespaces)
//   flags: --hpas N --namespaces M --pods P --window S (per phase, default 60) --sync 15s
//          --repeats R (usage-change delays per controller, default 2) --kcm-qps Q (default 200)
//          --profile DIR (a V8 CPU profile of the controller) --skip-upstream --concurrent-syncs N
//          --node-options '...' (the controller's NODE_OPTIONS; default: deploy/kubernetes/40-deployment.yaml's)
//
// Phases, all on the same plane and objects:
//   idle     kcm with its HPA controller off, no Tide: kcm's baseline CPU.
//   tide     `tide controller --mode active` (only its ServiceAccount token): CPU, RSS, requests by its
//            user agent, rounds; then the delay usage change -> metrics.k8s.io -> Tide's /scale write.
//   upstream Tide stopped, kcm restarted with its HPA controller on: kcm CPU minus the idle baseline,
//            its requests by its HPA controller's user agent, its reconciles; then the same delays.
// Requests are counted from the apiserver's audit log (user + user agent: apiserver_request_total has
// no client label), cross-checked with apiserver_request_total deltas of the resources involved.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startPlane, until, type Plane } from '../test/support/k8s-plane.ts';
import { TIDE_USER } from '../test/support/k8s-rbac.ts';
import { controllerCredentials, startController } from '../test/k8s/helpers.ts';
import { TIDE_USER_AGENT } from '../src/runtime/kubernetes/client.ts';
import { AuditTail, auditSetup, procStat, resourceOf, threadCpu, threadDelta } from './k8s-audit.ts';

const { values: flags } = parseArgs({
  options: {
    hpas: { type: 'string', default: '1000' },
    namespaces: { type: 'string' },
    pods: { type: 'string', default: '3' },
    window: { type: 'string', default: '60' },
    sync: { type: 'string', default: '15s' },
    repeats: { type: 'string', default: '2' },
    'kcm-qps': { type: 'string', default: '200' },
    profile: { type: 'string' },
    'node-options': { type: 'string' }, // instead of the Deployment's NODE_OPTIONS ('' for none)
    'concurrent-syncs': { type: 'string' },
    'skip-upstream': { type: 'boolean', default: false },
  },
});
const HPAS = Number(flags.hpas);
const NSS = Number(flags.namespaces ?? Math.max(1, Math.min(50, Math.round(HPAS / 20))));
const PODS = Number(flags.pods);
const WINDOW_S = Number(flags.window);
const SYNC = flags.sync!;
const SYNC_S = Number(SYNC.replace(/s$/, ''));
const REPEATS = Number(flags.repeats);
const KCM_QPS = Number(flags['kcm-qps']);
const BASE_USAGE = '48m'; // of 100m requested, target 50 %: ratio 0.96, inside the 10 % tolerance
const HIGH_USAGE = '400m'; // one pod of three: (400 + 2 * 48) / 300 = 165 % of the 50 % target -> a scale-up

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nsName = (i: number) => `bench-${String(i).padStart(2, '0')}`;
const appOf = (i: number) => ({ ns: nsName(i % NSS), name: `app-${i}` });

/** The namespace objects, then one YAML text per namespace (kubectl applies a few at a time). */
function objects(): { namespaces: string; perNamespace: string[] } {
  const nss: string[] = [];
  for (let n = 0; n < NSS; n++) nss.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: ${nsName(n)}}\n`);
  const per: string[][] = Array.from({ length: NSS }, () => []);
  for (let i = 0; i < HPAS; i++) {
    const { ns, name } = appOf(i);
    const docs = per[i % NSS]!;
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${PODS}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata:
      labels: {app: ${name}}
      annotations: {kwok.x-k8s.io/usage-cpu: ${BASE_USAGE}}
    spec:
      containers:
      - {name: app, image: example.com/app:1, resources: {requests: {cpu: 100m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}, namespace: ${ns}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ${name}}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
`);
  }
  return { namespaces: nss.join('---\n'), perNamespace: per.map((d) => d.join('---\n')) };
}

// ---- the audit log, read incrementally into compact records ----
type Who = 'tide' | 'kcm-hpa' | 'other';
interface Req { t: number; who: Who; verb: string; res: string; ns: string; name: string; code: number }
const KCM_USER = 'testbed-admin'; // the plane's components share the admin certificate; the user agent tells them apart
const isKcmHpa = (ua: string) => ua.startsWith('kube-controller-manager/') && ua.endsWith('/horizontal-pod-autoscaler');

/** Tide's and kcm's HPA controller's requests from the audit log (everyone else's are dropped). */
class Audit extends AuditTail<Req> {
  constructor(file: string) {
    super(file, (e) => {
      const ua = e.userAgent ?? '';
      const who: Who = e.user.username === TIDE_USER && ua.startsWith(TIDE_USER_AGENT) ? 'tide' : e.user.username === KCM_USER && isKcmHpa(ua) ? 'kcm-hpa' : 'other';
      if (who === 'other') return undefined;
      const o = e.objectRef;
      return { t: Date.parse(e.requestReceivedTimestamp), who, verb: e.verb, res: resourceOf(e), ns: o?.namespace ?? '', name: o?.name ?? '', code: e.responseStatus?.code ?? 0 };
    });
  }
  get reqs(): Req[] { return this.records; }
  between(who: Who, from: number, to: number): Req[] { return this.records.filter((r) => r.who === who && r.t >= from && r.t < to); }
}

async function requestTotals(plane: Plane): Promise<Map<string, number>> {
  const text = await plane.kubectl(['get', '--raw', '/metrics']);
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const lab = (k: string) => new RegExp(`${k}="([^"]*)"`).exec(line)?.[1] ?? '';
    const key = `${lab('verb')} ${lab('resource')}${lab('subresource') ? `/${lab('subresource')}` : ''}${lab('group') ? `.${lab('group')}` : ''}`;
    m.set(key, (m.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return m;
}
function deltaOf(a: Map<string, number>, b: Map<string, number>, pick: (k: string) => boolean = () => true): number {
  let d = 0;
  for (const [k, v] of b) if (pick(k)) d += v - (a.get(k) ?? 0);
  return d;
}
const hpaRelated = (k: string) => /horizontalpodautoscalers|\/scale|metrics\.k8s\.io|events/.test(k);

/** kube-controller-manager's own /metrics (its secure port, the admin client certificate). */
async function kcmMetrics(plane: Plane, port: number): Promise<string> {
  const kc = readFileSync(plane.kubeconfig, 'utf8');
  const file = (k: string) => readFileSync(new RegExp(`${k}: (\\S+)`).exec(kc)![1]!);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', cert: file('client-certificate'), key: file('client-key'), rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
function metricSum(text: string, name: string): number {
  let s = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) s += Number(line.slice(line.lastIndexOf(' ') + 1));
  return s;
}

async function replicas(plane: Plane, ns: string, name: string): Promise<number> {
  return Number(await plane.kubectl(['-n', ns, 'get', 'deployment', name, '-o', 'jsonpath={.spec.replicas}']));
}

interface Delay { app: string; metricsS: number; scaleS: number; totalS: number }

/** Raise one pod's usage of app i; time until metrics.k8s.io shows it and until `who` writes /scale. */
async function delayOnce(plane: Plane, audit: Audit, who: Who, i: number): Promise<Delay> {
  const { ns, name } = appOf(i);
  const pod = (await plane.kubectl(['-n', ns, 'get', 'pods', '-l', `app=${name}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  const before = await replicas(plane, ns, name);
  const tChange = Date.now();
  await plane.kubectl(['-n', ns, 'annotate', 'pod', pod, '--overwrite', `kwok.x-k8s.io/usage-cpu=${HIGH_USAGE}`]);
  let tMetrics = 0;
  await until(`${ns}/${name} rescaled by ${who}`, async () => {
    if (!tMetrics) {
      const r = JSON.parse(await plane.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/${pod}`]));
      const q = String(r.containers?.[0]?.usage?.cpu ?? '0');
      const milli = q.endsWith('n') ? Number(q.slice(0, -1)) / 1e6 : q.endsWith('u') ? Number(q.slice(0, -1)) / 1e3 : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
      if (milli > 200) tMetrics = Date.now();
    }
    return (await replicas(plane, ns, name)) !== before;
  }, 180_000, 500);
  await sleep(2500); // audit batch flush
  await audit.poll();
  const write = audit.between(who, tChange, Date.now()).find((r) => r.res.startsWith('deployments/scale') && r.name === name && (r.verb === 'update' || r.verb === 'patch'));
  const tScale = write ? write.t : Date.now();
  tMetrics = Math.min(tMetrics || tScale, tScale);
  // back to the base usage: the 300 s downscale stabilization keeps the new size, which is stable (48 % per pod)
  await plane.kubectl(['-n', ns, 'annotate', 'pod', pod, '--overwrite', `kwok.x-k8s.io/usage-cpu=${BASE_USAGE}`]);
  const d = { app: `${ns}/${name}`, metricsS: (tMetrics - tChange) / 1000, scaleS: (tScale - tMetrics) / 1000, totalS: (tScale - tChange) / 1000 };
  log(`${who} ${d.app}: usage ${BASE_USAGE} -> ${HIGH_USAGE} on one pod: metrics.k8s.io after ${d.metricsS.toFixed(1)} s, /scale write ${d.scaleS.toFixed(1)} s later (total ${d.totalS.toFixed(1)} s)`);
  return d;
}

function byKind(reqs: Req[], rounds: number): string[] {
  const m = new Map<string, number>();
  for (const r of reqs) m.set(`${r.verb} ${r.res}`, (m.get(`${r.verb} ${r.res}`) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / rounds).toFixed(1)}`);
}

async function main(): Promise<void> {
  const audit0 = auditSetup('tide-bench-k8s-scale-', `- level: Metadata
  users: ["${TIDE_USER}"]
- level: Metadata
  users: ["${KCM_USER}"]
  resources:
  - {group: autoscaling, resources: [horizontalpodautoscalers, horizontalpodautoscalers/status]}
  - {group: apps, resources: [deployments/scale]}
  - {group: metrics.k8s.io}
  - {group: "", resources: [events]}
  - {group: events.k8s.io}`);
  const load0 = loadavg();
  const t0 = Date.now();
  log(`${HPAS} HPAs over ${NSS} namespaces, ${PODS} pods each; window ${WINDOW_S} s per phase; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  const plane = await startPlane({
    metrics: true, metricResolution: '10s', nodes: Math.ceil((HPAS * PODS * 1.3) / 110), // kwok nodes take 110 pods each; room for the scale-ups
    apiserverArgs: `${audit0.apiserverArgs} --max-requests-inflight=800 --max-mutating-requests-inflight=400`,
    // the same client rate limits for the whole kcm in both phases, high enough that the HPA
    // controller is not throttled (the default 20 QPS per client allows 300 requests per 15 s)
    kcmArgs: `--kube-api-qps=${KCM_QPS} --kube-api-burst=${KCM_QPS * 2}`,
  });
  if (!plane) throw new Error('the test plane is not built: WITH_METRICS_SERVER=1 bash test/k8s/plane/build.sh');
  const audit = new Audit(audit0.file);
  let controller: Awaited<ReturnType<typeof startController>> | undefined;
  const out: string[] = [];
  try {
    log(`plane up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const creds = await controllerCredentials(plane);
    void creds;
    const objs = objects();
    await plane.kubectl(['apply', '-f', '-'], objs.namespaces);
    let next = 0;
    await Promise.all(Array.from({ length: 3 }, async () => {
      while (next < objs.perNamespace.length) await plane.kubectl(['apply', '--server-side', '-f', '-'], objs.perNamespace[next++]!);
    }));
    log('objects created');
    const wantPods = HPAS * PODS;
    await until(`${wantPods} ready pods`, async () => {
      const o = await plane.kubectl(['get', 'pods', '-A', '-l', 'app', '--no-headers', '-o', 'custom-columns=R:.status.conditions[?(@.type=="Ready")].status']);
      const n = o.split('\n').filter((s) => s.trim() === 'True').length;
      log(`  ${n}/${wantPods} pods ready`);
      return n >= wantPods;
    }, 900_000, 10_000);
    await until(`metrics for ${wantPods} pods`, async () => {
      const r = JSON.parse(await plane.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/pods']));
      const n = (r.items ?? []).length;
      log(`  metrics for ${n}/${wantPods} pods`);
      return n >= wantPods;
    }, 300_000, 5000);
    log(`setup done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const kcmPort = Number(/--secure-port=(\d+)/.exec(readFileSync(`/proc/${plane.pid('kube-controller-manager')}/cmdline`, 'utf8').replaceAll('\0', ' '))![1]);

    // ---- phase idle: kcm without its HPA controller ----
    await sleep(10_000);
    let kcmPid = plane.pid('kube-controller-manager');
    const ia = procStat(kcmPid);
    const iStart = Date.now();
    await sleep(WINDOW_S * 1000);
    const ib = procStat(kcmPid);
    const idleCpuPerS = (ib.cpuS - ia.cpuS) / ((Date.now() - iStart) / 1000);
    log(`idle: kcm ${(idleCpuPerS * 100).toFixed(1)} % of a core, RSS ${ib.rssMiB.toFixed(0)} MiB`);

    // ---- phase tide ----
    // the controller runs with the Node options of deploy/kubernetes/40-deployment.yaml (heap sizes), plus the profiler
    const shipped = /name: NODE_OPTIONS\s+value: (.+)/.exec(readFileSync(new URL('../deploy/kubernetes/40-deployment.yaml', import.meta.url), 'utf8'))?.[1]?.trim() ?? '';
    const nodeOptions = [flags['node-options'] ?? shipped, flags.profile ? `--cpu-prof --cpu-prof-dir=${flags.profile}` : ''].filter(Boolean).join(' ');
    const prevNodeOptions = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = [prevNodeOptions ?? '', nodeOptions].filter(Boolean).join(' ');
    log(`tide: NODE_OPTIONS=${process.env.NODE_OPTIONS}`);
    controller = await startController(plane, ['--mode', 'active', '--sync-period', SYNC, ...(flags['concurrent-syncs'] ? ['--concurrent-syncs', flags['concurrent-syncs']] : [])]);
    if (prevNodeOptions === undefined) delete process.env.NODE_OPTIONS; else process.env.NODE_OPTIONS = prevNodeOptions;
    const pid = controller.proc.pid!;
    const tideStart = procStat(pid);
    log(`tide ready: RSS ${tideStart.rssMiB.toFixed(0)} MiB, ${tideStart.cpuS.toFixed(2)} CPU-s to start`);
    const roundsOf = async () => {
      const m = await controller!.metrics();
      return { n: metricSum(m, 'tide_k8s_sync_round_seconds_count'), s: metricSum(m, 'tide_k8s_sync_round_seconds_sum') };
    };
    await until('Tide status on every HPA', async () => {
      const o = await plane.kubectl(['get', 'hpa', '-A', '--no-headers', '-o', 'custom-columns=U:.status.currentMetrics[0].resource.current.averageUtilization']);
      const n = o.split('\n').filter((s) => /^\d+$/.test(s.trim())).length;
      log(`  ${n}/${HPAS} HPAs with a status`);
      return n >= HPAS;
    }, 600_000, 10_000);
    await sleep(2 * SYNC_S * 1000);
    const ta = procStat(pid);
    const tta = threadCpu(pid);
    const ka = procStat(kcmPid);
    const ra = await requestTotals(plane);
    const rounds0 = await roundsOf();
    const tStart = Date.now();
    await sleep(WINDOW_S * 1000);
    const tEnd = Date.now();
    const tb = procStat(pid);
    const ttb = threadCpu(pid);
    const kb = procStat(kcmPid);
    const rb = await requestTotals(plane);
    const rounds1 = await roundsOf();
    await sleep(2500);
    await audit.poll();
    const tRounds = Math.max(1, rounds1.n - rounds0.n);
    const tideReqs = audit.between('tide', tStart, tEnd);
    const tideRoundWall = (rounds1.s - rounds0.s) / tRounds;
    const tide = {
      rounds: tRounds,
      cpuPerRound: (tb.cpuS - ta.cpuS) / tRounds,
      cpuPerS: (tb.cpuS - ta.cpuS) / ((tEnd - tStart) / 1000),
      roundWorkS: tideRoundWall,
      reqsPerRound: tideReqs.length / tRounds,
      kinds: byKind(tideReqs, tRounds),
      errors: tideReqs.filter((r) => r.code >= 400).length,
      rss: { start: tideStart.rssMiB, end: tb.rssMiB, peak: tb.hwmMiB },
      allPerRound: deltaOf(ra, rb) / tRounds,
      hpaRelatedPerRound: deltaOf(ra, rb, hpaRelated) / tRounds,
      kcmCpuPerS: (kb.cpuS - ka.cpuS) / ((tEnd - tStart) / 1000),
    };
    const tideThreads = threadDelta(tta, ttb, tRounds);
    log(`tide CPU-s per round by thread: ${tideThreads}`);
    log(`tide: ${tRounds} rounds, ${(tide.cpuPerRound).toFixed(2)} CPU-s per round, round work ${tideRoundWall.toFixed(1)} s, ${tide.reqsPerRound.toFixed(0)} requests per round, RSS ${tb.rssMiB.toFixed(0)} MiB`);
    const tideDelays: Delay[] = [];
    for (let k = 0; k < REPEATS; k++) tideDelays.push(await delayOnce(plane, audit, 'tide', (k * 37 + 11) % HPAS));
    const tideEnd = procStat(pid);
    tide.rss.peak = tideEnd.hwmMiB;
    await controller.stop();
    controller = undefined;

    // ---- phase upstream: kcm's HPA controller ----
    let up: typeof tide | undefined;
    const upDelays: Delay[] = [];
    let upReconcilesPerHpa = 0;
    if (!flags['skip-upstream']) {
      await plane.stopComponent('kube-controller-manager');
      await plane.startComponent('kube-controller-manager', (argv) => [
        ...argv.filter((a) => !a.startsWith('--controllers=')),
        '--controllers=*', `--horizontal-pod-autoscaler-sync-period=${SYNC}`,
      ]);
      kcmPid = plane.pid('kube-controller-manager');
      await until('kcm healthy', async () => { await kcmMetrics(plane, kcmPort); return true; }, 120_000, 500);
      const kStart0 = procStat(kcmPid);
      // warm up: every HPA reconciled at least twice
      await until('kcm reconciled every HPA twice', async () => {
        const n = metricSum(await kcmMetrics(plane, kcmPort), 'horizontal_pod_autoscaler_controller_reconciliations_total');
        log(`  kcm: ${n} reconciles`);
        return n >= 2 * HPAS;
      }, 600_000, 10_000);
      await sleep(SYNC_S * 1000);
      const ua = procStat(kcmPid);
      const r2a = await requestTotals(plane);
      const rec0 = metricSum(await kcmMetrics(plane, kcmPort), 'horizontal_pod_autoscaler_controller_reconciliations_total');
      const dur0 = metricSum(await kcmMetrics(plane, kcmPort), 'horizontal_pod_autoscaler_controller_reconciliation_duration_seconds_sum');
      const uStart = Date.now();
      await sleep(WINDOW_S * 1000);
      const uEnd = Date.now();
      const ub = procStat(kcmPid);
      const r2b = await requestTotals(plane);
      const km = await kcmMetrics(plane, kcmPort);
      const rec1 = metricSum(km, 'horizontal_pod_autoscaler_controller_reconciliations_total');
      const dur1 = metricSum(km, 'horizontal_pod_autoscaler_controller_reconciliation_duration_seconds_sum');
      await sleep(2500);
      await audit.poll();
      // a "round" upstream: HPAS reconciles (each HPA is resynced every period on its own)
      const uRounds = Math.max(1e-9, (rec1 - rec0) / HPAS);
      upReconcilesPerHpa = (rec1 - rec0) / HPAS / ((uEnd - uStart) / 1000 / SYNC_S);
      const upReqs = audit.between('kcm-hpa', uStart, uEnd);
      const kcmCpuPerS = (ub.cpuS - ua.cpuS) / ((uEnd - uStart) / 1000);
      up = {
        rounds: uRounds,
        cpuPerRound: (kcmCpuPerS - idleCpuPerS) * ((uEnd - uStart) / 1000) / uRounds,
        cpuPerS: kcmCpuPerS - idleCpuPerS,
        roundWorkS: (dur1 - dur0) / 5 / uRounds, // 5 workers (--concurrent-horizontal-pod-autoscaler-syncs)
        reqsPerRound: upReqs.length / uRounds,
        kinds: byKind(upReqs, uRounds),
        errors: upReqs.filter((r) => r.code >= 400).length,
        rss: { start: kStart0.rssMiB, end: ub.rssMiB, peak: ub.hwmMiB },
        allPerRound: deltaOf(r2a, r2b) / uRounds,
        hpaRelatedPerRound: deltaOf(r2a, r2b, hpaRelated) / uRounds,
        kcmCpuPerS,
      };
      log(`upstream: ${uRounds.toFixed(2)} rounds, ${up.cpuPerRound.toFixed(2)} CPU-s per round (on - off), ${up.reqsPerRound.toFixed(0)} requests per round`);
      for (let k = 0; k < REPEATS; k++) upDelays.push(await delayOnce(plane, audit, 'kcm-hpa', (k * 37 + 23) % HPAS));
    }

    const load1 = loadavg();
    const f = (n: number, d = 1) => n.toFixed(d);
    const ratio = (a: number, b: number) => (b > 0 ? `${f(a / b, 2)}×` : 'n/a');
    const row = (what: string, t: string, u: string, r = '') => `| ${what} | ${t} | ${u} | ${r} |`;
    out.push(
      `## Kubernetes controller at scale: ${HPAS} HPAs, Tide vs kube-controller-manager`,
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, \`nice -n 10 npx node bench/k8s-scale.ts --hpas ${HPAS} --namespaces ${NSS} --pods ${PODS} --window ${WINDOW_S}\`,`,
      `load average at start ${load0.map((x) => f(x, 2)).join(' ')}, at end ${load1.map((x) => f(x, 2)).join(' ')}. ${HPAS} Deployments × ${PODS} kwok pods, cpu-utilization HPAs (target 50 %, usage ${BASE_USAGE} of 100m),`,
      `metrics-server at 10 s resolution, sync period ${SYNC}; kcm with --kube-api-qps=${KCM_QPS} in both of its phases. A "round" is one reconcile of every HPA (Tide: its counted rounds; upstream: reconciles / ${HPAS}).`,
      '',
      '| per sync round | Tide | kube-controller-manager HPA controller | Tide / upstream |',
      '|---|---|---|---|',
      row('rounds in the window', f(tide.rounds, 0), up ? f(up.rounds, 2) : '—'),
      row('CPU-seconds per round', f(tide.cpuPerRound, 2), up ? `${f(up.cpuPerRound, 2)} (kcm ${f(up.kcmCpuPerS * 100)} % − idle ${f(idleCpuPerS * 100)} % of a core)` : '—', up ? ratio(tide.cpuPerRound, up.cpuPerRound) : ''),
      row('&nbsp;&nbsp;by thread (Tide)', tideThreads, '—'),
      row(`CPU-seconds per sync period (${SYNC}, window CPU / periods)`, f(tide.cpuPerS * SYNC_S, 2), up ? f(up.cpuPerS * SYNC_S, 2) : '—', up ? ratio(tide.cpuPerS, up.cpuPerS) : ''),
      row(`API requests per sync period (${SYNC})`, f(tide.reqsPerRound * tide.rounds / WINDOW_S * SYNC_S), up ? f(up.reqsPerRound * up.rounds / WINDOW_S * SYNC_S) : '—', up ? ratio(tide.reqsPerRound * tide.rounds, up.reqsPerRound * up.rounds) : ''),
      row('CPU, average over the window', `${f(tide.cpuPerS * 100)} % of a core`, up ? `${f(up.cpuPerS * 100)} % of a core` : '—', up ? ratio(tide.cpuPerS, up.cpuPerS) : ''),
      row('API requests per round (audit log, by user agent)', f(tide.reqsPerRound), up ? f(up.reqsPerRound) : '—', up ? ratio(tide.reqsPerRound, up.reqsPerRound) : ''),
      row('&nbsp;&nbsp;by verb and resource', tide.kinds.join('; '), up ? up.kinds.join('; ') : '—'),
      row('&nbsp;&nbsp;answered ≥ 400', String(tide.errors), up ? String(up.errors) : '—'),
      row('all clients, HPA-related resources (apiserver_request_total Δ)', f(tide.hpaRelatedPerRound), up ? f(up.hpaRelatedPerRound) : '—'),
      row('all clients, all requests (apiserver_request_total Δ)', f(tide.allPerRound), up ? f(up.allPerRound) : '—'),
      row('round work time', `${f(tide.roundWorkS)} s (start to end of a round)`, up ? `${f(up.roundWorkS)} s (reconcile time / 5 workers)` : '—'),
      row('RSS: start / end of window / peak', `${f(tide.rss.start, 0)} / ${f(tide.rss.end, 0)} / ${f(tide.rss.peak, 0)} MiB`, up ? `kcm ${f(ib.rssMiB, 0)} MiB with the HPA controller off, ${f(up.rss.end, 0)} on` : '—'),
      row('usage change → metrics.k8s.io shows it', tideDelays.map((d) => f(d.metricsS)).join(', ') + ' s', upDelays.map((d) => f(d.metricsS)).join(', ') + ' s'),
      row('metrics.k8s.io shows it → /scale write', tideDelays.map((d) => f(d.scaleS)).join(', ') + ' s', upDelays.map((d) => f(d.scaleS)).join(', ') + ' s'),
      row('usage change → /scale write', tideDelays.map((d) => f(d.totalS)).join(', ') + ' s', upDelays.map((d) => f(d.totalS)).join(', ') + ' s'),
      '',
      `kcm CPU while Tide ran: ${f(tide.kcmCpuPerS * 100)} % of a core (idle baseline ${f(idleCpuPerS * 100)} %); upstream reconciles per HPA per sync period: ${f(upReconcilesPerHpa, 2)}.`,
    );
    console.log(out.join('\n'));
  } finally {
    await controller?.stop();
    await plane.stop();
  }
}

await main();
