// The web UI in a real browser (headless Chromium through playwright-core) against the real
// service, served over HTTP: a snapshot waits in creating.computeAssisted (the test compute
// never calls back by itself), the page shows it, and a callback sent through the API moves the
// chart's highlight and the timeline within a second. The 1000 ms waitFor timeouts are the
// assertion; every other wait is for an event, never a fixed sleep.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callback, createSnapshot, createVolume, startTestService, type TestService } from '../observability/helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LIVE = { timeout: 1000 };
/** Page load and the worker's first phases: not what is measured, so a generous bound. */
const SETTLE = { timeout: 15_000 };

describe('web UI at /ui', () => {
  let t: TestService;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestService({ serveHttp: true });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
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
    // The page itself holds no data and loads without a token.
    const html = await fetch(`${t.baseUrl}/ui`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain('/ui/app.js');
  });

  it('lists the snapshot, highlights its state, and follows a callback live', async () => {
    const attached = await createVolume(t, 'vm-disk', true);
    const plain = await createVolume(t, 'spare', false);
    const id = await createSnapshot(t, attached, 'nightly');
    const other = await createSnapshot(t, plain, 'offline-copy');
    await t.log.reached(id, 'creating.computeAssisted');
    await t.log.reached(other, 'available');

    await page.goto(`${t.baseUrl}/ui#${id}`);
    const row = page.locator(`#list tr[data-snapshot="${id}"]`);
    await row.waitFor(SETTLE);
    await expect(row.locator('td.phase').textContent()).resolves.toBe('creating.computeAssisted');
    await page.locator('#live.on').waitFor(SETTLE);
    const current = page.locator('#chart .state.current');
    await page.locator('#chart [data-state="creating.computeAssisted"].current').waitFor(SETTLE);
    await expect(current.count()).resolves.toBe(1);
    // The parent of the current leaf is marked as active, not as current.
    await expect(page.locator('#chart [data-state="creating"]').getAttribute('class')).resolves.toContain('active');
    await expect(page.locator('#timeline tbody tr').count()).resolves.toBe(2);

    // The status filter narrows the list to matching snapshots.
    await page.selectOption('#status-filter', 'available');
    await page.locator(`#list tr[data-snapshot="${id}"]`).waitFor({ state: 'detached', ...LIVE });
    await page.locator(`#list tr[data-snapshot="${other}"]`).waitFor(LIVE);
    await page.selectOption('#status-filter', '');
    await row.waitFor(LIVE);

    // Nova's way of saying "done": the unchanged status with progress 90%.
    const res = await callback(t, id, { status: 'creating', progress: '90%' });
    expect(res.status).toBe(202);
    await page.locator('#chart [data-state="available"].current').waitFor(LIVE);
    await page.locator('#timeline tr[data-event="compute.status"]:not(.rejected)').waitFor(LIVE);
    await page.locator(`#list tr[data-snapshot="${id}"][data-status="available"]`).waitFor(LIVE);
    await expect(current.count()).resolves.toBe(1);
    // The transition that brought it here is marked in the box it left.
    await page.locator('#chart [data-state="creating.storageComplete"] li.taken[data-event="storage.done"]').waitFor(LIVE);

    // A callback the machine refuses is in the history too, marked as rejected.
    const late = await callback(t, id, { status: 'creating', progress: '90%' });
    expect(late.status).toBe(400);
    await page.locator('#timeline tr.rejected[data-event="compute.status"]').waitFor(LIVE);
    await expect(page.locator('#chart [data-state="available"]').getAttribute('class')).resolves.toContain('current');

    const shot = path.join(ROOT, 'test-results/ui.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    // The README's picture is refreshed on request only, so ordinary runs leave the tree clean.
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(shot, path.join(ROOT, 'docs/ui.png'));
    expect(pageErrors).toEqual([]);
  });

  it('shows a volume with its own statechart and history, and follows its machine live', async () => {
    const id = await createVolume(t, 'data-disk', false);
    await page.goto(`${t.baseUrl}/ui`);
    const row = page.locator(`#list tr[data-volume="${id}"]`);
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
    await page.locator(`#list tr[data-volume="${id}"][data-status="in-use"]`).waitFor(LIVE);
    await page.locator('#chart [data-state="available"] li.taken[data-event="os-attach"]').waitFor(LIVE);
    // A refused action is in its history too.
    expect((await t.call('POST', `/v3/demo/volumes/${id}/action`, { 'os-reserve': null })).status).toBe(400);
    await page.locator('#timeline tr.rejected[data-event="os-reserve"]').waitFor(LIVE);
    expect(pageErrors).toEqual([]);
  });
});
