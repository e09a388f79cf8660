// Millrace dashboard: plain JS, no framework, no CDN. Reads the JSON API with the session cookie;
// mutating calls carry the CSRF token from /api/v1/session. Charts are drawn on <canvas> from the
// server-sent events of /api/v1/live; the data behind each chart is exposed on the canvas's
// data-* attributes and in window.millrace.series (for tests and for curious operators).
'use strict';

const state = { session: null, csrf: null, series: [], live: null, timer: null, generation: 0 };
window.millrace = state;

const $ = (sel, root = document) => root.querySelector(sel);
const esc = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const num = n => n == null ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
const ms = v => v == null ? '–' : v < 10 ? `${Number(v).toFixed(2)} ms` : v < 1000 ? `${Math.round(v)} ms` : v < 60000 ? `${(v / 1000).toFixed(1)} s` : v < 3600000 ? `${(v / 60000).toFixed(1)} min` : `${(v / 3600000).toFixed(1)} h`;
const when = t => t ? new Date(t).toLocaleString('en-GB', { hour12: false }) : '–';
const ago = t => t ? ms(Date.now() - new Date(t).getTime()) + ' ago' : '–';
const q = encodeURIComponent;

class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) { showSignIn(); throw new ApiError(401, 'Signed out.'); }
  if (!res.ok) throw new ApiError(res.status, (data && (data.detail || data.title)) || `HTTP ${res.status}`);
  return data;
}

function toast(message, bad = false) {
  const el = $('#toast');
  el.textContent = message;
  el.className = 'toast' + (bad ? ' bad' : '');
  el.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { el.hidden = true; }, bad ? 8000 : 3500);
}

async function act(label, fn) {
  const page = location.hash;
  try { const r = await fn(); toast(label); if (location.hash === page) await route(); return r; }
  catch (e) { toast(e.message, true); return null; }
}

// ---- sign-in ----------------------------------------------------------------------------------
function showSignIn() {
  $('#app').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').hidden = !location.search.includes('signin=failed');
  if (state.live) { state.live.close(); state.live = null; }
}

