import { Option, type Command } from 'commander';
import { UserError } from '../../core/errors.ts';
import { startDaemon } from '../../runtime/local/daemon.ts';
import { setProxyDefaults } from '../../runtime/local/proxy.ts';
import { defaultStateDir } from '../../runtime/local/client.ts';
import { resolveReplicaLimits } from '../../runtime/local/limits.ts';
import { parseDuration } from '../../runtime/local/workload.ts';
import { kpaConfigFromMap } from '../../deciders/kpa/config.ts';
import { parseFeatureGates } from '../../deciders/hpa/feature-gates.ts';

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

// --kpa-config key=value (repeatable): collected into a config-autoscaler map, validated upfront.
const kpaKv = (v: string, acc: Record<string, string>) => {
  const i = v.indexOf('=');
  if (i <= 0) throw new UserError(`--kpa-config: expected key=value, got ${JSON.stringify(v)}`);
  const next = { ...acc, [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
  try { kpaConfigFromMap(next); } catch (e) { throw new UserError(`--kpa-config: ${(e as Error).message}`); }
  return next;
};

export function register(program: Command): void {
  program
    .command('up')
    .description('run Deployments as local processes behind Service proxies and autoscale them (foreground; Ctrl-C stops everything)')
    .argument('<files...>', 'manifest files (Deployment, Service, HorizontalPodAutoscaler …)')
    .option('--dry-run', 'compute and record decisions without scaling (shadow mode)', false)
    .addOption(new Option('--sync-period <duration>', 'autoscaler sync period (kube-controller-manager --horizontal-pod-autoscaler-sync-period)').argParser(dur('--sync-period', 100)).default(15_000, '15s'))
    .option('--metric-resolution <duration>', 'how often process CPU/memory is sampled (metrics-server --metric-resolution); default min(15s, sync period)', dur('--metric-resolution', 100))
    .option('--state-dir <dir>', 'where daemon.json, logs/ and decisions.jsonl go', defaultStateDir())
    .option('--api-port <port>', 'control API port on 127.0.0.1 (0 = any free port)', num('--api-port'), 0)
    .option('--ephemeral-ports', 'Service proxies listen on free ports instead of the manifest ports (see `tide get svc`)', false)
    .option('--hpa-tolerance <fraction>', 'HPA tolerance (--horizontal-pod-autoscaler-tolerance)', num('--hpa-tolerance'))
    .option('--downscale-stabilization <duration>', 'HPA downscale stabilization for HPAs without behavior (--horizontal-pod-autoscaler-downscale-stabilization)', dur('--downscale-stabilization'))
    .option('--cpu-init-period <duration>', 'HPA CPU initialization period (--horizontal-pod-autoscaler-cpu-initialization-period)', dur('--cpu-init-period'))
    .option('--readiness-delay <duration>', 'HPA initial readiness delay (--horizontal-pod-autoscaler-initial-readiness-delay)', dur('--readiness-delay'))
    .option('--feature-gates <gates>', 'kube-controller-manager feature gates for HPAs, e.g. HPAScaleToZero=false to decide like Kubernetes ≤ 1.36 (docs/hpa.md); default: v1.37', (v: string) => parseFeatureGates(v))
    .addOption(new Option('--restart-backoff <duration>', 'first CrashLoopBackOff delay (doubles up to 30x, i.e. 10s → 5m)').argParser(dur('--restart-backoff', 100)).default(10_000, '10s'))
    .option('--probe-period <duration>', 'override every probe periodSeconds (sub-second allowed, for fast tests and cold starts)', dur('--probe-period', 10))
    .option('--queue-limit <n>', 'requests the proxy queues per Service before 503 + Retry-After', num('--queue-limit'), 1000)
    .addOption(new Option('--request-timeout <duration>', 'per-request timeout in the proxy (504 after)').argParser(dur('--request-timeout', 1)).default(300_000, '5m'))
    .option('--proxy-headers-timeout <duration>', 'whole request head must arrive within this (408 after; docs/proxy.md)', dur('--proxy-headers-timeout', 1))
    .option('--proxy-idle-timeout <duration>', 'idle keep-alive client connections are closed after this', dur('--proxy-idle-timeout', 1))
    .option('--proxy-body-timeout <duration>', 'longest pause between two reads of a request body (408 after)', dur('--proxy-body-timeout', 1))
    .option('--proxy-write-timeout <duration>', 'longest a response may wait for a client that reads nothing (cut, replica slot freed)', dur('--proxy-write-timeout', 1))
    .option('--max-replicas <n>', 'cap on replicas per Deployment (manifests over it are refused, the scale API answers 422, autoscalers are clamped); default derived from cores, memory and ulimit -n', num('--max-replicas'))
    .option('--max-total-replicas <n>', 'cap on replicas of all Deployments together; default as --max-replicas', num('--max-total-replicas'))
    .option('--kpa-config <key=value>', 'Knative config-autoscaler setting for Knative/KServe services, repeatable (e.g. scale-to-zero-grace-period=5s, stable-window=10s)', kpaKv, {})
    .action(async (files: string[], o: Record<string, any>) => {
      const hpa: Record<string, unknown> = {};
      if (o.hpaTolerance !== undefined) hpa.tolerance = o.hpaTolerance;
      if (o.downscaleStabilization !== undefined) hpa.downscaleStabilizationSeconds = o.downscaleStabilization / 1000;
      if (o.cpuInitPeriod !== undefined) hpa.cpuInitializationPeriodSeconds = o.cpuInitPeriod / 1000;
      if (o.readinessDelay !== undefined) hpa.initialReadinessDelaySeconds = o.readinessDelay / 1000;
      if (o.featureGates !== undefined) hpa.featureGates = o.featureGates;
      setProxyDefaults({ headersTimeoutMs: o.proxyHeadersTimeout, idleTimeoutMs: o.proxyIdleTimeout, bodyTimeoutMs: o.proxyBodyTimeout, writeTimeoutMs: o.proxyWriteTimeout });
      const log = (m: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${m}`);
      const daemon = await startDaemon({
        files,
        stateDir: o.stateDir,
        dryRun: o.dryRun,
        syncPeriodMs: o.syncPeriod,
        metricResolutionMs: o.metricResolution,
        overrides: { hpa, kpa: o.kpaConfig },
        backoff: { baseMs: o.restartBackoff, maxMs: o.restartBackoff * 30, resetAfterMs: o.restartBackoff * 60 },
        probeTime: o.probePeriod !== undefined ? { periodMs: o.probePeriod } : undefined,
        ephemeralPorts: o.ephemeralPorts,
        queueLimit: o.queueLimit,
        requestTimeoutMs: o.requestTimeout,
        apiPort: o.apiPort,
        limits: resolveReplicaLimits({ perDeployment: o.maxReplicas, total: o.maxTotalReplicas }),
        log,
      });
      const rt = daemon.runtime;
      log(`tide up: control API on ${daemon.info.url} (state in ${daemon.info.stateDir})${o.dryRun ? ' — DRY RUN: decisions are recorded, not applied' : ''}`);
      for (const s of rt.services.values()) if (s.error) log(`service/${s.spec.name}: NOT SERVED: ${s.error}`);
      log(`dashboard: ${daemon.dashboardLink()} (one-time login link; \`tide dashboard\` prints a new one)`);
      log(`deployments: ${[...rt.supervisors.keys()].join(', ') || 'none'}; autoscalers: ${[...rt.drivers.keys()].join(', ') || 'none'}; sync every ${o.syncPeriod / 1000}s`);
      await new Promise<void>((resolve) => {
        let stopping = 0;
        const onSignal = (sig: string) => {
          // a second signal (Ctrl-C again) kills at once; ignore duplicates within 1 s (e.g. `timeout`
          // signals the child and then its whole process group)
          if (stopping && Date.now() - stopping < 1000) return;
          if (stopping) { log('second signal: killing replicas now'); rt.killAll(); process.exit(130); }
          stopping = Date.now();
          log(`${sig}: draining and stopping replicas…`);
          daemon.stop().then(() => { log('stopped'); resolve(); }, (e) => { log(`stop failed: ${(e as Error).message}`); rt.killAll(); resolve(); });
        };
        process.on('SIGINT', () => onSignal('SIGINT'));
        process.on('SIGTERM', () => onSignal('SIGTERM'));
        process.on('SIGHUP', () => onSignal('SIGHUP'));
      });
      process.exit(0);
    });
}
