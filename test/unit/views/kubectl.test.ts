// The kubectl views over real object shapes: exact text as kubectl prints it (tabwriter blocks,
// current TARGETS with metric names, describe's raw current value, pod STATUS/RESTARTS, AGE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  columnWidths, deploymentRow, DEPLOYMENT_COLUMNS, describeHpa, formatHpaTargets, GET_TABLE, HPA_COLUMNS, hpaRow, parseSelector, podRow, POD_COLUMNS,
  printRows, printTable, selectorMatches, tabwrite, topPodRow, toYaml, asList, type Deployment, type Event, type HorizontalPodAutoscaler, type Pod,
} from '../../../src/views/kubectl/index.ts';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace('.000Z', 'Z');

function hpa(over: Partial<HorizontalPodAutoscaler['status']> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'mlp-server', namespace: 'default', creationTimestamp: ago(185) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mlp-server' }, minReplicas: 1, maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, target: { type: 'AverageValue', averageValue: '4' } } },
      ],
    },
    status: {
      currentReplicas: 2, desiredReplicas: 2, lastScaleTime: ago(60),
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 73, averageValue: '146m' } } },
        { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, current: { averageValue: '0' } } },
      ],
      conditions: [
        { type: 'AbleToScale', status: 'True', lastTransitionTime: ago(100), reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
        { type: 'ScalingActive', status: 'True', lastTransitionTime: ago(100), reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' },
        { type: 'ScalingLimited', status: 'False', lastTransitionTime: ago(100), reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
      ],
      ...over,
    },
  };
}

test('tabwriter: columns align per block of lines that have the cell, as Go\'s text/tabwriter', () => {
  assert.equal(tabwrite('a:\tx\nlonger:\ty\nno tabs here\nb:\tz', { minwidth: 0, padding: 2 }), 'a:       x\nlonger:  y\nno tabs here\nb:  z');
  assert.equal(tabwrite('NAME\tAGE\nab\t1s', { minwidth: 6, padding: 3 }), 'NAME   AGE\nab     1s');
});

test('get hpa TARGETS in current kubectl\'s form, with metric names, "+ N more..." and <unknown>', () => {
  assert.equal(formatHpaTargets(hpa()), 'cpu: 73%/50%, 0/4');
  const none = hpa({ currentMetrics: null });
  assert.equal(formatHpaTargets(none), 'cpu: <unknown>/50%, <unknown>/4');
  const three = hpa();
  three.spec.metrics!.push({ type: 'External', external: { metric: { name: 'queue_messages' }, target: { type: 'AverageValue', averageValue: '30' } } });
  assert.equal(formatHpaTargets(three), 'cpu: 73%/50%, 0/4 + 1 more...');
  assert.equal(formatHpaTargets(three, true), 'cpu: 73%/50%, 0/4, <unknown>/30 (avg)');
  const failed = hpa({ currentMetrics: [{ type: '' }, { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, current: { averageValue: '2500m' } } }] });
  assert.equal(formatHpaTargets(failed), 'cpu: <unknown>/50%, 2500m/4');
});

test('get hpa table: the seed guide\'s columns and kubectl\'s spacing', () => {
  const out = printTable(HPA_COLUMNS, [hpaRow(hpa(), NOW)]);
  assert.equal(out, [
    'NAME         REFERENCE               TARGETS             MINPODS   MAXPODS   REPLICAS   AGE',
    'mlp-server   Deployment/mlp-server   cpu: 73%/50%, 0/4   1         10        2          3m5s',
  ].join('\n'));
  // -w rows keep the first listing's widths
  const widths = columnWidths([HPA_COLUMNS, hpaRow(hpa(), NOW)], GET_TABLE);
  assert.equal(printRows([hpaRow(hpa({ currentReplicas: 3 }), NOW)], widths).split('   ').filter(Boolean).length, 7);
});

test('describe hpa: v2 describer sections, raw current value, Events <none> aligned with the conditions', () => {
  const out = describeHpa(hpa(), [], NOW);
  assert.equal(out, [
    'Name:                                                  mlp-server',
    'Namespace:                                             default',
    'Labels:                                                <none>',
    'Annotations:                                           <none>',
    'CreationTimestamp:                                     Tue, 24 Nov 2026 11:56:55 +0000',
    'Reference:                                             Deployment/mlp-server',
    'Metrics:                                               ( current / target )',
    '  resource cpu on pods  (as a percentage of request):  73% (146m) / 50%',
    '  "inference_queue_depth" on pods:                     0 / 4',
    'Min replicas:                                          1',
    'Max replicas:                                          10',
    'Deployment pods:                                       2 current / 2 desired',
    'Conditions:',
    '  Type            Status  Reason              Message',
    '  ----            ------  ------              -------',
    '  AbleToScale     True    ReadyForNewScale    recommended size matches current size',
    '  ScalingActive   True    ValidMetricFound    the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
    '  ScalingLimited  False   DesiredWithinRange  the desired count is within the acceptable range',
    'Events:           <none>',
  ].join('\n'));
});

