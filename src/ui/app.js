// The /ui page: a list of volumes and snapshots, and for the selected snapshot or volume its
// statechart (built from the machine description the server reads off `snapshotMachine` or
// `volumeMachine`) and its history.
// Live: the server pushes every committed history row over Server-Sent Events.
// Plain browser JavaScript on purpose: no build step, no dependency, served as-is from src/ui/.
const $ = (sel) => document.querySelector(sel);
const state = { token: sessionStorage.getItem('uiToken'), skew: 0, volumes: new Map(), snapshots: new Map(), machines: {}, kind: 'snapshot', selected: null, history: [], filter: '' };
/** The selected snapshot or volume, as the list knows it. */
const selectedItem = () => (state.kind === 'volume' ? state.volumes : state.snapshots).get(state.selected);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
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
const time = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false }) + `.${String(new Date(iso).getMilliseconds()).padStart(3, '0')}`;

// ---- list ------------------------------------------------------------------------------

function renderList() {
  const body = $('#list tbody');
  const rows = [];
  for (const volume of state.volumes.values()) {
    const snaps = [...state.snapshots.values()].filter((s) => s.volumeId === volume.id && (!state.filter || s.status === state.filter));
    if (state.filter && snaps.length === 0) continue;
    const volumeRow = el('tr', { class: `volume${state.kind === 'volume' && volume.id === state.selected ? ' selected' : ''}`, 'data-volume': volume.id, 'data-status': volume.status },
      el('td', {}, `${volume.name ?? '(no name)'} `, el('span', { class: 'id' }, volume.id)),
      el('td', { class: `status ${volume.status}` }, volume.status), el('td', { class: 'phase' }, `${volume.phase} · ${volume.attachStatus}`),
      el('td', { class: 'age', 'data-since': volume.phaseEnteredAt }, duration(now() - Date.parse(volume.phaseEnteredAt))));
    volumeRow.onclick = () => select(volume.id, 'volume');
    rows.push(volumeRow);
    for (const s of snaps) {
      const row = el('tr', { class: `snapshot${state.kind === 'snapshot' && s.id === state.selected ? ' selected' : ''}`, 'data-snapshot': s.id, 'data-status': s.status },
        el('td', {}, `${s.name ?? '(no name)'} `, el('span', { class: 'id' }, s.id)),
        el('td', { class: `status ${s.status}` }, s.status),
        el('td', { class: 'phase' }, s.phase),
        el('td', { class: 'age', 'data-since': s.phaseEnteredAt }, duration(now() - Date.parse(s.phaseEnteredAt))));
      row.onclick = () => select(s.id);
      rows.push(row);
    }
  }
  body.replaceChildren(...rows);
  $('#empty').hidden = state.volumes.size > 0;
}
setInterval(() => {
  for (const td of document.querySelectorAll('td.age')) td.textContent = duration(now() - Date.parse(td.dataset.since));
}, 1000);

async function loadOverview() {
  const data = await api('overview');
  state.skew = Date.parse(data.now) - Date.now();
  state.volumes = new Map(data.volumes.map((v) => [v.id, v]));
  state.snapshots = new Map(data.snapshots.map((s) => [s.id, s]));
  renderList();
}

// ---- chart -------------------------------------------------------------------------------

function edgeLabel(t) {
  const target = t.targets.length === 0 ? '(stays)' : t.targets.join(', ');
  return `${t.event}${t.guard ? ` [${t.guard}]` : ''} → ${target}`;
}
function stateBox(s, parent) {
  const box = el('div', { class: `state ${s.type}${parent && parent.initial === s.path ? ' initial' : ''}`, 'data-state': s.path }, el('div', { class: 'name' }, s.key));
  const meta = [];
  if (s.meta && s.meta.status) meta.push(`status ${s.meta.status}`);
  for (const a of s.entry) meta.push(`entry / ${a}`);
  if (meta.length) box.append(el('div', { class: 'meta' }, meta.join(' · ')));
  if (s.transitions.length) {
    box.append(el('ul', {}, ...s.transitions.map((t) => el('li', { 'data-event': t.event, 'data-target': t.targets.join(' '), title: t.actions.length ? `actions: ${t.actions.join(', ')}` : '' }, edgeLabel(t)))));
  }
  if (s.children.length) box.append(el('div', { class: 'children' }, ...s.children.map((c) => stateBox(c, s))));
  return box;
}
function renderChart() {
  const machine = state.machines[state.kind];
  const chart = $('#chart');
  if (chart.dataset.machine === machine.id) return;
  chart.dataset.machine = machine.id;
  chart.replaceChildren(el('div', { class: 'children' }, ...machine.root.children.map((c) => stateBox(c, machine.root))));
}
function highlight() {
  const snap = selectedItem();
  for (const node of document.querySelectorAll('#chart .current, #chart .active, #chart .taken')) node.classList.remove('current', 'active', 'taken');
  if (!snap) return;
  const parts = snap.phase.split('.');
  parts.forEach((_, i) => {
    const node = document.querySelector(`#chart [data-state="${parts.slice(0, i + 1).join('.')}"]`);
    node?.classList.add(i === parts.length - 1 ? 'current' : 'active');
  });
  // The transition that brought the snapshot here: the last accepted row, found in the box of
  // the state it left (or one of that state's ancestors, where shared transitions live).
  const last = [...state.history].reverse().find((t) => !t.rejected);
  if (!last || !last.fromPhase) return;
  const from = last.fromPhase.split('.');
  for (let i = from.length; i > 0; i--) {
    const box = document.querySelector(`#chart [data-state="${from.slice(0, i).join('.')}"]`);
    const item = [...(box?.querySelector(':scope > ul')?.children ?? [])].find((li) => li.dataset.event === last.event && (li.dataset.target === last.toPhase || (li.dataset.target === '' && last.toPhase === last.fromPhase)));
    if (item) {
      item.classList.add('taken');
      break;
    }
  }
}