async function boot() {
  const res = await fetch('/api/v1/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) { showSignIn(); return; }
  state.session = await res.json();
  state.csrf = state.session.csrf_token;
  $('#signin').hidden = true;
  $('#app').hidden = false;
  document.body.className = 'role-' + String(state.session.role || 'viewer').toLowerCase();
  $('#who').textContent = `${state.session.name} · ${state.session.role}`;
  $('#signout').addEventListener('click', async () => {
    await fetch('/auth/signout', { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': state.csrf } });
    location.href = '/';
  });
  startLive();
  window.addEventListener('hashchange', route);
  if (!location.hash) location.hash = '#/overview';
  else route();
}

// ---- live feed (server-sent events) -------------------------------------------------------------
function startLive() {
  const source = new EventSource('/api/v1/live');
  state.live = source;
  source.addEventListener('history', e => { state.series = JSON.parse(e.data); onSample(); });
  source.addEventListener('sample', e => {
    state.series.push(JSON.parse(e.data));
    if (state.series.length > 300) state.series.shift();
    onSample();
  });
  source.onerror = () => { $('#redis-state').className = 'pill warn'; $('#redis-state').textContent = 'reconnecting'; };
}

function onSample() {
  const last = state.series[state.series.length - 1];
  if (last) {
    const pill = $('#redis-state');
    pill.className = 'pill ' + (last.redis_up ? 'ok' : 'bad');
    pill.textContent = last.redis_up ? 'Redis up' : 'Redis down';
  }

  if (currentView() === 'overview') drawOverview();
}

// ---- charts ---------------------------------------------------------------------------------
const colors = { published: '#4c9aff', processed: '#3fb950', failed: '#f85149', p50: '#a371f7', p95: '#d29922' };

function drawChart(canvas, lines, unit) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pad = { l: 44, r: 8, t: 8, b: 18 };
  const n = Math.max(2, ...lines.map(l => l.values.length));
  const max = Math.max(1, ...lines.flatMap(l => l.values.filter(v => v != null))) * 1.15;
  g.strokeStyle = '#2a313c'; g.fillStyle = '#8b96a5'; g.font = '11px ui-monospace, monospace'; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + (h - pad.t - pad.b) * i / 4;
    g.beginPath(); g.moveTo(pad.l, y); g.lineTo(w - pad.r, y); g.stroke();
    const v = max * (1 - i / 4);
    g.fillText(v >= 100 ? Math.round(v) : v.toFixed(1), 4, y + 4);
  }
  g.fillText(`${n} samples · ${unit}`, pad.l, h - 4);
  for (const line of lines) {
    g.strokeStyle = line.color; g.lineWidth = 1.6; g.beginPath();
    let started = false;
    line.values.forEach((v, i) => {
      if (v == null) { started = false; return; }
      const x = pad.l + (w - pad.l - pad.r) * (i + n - line.values.length) / (n - 1);
      const y = pad.t + (h - pad.t - pad.b) * (1 - v / max);
      if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
    });
    g.stroke();
  }
}

function drawOverview() {
  const s = state.series;
  const last = s[s.length - 1] || {};
  const tp = $('#chart-throughput'), lat = $('#chart-latency');
  if (!tp) return;
  const pub = s.map(x => x.published), proc = s.map(x => x.processed), fail = s.map(x => x.failed);
  drawChart(tp, [{ values: pub, color: colors.published }, { values: proc, color: colors.processed }, { values: fail, color: colors.failed }], 'messages/s');
  drawChart(lat, [{ values: s.map(x => x.handler_p50_ms), color: colors.p50 }, { values: s.map(x => x.handler_p95_ms), color: colors.p95 }], 'handler ms');
  const sum = a => a.reduce((t, v) => t + (v || 0), 0);
  tp.dataset.samples = String(s.length);
  tp.dataset.publishedSum = String(sum(pub));
  tp.dataset.processedSum = String(sum(proc));
  tp.dataset.lastPublished = String(last.published ?? 0);
  lat.dataset.samples = String(s.length);
  const set = (id, v, cls) => { const el = $(id); if (el) { el.textContent = v; if (cls !== undefined) el.className = 'value ' + cls; } };
  set('#kpi-published', num(last.published));
  set('#kpi-processed', num(last.processed));
  set('#kpi-failed', num(last.failed), last.failed > 0 ? 'bad' : '');
  set('#kpi-length', num(last.length));
  set('#kpi-pending', num(last.pending));
  set('#kpi-delayed', num(last.delayed));
  set('#kpi-dead', num(last.dead_letters), last.dead_letters > 0 ? 'warn' : '');
  set('#kpi-workers', num(last.workers), last.workers > 0 ? 'ok' : 'warn');
  set('#kpi-p95', ms(last.handler_p95_ms));
}

// ---- routing --------------------------------------------------------------------------------
function currentView() { return (location.hash.slice(2).split('/')[0]) || 'overview'; }

// Each navigation is a generation: a page whose data arrives after the user moved on must not draw
// over the newer page (nor report errors about elements that are gone).
function stale(gen) { return gen !== state.generation; }

async function route() {
  const gen = ++state.generation;
  const parts = location.hash.slice(2).split('/').map(decodeURIComponent);
  const view = parts[0] || 'overview';
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === (view === 'queue' ? 'queues' : view === 'task' ? 'tasks' : view)));
  clearInterval(state.timer);
  const pages = { overview, queues, queue, tasks, task, dlq, workers, limits, audit };
  const page = pages[view] || overview;
  try { await page(...parts.slice(1)); }
  catch (e) { if (!stale(gen) && e.status !== 401) $('#view').innerHTML = `<div class="empty error">${esc(e.message)}</div>`; }
}

function refreshEvery(seconds, fn) { state.timer = setInterval(() => fn().catch(() => {}), seconds * 1000); }

// ---- pages ----------------------------------------------------------------------------------
async function overview() {
  $('#view').innerHTML = `
    <h1>Overview</h1>
    <div class="grid kpis">
      ${kpi('Published /s', 'kpi-published')}${kpi('Processed /s', 'kpi-processed')}${kpi('Failed /s', 'kpi-failed')}
      ${kpi('Stream length', 'kpi-length')}${kpi('In progress', 'kpi-pending')}${kpi('Delayed', 'kpi-delayed')}
      ${kpi('Dead letters', 'kpi-dead')}${kpi('Workers', 'kpi-workers')}${kpi('Handler p95', 'kpi-p95')}
    </div>
    <div class="grid charts">
      <div class="panel"><div class="panel-head"><span class="title">Throughput</span><span class="legend">
        <span><i class="c-published"></i>published</span><span><i class="c-processed"></i>processed</span><span><i class="c-failed"></i>failed</span></span></div>
        <canvas id="chart-throughput" class="chart" data-samples="0" data-published-sum="0"></canvas></div>
      <div class="panel"><div class="panel-head"><span class="title">Handler latency (this server's workers)</span><span class="legend">
        <span><i class="c-p50"></i>p50</span><span><i class="c-p95"></i>p95</span></span></div>
        <canvas id="chart-latency" class="chart"></canvas></div>
    </div>
    <h2>Queues</h2><div id="queue-table"></div>`;
  drawOverview();
  const load = async () => { $('#queue-table').innerHTML = queueTable((await api('GET', '/api/v1/queues')).queues); };
  await load();
  refreshEvery(2, load);
}

