// The web UI in a real browser (headless Chromium through playwright-core) against the real
// service, served over HTTP, every view: the snapshot list (progress bar, deadline, badges,
// filters, keyset paging), the needs-attention view, the volumes, the phase-duration chart and
// the statechart drawn as a graph by elkjs (served by the service; any request to another host
// fails the test). A snapshot waits in creating.computeAssisted (the test compute never calls
// back by itself) and callbacks sent through the API move the page within a second. The
// 1000 ms waitFor timeouts are the assertion; every other wait is for an event, never a sleep.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machineGraph, allStates } from '../../machines/graph.js';
import { snapshotMachine } from '../../machines/snapshot.js';
import { callback, createSnapshot, createVolume, startTestService, type TestService } from '../observability/helpers.js';
import { seedSnapshots } from './seed.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LIVE = { timeout: 1000 };
/** Page load, the layout and the worker's first phases: not what is measured, so a generous bound. */
const SETTLE = { timeout: 15_000 };

describe('web UI at /ui', () => {
  let t: TestService;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** The snapshot the first test takes through its phases; the screenshot shows it. */
  let nightly = '';

  beforeAll(async () => {
    // Every compute wait counts as near its deadline and a phase is stuck after 2 minutes, so the
    // needs-attention view has something to show without waiting for real deadlines.
    t = await startTestService({ serveHttp: true, config: { UI_NEAR_DEADLINE_SECONDS: '3600', UI_STUCK_AFTER_SECONDS: '120' } });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Offline by construction: any request that leaves the service fails the test.
    await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => {
      pageErrors.push(`request outside the service: ${route.request().url()}`);
      return route.abort();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('needs the same auth as the API; in noauth mode the handshake hands the page its token', async () => {
    const anonymous = await fetch(`${t.baseUrl}/ui/api/overview`);
    expect(anonymous.status).toBe(204);
    expect(anonymous.headers.get('x-auth-token')).toBe('admin:admin');
    const withToken = await fetch(`${t.baseUrl}/ui/api/overview`, { headers: { 'X-Auth-Token': 'admin:admin' } });
    expect(withToken.status).toBe(200);
    // The page itself holds no data and loads without a token; so does the layout engine.
    const html = await fetch(`${t.baseUrl}/ui`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('/ui/app.js');
    const elk = await fetch(`${t.baseUrl}/ui/elk.js`);
    expect(elk.status).toBe(200);
    expect(elk.headers.get('content-type')).toContain('javascript');
    expect(await elk.text()).toContain('ELK');
  });

  it('lists the snapshot with progress and deadline, draws its statechart as a graph, and follows callbacks live', async () => {
    const attached = await createVolume(t, 'vm-disk', true);
    const plain = await createVolume(t, 'spare', false);
    const id = await createSnapshot(t, attached, 'nightly');
    nightly = id;
    const other = await createSnapshot(t, plain, 'offline-copy');
    await t.log.reached(id, 'creating.computeAssisted');
    await t.log.reached(other, 'available');

    await page.goto(`${t.baseUrl}/ui#${id}`);
    const row = page.locator(`#list tr[data-snapshot="${id}"]`);
    await row.waitFor(SETTLE);
    await expect(row.locator('td.phase').textContent()).resolves.toBe('creating.computeAssisted');
    await expect(row.locator('td.deadline').textContent()).resolves.toMatch(/^\d+m \d+s left$/);
    await expect(row.locator('td.progress').getAttribute('data-progress')).resolves.toBe('0');
    await expect(page.locator(`#list tr[data-snapshot="${other}"] td.deadline`).textContent()).resolves.toBe('—');
    await page.locator('#live.on').waitFor(SETTLE);

    // The graph: one SVG node per state, children drawn inside their parents, arrows between them.
    await page.locator('#chart svg g.state[data-state="creating.computeAssisted"].current').waitFor(SETTLE);
    await expect(page.locator('#chart .state.current').count()).resolves.toBe(1);
    await expect(page.locator('#chart [data-state="creating"]').getAttribute('class')).resolves.toContain('active');
    const states = allStates(machineGraph(snapshotMachine)).filter((s) => s.path !== '');
    await expect(page.locator('#chart g.state').count()).resolves.toBe(states.length);
    const parent = await page.locator('#chart [data-state="creating"] > rect').boundingBox();
    for (const child of states.filter((s) => s.path.startsWith('creating.'))) {
      const box = await page.locator(`#chart [data-state="${child.path}"] > rect`).boundingBox();
      expect(box!.x).toBeGreaterThan(parent!.x);
      expect(box!.y).toBeGreaterThan(parent!.y);
      expect(box!.x + box!.width).toBeLessThan(parent!.x + parent!.width);
      expect(box!.y + box!.height).toBeLessThan(parent!.y + parent!.height);
    }
    // Each arrow is a machine transition, labelled with its events; admin ones on request.
    const declared = new Set(states.flatMap((s) => s.transitions.map((tr) => `${s.path} ${tr.event} ${tr.targets[0] ?? s.path}`)));
    const edges = await page.locator('#chart path.edge').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-source'), n.getAttribute('data-events'), n.getAttribute('data-target'), n.getAttribute('marker-end')]));
    expect(edges.length).toBeGreaterThan(15);
    for (const [source, events, target, marker] of edges) {
      expect(marker).toMatch(/^url\(#arrow/);
      for (const event of events!.split(' ')) expect(declared.has(`${source} ${event} ${target}`), `${source} ${event} ${target}`).toBe(true);
    }
    await expect(page.locator('#chart text.edge-label[data-source="creating.computeAssisted"][data-target="creating.reconciling"]').textContent()).resolves.toBe('timer.expired');
    await expect(page.locator('#chart path.edge[data-events~="admin.reset_status"]').count()).resolves.toBe(0);
    await page.check('#show-admin');
    await page.locator('#chart path.edge[data-events~="admin.reset_status"]').first().waitFor(SETTLE);
    await page.uncheck('#show-admin');
    await page.locator('#chart path.edge[data-events~="admin.reset_status"]').first().waitFor({ state: 'detached', ...SETTLE });

    // The status filter narrows the list to matching snapshots.
    await page.selectOption('#status-filter', 'available');
    await page.locator(`#list tr[data-snapshot="${id}"]`).waitFor({ state: 'detached', ...LIVE });
    await page.locator(`#list tr[data-snapshot="${other}"]`).waitFor(LIVE);
    await page.selectOption('#status-filter', '');
    await row.waitFor(LIVE);

    // Compute's progress reaches the bar.
    expect((await callback(t, id, { status: 'creating', progress: '40%' })).status).toBe(202);
    await page.locator(`#list tr[data-snapshot="${id}"] td.progress[data-progress="40"]`).waitFor(LIVE);

    // Nova's way of saying "done": the unchanged status with progress 90%.
    const res = await callback(t, id, { status: 'creating', progress: '90%' });
    expect(res.status).toBe(202);
    await page.locator('#chart [data-state="available"].current').waitFor(LIVE);
    await page.locator(`#list tr[data-snapshot="${id}"][data-status="available"]`).waitFor(LIVE);
    await expect(page.locator('#timeline tr[data-event="compute.status"]:not(.rejected)').count()).resolves.toBe(2);
    await expect(page.locator('#chart .state.current').count()).resolves.toBe(1);
    // The transition that brought it here is the arrow that animates.
    const taken = page.locator('#chart path.edge.taken[data-source="creating.storageComplete"][data-target="available"][data-events~="storage.done"]');
    await taken.waitFor(LIVE);
    await expect(page.locator('#chart path.edge.taken').count()).resolves.toBe(1);
    await expect(taken.evaluate((n) => getComputedStyle(n).animationName)).resolves.toContain('flow');
    await expect(taken.getAttribute('marker-end')).resolves.toBe('url(#arrow-taken)');

    // A callback the machine refuses is in the history, and a badge in the list says why.
    const late = await callback(t, id, { status: 'creating', progress: '90%' });
    expect(late.status).toBe(400);
    await page.locator('#timeline tr.rejected[data-event="compute.status"]').waitFor(LIVE);
    const badge = page.locator(`#list tr[data-snapshot="${id}"] .badge.rejected`);
    await badge.waitFor(LIVE);
    const reason = (await t.service.engine.store.readHistory(id)).at(-1)!.reason!;
    await expect(badge.textContent()).resolves.toBe(`rejected: ${reason}`);
    await expect(page.locator('#chart [data-state="available"]').getAttribute('class')).resolves.toContain('current');
    expect(pageErrors).toEqual([]);
  });

  it('badges errors and reconciles, and lists what needs attention, with why', async () => {
    const attached = await createVolume(t, 'attention-disk', true);
    const waiting = await createSnapshot(t, attached, 'waiting');
    await t.log.reached(waiting, 'creating.computeAssisted');
    const failed = await createSnapshot(t, attached, 'failing');
    await t.log.reached(failed, 'creating.computeAssisted');
    expect((await callback(t, failed, { status: 'error', progress: '0%' })).status).toBe(202);
    await t.log.reached(failed, 'error');
    // A reconcile that has been going for an hour: stuck.
    const hourAgo = new Date(Date.now() - 3_600_000);
    await seedSnapshots(t, [{ id: 'stuck-reconcile', volumeId: attached, phase: 'creating.reconciling', createdAt: hourAgo }]);

    await page.goto(`${t.baseUrl}/ui`);
    await page.locator('#live.on').waitFor(SETTLE);
    const errorBadge = page.locator(`#list tr[data-snapshot="${failed}"] .badge.error`);
    await errorBadge.waitFor(SETTLE);
    const { errorReason } = (await t.service.engine.store.findSnapshot(failed))!;
    expect(errorReason).toBeTruthy();
    await expect(errorBadge.textContent()).resolves.toBe(`error: ${errorReason}`);
    await page.locator('#list tr[data-snapshot="stuck-reconcile"] .badge.reconciling').waitFor(SETTLE);

    await page.click('.tabs [data-view="attention"]');
    const rows = page.locator('#attention tbody tr');
    await page.locator('#attention tr[data-snapshot="stuck-reconcile"]').waitFor(LIVE);
    const listed = Object.fromEntries(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-snapshot'), tr.getAttribute('data-reasons')])));
    expect(listed['stuck-reconcile']).toBe('stuck');
    expect(listed[failed]).toBe('error');
    expect(listed[waiting]).toBe('deadline');
    // What rests (available) is never listed.
    const resting = (await t.service.engine.store.readSnapshotWindow({ scope: null, filters: { status: 'available' }, take: 200 }))!.rows;
    expect(resting.length).toBeGreaterThan(0);
    for (const { snapshot } of resting) expect(listed[snapshot.id]).toBeUndefined();
    await expect(page.locator('#attention-count').textContent()).resolves.toBe(String(await rows.count()));
    // The oldest phase leads.
    await expect(rows.first().getAttribute('data-snapshot')).resolves.toBe('stuck-reconcile');

    // The callback that ends the wait takes the snapshot off the view, live.
    expect((await callback(t, waiting, { status: 'creating', progress: '90%' })).status).toBe(202);
    await page.locator(`#attention tr[data-snapshot="${waiting}"]`).waitFor({ state: 'detached', ...LIVE });
    await page.click('.tabs [data-view="snapshots"]');
    expect(pageErrors).toEqual([]);
  });

  it('keeps reloading a view while commits stream in faster than its 150 ms coalescing window', async () => {
    const disk = await createVolume(t, 'streaming-disk', true);
    const busy = await createSnapshot(t, disk, 'streaming');
    await t.log.reached(busy, 'creating.computeAssisted');
    await page.goto(`${t.baseUrl}/ui`);
    await page.locator('#live.on').waitFor(SETTLE);
    await page.click('.tabs [data-view="attention"]');
    await page.locator(`#attention tr[data-snapshot="${busy}"]`).waitFor(SETTLE);

    // Progress callbacks back to back, each a committed history row pushed to the page: far more
    // than one per 150 ms, which a timer restarted on each commit would never let fire.
    let streaming = true;
    const stream = (async () => {
      for (let p = 1; streaming; p = (p % 80) + 1) expect((await callback(t, busy, { status: 'creating', progress: `${p}%` })).status).toBe(202);
    })();
    try {
      const arriving = await createSnapshot(t, disk, 'arrives-mid-stream');
      await t.log.reached(arriving, 'creating.computeAssisted');
      await page.locator(`#attention tr[data-snapshot="${arriving}"]`).waitFor(LIVE);
    } finally {
      streaming = false;
      await stream;
    }
    await page.click('.tabs [data-view="snapshots"]');
    expect(pageErrors).toEqual([]);
  });

  it("charts the last hour's phase durations from the same observations as /metrics", async () => {
    await page.goto(`${t.baseUrl}/ui`);
    await page.locator('#live.on').waitFor(SETTLE);
    const bar = page.locator('#durations g.phase-bar[data-phase="creating.computeAssisted"]');
    await bar.waitFor(SETTLE);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    const counted = [...metrics.matchAll(/^assisted_snapshots_phase_duration_seconds_count\{phase="creating\.computeAssisted",outcome="[a-z]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBeGreaterThan(0);
    await expect(bar.getAttribute('data-count')).resolves.toBe(String(counted));
    await expect(bar.locator('rect.mean').count()).resolves.toBe(1);

    const shot = path.join(ROOT, 'test-results/ui.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    // For the picture: one snapshot still waiting for compute, part way.
    const disk = await createVolume(t, 'db-disk', true);
    const busy = await createSnapshot(t, disk, 'hourly');
    await t.log.reached(busy, 'creating.computeAssisted');
    expect((await callback(t, busy, { status: 'creating', progress: '60%' })).status).toBe(202);
    await page.locator(`#list tr[data-snapshot="${busy}"] td.progress[data-progress="60"]`).waitFor(SETTLE);
    const row = page.locator(`#list tr[data-snapshot="${nightly}"]`);
    await row.waitFor(SETTLE);
    await row.click();
    await page.locator('#chart path.edge.taken').waitFor(SETTLE);
    await page.screenshot({ path: shot, fullPage: true });
    // The README's picture is refreshed on request only, so ordinary runs leave the tree clean.
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(shot, path.join(ROOT, 'docs/ui.png'));
    expect(pageErrors).toEqual([]);
  });

  it('pages through snapshots newest first and filters them by volume, phase and project', async () => {
    const bulk = await createVolume(t, 'bulk', false);
    const base = Date.now() - 10_000_000;
    // 130 rows: pages of 50, 50 and 30; every seventh in error, every fifth in project "other".
    const ids = Array.from({ length: 130 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    await seedSnapshots(t, ids.map((id, i) => ({ id, volumeId: bulk, phase: i % 7 === 0 ? 'error' : 'available', projectId: i % 5 === 0 ? 'other' : 'demo', createdAt: new Date(base + i * 1000) })));
    const newestFirst = [...ids].reverse();

    await page.goto(`${t.baseUrl}/ui`);
    await page.locator('#live.on').waitFor(SETTLE);
    await page.fill('#volume-filter', bulk);
    await page.click('#apply-filters');
    const shown = () => page.locator('#list tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-snapshot')));
    await page.locator(`#list tr[data-snapshot="${newestFirst[0]}"]`).waitFor(LIVE);
    await expect(shown()).resolves.toEqual(newestFirst.slice(0, 50));
    await expect(page.locator('#newer').isDisabled()).resolves.toBe(true);
    await page.click('#older');
    await page.locator(`#list tr[data-snapshot="${newestFirst[50]}"]`).waitFor(LIVE);
    await expect(shown()).resolves.toEqual(newestFirst.slice(50, 100));
    await expect(page.locator('#page-info').textContent()).resolves.toBe('page 2');
    await page.click('#older');
    await page.locator(`#list tr[data-snapshot="${newestFirst[100]}"]`).waitFor(LIVE);
    await expect(shown()).resolves.toEqual(newestFirst.slice(100));
    await expect(page.locator('#older').isDisabled()).resolves.toBe(true);
    await page.click('#newer');
    await page.locator(`#list tr[data-snapshot="${newestFirst[50]}"]`).waitFor(LIVE);
    await expect(shown()).resolves.toEqual(newestFirst.slice(50, 100));

    // Phase and project narrow it further; a new filter starts again at the first page.
    await page.selectOption('#phase-filter', 'error');
    await page.locator(`#list tr[data-snapshot="${newestFirst[50]}"]`).waitFor({ state: 'detached', ...LIVE });
    await expect(shown()).resolves.toEqual(newestFirst.filter((id) => Number(id.slice(5)) % 7 === 0));
    await page.fill('#project-filter', 'other');
    await page.click('#apply-filters');
    await page.locator(`#list tr[data-snapshot="bulk-126"]`).waitFor({ state: 'detached', ...LIVE });
    await expect(shown()).resolves.toEqual(newestFirst.filter((id) => Number(id.slice(5)) % 35 === 0));
    await expect(page.locator('#page-info').textContent()).resolves.toBe('page 1');
    // Bad input gets the API's fault, not an empty page.
    const bad = await fetch(`${t.baseUrl}/ui/api/snapshots?phase=nowhere`, { headers: { 'X-Auth-Token': 'admin:admin' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { badRequest: { message: string } }).badRequest.message).toContain("Invalid phase 'nowhere'");
    expect(pageErrors).toEqual([]);
  });

  it('shows a volume with its own statechart and history, and follows its machine live', async () => {
    const id = await createVolume(t, 'data-disk', false);
    await page.goto(`${t.baseUrl}/ui`);
    await page.click('.tabs [data-view="volumes"]');
    const row = page.locator(`#volumes tr[data-volume="${id}"]`);
    await row.waitFor(SETTLE);
    await row.click();
    // The volume machine's chart replaces the snapshot's, at the volume's state.
    await page.locator(`#chart[data-machine="volume"] [data-state="available"].current`).waitFor(SETTLE);
    await expect(page.locator('#chart .state.current').count()).resolves.toBe(1);
    await expect(page.locator('#timeline tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('#detail-title').textContent()).resolves.toContain(`Volume data-disk ${id}`);

    // Nova's attach through the API moves it; the page follows.
    const res = await t.call('POST', `/v3/demo/volumes/${id}/action`, { 'os-attach': { instance_uuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdc' } });
    expect(res.status).toBe(202);
    await page.locator('#chart [data-state="in-use"].current').waitFor(LIVE);
    await page.locator('#timeline tr[data-event="os-attach"]').waitFor(LIVE);
    await page.locator(`#volumes tr[data-volume="${id}"][data-status="in-use"]`).waitFor(LIVE);
    await page.locator('#chart path.edge.taken[data-source="available"][data-target="in-use"][data-events~="os-attach"]').waitFor(LIVE);
    // A refused action is in its history too.
    expect((await t.call('POST', `/v3/demo/volumes/${id}/action`, { 'os-reserve': null })).status).toBe(400);
    await page.locator('#timeline tr.rejected[data-event="os-reserve"]').waitFor(LIVE);
    expect(pageErrors).toEqual([]);
  });
});