// ---- detail ------------------------------------------------------------------------------

function timelineRow(t) {
  const details = t.rejected ? `rejected: ${t.reason ?? ''}` : t.payload ?? '';
  return el('tr', { class: t.rejected ? 'rejected' : '', 'data-id': String(t.id), 'data-event': t.event },
    el('td', {}, time(t.at)), el('td', {}, String(t.version)), el('td', { class: 'event' }, t.event), el('td', {}, t.source),
    el('td', {}, t.rejected ? `${t.fromPhase} (stays)` : `${t.fromPhase ?? '∅'} → ${t.toPhase}`), el('td', { class: 'details' }, details));
}
function renderDetail() {
  const item = selectedItem();
  $('#detail-pane').hidden = !item;
  if (!item) return;
  renderChart();
  if (state.kind === 'volume') {
    $('#detail-title').textContent = `Volume ${item.name ?? ''} ${item.id}`;
    $('#detail-facts').textContent = `status ${item.status} · attach status ${item.attachStatus} · phase ${item.phase} · version ${item.version}${item.errorReason ? ` · reason ${item.errorReason}` : ''}`;
  } else {
    $('#detail-title').textContent = `Snapshot ${item.name ?? ''} ${item.id}`;
    $('#detail-facts').textContent = `status ${item.status} · phase ${item.phase} · progress ${item.progress} · version ${item.version}${item.errorReason ? ` · reason ${item.errorReason}` : ''}${item.deadlineAt ? ` · compute deadline ${time(item.deadlineAt)}` : ''}`;
  }
  $('#timeline tbody').replaceChildren(...state.history.map(timelineRow));
  highlight();
}
async function select(id, kind = 'snapshot') {
  state.selected = id;
  state.kind = kind;
  location.hash = kind === 'volume' ? `volume:${id}` : id;
  const data = await api(`${kind === 'volume' ? 'volumes' : 'snapshots'}/${encodeURIComponent(id)}`);
  if (state.selected !== id) return;
  if (kind === 'volume') state.volumes.set(id, data.volume);
  else state.snapshots.set(id, data.snapshot);
  state.history = data.transitions;
  renderList();
  renderDetail();
}

// ---- live updates ------------------------------------------------------------------------

let reloadTimer = null;
function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadOverview().catch(console.error), 100);
}
function onTransition({ transition: t, snapshot }) {
  if (snapshot) {
    const known = state.snapshots.get(snapshot.id);
    if (!known || known.version <= snapshot.version) state.snapshots.set(snapshot.id, snapshot);
    if (!state.volumes.has(snapshot.volumeId)) reloadSoon();
  }
  if (state.kind === 'snapshot' && t.snapshotId === state.selected && !state.history.some((h) => h.id === t.id)) {
    state.history.push(t);
    state.history.sort((a, b) => a.id - b.id);
    renderDetail();
    document.querySelector(`#timeline tr[data-id="${t.id}"]`)?.classList.add('fresh');
  }
  renderList();
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
        await loadOverview();
        if (state.selected) await select(state.selected, state.kind);
      } else if (event === 'transition') onTransition(payload);
      else if (event === 'volumes') {
        // A volume changed (its own machine moved): the list, and the selected volume's history.
        reloadSoon();
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
  $('#status-filter').onchange = (e) => {
    state.filter = e.target.value;
    renderList();
  };
  state.machines = { snapshot: await api('machine'), volume: await api('volume-machine') };
  renderChart();
  if (location.hash.length > 1) {
    const hash = decodeURIComponent(location.hash.slice(1));
    state.kind = hash.startsWith('volume:') ? 'volume' : 'snapshot';
    state.selected = hash.replace(/^volume:/, '');
  }
  live();
}
main().catch((err) => {
  document.body.prepend(el('p', { class: 'status error' }, `The UI could not start: ${err.message}`));
});
