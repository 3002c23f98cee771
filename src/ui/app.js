// The /ui page: snapshots one keyset page at a time (filters status, phase, project, volume),
// with a progress bar, the time left to the phase deadline and badges; a needs-attention view; the
// volumes; a chart of the last hour's phase durations; and for the selected snapshot or volume
// its statechart drawn as a graph (laid out by elkjs, served by the service at /ui/elk.js, from
// the machine description the server reads off `snapshotMachine` or `volumeMachine`) and its
// history. Live: the server pushes every committed history row over Server-Sent Events.
// Plain browser JavaScript on purpose: no build step, served as-is from src/ui/.
const $ = (sel) => document.querySelector(sel);
const SVG = 'http://www.w3.org/2000/svg';
const state = {
  token: sessionStorage.getItem('uiToken'),
  skew: 0,
  view: 'snapshots',
  volumes: new Map(),
  /** The snapshots of the page shown, and of the needs-attention view. */
  snapshots: new Map(),
  attention: [],
  /** `after` of every page up to the one shown; [undefined] is the first page. */
  cursors: [undefined],
  next: null,
  filters: {},
  machines: {},
  layouts: new Map(),
  showAdmin: false,
  kind: 'snapshot',
  selected: null,
  selectedItem: null,
  history: [],
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k === 'title' || k === 'style') node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// Auth: the token goes in X-Auth-Token, as for the API. Without one, the first request either
// gets noauth's handshake (204 with a token to use) or Keystone's 401 (ask the user).
async function api(path) {
  for (;;) {
    const res = await fetch(`/ui/api/${path}`, { headers: state.token ? { 'X-Auth-Token': state.token } : {}, cache: 'no-store' });
    if (res.status === 204 && res.headers.get('X-Auth-Token')) {
      useToken(res.headers.get('X-Auth-Token'));
      continue;
    }
    if (res.status === 401) {
      await askToken();
      continue;
    }
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.json();
  }
}
function useToken(token) {
  state.token = token;
  sessionStorage.setItem('uiToken', token);
}
function askToken() {
  const dialog = $('#login');
  return new Promise((resolve) => {
    dialog.onclose = () => {
      useToken($('#token').value.trim());
      resolve();
    };
    dialog.showModal();
  });
}

const now = () => Date.now() + state.skew;
function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
function seconds(s) {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return duration(s * 1000);
}
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false }) + `.${String(new Date(iso).getMilliseconds()).padStart(3, '0')}`;
const deadlineText = (iso) => {
  if (!iso) return '—';
  const left = Date.parse(iso) - now();
  return left >= 0 ? `${duration(left)} left` : `overdue ${duration(-left)}`;
};
const percent = (progress) => Math.max(0, Math.min(100, Number.parseInt(progress, 10) || 0));

// ---- the list's cells ---------------------------------------------------------------------

/** Badges: refused last event, a reconcile phase, an error status; each says why. */
function badges(s) {
  const out = [];
  if (s.lastRejection) out.push(el('span', { class: 'badge rejected', title: `${s.lastRejection.event} refused at ${time(s.lastRejection.at)}` }, `rejected: ${s.lastRejection.reason ?? s.lastRejection.event}`));
  if (s.phase.split('.').includes('reconciling')) out.push(el('span', { class: 'badge reconciling', title: 'the compute wait ran out; the storage side is checking what happened' }, 'reconciling'));
  if (s.status.startsWith('error')) out.push(el('span', { class: 'badge error', title: s.errorReason ?? '' }, `error: ${s.errorReason ?? 'no reason recorded'}`));
  return out;
}
function progressCell(s) {
  const p = percent(s.progress);
  return el('td', { class: 'progress', 'data-progress': String(p) }, el('div', { class: 'bar', title: s.progress }, el('div', { class: 'fill', style: `width:${p}%` })), el('span', { class: 'pct' }, `${p}%`));
}
const deadlineCell = (s) => el('td', { class: `deadline${s.deadlineAt && Date.parse(s.deadlineAt) < now() ? ' overdue' : ''}`, 'data-deadline': s.deadlineAt ?? '' }, deadlineText(s.deadlineAt));
const ageCell = (since) => el('td', { class: 'age', 'data-since': since }, duration(now() - Date.parse(since)));
/** Ids shortened to their first group, as `openstack` tables show them; the whole id is the tooltip. */
const short = (id) => el('span', { class: 'id', title: id }, id.length > 12 ? `${id.slice(0, 8)}…` : id);
const nameCell = (s) => el('td', { class: 'name' }, `${s.name ?? '(no name)'} `, short(s.id), el('div', { class: 'id' }, 'volume ', short(s.volumeId), ` · ${s.projectId}`));

