// Normalized (defaulted, parsed) forms of the Kubernetes workload kinds, as the runtimes use them.
import type { LabelSelector } from '../deciders/hpa/types.ts';

export type ProbeHandler =
  | { type: 'httpGet'; path: string; port: number | string; host?: string; scheme: 'HTTP' | 'HTTPS'; headers: { name: string; value: string }[] }
  | { type: 'tcpSocket'; port: number | string; host?: string }
  | { type: 'exec'; command: string[] }
  | { type: 'grpc'; port: number; service?: string };

/** A probe with Kubernetes defaults applied (period 10 s, timeout 1 s, success 1, failure 3, delay 0). */
export interface NormalizedProbe {
  handler: ProbeHandler;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface NormalizedEnvVar {
  name: string;
  /** Resolved value; undefined when it comes from a reference that could not be resolved locally. */
  value?: string;
  /** Where a non-literal value came from, e.g. "secretKeyRef wandb/WANDB_API_KEY", "fieldRef metadata.name". */
  from?: string;
  /** For fieldRef: the field path (metadata.name, metadata.namespace, status.podIP...), resolved by the runtime per replica. */
  fieldPath?: string;
}

export interface NormalizedContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env: NormalizedEnvVar[];
  ports: { containerPort: number; name?: string; protocol: 'TCP' | 'UDP' | 'SCTP' }[];
  /** Milli-units (cpu in millicores, memory in millibytes), as Quantity.MilliValue(). */
  requests: Record<string, number>;
  limits: Record<string, number>;
  /** The quantities as written, for display. */
  requestsRaw: Record<string, string>;
  limitsRaw: Record<string, string>;
  readinessProbe?: NormalizedProbe;
  livenessProbe?: NormalizedProbe;
  startupProbe?: NormalizedProbe;
  workingDir?: string;
  /** Set when command/args/workingDir came from a tide-local.yaml image mapping: "FILE: images[\"IMAGE\"]". */
  localCommandFrom?: string;
}

export interface NormalizedDeployment {
  name: string;
  namespace?: string;
  /** spec.replicas, default 1. */
  replicas: number;
  selector: LabelSelector;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  containers: NormalizedContainer[];
  /** Default 30. */
  terminationGracePeriodSeconds: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface NormalizedServicePort {
  name?: string;
  port: number;
  /** A number, or the name of a container port. Defaults to `port`. */
  targetPort: number | string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface NormalizedService {
  name: string;
  namespace?: string;
  selector: Record<string, string>;
  ports: NormalizedServicePort[];
  labels: Record<string, string>;
}