function kpi(label, id) { return `<div class="kpi"><div class="label">${label}</div><div class="value" id="${id}">–</div></div>`; }

function queueTable(list) {
  if (!list.length) return '<div class="empty">No queue yet: a queue appears when a consumer of it starts.</div>';
  return `<table><thead><tr><th>Queue</th><th class="num">Partitions</th><th class="num">Length</th><th class="num">Pending</th><th class="num">Lag</th>
    <th class="num">Delayed</th><th class="num">Dead letters</th><th class="num">Oldest pending</th><th>State</th></tr></thead><tbody>
    ${list.map(x => `<tr data-queue="${esc(x.name)}"><td><a href="#/queue/${q(x.name)}">${esc(x.name)}</a></td><td class="num">${x.partitions}</td><td class="num">${num(x.length)}</td>
      <td class="num">${num(x.pending)}</td><td class="num">${num(x.lag)}</td><td class="num">${num(x.delayed)}</td>
      <td class="num"><a href="#/dlq/${q(x.name)}">${num(x.dead_letters)}</a></td><td class="num">${ms(x.oldest_pending_age_ms)}</td>
      <td>${x.paused ? '<span class="pill warn">paused</span>' : '<span class="pill ok">running</span>'}</td></tr>`).join('')}</tbody></table>`;
}

async function queues() {
  $('#view').innerHTML = '<h1>Queues</h1><div id="queue-table"></div>';
  const load = async () => { $('#queue-table').innerHTML = queueTable((await api('GET', '/api/v1/queues')).queues); };
  await load();
  refreshEvery(3, load);
}