const statusCell = (s) => el('td', { class: 'status-cell' }, el('span', { class: `status ${s.status}` }, s.status), ...badges(s));
const phaseCell = (s) => el('td', { class: 'phase' }, s.phase);
/** A snapshot's row in either view: its name, then the view's cells; a click selects it. */
function snapshotRowOf(s, data, cells) {
  const row = el('tr', { class: `snapshot${state.kind === 'snapshot' && s.id === state.selected ? ' selected' : ''}`, 'data-snapshot': s.id, ...data }, nameCell(s), ...cells);
  row.onclick = () => select(s.id);
  return row;
}
const snapshotRow = (s) => snapshotRowOf(s, { 'data-status': s.status }, [statusCell(s), phaseCell(s), progressCell(s), deadlineCell(s), ageCell(s.phaseEnteredAt)]);
const attentionRow = (s) =>
  snapshotRowOf(s, { 'data-reasons': s.reasons.join(' ') }, [
    el('td', { class: 'reasons' }, ...s.reasons.map((r) => el('span', { class: `badge ${r}` }, r))),
    statusCell(s),
    phaseCell(s),
    deadlineCell(s),
    ageCell(s.phaseEnteredAt),
  ]);
function volumeRow(v) {
  const row = el('tr', { class: `volume${state.kind === 'volume' && v.id === state.selected ? ' selected' : ''}`, 'data-volume': v.id, 'data-status': v.status },
    el('td', {}, `${v.name ?? '(no name)'} `, el('span', { class: 'id' }, v.id)),
    el('td', { class: `status ${v.status}` }, v.status), el('td', { class: 'phase' }, `${v.phase} · ${v.attachStatus}`), ageCell(v.phaseEnteredAt));
  row.onclick = () => select(v.id, 'volume');
  return row;
}

function renderList() {
  const rows = [...state.snapshots.values()].map(snapshotRow);
  $('#list tbody').replaceChildren(...rows);
  $('#empty').hidden = rows.length > 0;
  $('#newer').disabled = state.cursors.length <= 1;
  $('#older').disabled = !state.next;
  $('#page-info').textContent = `page ${state.cursors.length}`;
}
function renderAttention() {
  $('#attention tbody').replaceChildren(...state.attention.map(attentionRow));
  $('#attention-empty').hidden = state.attention.length > 0;
  $('#attention-count').textContent = state.attention.length ? String(state.attention.length) : '';
}
function renderVolumes() {
  $('#volumes tbody').replaceChildren(...[...state.volumes.values()].map(volumeRow));
  $('#volumes-empty').hidden = state.volumes.size > 0;
}
setInterval(() => {
  for (const td of document.querySelectorAll('td.age')) td.textContent = duration(now() - Date.parse(td.dataset.since));
  for (const td of document.querySelectorAll('td.deadline')) td.textContent = deadlineText(td.dataset.deadline);
}, 1000);

async function loadPage() {
  const query = new URLSearchParams(Object.entries(state.filters).filter(([, v]) => v));
  const after = state.cursors[state.cursors.length - 1];
  if (after) query.set('after', after);
  const data = await api(`snapshots?${query}`);
  state.skew = Date.parse(data.now) - Date.now();
  state.snapshots = new Map(data.snapshots.map((s) => [s.id, s]));
  state.next = data.next;
  renderList();
}
async function loadAttention() {
  const data = await api('attention');
  state.attention = data.snapshots;
  $('#attention-rule').textContent = `In an error status, within ${duration(data.nearDeadlineSeconds * 1000)} of a phase deadline (or past it), or in a phase that is not a resting one for more than ${duration(data.stuckAfterSeconds * 1000)}.`;
  renderAttention();
}
async function loadVolumes() {
  const data = await api('overview');
  state.volumes = new Map(data.volumes.map((v) => [v.id, v]));
  renderVolumes();
}
const loadAll = () => Promise.all([loadPage(), loadAttention(), loadVolumes(), loadDurations()]);

