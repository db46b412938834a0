// A Secret the local runtime cannot resolve is warned about once, and the printed line says
// "warning:" once (the manifest diagnostic already carries "file:line:col: warning:").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, warningLine } from '../../../src/runtime/local/bundle.ts';

test('unresolvable secretKeyRef: one warning, "warning:" not doubled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-bundle-warn-'));
  try {
    const f = join(dir, 'app.yaml');
    writeFileSync(f, `apiVersion: apps/v1
kind: Deployment
metadata: {name: s}
spec:
  replicas: 1
  selector: {matchLabels: {app: s}}
  template:
    metadata: {labels: {app: s}}
    spec:
      containers:
      - name: app
        image: x
        command: ["sleep", "30"]
        env:
        - name: TIDE_TEST_UNSET_TOKEN
          valueFrom: {secretKeyRef: {name: hf, key: token}}
`);
    delete process.env.TIDE_TEST_UNSET_TOKEN;
    const b = loadBundle([f]);
    const about = b.warnings.filter((w) => w.includes('TIDE_TEST_UNSET_TOKEN'));
    assert.equal(about.length, 1, about.join('\n'));
    const line = warningLine(about[0]);
    assert.equal(line.match(/warning:/g)?.length, 1, line);
    assert.equal(warningLine('Service x has no ports (ignored)'), 'warning: Service x has no ports (ignored)');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
