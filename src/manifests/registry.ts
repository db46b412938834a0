// The manifest dialects Tide understands, keyed by apiVersion + kind.
//
// How to add a dialect (e.g. serving.kserve.io/v1beta1 InferenceService, keda.sh/v1alpha1 ScaledObject):
//   1. Create src/manifests/dialects/<name>.ts exporting a `Dialect` (see dialects/types.ts):
//        { apiVersions, kind, role, roles?, decider?, schema (zod), validate?, normalize?, autoscalerOf?,
//          scaleTarget?, podLabels?, selector? }
//      A document that is both a workload and an autoscaler (Knative Service, InferenceService) sets
//      role 'workload' and roles ['autoscaler'], and autoscalerOf(normalized) → { decider, policy }
//      when the decider depends on the content (e.g. the autoscaling class annotation).
//      Build the schema with k8sObject()/quantity()/metadataSchema from src/manifests/k8s/common.ts so unknown
//      fields are reported and positions work. Put upstream's semantic rules in `validate` (report with
//      ctx.report({ path, message, allowed })), defaults + conversion in `normalize`.
//   2. Import it below and append it to DIALECTS. Nothing else changes: loadManifests() validates,
//      normalizes and indexes every document by kind; unknown apiVersion/kind pairs are reported
//      with the list built from this array.
//   3. Add a test in test/unit/manifests/ loading a sample YAML (and a broken one) through loadManifests().
import type { Dialect } from './dialects/types.ts';
import { deploymentDialect } from './dialects/deployment.ts';
import { serviceDialect } from './dialects/service.ts';
import { hpaV1Dialect, hpaV2Dialect } from './dialects/hpa.ts';
import { knativeServiceDialect } from './dialects/knative-service.ts';
import { inferenceServiceDialect } from './dialects/kserve-inferenceservice.ts';
import { scaledObjectDialect } from './dialects/keda-scaledobject.ts';

export const DIALECTS: Dialect[] = [
  deploymentDialect,
  serviceDialect,
  hpaV1Dialect,
  hpaV2Dialect,
  knativeServiceDialect,
  inferenceServiceDialect,
  scaledObjectDialect,
];

/** Register a dialect at run time (plug-ins, tests). Later registrations win over earlier ones. */
export function registerDialect(d: Dialect): void {
  DIALECTS.unshift(d);
}

export function findDialect(apiVersion: unknown, kind: unknown): Dialect | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  return DIALECTS.find((d) => d.kind === kind && d.apiVersions.includes(apiVersion));
}

/** "apps/v1 Deployment, v1 Service, ..." */
export function supportedKinds(): string[] {
  const out: string[] = [];
  for (const d of DIALECTS) for (const v of d.apiVersions) out.push(`${v} ${d.kind}`);
  return [...new Set(out)];
}