function showView(view) {
  state.view = view;
  for (const tab of document.querySelectorAll('.tabs [data-view]')) tab.setAttribute('aria-selected', String(tab.dataset.view === view));
  for (const name of ['snapshots', 'attention', 'volumes']) $(`#view-${name}`).hidden = name !== view;
}

// ---- phase durations chart ------------------------------------------------------------------

async function loadDurations() {
  const data = await api('phase-durations');
  const phases = data.phases;
  const box = $('#durations');
  if (phases.length === 0) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No phase has ended in this process in the last hour.'));
    return;
  }
  // Log scale from 1 ms to the longest phase, so seconds-long compute waits and millisecond
  // driver phases both show.
  const labelW = 190;
  const barW = 260;
  const rowH = 18;
  const lo = Math.log10(0.001);
  const hi = Math.log10(Math.max(1, ...phases.map((p) => p.max)));
  const x = (s) => labelW + (barW * (Math.log10(Math.max(s, 0.001)) - lo)) / (hi - lo);
  const chart = svg('svg', { width: labelW + barW + 150, height: phases.length * rowH + 6, class: 'durations' });
  phases.forEach((p, i) => {
    const y = i * rowH + 3;
    chart.append(svg('g', { class: 'phase-bar', 'data-phase': p.phase, 'data-count': p.count },
      svg('title', {}, `${p.phase}: ${p.count} ended, mean ${seconds(p.mean)}, min ${seconds(p.min)}, max ${seconds(p.max)}; ${Object.entries(p.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`),
      svg('text', { x: labelW - 6, y: y + 12, 'text-anchor': 'end' }, p.phase),
      svg('rect', { class: 'range', x: x(p.min), y: y + 6, width: Math.max(1, x(p.max) - x(p.min)), height: 4 }),
      svg('rect', { class: 'mean', x: labelW, y: y + 2, width: Math.max(2, x(p.mean) - labelW), height: 12 }),
      svg('text', { x: labelW + barW + 6, y: y + 12 }, `${p.count} × ${seconds(p.mean)}`)));
  });
  box.replaceChildren(chart);
}

// ---- the statechart as a graph --------------------------------------------------------------

const ADMIN_EVENT = /^admin\.|^os-reset_status$|^os-force_delete$/;
const measure = document.createElement('canvas').getContext('2d');
const textWidth = (text, font) => {
  measure.font = font;
  return Math.ceil(measure.measureText(text).width);
};
const NODE_FONT = '600 12px system-ui, sans-serif';
const META_FONT = '11px system-ui, sans-serif';
const EDGE_FONT = '11px system-ui, sans-serif';

/** ELK's input: states nested in their parents, one edge per (source, target) with its events. */
function elkGraph(machine, showAdmin) {
  const node = (s) => {
    const status = s.meta && s.meta.status ? `status ${s.meta.status}` : '';
    if (s.children.length) {
      return { id: s.path, labels: [{ text: s.key, width: textWidth(s.key, NODE_FONT), height: 14 }], layoutOptions: { 'elk.padding': '[top=30,left=12,bottom=12,right=12]' }, children: s.children.map(node) };
    }
    return { id: s.path, width: Math.max(textWidth(s.key, NODE_FONT), textWidth(status, META_FONT)) + 24, height: status ? 38 : 26 };
  };
  const edges = new Map();
  const walk = (s) => {
    for (const t of s.transitions) {
      if (!s.path || (!showAdmin && ADMIN_EVENT.test(t.event))) continue;
      for (const target of t.targets.length ? t.targets : [s.path]) {
        const key = `${s.path}→${target}`;
        const edge = edges.get(key) ?? { source: s.path, target, events: [], guards: [] };
        if (!edge.events.includes(t.event)) edge.events.push(t.event);
        if (t.guard) edge.guards.push(`${t.event} [${t.guard}]`);
        edges.set(key, edge);
      }
    }
    s.children.forEach(walk);
  };
  walk(machine.root);
  const list = [...edges.values()];
  return {
    graph: {
      id: 'root',
      layoutOptions: {
        'elk.algorithm': 'layered',
        'elk.direction': 'DOWN',
        'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
        'elk.layered.spacing.nodeNodeBetweenLayers': '36',
        'elk.spacing.nodeNode': '24',
        'elk.spacing.edgeLabel': '2',
        'elk.json.edgeCoords': 'ROOT',
        'elk.json.shapeCoords': 'ROOT',
      },
      children: machine.root.children.map(node),
      edges: list.map((e, i) => {
        const text = e.events.join(', ');
        return { id: `e${i}`, sources: [e.source], targets: [e.target], labels: [{ text, width: textWidth(text, EDGE_FONT) + 4, height: 13 }] };
      }),
    },
    edges: list,
  };
}

