// The Kubernetes shell's port for a ScaledObject: everything KubernetesClusterPort offers (/scale,
// pods from the informer, metrics.k8s.io for cpu/memory triggers) plus KEDA's scaler reads. Each
// trigger's MetricSource (src/sources: the same plug-ins `tide up` uses) is built with the secrets
// its authenticationRef / `…FromEnv` metadata resolve to on the cluster (./auth.ts) and kept until
// the ScaledObject changes; after a failed read it is rebuilt at most every REBUILD_AFTER_ERROR_MS
// (re-reading the TriggerAuthentication and Secrets: a rotated password is picked up).
// Every message that leaves here (errors into observations, records, events, conditions) has the
// resolved secret values redacted.
import type { KedaTrigger } from '../../../deciders/keda/types.ts';
import type { AutoscalerRef, ScalerMetricResult } from '../../../autoscalers/port.ts';
import { createTriggerSource, triggerValue, type MetricSource } from '../../../sources/index.ts';
import { KubernetesClusterPort } from '../port.ts';
import { redact, type ResolvedTrigger } from './auth.ts';

const READ_TIMEOUT_MS = 5000;
export const REBUILD_AFTER_ERROR_MS = 30_000;

type Built = { src: MetricSource; secrets: string[]; builtAt: number; failedAt?: number } | { error: string; secrets: string[]; builtAt: number };

export class KedaClusterPort extends KubernetesClusterPort {
  private readonly built = new Map<number, Built>();
  /** Set by the reconciler before each sync: resolves trigger `index`'s secrets and env. */
  resolve: ((index: number) => Promise<ResolvedTrigger>) | undefined;
  onBuilt: ((type: string) => void) | undefined;

  /** All secret values known to this port (for redacting messages outside it). */
  secrets(): string[] {
    const out: string[] = [];
    for (const b of this.built.values()) out.push(...b.secrets);
    return out;
  }

  /** Drop every source (the ScaledObject changed, or it went away). */
  reset(): void {
    for (const b of this.built.values()) if ('src' in b) void b.src.close().catch(() => {});
    this.built.clear();
  }

  private async build(trigger: KedaTrigger, index: number, now: number): Promise<Built> {
    let resolved: ResolvedTrigger;
    try {
      resolved = this.resolve ? await this.resolve(index) : { metadata: trigger.metadata, env: {}, secrets: [] };
    } catch (e) {
      return { error: (e as Error).message, secrets: [], builtAt: now };
    }
    try {
      const src = createTriggerSource(trigger.type, resolved.metadata, { env: resolved.env });
      this.onBuilt?.(trigger.type);
      return { src, secrets: resolved.secrets, builtAt: now };
    } catch (e) {
      return { error: redact((e as Error).message, resolved.secrets), secrets: resolved.secrets, builtAt: now };
    }
  }

  async scalerMetric(_ref: AutoscalerRef, trigger: KedaTrigger, index: number): Promise<ScalerMetricResult> {
    const now = this.now();
    let b = this.built.get(index);
    const stale = b && ('error' in b || b.failedAt !== undefined) && now - b.builtAt >= REBUILD_AFTER_ERROR_MS;
    if (!b || stale) {
      if (b && 'src' in b) void b.src.close().catch(() => {});
      b = await this.build(trigger, index, now);
      this.built.set(index, b);
    }
    if ('error' in b) return { kind: 'error', message: b.error };
    try {
      const samples = await b.src.read(now, AbortSignal.timeout(READ_TIMEOUT_MS));
      b.failedAt = undefined;
      return { kind: 'value', value: triggerValue(trigger.type, samples), timestamp: now };
    } catch (e) {
      b.failedAt = now;
      return { kind: 'error', message: redact((e as Error).message, b.secrets) };
    }
  }

  close(): void { this.reset(); }
}
