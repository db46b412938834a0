// Bounds on how many replica processes `tide up` runs: per Deployment and in total. A manifest with
// `replicas: 1000000`, a scale API call or a runaway autoscaler must not fork the machine to death.
// The default is derived from the machine (cores, memory, the daemon's open-file limit); flags
// --max-replicas / --max-total-replicas override it.
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

export interface ReplicaLimits {
  /** Most replicas one Deployment may have. */
  perDeployment: number;
  /** Most replicas of all Deployments together. */
  total: number;
  /** Where the numbers come from (for error messages). */
  basis: string;
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch { return undefined; }
}

/** Per replica the daemon holds ~8 fds (stdout/stderr pipes, log file, probe and proxy sockets). */
const FDS_PER_REPLICA = 8;
const FDS_RESERVED = 64;
/** A small interpreter process (Node, Python) needs tens of MiB; assume 32 MiB. */
const MEMORY_PER_REPLICA = 32 * 1024 * 1024;

export function defaultReplicaLimits(machine: { cores?: number; memoryBytes?: number; nofile?: number } = {}): ReplicaLimits {
  const cores = machine.cores ?? availableParallelism();
  const mem = machine.memoryBytes ?? totalmem();
  const nofile = machine.nofile ?? openFileLimit() ?? 1024;
  const byFds = Math.floor((nofile - FDS_RESERVED) / FDS_PER_REPLICA);
  const byMem = Math.floor(mem / MEMORY_PER_REPLICA);
  // Kubernetes' default of 110 pods per node, more on big machines
  const byCpu = Math.max(110, cores * 50);
  const total = Math.max(1, Math.min(byFds, byMem, byCpu));
  const gib = (mem / 1024 ** 3).toFixed(1);
  return { perDeployment: total, total, basis: `derived from ${cores} cores, ${gib} GiB memory, ulimit -n ${nofile === Number.MAX_SAFE_INTEGER ? 'unlimited' : nofile}` };
}

export function resolveReplicaLimits(flags: { perDeployment?: number; total?: number } = {}): ReplicaLimits {
  const d = defaultReplicaLimits();
  const total = flags.total ?? (flags.perDeployment !== undefined ? Math.max(d.total, flags.perDeployment) : d.total);
  const perDeployment = Math.min(flags.perDeployment ?? d.perDeployment, total);
  const basis = flags.total !== undefined || flags.perDeployment !== undefined ? `set by --max-replicas/--max-total-replicas (machine default: ${d.total}, ${d.basis})` : d.basis;
  return { perDeployment, total, basis };
}

/** Why `replicas` for `name` is over a limit (given the desired replicas of the others), or undefined. */
export function overLimit(limits: ReplicaLimits, replicas: number, othersTotal: number): string | undefined {
  if (replicas > limits.perDeployment) {
    return `${replicas} replicas is more than the cap of ${limits.perDeployment} per Deployment (at most ${limits.perDeployment}; ${limits.basis}; raise it with --max-replicas)`;
  }
  if (replicas + othersTotal > limits.total) {
    return `${replicas} replicas would make ${replicas + othersTotal} in total, more than the cap of ${limits.total} for all Deployments (at most ${Math.max(0, limits.total - othersTotal)} here; ${limits.basis}; raise it with --max-total-replicas)`;
  }
  return undefined;
}
