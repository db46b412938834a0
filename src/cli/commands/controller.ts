import { Option, type Command } from 'commander';
import { parseFeatureGates } from '../../deciders/hpa/feature-gates.ts';
import { UserError } from '../../core/errors.ts';
import { loadKubeConfig, makeApis, apiMessage } from '../../runtime/kubernetes/client.ts';
import { KubernetesController, type Mode } from '../../runtime/kubernetes/controller.ts';
import { existsSync, readFileSync } from 'node:fs';
import { kubernetesLeaseStore, LeaderElector, validateLeaderTimings } from '../../runtime/kubernetes/leader.ts';
import { parseDuration } from '../../runtime/local/workload.ts';
import { loadMetricMapping, parseMetricMapping, type MetricMapping } from '../../sources/metric-mapping.ts';

const dur = (flag: string, minMs = 0) => (v: string) => {
  let ms: number;
  try { ms = parseDuration(v); } catch (e) { throw new UserError(`${flag}: ${(e as Error).message}`); }
  if (ms < minMs) throw new UserError(`${flag}: must be at least ${minMs}ms, got ${JSON.stringify(v)}`);
  return ms;
};
const num = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`${flag}: expected a non-negative number, got ${JSON.stringify(v)}`);
  return n;
};

export function register(program: Command): void {
  program
    .command('controller')
    .description('run the HPA controller against a Kubernetes cluster (shadow mode by default: compare with the cluster\'s own HPA controller; active: scale and write status)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster service account, else $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('-n, --namespace <ns>', 'watch only this namespace (default: all)')
    .option('--mode <mode>', 'mode of HPAs without a tide.dev/mode annotation: shadow (never writes) or active (scale + status; use when kube-controller-manager runs with --controllers=*,-horizontal-pod-autoscaler-controller)', 'shadow')
    .addOption(new Option('--sync-period <duration>', 'HPA sync period (--horizontal-pod-autoscaler-sync-period)').argParser(dur('--sync-period', 100)).default(15_000, '15s'))
    .option('--concurrent-syncs <n>', 'HPAs reconciled at the same time (--concurrent-horizontal-pod-autoscaler-syncs)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new UserError(`--concurrent-syncs: expected a whole number from 1 to 100, got ${JSON.stringify(v)}`);
      return n;
    }, 5)
    .option('--hpa-tolerance <fraction>', '--horizontal-pod-autoscaler-tolerance', num('--hpa-tolerance'))
    .option('--downscale-stabilization <duration>', '--horizontal-pod-autoscaler-downscale-stabilization (HPAs without behavior)', dur('--downscale-stabilization'))
    .option('--cpu-init-period <duration>', '--horizontal-pod-autoscaler-cpu-initialization-period', dur('--cpu-init-period'))
    .option('--readiness-delay <duration>', '--horizontal-pod-autoscaler-initial-readiness-delay', dur('--readiness-delay'))
    .option('--feature-gates <gates>', 'kube-controller-manager --feature-gates for HPAs (HPAScaleToZero, HPAConfigurableTolerance; default: v1.37; docs/hpa.md)', (v: string) => parseFeatureGates(v))
    .option('--metrics-mapping <file>', 'PromQL mapping for Pods/Object/External metrics when the cluster has no custom/external metrics API (tide-metrics.yaml format)')
    .option('--metrics-mapping-configmap <ns/name>', 'the same mapping from a ConfigMap (key tide-metrics.yaml)')
    .option('--decisions <file>', 'append every decision record to this JSONL file (replay: tide decide FILE --verify)')
    .option('--listen <host:port>', 'address for /metrics, /healthz, /readyz and /api/hpas', '127.0.0.1:8080')
    .option('--field-manager <name>', 'field manager / event source name of Tide\'s writes', 'tide-controller')
    .option('--log-format <fmt>', 'json (default) or text', 'json')
    .option('--cluster-object-namespace <ns>', 'namespace of the Secrets of ClusterTriggerAuthentications (KEDA\'s KEDA_CLUSTER_OBJECT_NAMESPACE)', 'tide-system')
    .option('--no-keda', 'do not watch keda.sh ScaledObjects')
    .option('--leader-elect', 'elect a leader among several replicas with a coordination.k8s.io/v1 Lease; only the leader writes (scale, status, events, memory), the others stay warm', false)
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long a standby waits after the last renewal it saw before taking the Lease').argParser(dur('--leader-elect-lease-duration', 1000)).default(15_000, '15s'))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'the leader stops acting when it could not renew for this long').argParser(dur('--leader-elect-renew-deadline', 1)).default(10_000, '10s'))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'time between attempts to acquire or renew').argParser(dur('--leader-elect-retry-period', 1)).default(2_000, '2s'))
    .option('--leader-elect-resource-name <name>', 'name of the Lease', 'tide-controller')
    .option('--leader-elect-resource-namespace <ns>', 'namespace of the Lease (default: the pod\'s namespace in a cluster, else tide-system)')
    .option('--no-persist-memory', 'do not keep each active HPA\'s recommendation history and scale events in its tide.dev/memory annotation (then a restart or failover forgets them, as kube-controller-manager does)')
    .action(async (o: Record<string, any>) => {
      if (o.mode !== 'shadow' && o.mode !== 'active') throw new UserError(`--mode: must be shadow or active, got ${JSON.stringify(o.mode)}`);
      const m = /^(.*):(\d+)$/.exec(o.listen);
      if (!m) throw new UserError(`--listen: expected host:port, got ${JSON.stringify(o.listen)}`);
      const json = o.logFormat !== 'text';
      const log = (level: string, msg: string, fields: Record<string, unknown> = {}) => {
        if (json) process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
        else process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${level.toUpperCase()} ${msg}${Object.keys(fields).length ? ' ' + JSON.stringify(fields) : ''}\n`);
      };
      const { kc, source } = loadKubeConfig({ kubeconfig: o.kubeconfig, context: o.context });
      const apis = makeApis(kc);
      let mapping: MetricMapping | undefined;
      if (o.metricsMapping) {
        mapping = loadMetricMapping(o.metricsMapping);
        if (!mapping) throw new UserError(`--metrics-mapping: ${o.metricsMapping} not found`);
      }
      if (o.metricsMappingConfigmap) {
        const [ns, name] = String(o.metricsMappingConfigmap).split('/');
        if (!ns || !name) throw new UserError('--metrics-mapping-configmap: expected NAMESPACE/NAME');
        try {
          const cm = await apis.core.readNamespacedConfigMap({ namespace: ns, name });
          const text = cm.data?.['tide-metrics.yaml'];
          if (text === undefined) throw new UserError(`ConfigMap ${ns}/${name} has no key tide-metrics.yaml`);
          mapping = parseMetricMapping(text, `configmap ${ns}/${name}`);
        } catch (e) {
          if (e instanceof UserError) throw e;
          throw new UserError(`--metrics-mapping-configmap ${ns}/${name}: ${apiMessage(e)}`);
        }
      }
      const hpaConfig: Record<string, unknown> = {};
      if (o.hpaTolerance !== undefined) hpaConfig.tolerance = o.hpaTolerance;
      if (o.downscaleStabilization !== undefined) hpaConfig.downscaleStabilizationSeconds = o.downscaleStabilization / 1000;
      if (o.cpuInitPeriod !== undefined) hpaConfig.cpuInitializationPeriodSeconds = o.cpuInitPeriod / 1000;
      if (o.readinessDelay !== undefined) hpaConfig.initialReadinessDelaySeconds = o.readinessDelay / 1000;
      if (o.featureGates !== undefined) hpaConfig.featureGates = o.featureGates;
      let elector: LeaderElector | undefined;
      let leaseName = '';
      if (o.leaderElect) {
        const bad = validateLeaderTimings(o.leaderElectLeaseDuration, o.leaderElectRenewDeadline, o.leaderElectRetryPeriod);
        if (bad.length) throw new UserError(bad.join('; '));
        const saNs = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
        const leaseNs = o.leaderElectResourceNamespace ?? (existsSync(saNs) ? readFileSync(saNs, 'utf8').trim() : 'tide-system');
        leaseName = `${leaseNs}/${o.leaderElectResourceName}`;
        const count = (verb: string) => apis.requests.set(verb, (apis.requests.get(verb) ?? 0) + 1);
        elector = new LeaderElector({
          store: kubernetesLeaseStore(kc, leaseNs, o.leaderElectResourceName, count),
          leaseDurationMs: o.leaderElectLeaseDuration,
          renewDeadlineMs: o.leaderElectRenewDeadline,
          retryPeriodMs: o.leaderElectRetryPeriod,
          onStartedLeading: () => ctl.leadershipGained(),
          onNewLeader: (id) => log('info', 'leader', { leader: id }),
          log: (level, msg, fields) => log(level, msg, fields),
        });
      }
      const ctl = new KubernetesController({
        apis,
        namespace: o.namespace,
        defaultMode: o.mode as Mode,
        syncPeriodMs: o.syncPeriod,
        concurrentSyncs: o.concurrentSyncs,
        hpaConfig,
        decisionsFile: o.decisions,
        mapping,
        fieldManager: o.fieldManager,
        host: m[1],
        port: Number(m[2]),
        log,
        keda: o.keda === false ? false : { clusterObjectNamespace: o.clusterObjectNamespace },
        ...(elector ? { leader: elector } : {}),
        persistMemory: o.persistMemory !== false,
      });
      log('info', 'starting', { kubeconfig: source, server: kc.getCurrentCluster()?.server, namespace: o.namespace ?? '(all)', mode: o.mode, syncPeriodMs: o.syncPeriod, concurrentSyncs: o.concurrentSyncs });
      let stopping = false;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        log('info', `${sig}: stopping`);
        await ctl.stop();
        await elector?.stop(true); // hand over at once: the Lease is released only after the last write
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      await ctl.start();
      // campaign only once the informers are synced: a replica that cannot see the cluster never leads
      if (elector) { log('info', 'leader election', { identity: elector.identity, lease: leaseName }); elector.start(); }
      const a = ctl.address;
      log('info', 'ready', { listen: a ? `${a.host}:${a.port}` : null });
      // for tests and scripts: the bound address on stdout, one line
      if (a) process.stdout.write(`listening on http://${a.host}:${a.port}\n`);
      await new Promise(() => {});
    });
}
