// Policies from users' manifests for the simulator, through the shared manifest loader (src/spec),
// so the simulator reads exactly what `tide up` reads: HPA (autoscaling/v1, v2), Knative Service /
// KServe InferenceService (KPA or HPA class), KEDA ScaledObject. An autoscaler annotated
// `tide.dev/policy: predictive` runs Tide's predictive policy instead, with its min/max (and
// containerConcurrency) taken from the manifest and the tide.dev/* annotations on top.
import type { SimController } from './engine.ts';
import type { PolicyContext } from './run.ts';
import { hpaController, kedaController, predictiveController } from './controllers.ts';
import { kpaController } from './kpa-controller.ts';
import { loadManifests } from '../manifests/index.ts';
import { UserError } from '../core/errors.ts';
import { predictivePolicyForDoc } from '../policies/from-manifest.ts';
import { quantile } from './dist.ts';
import type { HpaPolicy } from '../deciders/hpa/types.ts';
import type { KpaPolicy } from '../deciders/kpa/types.ts';
import type { KedaPolicy } from '../deciders/keda/types.ts';

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
    if (policy) {
      out.push({ label: `${label} (tide predictive)`, make: () => predictiveController(policy, 2000, `${label} (tide predictive)`) });
      continue;
    }
    switch (a.decider) {
      case 'hpa': out.push({ label, make: () => hpaController(a.policy as HpaPolicy, { label }) }); break;
      case 'kpa': out.push({ label, make: () => kpaController(a.policy as KpaPolicy, { label }) }); break;
      case 'keda': out.push({ label, make: () => kedaController(a.policy as KedaPolicy, { label }) }); break;
    }
  }
  if (out.length === 0) throw new UserError(`no autoscaler (HPA, Knative Service, InferenceService, ScaledObject) in ${files.join(', ')}`);
  return out;
}
