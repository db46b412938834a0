// Autoscaler kind → driver factory. The HPA driver registers itself here; the KPA and KEDA drivers
// add one line each (`registerDriver('kpa', createKpaDriver)`) in their own modules, imported below.
import type { DriverFactory } from './types.ts';
import { createKpaDriver } from './kpa.ts';
import { createKedaDriver } from './keda.ts';
import { createTideDriver } from './tide.ts';

const factories = new Map<string, DriverFactory>();

export function registerDriver(kind: string, factory: DriverFactory): void {
  factories.set(kind, factory);
}

export function driverFor(kind: string): DriverFactory | undefined {
  return factories.get(kind);
}

export function driverKinds(): string[] {
  return [...factories.keys()];
}

registerDriver('kpa', createKpaDriver);
registerDriver('keda', createKedaDriver);
registerDriver('tide', createTideDriver);