const elk = new window.ELK();
async function layoutOf(kind) {
  const key = `${kind}:${state.showAdmin}`;
  if (!state.layouts.has(key)) {
    const { graph, edges } = elkGraph(state.machines[kind], state.showAdmin);
    state.layouts.set(key, elk.layout(graph).then((laid) => ({ laid, edges })));
  }
  return state.layouts.get(key);
}

function drawChart({ laid, edges }, machine) {
  const byPath = new Map();
  const walk = (s) => {
    byPath.set(s.path, s);
    s.children.forEach(walk);
  };
  walk(machine.root);
  // Scaled to the pane's width (the viewBox keeps its proportions), never above its own size.
  const root = svg('svg', { width: '100%', style: `max-width:${Math.ceil(laid.width)}px`, viewBox: `0 0 ${Math.ceil(laid.width)} ${Math.ceil(laid.height)}`, role: 'img' });
  root.append(svg('defs', {},
    svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })),
    svg('marker', { id: 'arrow-taken', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead taken' }))));
  const nodes = svg('g', { class: 'nodes' });
  const drawNode = (n) => {
    const s = byPath.get(n.id);
    const parent = byPath.get(s.path.split('.').slice(0, -1).join('.')) ?? machine.root;
    const g = svg('g', { class: `state ${s.type}${parent.initial === s.path ? ' initial' : ''}`, 'data-state': s.path },
      svg('title', {}, [s.path, s.meta && s.meta.status ? `status ${s.meta.status}` : '', ...s.entry.map((a) => `entry / ${a}`)].filter(Boolean).join('\n')),
      svg('rect', { x: n.x, y: n.y, width: n.width, height: n.height, rx: 8 }),
      svg('text', { class: 'name', x: n.x + 10, y: n.y + 17 }, s.key));
    if (!n.children && s.meta && s.meta.status) g.append(svg('text', { class: 'meta', x: n.x + 10, y: n.y + 31 }, `status ${s.meta.status}`));
    if (parent.initial === s.path) g.append(svg('circle', { class: 'initial-dot', cx: n.x - 1, cy: n.y - 1, r: 4 }));
    nodes.append(g);
    for (const child of n.children ?? []) drawNode(child);
  };
  for (const n of laid.children) drawNode(n);
  const lines = svg('g', { class: 'edges' });
  const labels = svg('g', { class: 'edge-labels' });
  laid.edges.forEach((e, i) => {
    const meta = edges[i];
    const attrs = { 'data-source': meta.source, 'data-target': meta.target, 'data-events': meta.events.join(' ') };
    for (const section of e.sections ?? []) {
      const points = [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      lines.append(svg('path', { class: 'edge', d: points.map((p, j) => `${j ? 'L' : 'M'}${p.x},${p.y}`).join(' '), 'marker-end': 'url(#arrow)', ...attrs },
        svg('title', {}, meta.guards.length ? meta.guards.join('\n') : meta.events.join(', '))));
    }
    for (const label of e.labels ?? []) labels.append(svg('text', { class: 'edge-label', x: label.x + 2, y: label.y + 10, ...attrs }, label.text));
  });
  root.append(nodes, lines, labels);
  return root;
}

async function renderChart() {
  const kind = state.kind;
  const chart = $('#chart');
  const key = `${kind}:${state.showAdmin}`;
  if (chart.dataset.layout === key) return;
  const layout = await layoutOf(kind);
  if (state.kind !== kind || `${kind}:${state.showAdmin}` !== key) return;
  chart.replaceChildren(drawChart(layout, state.machines[kind]));
  chart.dataset.layout = key;
  chart.dataset.machine = state.machines[kind].id;
}

function highlight() {
  const item = state.selectedItem;
  for (const node of document.querySelectorAll('#chart .current, #chart .active, #chart .taken')) node.classList.remove('current', 'active', 'taken');
  if (!item) return;
  const parts = item.phase.split('.');
  parts.forEach((_, i) => {
    const node = document.querySelector(`#chart [data-state="${parts.slice(0, i + 1).join('.')}"]`);
    node?.classList.add(i === parts.length - 1 ? 'current' : 'active');
  });
  // The transition that brought it here: the last accepted row, on the edge declared by the
  // state it left or the nearest ancestor (where shared transitions live). Re-adding the class
  // to a fresh element restarts the CSS animation.
  const last = [...state.history].reverse().find((t) => !t.rejected);
  if (!last || !last.fromPhase) return;
  const from = last.fromPhase.split('.');
  for (let i = from.length; i > 0; i--) {
    const source = from.slice(0, i).join('.');
    const target = last.toPhase === last.fromPhase ? source : last.toPhase;
    const sel = `[data-source="${source}"][data-target="${target}"][data-events~="${last.event}"]`;
    const found = document.querySelectorAll(`#chart path.edge${sel}, #chart text.edge-label${sel}`);
    if (found.length) {
      for (const node of found) {
        node.classList.add('taken');
        if (node.tagName === 'path') node.setAttribute('marker-end', 'url(#arrow-taken)');
      }
      break;
    }
  }
  for (const node of document.querySelectorAll('#chart path.edge:not(.taken)')) node.setAttribute('marker-end', 'url(#arrow)');
}

// ---- detail ------------------------------------------------------------------------------

function timelineRow(t) {
  const details = t.rejected ? `rejected: ${t.reason ?? ''}` : t.payload ?? '';
  return el('tr', { class: t.rejected ? 'rejected' : '', 'data-id': String(t.id), 'data-event': t.event },
    el('td', {}, time(t.at)), el('td', {}, String(t.version)), el('td', { class: 'event' }, t.event), el('td', {}, t.source),
    el('td', {}, t.rejected ? `${t.fromPhase} (stays)` : `${t.fromPhase ?? '∅'} → ${t.toPhase}`), el('td', { class: 'details' }, details));
}
async function renderDetail() {
  const item = state.selectedItem;
  $('#detail-pane').hidden = !item;
  if (!item) return;
  if (state.kind === 'volume') {
    $('#detail-title').textContent = `Volume ${item.name ?? ''} ${item.id}`;
    $('#detail-facts').textContent = `status ${item.status} · attach status ${item.attachStatus} · phase ${item.phase} · version ${item.version}${item.errorReason ? ` · reason ${item.errorReason}` : ''}`;
  } else {
    $('#detail-title').textContent = `Snapshot ${item.name ?? ''} ${item.id}`;
    $('#detail-facts').textContent = `status ${item.status} · phase ${item.phase} · progress ${item.progress} · version ${item.version}${item.errorReason ? ` · reason ${item.errorReason}` : ''}${item.deadlineAt ? ` · compute deadline ${time(item.deadlineAt)}` : ''}`;
  }
  $('#timeline tbody').replaceChildren(...state.history.map(timelineRow));
  await renderChart();
  highlight();
}
async function select(id, kind = 'snapshot') {
  state.selected = id;
  state.kind = kind;
  location.hash = kind === 'volume' ? `volume:${id}` : id;
  const data = await api(`${kind === 'volume' ? 'volumes' : 'snapshots'}/${encodeURIComponent(id)}`);
  if (state.selected !== id) return;
  state.selectedItem = kind === 'volume' ? data.volume : data.snapshot;
  state.history = data.transitions;
  for (const row of document.querySelectorAll('tr.selected')) row.classList.remove('selected');
  for (const row of document.querySelectorAll(kind === 'volume' ? `tr[data-volume="${id}"]` : `tr[data-snapshot="${id}"]`)) row.classList.add('selected');
  await renderDetail();
}

// ---- live updates ------------------------------------------------------------------------

const timers = {};
/**
 * Coalesces reloads: a burst of commits costs one request per view per 150 ms. A throttle, not a
 * debounce: restarting the timer on each commit would never reload under a steady stream.
 */
function soon(name, load) {
  if (timers[name]) return;
  timers[name] = setTimeout(() => {
    delete timers[name];
    load().catch(console.error);
  }, 150);
}
const matchesFilters = (s) => Object.entries({ status: s.status, phase: s.phase, project: s.projectId, volume: s.volumeId }).every(([k, v]) => !state.filters[k] || state.filters[k] === v);
function onTransition({ transition: t, snapshot }) {
  if (snapshot) {
    const known = state.snapshots.get(snapshot.id);
    if (known && known.version <= snapshot.version) {
      // Rows of the page change in place; the newest history row decides the rejection badge.
      state.snapshots.set(snapshot.id, { ...snapshot, lastRejection: t.rejected ? { event: t.event, reason: t.reason, at: t.at } : null });
      renderList();
    } else if (!known && state.cursors.length === 1 && matchesFilters(snapshot)) soon('page', loadPage);
  }
  soon('attention', loadAttention);
  if (!t.rejected) soon('durations', loadDurations);
  if (state.kind === 'snapshot' && t.snapshotId === state.selected && !state.history.some((h) => h.id === t.id)) {
    state.history.push(t);
    state.history.sort((a, b) => a.id - b.id);
    if (snapshot && (!state.selectedItem || state.selectedItem.version <= snapshot.version)) state.selectedItem = snapshot;
    renderDetail().then(() => document.querySelector(`#timeline tr[data-id="${t.id}"]`)?.classList.add('fresh'));
  }
}
function setLive(on) {
  $('#live').className = `live ${on ? 'on' : 'off'}`;
  $('#live').textContent = on ? 'live' : 'reconnecting…';
}
// EventSource cannot send X-Auth-Token, so the stream is read with fetch() and parsed here.
async function follow() {
  const res = await fetch('/ui/api/events', { headers: state.token ? { 'X-Auth-Token': state.token } : {}, cache: 'no-store' });
  if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const payload = JSON.parse(data.join('\n'));
      if (event === 'ready') {
        // Subscribed first, loaded second: whatever commits in between arrives as an event.
        setLive(true);
        await loadAll();
        if (state.selected) await select(state.selected, state.kind);
      } else if (event === 'transition') onTransition(payload);
      else if (event === 'volumes') {
        // A volume changed (its own machine moved): the list, and the selected volume's history.
        soon('volumes', loadVolumes);
        if (state.kind === 'volume' && state.selected) select(state.selected, 'volume').catch(console.error);
      }
    }
  }
}
async function live() {
  for (;;) {
    try {
      await follow();
    } catch (err) {
      console.warn(err);
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main() {
  const session = await api('session');
  $('#who').textContent = `${session.user} · ${session.project} · showing ${session.scope}`;
  for (const status of session.statuses) $('#status-filter').append(el('option', { value: status }, status));
  for (const phase of session.phases) $('#phase-filter').append(el('option', { value: phase }, phase));
  const applyFilters = () => {
    const form = new FormData($('#filters'));
    state.filters = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]).filter(([, v]) => v));
    state.cursors = [undefined];
    loadPage().catch(console.error);
  };
  $('#filters').onsubmit = (e) => {
    e.preventDefault();
    applyFilters();
  };
  $('#status-filter').onchange = applyFilters;
  $('#phase-filter').onchange = applyFilters;
  $('#older').onclick = () => {
    if (!state.next) return;
    state.cursors.push(state.next);
    loadPage().catch(console.error);
  };
  $('#newer').onclick = () => {
    if (state.cursors.length > 1) state.cursors.pop();
    loadPage().catch(console.error);
  };
  for (const tab of document.querySelectorAll('.tabs [data-view]')) tab.onclick = () => showView(tab.dataset.view);
  $('#show-admin').onchange = (e) => {
    state.showAdmin = e.target.checked;
    if (state.selectedItem) renderDetail().catch(console.error);
  };
  state.machines = { snapshot: await api('machine'), volume: await api('volume-machine') };
  if (location.hash.length > 1) {
    const hash = decodeURIComponent(location.hash.slice(1));
    state.kind = hash.startsWith('volume:') ? 'volume' : 'snapshot';
    state.selected = hash.replace(/^volume:/, '');
    if (state.kind === 'volume') showView('volumes');
  }
  // Time alone moves snapshots into the needs-attention view (a deadline nears, a phase drags on).
  setInterval(() => loadAttention().catch(console.error), 10_000);
  live();
}
main().catch((err) => {
  document.body.prepend(el('p', { class: 'status error' }, `The UI could not start: ${err.message}`));
});
