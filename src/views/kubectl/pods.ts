// `kubectl get pods` (and -o wide) for v1 Pod objects: READY, the STATUS reason kubectl derives from
// phase/container states/deletion, RESTARTS with "(5m ago)". Pure.
import { age, humanDuration } from './duration.ts';
import type { Pod } from './types.ts';

export const POD_COLUMNS = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
export const POD_WIDE_COLUMNS = [...POD_COLUMNS, 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'];

/** The STATUS column (printPod's reason). */
export function podStatusReason(pod: Pod): string {
  let reason = pod.status.phase ?? 'Unknown';
  if (pod.status.reason) reason = pod.status.reason;
  let initializing = false;
  const inits = pod.status.initContainerStatuses ?? [];
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${inits.length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const cs = pod.status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = pod.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = pod.status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

/** RESTARTS: "0", or "3 (2m ago)" from the last termination's finishedAt. */
export function podRestarts(pod: Pod, now: number): string {
  let restarts = 0;
  let last = 0;
  for (const c of pod.status.containerStatuses ?? []) {
    restarts += c.restartCount;
    const f = c.lastState?.terminated?.finishedAt;
    if (f) last = Math.max(last, Date.parse(f));
  }
  return restarts > 0 && last > 0 ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
}

export function podRow(pod: Pod, now: number, wide = false): string[] {
  const cs = pod.status.containerStatuses ?? [];
  const total = pod.spec.containers.length;
  const ready = cs.filter((c) => c.ready && c.state?.running).length;
  const row = [pod.metadata.name, `${ready}/${total}`, podStatusReason(pod), podRestarts(pod, now), age(pod.metadata.creationTimestamp, now)];
  if (wide) {
    const gates = pod.spec.readinessGates ?? [];
    const gatesCell = gates.length
      ? `${gates.filter((g) => pod.status.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
      : '<none>';
    row.push(pod.status.podIP || '<none>', pod.spec.nodeName || '<none>', pod.status.nominatedNodeName || '<none>', gatesCell);
  }
  return row;
}
