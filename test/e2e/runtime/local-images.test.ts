// The guide's app-fastapi Deployment + Service, byte for byte (image, no command), run by `tide up`
// through a tide-local.yaml next to it that maps the image to a local command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURE, ROOT, httpGet, tideUp } from './helpers.ts';

test('the seed manifest runs unchanged through tide-local.yaml; requests reach its replicas through the Service', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tide-local-e2e-'));
  try {
    const seed = readFileSync(join(ROOT, 'examples/manifests/seed/app-fastapi-resources.yaml'), 'utf8');
    writeFileSync(join(dir, 'tide-local.yaml'), `images:\n  ghcr.io/kyryl-opens-ml/app-fastapi:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE)}]\n`);
    const up = await tideUp(seed, [], { dir });
    try {
      assert.equal(readFileSync(join(dir, 'app.yaml'), 'utf8'), seed, 'the manifest is the guide\'s, unchanged');
      const url = await up.serviceUrl('app-fastapi');
      const r = await up.waitFor('a response through the Service', async () => {
        try { const x = await httpGet(`${url}/`); return x.status === 200 ? x : undefined; } catch { return undefined; }
      }, 30_000);
      assert.match(r.body, /app-fastapi-/);
    } finally {
      await up.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
