// What `tide --help` lists, without importing every command: each module under ./commands pulls in
// its whole stack (the daemon, the simulator, client-node, …), ~2,000 modules and seconds of start-up
// for a page of text. The table is checked against the modules' own registration by
// test/unit/cli/command-index.test.ts, so it cannot drift from them.
export interface CommandSummary {
  /** The command's name, also its module's file name (./commands/NAME.ts). */
  name: string;
  /** As commander's help prints it: name, [options], arguments. */
  term: string;
  description: string;
}

export const COMMANDS: readonly CommandSummary[] = [
  { name: "autoscale", term: "autoscale [options] <kind> <name>",
    description: "create an autoscaling/v1 HPA for a running Deployment (like kubectl autoscale)" },
  { name: "controller", term: "controller [options]",
    description: "run the HPA controller against a Kubernetes cluster (shadow mode by default: compare with the cluster's own HPA controller; active: scale and write status)" },
  { name: "dashboard", term: "dashboard [options]",
    description: "print a one-time login URL of the live web dashboard of the running `tide up` daemon (open it in a browser; valid 10 minutes, once)" },
  { name: "decide", term: "decide [options] [file]",
    description: "Run a decider on a scenario (JSON/JSONL) and print its decision records, or replay recorded decisions (--verify)" },
  { name: "describe", term: "describe [options] <kind> [name]",
    description: "show an hpa (metrics, conditions, events, last decision explained) or a pod in detail, like kubectl describe; of the running `tide up`, or of a cluster (--kubeconfig/--context/--cluster)" },
  { name: "env", term: "env",
    description: "print the runtime Tide runs on (Node version, platform)" },
  { name: "get", term: "get [options] <resource...>",
    description: "list hpa, pods, deployments or svc of the running `tide up`, or of a cluster (--kubeconfig/--context/--cluster), exactly like kubectl get (TYPE[,TYPE\u2026] [NAME\u2026] or TYPE/NAME\u2026)" },
  { name: "load", term: "load [options]",
    description: "generate HTTP load (closed-loop users, fixed rate, or trace replay) and report latency and errors" },
  { name: "logs", term: "logs [options] [pod]",
    description: "print (or follow) replicas' stdout/stderr (like kubectl logs): POD, deployment/NAME, or -l app=NAME" },
  { name: "scale", term: "scale [options] <kind> <name>",
    description: "set the replicas of a running Deployment (like kubectl scale; an HPA on it takes over at its next sync)" },
  { name: "simulate", term: "simulate [options] [manifests...]",
    description: "replay a trace through autoscaling policies in a discrete-event simulator and compare cost, latency and SLO attainment" },
  { name: "top", term: "top [options] <resource> [name]",
    description: "CPU and memory of each replica, from the samples the HPA reads (like kubectl top pods)" },
  { name: "up", term: "up [options] <files...>",
    description: "run Deployments as local processes behind Service proxies and autoscale them (foreground; Ctrl-C stops everything)" },
  { name: "validate", term: "validate [options] <files...>",
    description: "check manifest files as `kubectl apply --dry-run=client` + kubeconform would, and whether `tide up` can run them; prints every error and warning, exit status 1 on errors; starts nothing" },
];
