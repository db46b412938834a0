// The live web dashboard of `tide up`: its HTTP routes and SSE stream, then the page itself in a real
// headless Debian Chromium (driven by playwright-core; no browser download): the replicas chart and
// the pods table show the real replica count, a `tide scale` shows up within seconds, and the decision
// log shows the HPA's decisions. A screenshot goes to /tmp/tide-dashboard.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deploymentYaml, hpaYaml, httpGet, serviceYaml, sleep, tideUp, type Up } from '../runtime/helpers.ts';

// page functions run in the browser; these globals exist there (tsconfig has no DOM lib)
declare const window: any;
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = '/tmp/tide-dashboard.png';
const noBrowser = !existsSync(CHROMIUM);
if (noBrowser) {
  console.error(`\n${'!'.repeat(100)}\n!!! SKIPPING the dashboard browser test: ${CHROMIUM} is missing. Install Debian's chromium (apt-get install -y chromium; .ci/install-services.sh does it in CI).\n${'!'.repeat(100)}\n`);
}

/** Read a Server-Sent Events stream until `want` events arrived (or the time is up). */
function readEvents(url: string, want: number, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<{ status: number; type: string; events: { event: string; data: any }[] }> {
  return new Promise((resolve, reject) => {
    const events: { event: string; data: any }[] = [];
    const req = request(url, { agent: false, headers }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      const done = () => { clearTimeout(t); req.destroy(); resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), events }); };
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) events.push({ event: ev, data: JSON.parse(data) });
          if (events.length >= want) return done();
        }
      });
      const t = setTimeout(done, timeoutMs);
    });
    req.on('error', (e) => { if (events.length < want) reject(e); });
    req.end();
  });
}

