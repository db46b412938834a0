// Tide live dashboard: one Server-Sent Events stream from the daemon (/api/v1/events) — a snapshot of
// the last ~10 min, then one update per second — rendered with uPlot. No build step, no CDN.
import uPlot from './uplot.js';

const COLORS = ['#1f6feb', '#2da44e', '#8250df', '#d4a72c', '#cf222e', '#0a7ea4', '#bf3989', '#57606a'];
const state = { meta: null, samples: [], pods: [], decisions: [], seen: new Set(), signature: '', capacity: 601 };
const charts = new Map(); // id → { u, build }
window.tide = { state, charts }; // for tests and the curious

const $ = (sel, el = document) => el.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (v, unit = '') => (v === null || v === undefined || Number.isNaN(v) ? '–' : `${Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100}${unit}`);

function age(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h${m % 60 ? `${m % 60}m` : ''}` : `${Math.floor(h / 24)}d`;
}
const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });

function kindOf(name) { return state.meta?.autoscalers.find((a) => a.name === name)?.kind ?? ''; }

// ---- layout -------------------------------------------------------------------------------------

function chartSpecs(dep) {
  const m = state.meta;
  const specs = [];
  const ass = m.autoscalers.filter((a) => a.target === dep.name);
  specs.push({
    id: `replicas:${dep.name}`,
    title: 'replicas: current vs desired',
    unit: 'pods',
    series: [
      { label: 'replicas', get: (s) => s.deployments[dep.name]?.replicas ?? null, width: 2 },
      { label: 'ready', get: (s) => s.deployments[dep.name]?.ready ?? null },
      { label: 'desired (spec)', get: (s) => s.deployments[dep.name]?.desired ?? null, dash: [6, 4] },
      ...ass.map((a) => ({ label: `desired (${a.kind} ${a.name})`, get: (s) => s.autoscalers[a.name]?.desired ?? null, dash: [2, 3] })),
    ],
    step: true,
  });
  for (const a of ass) {
    a.metrics.forEach((metric, i) => specs.push({
      id: `metric:${a.name}:${i}`,
      title: `${a.kind.toUpperCase()} ${a.name}: ${metric}`,
      unit: a.units?.[i] ?? '',
      series: [
        { label: 'current', get: (s) => s.autoscalers[a.name]?.metrics[i]?.value ?? null, width: 2 },
        { label: 'target', get: (s) => s.autoscalers[a.name]?.metrics[i]?.target ?? null, dash: [6, 4] },
      ],
    }));
  }
  for (const svc of dep.services) {
    specs.push({ id: `rps:${svc}`, title: `service/${svc}: requests per second`, unit: 'req/s', series: [{ label: 'rps', get: (s) => s.services[svc]?.rps ?? null, width: 2 }] });
    specs.push({ id: `latency:${svc}`, title: `service/${svc}: latency`, unit: 'ms', series: [
      { label: 'p50', get: (s) => s.services[svc]?.p50 ?? null, width: 2 },
      { label: 'p99', get: (s) => s.services[svc]?.p99 ?? null },
    ] });
    specs.push({ id: `queue:${svc}`, title: `service/${svc}: queue and in-flight`, unit: 'requests', series: [
      { label: 'queued', get: (s) => s.services[svc]?.queue ?? null, width: 2 },
      { label: 'in-flight', get: (s) => s.services[svc]?.inFlight ?? null },
    ], step: true });
    specs.push({ id: `cold:${svc}`, title: `service/${svc}: cold starts (requests that waited for a replica)`, unit: 'requests', rightUnit: 's', empty: (s) => !s.services[svc]?.coldStartsTotal, emptyText: 'no cold starts yet (no request has waited for a replica)', series: [
      { label: 'cold-start requests (total)', get: (s) => s.services[svc]?.coldStartsTotal ?? null, width: 2 },
      { label: 'mean wait (s, right axis)', get: (s) => { const v = s.services[svc]?.coldStartMs; return v === null || v === undefined ? null : v / 1000; }, scale: 'right', points: true },
    ], step: true });
  }
  return specs;
}

function signature(m) {
  return JSON.stringify([m.deployments, m.autoscalers.map((a) => [a.name, a.kind, a.target, a.metrics]), m.services.map((s) => [s.name, s.deployment])]);
}

function destroyCharts() {
  for (const c of charts.values()) c.u.destroy();
  charts.clear();
}

function renderLayout() {
  const m = state.meta;
  destroyCharts();
  const root = $('#deployments');
  root.innerHTML = '';
  if (!m.deployments.length) root.innerHTML = '<section class="card empty">no deployments</section>';
  for (const dep of m.deployments) {
    const sec = document.createElement('section');
    sec.className = 'card deployment';
    sec.dataset.deployment = dep.name;
    const badges = dep.autoscalers.map((n) => {
      const a = m.autoscalers.find((x) => x.name === n);
      return `<span class="badge ${esc(a.kind)}" data-autoscaler="${esc(n)}">${esc(a.kind.toUpperCase())} ${esc(n)} · ${a.minReplicas}–${a.maxReplicas}</span>`;
    }).join('');
    const svcs = dep.services.map((n) => {
      const s = m.services.find((x) => x.name === n);
      return s?.url ? `<a href="${esc(s.url)}" class="small">service/${esc(n)} ${esc(s.url)}</a>` : `<span class="small muted">service/${esc(n)}${s?.error ? `: ${esc(s.error)}` : ''}</span>`;
    }).join(' ');
    sec.innerHTML = `<h2>deployment/${esc(dep.name)}<span class="badges">${badges || '<span class="badge muted">no autoscaler</span>'}</span> ${svcs}</h2>
      <div class="stats">
        <span class="stat">replicas <b data-field="replicas">–</b></span>
        <span class="stat">ready <b data-field="ready">–</b></span>
        <span class="stat">desired <b data-field="desired">–</b></span>
        ${dep.autoscalers.map((n) => `<span class="stat">${esc(n)} <b data-field="targets:${esc(n)}">–</b></span>`).join('')}
        ${dep.services.length ? `<span class="stat">rps <b data-field="rps">–</b></span>
        <span class="stat">p50 <b data-field="p50">–</b></span>
        <span class="stat">p99 <b data-field="p99">–</b></span>
        <span class="stat">queue <b data-field="queue">–</b></span>
        <span class="stat">cold-start requests <b data-field="cold">–</b></span>` : ''}
      </div>
      <div class="charts"></div>`;
    root.appendChild(sec);
    const grid = $('.charts', sec);
    for (const spec of chartSpecs(dep)) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = spec.id;
      if (spec.unit) box.dataset.unit = spec.unit;
      box.innerHTML = `<h3>${esc(spec.title)}${spec.unit ? ` <span class="unit">(${esc(spec.unit)}${spec.rightUnit ? `; right axis ${esc(spec.rightUnit)}` : ''})</span>` : ''}</h3>`;
      grid.appendChild(box);
      const width = Math.max(300, box.clientWidth || 420);
      const range = (u, lo, hi) => [Math.min(0, lo ?? 0), Math.max(1, (hi ?? 1) * 1.1)];
      const right = spec.series.some((s) => s.scale === 'right');
      const opts = {
        width,
        height: 170,
        scales: { x: { time: true }, y: { range }, ...(right ? { right: { range: (u, lo, hi) => [0, Math.max(0.1, (hi ?? 0) * 1.2)] } } : {}) },
        series: [{ value: (u, v) => (v == null ? '–' : clock(v * 1000)) }, ...spec.series.map((s, i) => ({
          label: s.label,
          value: (u, v) => fmt(v),
          scale: s.scale ?? 'y',
          stroke: COLORS[i % COLORS.length],
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: false,
          points: { show: !!s.points, size: 6, fill: COLORS[i % COLORS.length] },
          paths: s.points ? () => null : spec.step ? uPlot.paths.stepped({ align: 1 }) : undefined,
        }))],
        axes: [
          { size: 30 },
          { size: 44, ...(spec.unit ? { label: spec.unit, labelSize: 16, labelFont: '11px system-ui, sans-serif' } : {}) },
          ...(right ? [{ scale: 'right', side: 1, size: 56, grid: { show: false }, ...(spec.rightUnit ? { label: spec.rightUnit, labelSize: 16, labelFont: '11px system-ui, sans-serif' } : {}) }] : []),
        ],
        legend: { live: true },
      };
      const build = () => [state.samples.map((s) => s.t / 1000), ...spec.series.map((s) => state.samples.map(s.get))];
      const u = new uPlot(opts, build(), box);
      let empty = null;
      if (spec.empty) {
        // an all-zero chart explains itself instead of looking broken
        empty = document.createElement('div');
        empty.className = 'chart-empty';
        empty.textContent = spec.emptyText;
        box.appendChild(empty);
      }
      charts.set(spec.id, { u, build, spec, empty });
    }
  }
}

const ro = new ResizeObserver(() => {
  for (const c of charts.values()) {
    const w = Math.max(300, c.u.root.parentElement.clientWidth);
    if (Math.abs(w - c.u.width) > 2) c.u.setSize({ width: w, height: 170 });
  }
});
ro.observe(document.body);

// ---- rendering ----------------------------------------------------------------------------------

function renderStats() {
  const last = state.samples[state.samples.length - 1];
  if (!last) return;
  for (const sec of document.querySelectorAll('section.deployment')) {
    const dep = state.meta.deployments.find((d) => d.name === sec.dataset.deployment);
    if (!dep) continue;
    const d = last.deployments[dep.name];
    const set = (f, v) => { const el = sec.querySelector(`[data-field="${CSS.escape(f)}"]`); if (el) el.textContent = v; };
    set('replicas', d ? String(d.replicas) : '–');
    set('ready', d ? String(d.ready) : '–');
    set('desired', d ? String(d.desired) : '–');
    for (const n of dep.autoscalers) {
      const a = last.autoscalers[n];
      set(`targets:${n}`, a ? `${a.current}→${a.desired} · ${a.metrics.map((x) => x.shown).join(', ') || '–'}` : '–');
    }
    const s = last.services[dep.services[0]];
    if (s) {
      set('rps', fmt(s.rps));
      set('p50', fmt(s.p50, ' ms'));
      set('p99', fmt(s.p99, ' ms'));
      set('queue', `${s.queue} (+${s.inFlight} in flight)`);
      set('cold', `${s.coldStartsTotal}${s.coldStartMs !== null ? ` (last wait ${fmt(s.coldStartMs / 1000, ' s')})` : ''}`);
    }
  }
  const m = state.meta;
  $('#summary').innerHTML = `daemon pid ${m.pid} · up ${age(last.t - m.startedAt)} · sync ${m.syncPeriodMs / 1000}s · ${m.deployments.length} deployment(s) · ${m.autoscalers.length} autoscaler(s)${m.dryRun ? ' <span class="badge dry">DRY RUN</span>' : ''} · updated ${clock(last.t)}`;
}

function renderPods() {
  const tb = $('#pods tbody');
  const now = state.samples[state.samples.length - 1]?.t ?? Date.now();
  const pods = [...state.pods].sort((a, b) => a.deployment.localeCompare(b.deployment) || a.created - b.created || a.name.localeCompare(b.name));
  tb.innerHTML = pods.length ? pods.map((p) => `<tr data-pod="${esc(p.name)}" data-ready="${p.ready}" data-terminating="${p.terminating}">
    <td>${esc(p.name)}</td><td>${esc(p.deployment)}</td>
    <td class="ready-${p.ready}">${p.ready ? '1/1' : '0/1'}</td><td>${esc(p.status)}</td>
    <td class="num">${p.restarts}</td><td class="num">${age(now - p.created)}</td><td class="num">${p.inFlight}</td></tr>`).join('')
    : '<tr><td colspan="7" class="empty">no pods</td></tr>';
}

function addDecisions(list, fresh) {
  const added = [];
  for (const d of list) {
    const key = `${d.autoscaler}|${d.now}|${d.currentReplicas}|${d.desiredReplicas}`;
    if (state.seen.has(key)) continue;
    state.seen.add(key);
    state.decisions.push(d);
    added.push(d);
  }
  if (state.decisions.length > 1000) {
    for (const d of state.decisions.splice(0, state.decisions.length - 1000)) state.seen.delete(`${d.autoscaler}|${d.now}|${d.currentReplicas}|${d.desiredReplicas}`);
  }
  if (!added.length && $('#decisions tbody').childElementCount) return;
  const rows = state.decisions.slice(-300).reverse();
  const freshSet = new Set(fresh ? added : []);
  $('#decisions tbody').innerHTML = rows.length ? rows.map((d) => {
    const dir = d.desiredReplicas > d.currentReplicas ? 'up' : d.desiredReplicas < d.currentReplicas ? 'down' : 'same';
    return `<tr class="${dir}${freshSet.has(d) ? ' fresh' : ''}" data-autoscaler="${esc(d.autoscaler)}">
      <td class="num">${clock(d.now)}</td><td>${esc(d.decider)}/${esc(d.autoscaler)}</td>
      <td class="rep num">${d.currentReplicas}→${d.desiredReplicas}${d.rescale ? '' : ' <span class="muted small">(no change)</span>'}</td>
      <td>${esc(d.drivingMetric ?? '–')}</td><td>${esc(d.limitedBy.length ? d.limitedBy.join(', ') : 'none')}</td><td class="why" title="${esc(d.explanation)}">${esc(d.explanation)}</td></tr>`;
  }).join('') : '<tr><td colspan="6" class="empty">no decisions yet</td></tr>';
}

function redrawCharts() {
  for (const c of charts.values()) {
    const u = c.u;
    u.setData(c.build());
    if (c.empty) c.empty.hidden = !state.samples.every(c.spec.empty);
    // without a cursor on the chart, the legend shows the latest values
    const n = u.data[0].length;
    if (n && (u.cursor.left == null || u.cursor.left < 0)) u.setLegend({ idx: n - 1 });
  }
}

function applyMeta(meta) {
  state.meta = meta;
  state.capacity = Math.ceil(meta.historyMs / meta.sampleMs) + 1;
  const sig = signature(meta);
  if (sig !== state.signature) { state.signature = sig; renderLayout(); }
}

function onSnapshot(snap) {
  state.samples = snap.samples;
  state.pods = snap.pods;
  applyMeta(snap.meta);
  redrawCharts();
  renderStats();
  renderPods();
  addDecisions(snap.decisions, false);
}

function onUpdate(u) {
  state.samples.push(u.sample);
  if (state.samples.length > state.capacity) state.samples.splice(0, state.samples.length - state.capacity);
  state.pods = u.pods;
  applyMeta(u.meta);
  redrawCharts();
  renderStats();
  renderPods();
  if (u.decisions.length) addDecisions(u.decisions, true);
}

// ---- transport: SSE, or 1 s polling where EventSource is missing ----------------------------------

const conn = $('#conn');
if (typeof EventSource === 'function') {
  const es = new EventSource('../api/v1/events');
  es.addEventListener('snapshot', (e) => { conn.dataset.state = 'live'; onSnapshot(JSON.parse(e.data)); });
  es.addEventListener('update', (e) => { conn.dataset.state = 'live'; onUpdate(JSON.parse(e.data)); });
  es.onerror = () => {
    conn.dataset.state = es.readyState === EventSource.CLOSED ? 'down' : 'connecting';
    // 401: this browser has no dashboard session (the login link is single-use); say how to get one
    fetch('../api/v1/dashboard', { cache: 'no-store' }).then((r) => {
      if (r.status === 401) { es.close(); conn.dataset.state = 'down'; conn.title = 'not logged in: open the link `tide dashboard` prints'; }
    }, () => {});
  };
} else {
  const poll = async () => {
    try {
      const r = await fetch('../api/v1/dashboard', { cache: 'no-store' });
      onSnapshot(await r.json());
      conn.dataset.state = 'live';
    } catch { conn.dataset.state = 'down'; }
    setTimeout(poll, 1000);
  };
  poll();
}