async function queue(name) {
  const gen = state.generation;
  const x = await api('GET', `/api/v1/queues/${q(name)}`);
  if (stale(gen)) return;
  $('#view').innerHTML = `
    <h1>Queue <span class="mono">${esc(x.name)}</span> ${x.paused ? '<span class="pill warn">paused</span>' : '<span class="pill ok">running</span>'}
      ${x.paused_types.map(t => `<span class="pill warn">type ${esc(t)} paused</span>`).join(' ')}</h1>
    <div class="grid kpis">
      ${fact('Length', num(x.length))}${fact('Pending', num(x.pending))}${fact('Lag', num(x.lag))}${fact('Oldest pending', ms(x.oldest_pending_age_ms))}
      ${fact('Delayed', num(x.delayed))}${fact('Parked', num(x.parked))}${fact('Dead letters', `<a href="#/dlq/${q(x.name)}">${num(x.dead_letters)}</a>`)}${fact('Partitions', x.partitions)}
    </div>
    <div class="toolbar needs-operator">
      ${x.paused ? '<button id="resume-btn">Resume queue</button>' : '<button id="pause-btn">Pause queue</button>'}
      <input id="type-input" placeholder="message type" size="16"><button id="pause-type-btn">Pause type</button><button id="resume-type-btn">Resume type</button>
      <input id="message-input" placeholder="message id" size="22"><button id="stop-msg-btn">Stop message</button><button id="resume-msg-btn">Resume message</button>
      <select id="cleanup-policy"><option value="">queue's policy</option><option>critical</option><option>high</option><option>normal</option><option>low</option></select><button id="cleanup-btn">Clean up</button>
      <span class="spacer"></span><button id="terminate-btn" class="danger needs-admin">Terminate…</button>
    </div>
    <h2>Consumer groups</h2>
    ${x.groups.length ? x.groups.map(g => `
      <table class="group" data-group="${esc(g.name)}"><thead><tr><th>Group <span class="mono">${esc(g.name)}</span> · pending ${num(g.pending)} · lag ${num(g.lag)}</th><th class="num">Pending</th><th class="num">Idle</th></tr></thead><tbody>
      ${g.consumers.map(c => `<tr><td class="mono">${esc(c.name)}</td><td class="num">${num(c.pending)}</td><td class="num ${c.idle_ms > 60000 ? 'age-warn' : ''}">${ms(c.idle_ms)}</td></tr>`).join('') || '<tr><td colspan="3" class="muted">no consumers</td></tr>'}
      </tbody></table>`).join('<div class="gap"></div>') : '<div class="empty">No consumer group yet.</div>'}
    ${x.circuit_breakers.length ? `<h2>Circuit breakers</h2><table><thead><tr><th>Group</th><th>Type</th><th>State</th><th>Reported by</th><th>Open until</th><th>Changed</th></tr></thead><tbody>
      ${x.circuit_breakers.map(b => `<tr><td>${esc(b.group)}</td><td>${esc(b.type)}</td><td><span class="pill ${b.state === 'Closed' ? 'ok' : 'bad'}">${esc(b.state)}</span></td><td class="mono">${esc(b.consumer)}</td><td>${when(b.open_until)}</td><td>${ago(b.changed_at)}</td></tr>`).join('')}</tbody></table>` : ''}
    <dialog id="terminate-dialog"><form id="terminate-form" method="dialog">
      <h1>Terminate ${esc(x.name)}?</h1>
      <p>This deletes the queue with every message, dead letter, delayed message and setting. Running consumers stop. It cannot be undone.</p>
      <label for="terminate-confirm">Type the queue's name to confirm</label>
      <input id="terminate-confirm" autocomplete="off" class="full">
      <p id="terminate-error" class="error" hidden></p>
      <div class="actions"><button type="button" id="terminate-cancel">Cancel</button><button type="submit" id="terminate-submit" class="danger">Terminate</button></div>
    </form></dialog>`;
  const base = `/api/v1/queues/${q(name)}`;
  const on = (id, fn) => { const el = $(id); if (el) el.addEventListener('click', fn); };
  on('#pause-btn', () => act('Queue paused.', () => api('POST', `${base}/pause`)));
  on('#resume-btn', () => act('Queue resumed.', () => api('POST', `${base}/resume`)));
  on('#pause-type-btn', () => act('Type paused.', () => api('POST', `${base}/types/${q($('#type-input').value)}/pause`)));
  on('#resume-type-btn', () => act('Type resumed.', () => api('POST', `${base}/types/${q($('#type-input').value)}/resume`)));
  on('#stop-msg-btn', () => act('Message stopped.', () => api('POST', `${base}/messages/${q($('#message-input').value)}/stop`)));
  on('#resume-msg-btn', () => act('Message resumed.', () => api('POST', `${base}/messages/${q($('#message-input').value)}/resume`)));
  on('#cleanup-btn', async () => {
    const policy = $('#cleanup-policy').value;
    const r = await act('Cleanup done.', () => api('POST', `${base}/cleanup`, policy ? { policy } : {}));
    if (r) toast(`Cleanup deleted ${r.deleted} entries.`);
  });
  on('#terminate-btn', () => { $('#terminate-error').hidden = true; $('#terminate-confirm').value = ''; $('#terminate-dialog').showModal(); });
  on('#terminate-cancel', () => $('#terminate-dialog').close());
  $('#terminate-form').addEventListener('submit', async e => {
    e.preventDefault();
    try {
      await api('POST', `${base}/terminate`, { confirm: $('#terminate-confirm').value });
      $('#terminate-dialog').close();
      toast(`Queue ${name} terminated.`);
      location.hash = '#/queues';
    } catch (err) {
      const el = $('#terminate-error');
      el.textContent = err.message;
      el.hidden = false;
    }
  });
  refreshEvery(5, async () => { if (!$('#terminate-dialog').open && document.activeElement?.tagName !== 'INPUT') await queue(name); });
}

function fact(label, value) { return `<div class="kpi"><div class="label">${label}</div><div class="value">${value}</div></div>`; }

