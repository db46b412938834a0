// Claims across kinds (src/runtime/kubernetes/claims.ts): the same target named by two autoscalers,
// upstream's AmbiguousSelector pod overlap, KEDA's generated HPA counted once with its ScaledObject.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimRegistry, hpaClaimant, targetKey } from '../../../src/runtime/kubernetes/claims.ts';

const dep = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name });

test('two HPAs on one Deployment, and an HPA + a ScaledObject, claim the same target; other targets do not', () => {
  const c = new ClaimRegistry();
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'web', scaleTargetRef: dep('web') });
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'web-2', scaleTargetRef: { ...dep('web'), apiVersion: 'apps/v1beta2' } });
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'api', scaleTargetRef: dep('api') });
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'b', name: 'web', scaleTargetRef: dep('web') });
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'web').map((x) => x.name), ['web-2'], 'the API version does not matter');
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'api'), []);
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'b', 'web'), [], 'another namespace is another object');
  c.replaceKind('ScaledObject', [{ kind: 'ScaledObject', namespace: 'a', name: 'api-so', scaleTargetRef: dep('api') }]);
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'api').map((x) => `${x.kind}/${x.name}`), ['ScaledObject/api-so']);
  assert.deepEqual(c.otherClaimants('ScaledObject', 'a', 'api-so').map((x) => `${x.kind}/${x.name}`), ['HorizontalPodAutoscaler/api']);
  c.replaceKind('ScaledObject', []);
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'api'), []);
  c.remove('HorizontalPodAutoscaler', 'a', 'web-2');
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'web'), []);
  assert.equal(targetKey('n', { kind: 'Rollout', apiVersion: 'argoproj.io/v1alpha1', name: 'r' }), 'n/argoproj.io/Rollout/r');
});

test('KEDA\'s generated HPA and its ScaledObject are one claim', () => {
  const c = new ClaimRegistry();
  const gen = hpaClaimant({ metadata: { namespace: 'a', name: 'keda-hpa-q', ownerReferences: [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: 'q' }] }, spec: { scaleTargetRef: dep('worker') } })!;
  assert.deepEqual(gen.ownedBy, { kind: 'ScaledObject', name: 'q' });
  c.upsert(gen);
  c.upsert({ kind: 'ScaledObject', namespace: 'a', name: 'q', scaleTargetRef: dep('worker'), selector: 'app=worker' });
  c.setSelector('HorizontalPodAutoscaler', 'a', 'keda-hpa-q', 'app=worker');
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'keda-hpa-q'), []);
  assert.deepEqual(c.otherClaimants('ScaledObject', 'a', 'q'), []);
  assert.deepEqual(c.selectingHpas('a', [{ labels: { app: 'worker' } }]), ['a/keda-hpa-q']);
  // a user's HPA on the same Deployment conflicts with both
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'mine', scaleTargetRef: dep('worker'), selector: 'app=worker' });
  assert.deepEqual(c.otherClaimants('HorizontalPodAutoscaler', 'a', 'mine').map((x) => x.name), ['keda-hpa-q', 'q']);
  assert.deepEqual(c.selectingHpas('a', [{ labels: { app: 'worker' } }]), ['a/keda-hpa-q', 'a/mine']);
});

test('AmbiguousSelector: HPAs whose target selectors match the same pods, as upstream lists them', () => {
  const c = new ClaimRegistry();
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'stable', scaleTargetRef: dep('stable'), selector: 'app=web' });
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'canary', scaleTargetRef: dep('canary') });
  const canaryPods = [{ labels: { app: 'web', track: 'canary' } }];
  // canary's selector is not known yet (never synced): only stable matches
  assert.deepEqual(c.selectingHpas('a', canaryPods), ['a/stable']);
  c.setSelector('HorizontalPodAutoscaler', 'a', 'canary', 'app=web,track=canary');
  assert.deepEqual(c.selectingHpas('a', canaryPods), ['a/canary', 'a/stable']);
  assert.deepEqual(c.selectingHpas('a', [{ labels: { app: 'web', track: 'stable' } }]), ['a/stable'], 'the stable pods are only stable\'s');
  assert.deepEqual(c.selectingHpas('a', []), [], 'no pods: nothing (as upstream)');
  assert.deepEqual(c.selectingHpas('b', canaryPods), [], 'only the namespace\'s HPAs');
  // a re-upsert from the informer (no selector) keeps the one learnt at sync
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'canary', scaleTargetRef: dep('canary') });
  assert.equal(c.get('HorizontalPodAutoscaler', 'a', 'canary')!.selector, 'app=web,track=canary');
  // ... unless its target changed
  c.upsert({ kind: 'HorizontalPodAutoscaler', namespace: 'a', name: 'canary', scaleTargetRef: dep('other') });
  assert.equal(c.get('HorizontalPodAutoscaler', 'a', 'canary')!.selector, undefined);
});
