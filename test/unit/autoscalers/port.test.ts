// The /scale status.selector text the port reports: "k=v" pairs joined by commas; none → "".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectorString } from '../../../src/autoscalers/port.ts';

test('selectorString formats labels like /scale status.selector, and no labels as ""', () => {
  assert.equal(selectorString({ app: 'web', tier: 'front' }), 'app=web,tier=front');
  assert.equal(selectorString({}), '');
  assert.equal(selectorString(undefined), ''); // a target with no ready replica yet
});