async function tasks() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  $('#view').innerHTML = `
    <h1>Tasks</h1>
    <form class="toolbar" id="task-filter">
      <select id="f-status"><option value="">any status</option>${['pending', 'scheduled', 'processing', 'succeeded', 'failed', 'dead', 'stopped'].map(s => `<option ${params.get('status') === s ? 'selected' : ''}>${s}</option>`).join('')}</select>
      <input id="f-type" placeholder="type" value="${esc(params.get('type') || '')}" size="14">
      <input id="f-queue" placeholder="queue" value="${esc(params.get('queue') || '')}" size="14">
      <button type="submit">Filter</button><span class="spacer"></span>
      <input id="f-id" placeholder="search by task id" size="36"><button type="button" id="f-go">Open</button>
    </form>
    <div id="task-table"></div><div class="toolbar"><button id="more" hidden>More</button></div>
    <h2 class="needs-operator">Publish</h2>
    <form class="toolbar needs-operator" id="publish-form">
      <input id="p-queue" placeholder="queue" size="12"><input id="p-type" placeholder="type" size="14" required>
      <input id="p-payload" placeholder='payload JSON, e.g. {"id":1}' size="40"><input id="p-count" type="number" value="1" min="1" max="1000" class="w70">
      <button type="submit" class="primary">Publish</button></form>`;
  let cursor = null;
  const rows = [];
  const load = async more => {
    const qs = new URLSearchParams({ limit: 50 });
    for (const [k, id] of [['status', '#f-status'], ['type', '#f-type'], ['queue', '#f-queue']]) if ($(id).value) qs.set(k, $(id).value);
    if (more && cursor) qs.set('cursor', cursor);
    const page = await api('GET', `/api/v1/tasks?${qs}`);
    if (!more) rows.length = 0;
    rows.push(...page.items);
    cursor = page.next_cursor;
    $('#more').hidden = !cursor;
    $('#task-table').innerHTML = rows.length ? `<table><thead><tr><th>Task</th><th>Queue</th><th>Type</th><th>Status</th><th class="num">Attempts</th><th>Created</th><th>Updated</th><th>Payload</th></tr></thead><tbody>
      ${rows.map(t => `<tr data-task="${esc(t.id)}"><td class="mono"><a href="#/task/${q(t.id)}">${esc(t.id)}</a></td><td>${esc(t.queue)}</td><td>${esc(t.type)}</td><td>${statusPill(t.status)}</td>
        <td class="num">${t.attempts}</td><td>${when(t.created_at)}</td><td>${ago(t.updated_at)}</td><td class="mono muted">${esc((t.payload?.data || '').slice(0, 60))}</td></tr>`).join('')}</tbody></table>`
      : '<div class="empty">No task records match (task records need Millrace:TaskState:Enabled).</div>';
  };
  $('#task-filter').addEventListener('submit', e => { e.preventDefault(); load(false).catch(err => toast(err.message, true)); });
  $('#more').addEventListener('click', () => load(true).catch(err => toast(err.message, true)));
  $('#f-go').addEventListener('click', () => { if ($('#f-id').value.trim()) location.hash = `#/task/${q($('#f-id').value.trim())}`; });
  $('#publish-form').addEventListener('submit', async e => {
    e.preventDefault();
    let payload = $('#p-payload').value;
    try { payload = payload ? JSON.parse(payload) : {}; } catch { /* sent as text */ }
    const body = { type: $('#p-type').value, payload };
    if ($('#p-queue').value) body.queue = $('#p-queue').value;
    const count = Math.max(1, Math.min(1000, Number($('#p-count').value) || 1));
    try {
      for (let i = 0; i < count; i++) await api('POST', '/api/v1/tasks', body);
      toast(`Published ${count}.`);
      await load(false);
    } catch (err) { toast(err.message, true); }
  });
  await load(false);
}

function statusPill(s) {
  const cls = { succeeded: 'ok', failed: 'bad', dead: 'bad', processing: 'info', pending: '', scheduled: 'info', stopped: 'warn' }[s] ?? '';
  return `<span class="pill ${cls}" data-status="${esc(s)}">${esc(s)}</span>`;
}