describe('dashboard', { timeout: 120_000 }, () => {
  let up: Up;
  let base: string;
  let auth: Record<string, string>;
  before(async () => {
    // no cpu request: the HPA records a decision every sync but cannot scale, so `tide scale` sticks
    up = await tideUp(deploymentYaml({ cpuRequest: null }) + '---\n' + serviceYaml() + '---\n' + hpaYaml({ max: 3 }));
    const url = await up.waitFor('the dashboard URL printed by tide up', async () => /dashboard: (http:\/\/127\.0\.0\.1:\d+)\/dashboard\/login\?code=[\w-]+ /.exec(up.output())?.[1]);
    base = url;
    auth = { authorization: `Bearer ${up.token()}` };
  });
  after(async () => { await up?.stop(); });

  test('tide dashboard prints the URL; page, assets, snapshot and SSE are served', async () => {
    const cli = await up.cli(['dashboard']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^${base.replaceAll('.', '\\.')}/dashboard/login\\?code=[\\w-]{20,}\n$`));

    const root = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      request(`${base}/`, { agent: false }, (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, location: res.headers.location }); }).on('error', reject).end();
    });
    assert.deepEqual(root, { status: 302, location: '/dashboard/' });
    const page = await httpGet(`${base}/dashboard/`);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="app.js">/);
    const uplot = await httpGet(`${base}/dashboard/uplot.js`);
    assert.equal(uplot.status, 200);
    assert.equal(uplot.body, readFileSync(new URL('../../../node_modules/uplot/dist/uPlot.esm.js', import.meta.url), 'utf8'));
    assert.equal((await httpGet(`${base}/dashboard/uplot.css`)).status, 200);
    assert.equal((await httpGet(`${base}/dashboard/app.js`)).status, 200);
    assert.equal((await httpGet(`${base}/dashboard/..%2F..%2Fpackage.json`)).status, 404);
    assert.equal((await httpGet(`${base}/dashboard/server.ts`)).status, 404);
    // the control API is untouched
    assert.equal((await up.api('GET', '/v1/status')).status, 200);

    await up.waitFor('a decision', async () => (await up.api<unknown[]>('GET', '/v1/decisions?autoscaler=tiny')).json.length > 0);
    // the data needs the token (or the dashboard session cookie); the static page does not
    assert.equal((await httpGet(`${base}/api/v1/dashboard`)).status, 401);
    assert.equal((await readEvents(`${base}/api/v1/events`, 1, 2000)).status, 401);
    const snap = JSON.parse((await httpGet(`${base}/api/v1/dashboard`, 10_000, auth)).body);
    assert.deepEqual(snap.meta.deployments, [{ name: 'tiny', autoscalers: ['tiny'], services: ['tiny'] }]);
    assert.equal(snap.meta.autoscalers[0].kind, 'hpa');
    assert.ok(snap.samples.length >= 2, 'history holds the samples since start');
    assert.equal(snap.samples.at(-1).deployments.tiny.replicas, 1);
    assert.equal(snap.pods.length, 1);
    assert.ok(snap.decisions.length >= 1);
    assert.equal(snap.decisions[0].autoscaler, 'tiny');
    assert.match(snap.decisions[0].explanation, /\S/);

    // traffic shows up as RPS and latency
    const svc = await up.serviceUrl();
    for (let i = 0; i < 20; i++) assert.equal((await httpGet(`${svc}/sleep?ms=5`)).status, 200);
    const sse = await readEvents(`${base}/api/v1/events`, 3, 10_000, auth);
    assert.equal(sse.status, 200);
    assert.match(sse.type, /^text\/event-stream/);
    assert.deepEqual(sse.events.map((e) => e.event), ['snapshot', 'update', 'update']);
    assert.ok(sse.events[2].data.sample.t > sse.events[1].data.sample.t);
    // the 20 requests fall in the 5 s rate window of the updates (sleep 5 ms each: p50 ≥ 5 ms)
    const busy = sse.events.slice(1).map((e) => e.data.sample.services.tiny).find((x) => x.rps > 0);
    assert.ok(busy, JSON.stringify(sse.events.slice(1).map((e) => e.data.sample.services)));
    assert.ok(busy.p50 >= 5 && busy.p99 >= busy.p50, JSON.stringify(busy));
    assert.equal(sse.events[1].data.pods.length, 1);
  });

  test('the page in headless Chromium follows replicas, pods and decisions live', { skip: noBrowser ? `${CHROMIUM} missing` : false }, async () => {
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'tide-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1400, height: 1300 },
    });
    const svc = await up.serviceUrl();
    let traffic = true;
    const load = (async () => { while (traffic) { await httpGet(`${svc}/sleep?ms=${10 + Math.floor(Math.random() * 30)}`); await sleep(40); } })();
    try {
      const page = ctx.pages()[0] ?? await ctx.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
      // the one-time link from `tide dashboard` becomes an HttpOnly SameSite=Strict session cookie
      const link = (await up.cli(['dashboard'])).stdout.trim();
      const resp = await page.goto(link);
      assert.equal(new URL(page.url()).pathname, '/dashboard/');
      assert.equal(resp?.status(), 200);
      const cookies = await ctx.cookies(base);
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0].httpOnly, true);
      assert.equal(cookies[0].sameSite, 'Strict');
      const sec = 'section.deployment[data-deployment="tiny"]';
      const stat = (f: string) => page.locator(`${sec} [data-field="${f}"]`).textContent();
      const readyPods = () => page.locator('#pods tbody tr[data-ready="true"]').count();
      const lastReplicas = () => page.evaluate(() => {
        const c = window.tide.charts.get('replicas:tiny');
        const ys: (number | null)[] = c.u.data[1];
        return ys[ys.length - 1];
      });
      await page.waitForFunction(() => window.tide?.charts?.get('replicas:tiny')?.u.data[0].length > 1, null, { timeout: 10_000 });
      assert.equal(await stat('replicas'), '1');
      assert.equal(await lastReplicas(), 1);
      assert.equal(await readyPods(), 1);
      assert.equal(await page.locator('#pods tbody tr').count(), 1);
      // charts for the HPA's metric and the Service exist
      for (const id of ['metric:tiny:0', 'rps:tiny', 'latency:tiny', 'queue:tiny', 'cold:tiny']) {
        assert.equal(await page.locator(`[data-chart="${id}"] canvas`).count(), 1, `chart ${id}`);
      }
      // the decision log shows the HPA's decisions (fresh page: from the daemon's history)
      await page.waitForFunction(() => document.querySelectorAll('#decisions tbody tr[data-autoscaler="tiny"]').length > 0, null, { timeout: 10_000 });
      const row = await page.locator('#decisions tbody tr[data-autoscaler="tiny"]').first().innerText();
      assert.match(row, /hpa\/tiny/);
      assert.match(row, /1→1/);
      assert.match(row, /missing request for cpu|invalid|metric/i);
      const decisionsBefore = await page.locator('#decisions tbody tr[data-autoscaler="tiny"]').count();

      // scale through the CLI: the page follows within a few seconds
      const s = await up.cli(['scale', 'deployment', 'tiny', '--replicas=2']);
      assert.equal(s.code, 0, s.stderr);
      await page.waitForFunction((sel) => document.querySelector(`${sel} [data-field="replicas"]`)?.textContent === '2'
        && document.querySelectorAll('#pods tbody tr[data-ready="true"]').length === 2, sec, { timeout: 8_000 });
      assert.equal(await stat('desired'), '2');
      assert.equal(await lastReplicas(), 2);
      const pods = (await up.api<{ name: string }[]>('GET', '/v1/pods')).json.map((p) => p.name).sort();
      const shown = (await page.locator('#pods tbody tr').evaluateAll((rows) => rows.map((r: any) => r.dataset.pod as string))).sort();
      assert.deepEqual(shown, pods);
      // new decisions keep arriving live (the HPA syncs every second)
      await page.waitForFunction((n) => document.querySelectorAll('#decisions tbody tr[data-autoscaler="tiny"]').length > n, decisionsBefore, { timeout: 8_000 });
      await page.waitForFunction(() => /^\d/.test(document.querySelector('[data-field="p50"]')?.textContent ?? ''), null, { timeout: 8_000 });
      // charts name their units: in the title and as the y-axis label
      for (const [id, unit] of [['metric:tiny:0', '%'], ['rps:tiny', 'req/s'], ['latency:tiny', 'ms'], ['replicas:tiny', 'pods']]) {
        assert.equal(await page.locator(`[data-chart="${id}"]`).getAttribute('data-unit'), unit, `unit of ${id}`);
        assert.equal(await page.locator(`[data-chart="${id}"] h3 .unit`).innerText(), `(${unit})`);
        assert.equal(await page.evaluate((c) => window.tide.charts.get(c).u.axes[1].label, id), unit);
      }
      // the cold-start chart says why it is empty while no request has waited for a replica
      const cold = await page.evaluate(() => ({
        none: window.tide.state.samples.every((s: any) => !s.services.tiny?.coldStartsTotal),
        hidden: document.querySelector('[data-chart="cold:tiny"] .chart-empty')?.hidden,
        text: document.querySelector('[data-chart="cold:tiny"] .chart-empty')?.textContent,
      }));
      assert.match(cold.text, /^no cold starts yet/);
      assert.equal(cold.hidden, !cold.none, JSON.stringify(cold));
      // at 1400 px no table cell wraps: every cell's text is on one line, and all rows are equally high
      await page.setViewportSize({ width: 1400, height: 900 });
      await page.waitForFunction(() => window.tide.charts.get('replicas:tiny').u.width < 1400, null, { timeout: 5_000 });
      const layout = await page.evaluate(() => [...document.querySelectorAll('#pods tr, #decisions tr')].slice(0, 40).map((tr: any) => ({
        table: tr.closest('table').id,
        height: Math.round(tr.getBoundingClientRect().height),
        wrapped: [...tr.cells].filter((td: any) => {
          const r = document.createRange();
          r.selectNodeContents(td);
          return new Set([...r.getClientRects()].filter((x: any) => x.width > 0).map((x: any) => Math.round(x.bottom))).size > 1;
        }).map((td: any) => td.textContent.trim().slice(0, 40)),
      })));
      assert.ok(layout.length >= 4, JSON.stringify(layout));
      assert.deepEqual(layout.flatMap((r) => r.wrapped), [], 'wrapped cells');
      for (const t of ['pods', 'decisions']) {
        const hs = layout.filter((r) => r.table === t).slice(1).map((r) => r.height);
        assert.ok(Math.max(...hs) - Math.min(...hs) <= 1, `${t} row heights ${hs}`);
      }
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      // a reload shows the history again (the daemon keeps it), not an empty chart
      const before = await page.evaluate(() => window.tide.state.samples.length);
      await page.reload();
      await page.waitForFunction((n) => window.tide?.state.samples.length >= n, before, { timeout: 8_000 });
      assert.deepEqual(problems, []);
    } finally {
      traffic = false;
      await load;
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
