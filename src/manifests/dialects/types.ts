// What a manifest dialect provides. One file per dialect under src/manifests/dialects/, listed in
// src/manifests/registry.ts (see the "how to add a dialect" note there).
import type { z } from 'zod';
import type { NameRule } from '../k8s/names.ts';

export type DialectRole = 'workload' | 'service' | 'autoscaler' | 'other';

/** A problem found by a dialect's semantic checks, at a path relative to the document root. */
export interface DialectIssue {
  severity?: 'error' | 'warning';
  path: (string | number)[];
  message: string;
  allowed?: string;
  /** Point at the mapping key rather than its value (unknown / forbidden fields). */
  atKey?: boolean;
}

export interface DialectContext {
  file: string;
  apiVersion: string;
  /** Environment used to resolve Secret/ConfigMap references locally (defaults to process.env). */
  env: Record<string, string | undefined>;
  /** Kubernetes feature gates given by the user (--feature-gates); missing ones take v1.37's default. */
  featureGates?: Record<string, boolean>;
  /** Report a problem (error by default) at a path inside the document. */
  report(issue: DialectIssue): void;
}

/** The workload an autoscaler scales (from scaleTargetRef or equivalent). */
export interface ScaleTargetRef {
  apiVersion?: string;
  kind: string;
  name: string;
  /** Where the reference is written, for "dangling reference" errors. */
  path: (string | number)[];
}

export interface Dialect<T = any, N = unknown> {
  /** apiVersion values accepted (e.g. ['autoscaling/v2', 'autoscaling/v2beta2']). */
  apiVersions: readonly string[];
  kind: string;
  role: DialectRole;
  /** How Kubernetes validates metadata.name for this kind (default: DNS-1123 subdomain, as most kinds and every custom resource). */
  nameRule?: NameRule;
  /** Further roles of the same document (a Knative Service is a workload and an autoscaler). */
  roles?: DialectRole[];
  /** For autoscalers: which decider runs the normalized policy. */
  decider?: 'hpa' | 'kpa' | 'keda';
  /**
   * For documents whose decider or policy depends on the content (e.g. a Knative Service with the
   * hpa.autoscaling.knative.dev class): the decider and its policy. Default: { decider, policy: normalized }
   * for role 'autoscaler'.
   */
  autoscalerOf?(normalized: N, obj: T): { decider: 'hpa' | 'kpa' | 'keda'; policy: unknown } | undefined;
  /** Structural validation of the whole document (apiVersion, kind, metadata, spec...). */
  schema: z.ZodType<T>;
  /** Semantic rules (upstream validation.go): called only when `schema` accepted the document. */
  validate?(obj: T, ctx: DialectContext): void;
  /** Defaults and conversion into Tide's types (HpaPolicy, NormalizedDeployment, ...). */
  normalize?(obj: T, ctx: DialectContext): N;
  /** For autoscalers: the workload they scale. */
  scaleTarget?(obj: T): ScaleTargetRef | undefined;
  /** For workloads: the labels of the pods they create (Service selectors are matched against these). */
  podLabels?(obj: T): Record<string, string>;
  /** For services: their selector. */
  selector?(obj: T): Record<string, string> | undefined;
}