async function task(id) {
  const gen = state.generation;
  const t = await api('GET', `/api/v1/tasks/${q(id)}`);
  if (stale(gen)) return;
  $('#view').innerHTML = `
    <h1>Task <span class="mono">${esc(t.id)}</span> <span id="task-status">${statusPill(t.status)}</span></h1>
    <div class="cols">
      <dl class="facts"><dt>Queue</dt><dd><a href="#/queue/${q(t.queue)}">${esc(t.queue)}</a></dd><dt>Type</dt><dd>${esc(t.type)}</dd><dt>Attempts</dt><dd>${t.attempts}</dd>
        <dt>Created</dt><dd>${when(t.created_at)}</dd><dt>Updated</dt><dd>${when(t.updated_at)}</dd><dt>Tenant</dt><dd>${esc(t.tenant ?? '–')}</dd><dt>Result</dt><dd>${esc(t.result ?? '–')}</dd></dl>
      <div><h2 class="flush">Headers</h2>${Object.keys(t.headers || {}).length ? `<table><tbody>${Object.entries(t.headers).map(([k, v]) => `<tr><td class="mono">${esc(k)}</td><td class="mono wrap">${esc(v)}</td></tr>`).join('')}</tbody></table>` : '<div class="empty">none</div>'}</div>
    </div>
    <h2>Payload <span class="muted">${t.payload ? `${num(t.payload.bytes)} bytes, ${t.payload.encoding}${t.payload_truncated ? ', truncated when recorded' : ''}` : ''}</span></h2>
    <pre id="task-payload">${esc(pretty(t.payload?.data))}</pre>
    <h2>Errors</h2>${t.errors.length ? `<table><thead><tr><th class="num">Attempt</th><th>At</th><th>Error</th></tr></thead><tbody>${t.errors.map(e => `<tr><td class="num">${e.attempt}</td><td>${when(e.at)}</td><td class="wrap mono">${esc(e.error)}</td></tr>`).join('')}</tbody></table>` : '<div class="empty">No failed attempt.</div>'}`;
  refreshEvery(3, async () => {
    const n = await api('GET', `/api/v1/tasks/${q(id)}`);
    if (n.status !== t.status || n.attempts !== t.attempts) await task(id);
  });
}

function pretty(text) { try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text ?? ''; } }