test('describe hpa: events table with counts, after a flush', () => {
  const ev: Event = {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'HorizontalPodAutoscaler', name: 'mlp-server' },
    type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target',
    count: 3, firstTimestamp: ago(300), lastTimestamp: ago(60), source: { component: 'horizontal-pod-autoscaler' },
  };
  const out = describeHpa(hpa(), [ev], NOW);
  assert.match(out, /\nEvents:\n {2}Type\s{4}Reason\s+Age\s+From\s+Message\n {2}----\s{4}------/);
  assert.match(out, /\n {2}Normal {2}SuccessfulRescale {2}60s \(x3 over 5m\) {2}horizontal-pod-autoscaler {2}New size: 2; reason: cpu/);
});

function pod(over: Partial<Pod['status']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'mlp-server-5d8f-abcde', namespace: 'default', creationTimestamp: ago(60), labels: { app: 'mlp-server' }, ...meta },
    spec: { containers: [{ name: 'mlp-server' }], nodeName: 'localhost' },
    status: {
      phase: 'Running', podIP: '127.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'mlp-server', ready: true, restartCount: 0, state: { running: { startedAt: ago(59) } } }],
      ...over,
    },
  };
}

test('get pods: READY, STATUS from container states, RESTARTS "(age ago)", Terminating', () => {
  assert.deepEqual(podRow(pod(), NOW), ['mlp-server-5d8f-abcde', '1/1', 'Running', '0', '60s']);
  const crash = pod({ containerStatuses: [{ name: 'mlp-server', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5) } } }] });
  assert.deepEqual(podRow(crash, NOW), ['mlp-server-5d8f-abcde', '0/1', 'CrashLoopBackOff', '2 (5s ago)', '60s']);
  assert.equal(podRow(pod({}, { deletionTimestamp: ago(1) }), NOW)[2], 'Terminating');
  assert.deepEqual(podRow(pod(), NOW, true).slice(5), ['127.0.0.1', 'localhost', '<none>', '<none>']);
  assert.equal(printTable(POD_COLUMNS, [podRow(pod(), NOW)]), 'NAME                    READY   STATUS    RESTARTS   AGE\nmlp-server-5d8f-abcde   1/1     Running   0          60s');
});

test('get deployments has AGE; top pods; label selectors', () => {
  const d: Deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mlp-server', creationTimestamp: ago(3600 * 5 + 60 * 3) },
    spec: { replicas: 3, selector: { matchLabels: { app: 'mlp-server' } }, template: { spec: { containers: [{ name: 'mlp-server', image: 'ghcr.io/x/app:1' }] } } },
    status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  };
  assert.deepEqual(DEPLOYMENT_COLUMNS, ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  assert.deepEqual(deploymentRow(d, NOW), ['mlp-server', '2/3', '3', '2', '5h3m']);
  assert.deepEqual(deploymentRow(d, NOW, true).slice(5), ['mlp-server', 'ghcr.io/x/app:1', 'app=mlp-server']);
  assert.deepEqual(topPodRow({ apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name: 'p' }, timestamp: ago(0), window: '15s', containers: [{ name: 'c', usage: { cpu: '146m', memory: '53248Ki' } }] }), ['p', '146m', '52Mi']);
  const sel = parseSelector('app=mlp-server,tier notin (db),!legacy');
  assert.ok(selectorMatches(sel, { app: 'mlp-server', tier: 'web' }));
  assert.ok(!selectorMatches(sel, { app: 'mlp-server', legacy: 'y' }));
  assert.ok(!selectorMatches(parseSelector('app in (a,b)'), { app: 'c' }));
  assert.throws(() => parseSelector('app=,'), /unable to parse/);
});

test('-o yaml: sorted keys, sequences not indented, a v1 List for several objects', async () => {
  const y = await toYaml(hpa());
  assert.match(y, /^apiVersion: autoscaling\/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n/);
  assert.match(y, /\nstatus:\n {2}conditions:\n {2}- lastTransitionTime: "?2026-11-24T11:58:20Z"?\n {4}message: recommended size/);
  assert.match(y, /\n {2}currentMetrics:\n {2}- resource:\n {6}current:\n {8}averageUtilization: 73\n {8}averageValue: 146m\n {6}name: cpu\n {4}type: Resource\n/);
  const list = await toYaml(asList([pod()]));
  assert.match(list, /^apiVersion: v1\nitems:\n- apiVersion: v1\n/);
  assert.match(list, /\nkind: List\nmetadata:\n {2}resourceVersion: ""$/);
});
