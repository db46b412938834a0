// Public surface of the manifest layer.
export { printManifestWarnings, reportManifestWarnings, MAX_MANIFEST_BYTES } from './load.ts';
export { LOCAL_IMAGES_FILE, imageRepository, lookupImage, readLocalImages } from './local-images.ts';
export { ambiguousAutoscalers, formatLabelSelector, type AmbiguousAutoscaler } from './checks.ts';
export { nameProblems, isValidName, type NameRule } from './k8s/names.ts';
export { loadManifests, loadManifestsLenient, ManifestBundle, zodIssuesToDiagnostics, resolveTargetPort, type ManifestDoc, type ManifestInput, type LoadOptions } from './load.ts';
export { ManifestError, formatDiagnostic, type Diagnostic } from './diagnostics.ts';
export { DIALECTS, registerDialect, findDialect, supportedKinds } from './registry.ts';
export type { Dialect, DialectContext, DialectIssue, ScaleTargetRef } from './dialects/types.ts';
export { hpaFromAutoscaleFlags, defaultBehavior, defaultMetrics, type AutoscaleFlags } from './dialects/hpa.ts';
export { parseQuantity, tryParseQuantity, milliValue, value as quantityValue, formatQuantity, formatMilliQuantity, QuantityError, type Quantity } from './quantity.ts';
export { selectorMatches, k8sObject, quantity, metadataSchema, labelSelectorSchema } from './k8s/common.ts';
export { parseYamlSource, type SourceDoc } from './yaml.ts';
export type * from './types.ts';