async function dlq(name) {
  const gen = state.generation;
  const names = (await api('GET', '/api/v1/queues')).queues.map(x => x.name);
  if (stale(gen)) return;
  name = name || names[0];
  if (!name) { $('#view').innerHTML = '<h1>Dead letters</h1><div class="empty">No queue yet.</div>'; return; }
  const list = await api('GET', `/api/v1/queues/${q(name)}/dlq?limit=200`);
  if (stale(gen)) return;
  $('#view').innerHTML = `
    <h1>Dead letters of <select id="dlq-queue">${names.map(n => `<option ${n === name ? 'selected' : ''}>${esc(n)}</option>`).join('')}</select>
      <span class="pill ${list.total ? 'warn' : 'ok'}" id="dlq-total">${num(list.total)}</span></h1>
    <div class="toolbar needs-operator">
      <button id="requeue-selected">Requeue selected</button><button id="delete-selected" class="danger">Delete selected</button>
      <span class="spacer"></span>
      <input id="bulk-type" placeholder="type" size="12"><input id="bulk-error" placeholder="error contains" size="16">
      <button id="bulk-dry">Preview requeue</button><button id="bulk-requeue">Requeue matching</button>
      <button id="purge" class="danger needs-admin">Purge all</button>
    </div>
    ${list.items.length ? `<table id="dlq-table"><thead><tr><th class="needs-operator"><input type="checkbox" id="select-all"></th><th>Id</th><th>Task</th><th>Type</th><th>Reason</th><th>Error</th><th class="num">Attempts</th><th>Last failed</th><th class="needs-operator"></th></tr></thead><tbody>
      ${list.items.map(d => `<tr data-dlq-id="${esc(d.id)}" data-message-id="${esc(d.message_id ?? '')}"><td class="needs-operator"><input type="checkbox" class="pick" value="${esc(d.id)}"></td>
        <td class="mono"><a href="#" class="inspect" data-id="${esc(d.id)}">${esc(d.id)}</a></td><td class="mono">${d.message_id ? `<a href="#/task/${q(d.message_id)}">${esc(d.message_id)}</a>` : '–'}</td>
        <td>${esc(d.type ?? '–')}</td><td><span class="pill bad">${esc(d.reason)}</span></td><td class="wrap">${esc(d.error_type ?? '')}${d.error_message ? ': ' + esc(d.error_message) : ''}</td>
        <td class="num">${d.attempts}</td><td>${ago(d.last_failed_at)}</td>
        <td class="needs-operator"><button class="requeue" data-id="${esc(d.id)}">Requeue</button> <button class="delete danger" data-id="${esc(d.id)}">Delete</button></td></tr>`).join('')}</tbody></table>`
      : '<div class="empty">The dead-letter queue is empty.</div>'}
    <div id="dlq-detail"></div>`;
  const base = `/api/v1/queues/${q(name)}/dlq`;
  const path = id => `${base}/${id.split('/').map(q).join('/')}`;
  $('#dlq-queue').addEventListener('change', e => { location.hash = `#/dlq/${q(e.target.value)}`; });
  const picked = () => [...document.querySelectorAll('.pick:checked')].map(c => c.value);
  const on = (id, fn) => { const el = $(id); if (el) el.addEventListener('click', fn); };
  on('#select-all', e => document.querySelectorAll('.pick').forEach(c => { c.checked = e.target.checked; }));
  document.querySelectorAll('button.requeue').forEach(b => b.addEventListener('click', () => act('Requeued.', () => api('POST', `${path(b.dataset.id)}/requeue`))));
  document.querySelectorAll('button.delete').forEach(b => b.addEventListener('click', () => act('Deleted.', () => api('DELETE', path(b.dataset.id)))));
  document.querySelectorAll('a.inspect').forEach(a => a.addEventListener('click', async e => {
    e.preventDefault();
    const d = await api('GET', path(a.dataset.id));
    $('#dlq-detail').innerHTML = `<h2>Dead letter ${esc(d.id)}</h2><div class="cols"><div><pre>${esc(pretty(d.payload?.data))}</pre></div><div><pre>${esc((d.error_type ?? '') + ': ' + (d.error_message ?? '') + '\n' + (d.error_stack ?? ''))}</pre></div></div>`;
  }));
  on('#requeue-selected', () => act(`Requeued ${picked().length}.`, async () => { for (const id of picked()) await api('POST', `${path(id)}/requeue`); }));
  on('#delete-selected', () => act(`Deleted ${picked().length}.`, () => api('POST', `${base}/delete`, { ids: picked() })));
  const filter = dry => ({ type: $('#bulk-type').value || null, error_contains: $('#bulk-error').value || null, dry_run: dry });
  on('#bulk-dry', async () => { try { const r = await api('POST', `${base}/requeue`, filter(true)); toast(`${r.matched} dead letters match; nothing moved.`); } catch (e) { toast(e.message, true); } });
  on('#bulk-requeue', () => act('Requeued matching dead letters.', () => api('POST', `${base}/requeue`, filter(false))));
  on('#purge', () => { if (confirm(`Delete every dead letter of ${name}?`)) act('Purged.', () => api('DELETE', base)); });
}

async function workers() {
  $('#view').innerHTML = '<h1>Workers</h1><div id="worker-table"></div>';
  const load = async () => {
    const w = await api('GET', '/api/v1/workers');
    $('#worker-table').innerHTML = `<div class="grid kpis below">${fact('Workers', w.total_workers)}${fact('Busy', w.active_workers)}${fact('Processed', num(w.processed_tasks))}${fact('Failed', num(w.failed_tasks))}</div>` +
      (w.workers.length ? `<table><thead><tr><th>Worker</th><th>Host</th><th class="num">PID</th><th>Queues</th><th>Started</th><th class="num">Last heartbeat</th><th class="num">Processed</th><th class="num">Failed</th><th class="num">In flight</th></tr></thead><tbody>
      ${w.workers.map(x => `<tr><td class="mono">${esc(x.id)}</td><td>${esc(x.host)}</td><td class="num">${x.process_id}</td><td>${x.queues.map(esc).join(', ')}</td><td>${when(x.started_at)}</td>
        <td class="num ${x.heartbeat_age_ms > 15000 ? 'age-bad' : x.heartbeat_age_ms > 5000 ? 'age-warn' : 'age-ok'}">${ms(x.heartbeat_age_ms)} ago</td><td class="num">${num(x.processed)}</td><td class="num">${num(x.failed)}</td><td class="num">${x.in_flight}</td></tr>`).join('')}</tbody></table>`
        : '<div class="empty">No worker has reported a heartbeat recently.</div>');
  };
  await load();
  refreshEvery(2, load);
}

