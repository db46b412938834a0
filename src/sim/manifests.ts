// Policies from users' manifests for the simulator, through the shared manifest loader (src/manifests),
// so the simulator reads exactly what `tide up` reads: HPA (autoscaling/v1, v2), Knative Service /
// KServe InferenceService (KPA or HPA class), KEDA ScaledObject. An autoscaler annotated
// `tide.dev/policy: predictive` runs Tide's predictive policy instead, with its min/max (and
// containerConcurrency) taken from the manifest and the tide.dev/* annotations on top.
import type { SimController } from './engine.ts';
import type { PolicyContext } from './run.ts';
import { autoscalerController } from './port.ts';
import { loadManifests } from '../manifests/index.ts';
import { UserError } from '../core/errors.ts';
import { predictivePolicyForDoc } from '../policies/from-manifest.ts';
import { quantile } from './dist.ts';

export interface ManifestPolicy { label: string; make: () => SimController }

export async function loadPolicyControllers(files: string[], ctx: PolicyContext): Promise<ManifestPolicy[]> {
  if (files.length === 0) return [];
  const bundle = loadManifests(files);
  const out: ManifestPolicy[] = [];
  for (const doc of bundle.autoscalers) {
    const a = doc.autoscaler;
    if (!a) continue;
    const label = `${doc.kind}/${doc.name}`;
    const policy = predictivePolicyForDoc(doc, {
      defaultColdStart: `${Math.round(quantile(ctx.service.coldStart, 0.5))}ms`,
      defaultSlots: ctx.service.concurrency,
    });
    // the same kinds and policies `tide up` builds (one factory, src/autoscalers/factory.ts)
    const target = { apiVersion: 'apps/v1', kind: 'Deployment', name: doc.name };
    if (policy) {
      const l = `${label} (tide predictive)`;
      out.push({ label: l, make: () => autoscalerController({ kind: 'tide', name: doc.name, target, policy }, { label: l }) });
      continue;
    }
    out.push({ label, make: () => autoscalerController({ kind: a.decider, name: doc.name, target, policy: a.policy }, { label }) });
  }
  if (out.length === 0) throw new UserError(`no autoscaler (HPA, Knative Service, InferenceService, ScaledObject) in ${files.join(', ')}`);
  return out;
}
