// The one factory every shell builds its autoscalers from: kind → module. A new kind is one module in
// src/autoscalers/ plus one registerAutoscaler() call, and every shell (tide up, tide simulate, the
// Kubernetes controller) runs it.
import type { ClusterPort } from './port.ts';
import type { Autoscaler, AutoscalerFactory, AutoscalerOptions, AutoscalerSpec } from './types.ts';
import { createHpaAutoscaler } from './hpa.ts';
import { createKpaAutoscaler } from './kpa.ts';
import { createKedaAutoscaler } from './keda.ts';
import { createTideAutoscaler } from './tide.ts';

const factories = new Map<string, AutoscalerFactory>();

export function registerAutoscaler(kind: string, factory: AutoscalerFactory): void {
  factories.set(kind, factory);
}

/** Remove a kind (tests that register a toy kind clean up after themselves). */
export function unregisterAutoscaler(kind: string): void {
  factories.delete(kind);
}

export function autoscalerFactory(kind: string): AutoscalerFactory | undefined {
  return factories.get(kind);
}

export function autoscalerKinds(): string[] {
  return [...factories.keys()];
}

/** Build the autoscaler for `spec` on `port`; throws for a kind nobody registered. */
export function createAutoscaler(spec: AutoscalerSpec, port: ClusterPort, opts: AutoscalerOptions = {}): Autoscaler {
  const f = factories.get(spec.kind);
  if (!f) throw new Error(`no autoscaler for kind ${JSON.stringify(spec.kind)} (known: ${autoscalerKinds().join(', ')})`);
  return f(spec, port, opts);
}

registerAutoscaler('hpa', createHpaAutoscaler);
registerAutoscaler('kpa', createKpaAutoscaler);
registerAutoscaler('keda', createKedaAutoscaler);
registerAutoscaler('tide', createTideAutoscaler);