async function limits() {
  const gen = state.generation;
  const [c, r] = await Promise.all([api('GET', '/api/v1/concurrency'), api('GET', '/api/v1/rate-limits')]);
  if (stale(gen)) return;
  $('#view').innerHTML = `
    <h1>Limits</h1>
    <div class="cols"><div>
      <h2>Concurrency by type</h2>
      ${c.limits.length ? `<table><thead><tr><th>Type</th><th class="num">Limit</th><th class="num">Running</th><th class="needs-admin"></th></tr></thead><tbody>${c.limits.map(l => `<tr><td>${esc(l.task_type)}</td><td class="num">${l.max_concurrency}</td><td class="num">${l.in_use}</td><td class="needs-admin"><button class="rm-conc" data-type="${esc(l.task_type)}">Remove</button></td></tr>`).join('')}</tbody></table>` : '<div class="empty">No concurrency limit.</div>'}
      <form class="toolbar needs-admin" id="conc-form"><input id="c-type" placeholder="type" required><input id="c-max" type="number" min="0" placeholder="max" class="w90" required><button type="submit">Set</button></form>
    </div><div>
      <h2>Rate limits</h2>
      ${r.limits.length ? `<table><thead><tr><th>Scope</th><th>Key</th><th class="num">Per second</th><th class="num">Burst</th><th class="needs-admin"></th></tr></thead><tbody>${r.limits.map(l => `<tr><td>${esc(l.scope)}</td><td>${esc(l.key)}</td><td class="num">${l.per_second}</td><td class="num">${l.burst}</td><td class="needs-admin"><button class="rm-rate" data-scope="${esc(l.scope)}" data-key="${esc(l.key)}">Remove</button></td></tr>`).join('')}</tbody></table>` : '<div class="empty">No rate limit.</div>'}
      <form class="toolbar needs-admin" id="rate-form"><select id="r-scope"><option>type</option><option>tenant</option></select><input id="r-key" placeholder="type or tenant" required>
        <input id="r-rate" type="number" step="any" min="0" placeholder="per second" class="w100" required><input id="r-burst" type="number" min="1" placeholder="burst" class="w80"><button type="submit">Set</button></form>
    </div></div>`;
  $('#conc-form').addEventListener('submit', e => { e.preventDefault(); act('Concurrency limit set.', () => api('POST', '/api/v1/concurrency', { task_type: $('#c-type').value, max_concurrency: Number($('#c-max').value) })); });
  document.querySelectorAll('.rm-conc').forEach(b => b.addEventListener('click', () => act('Removed.', () => api('POST', '/api/v1/concurrency', { task_type: b.dataset.type, max_concurrency: null }))));
  $('#rate-form').addEventListener('submit', e => {
    e.preventDefault();
    const body = { scope: $('#r-scope').value, key: $('#r-key').value, per_second: Number($('#r-rate').value) };
    if ($('#r-burst').value) body.burst = Number($('#r-burst').value);
    act('Rate limit set.', () => api('POST', '/api/v1/rate-limits', body));
  });
  document.querySelectorAll('.rm-rate').forEach(b => b.addEventListener('click', () => act('Removed.', () => api('DELETE', `/api/v1/rate-limits/${q(b.dataset.scope)}/${q(b.dataset.key)}`))));
}

async function audit() {
  $('#view').innerHTML = '<h1>Audit log</h1><div id="audit-table"></div>';
  const load = async () => {
    const a = await api('GET', '/api/v1/audit?limit=200');
    $('#audit-table').innerHTML = a.items.length ? `<table><thead><tr><th>When</th><th>Who</th><th>Role</th><th>Call</th><th>Target</th><th class="num">Status</th><th>From</th></tr></thead><tbody>
      ${a.items.map(x => `<tr><td>${when(x.at)}</td><td>${esc(x.who)}</td><td>${esc(x.role ?? '–')}</td><td class="mono">${esc(x.method)} ${esc(x.path)}</td><td class="mono">${esc(x.target ?? '')}</td>
        <td class="num"><span class="pill ${x.status < 300 || x.status === 302 ? 'ok' : x.status < 500 ? 'warn' : 'bad'}">${x.status}</span></td><td class="mono muted">${esc(x.remote ?? '')}</td></tr>`).join('')}</tbody></table>`
      : '<div class="empty">Nothing changed yet.</div>';
  };
  await load();
  refreshEvery(5, load);
}

document.addEventListener('DOMContentLoaded', () => {
  boot().catch(e => { document.body.textContent = 'The dashboard could not start: ' + e.message; });
});
