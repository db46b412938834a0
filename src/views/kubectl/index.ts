// kubectl-exact views over real Kubernetes object shapes (autoscaling/v2 HPA with status, v1 Pod,
// apps/v1 Deployment, v1 Service, v1 Event, metrics.k8s.io PodMetrics). Pure: the local daemon's
// control API and a Kubernetes API server feed the same functions.
export * from './types.ts';
export * from './duration.ts';
export * from './tabwriter.ts';
export * from './hpa.ts';
export * from './pods.ts';
export * from './workloads.ts';
export * from './selector.ts';
export * from './top.ts';
export * from './output.ts';
export { describeEvents, describeLabels, describeAnnotations } from './describe-common.ts';
