// The operator resources (src/api/routes/operator.ts, src/manager/services.ts, messages.ts) over
// HTTP on both providers: extensions, availability zones, os-services with heartbeats and the
// operator's flags, os-hosts, pools and capabilities, and user messages recorded from real
// failures. Real createApp, noauth (admin), default policy; the clock is the harness' ManualClock.
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRemoteFsDriver } from '../../../src/drivers/remotefs/index.js';
import { hostMatches, SERVICE_DOWN_SECONDS, Services } from '../../../src/manager/services.js';
import { providers } from '../../support/databases.js';
import { apiFixture, createVolume, expectFault, MISSING, P, type ApiFixture } from '../helpers.js';

const V33 = { 'OpenStack-API-Version': 'volume 3.3' };

describe('hostMatches (Cinder’s _filter_host)', () => {
  it('matches a host at every level, a backend at pool level, a pool exactly', () => {
    expect(hostMatches('h@remotefs', 'h')).toBe(true);
    expect(hostMatches('h', 'h')).toBe(true);
    expect(hostMatches('h@remotefs#p', 'h@remotefs')).toBe(true);
    expect(hostMatches('h@remotefs', 'h@remotefs#p')).toBe(false);
    expect(hostMatches('hx@remotefs', 'h')).toBe(false);
    expect(hostMatches('h@other', 'h@remotefs')).toBe(false);
  });
});

describe.each(providers)('REST API on %s: operator resources', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const services = () => f.h.manager.services;

  it('lists the extensions, Hosts among them, in the schema Cinder answers', async () => {
    const r = await f.call('GET', `${P}/extensions`);
    expect(r.status).toBe(200);
    expect(r.json.extensions.map((e: { name: string }) => e.name)).toContain('Hosts');
    for (const e of r.json.extensions) expect(Object.keys(e).sort()).toEqual(['alias', 'description', 'links', 'name', 'updated']);
  });

  it('answers no zone before a volume service beat, then nova, available while it is up', async () => {
    expect((await f.call('GET', `${P}/os-availability-zone`)).json).toEqual({ availabilityZoneInfo: [] });
    await services().heartbeat();
    expect((await f.call('GET', `${P}/os-availability-zone`)).json).toEqual({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
    f.h.clock.advance(SERVICE_DOWN_SECONDS + 1);
    expect((await f.call('GET', `${P}/os-availability-zone`)).json.availabilityZoneInfo[0].zoneState.available).toBe(false);
  });

  it('lists this instance as cinder-scheduler and cinder-volume, up after a beat and down without one', async () => {
    await services().heartbeat();
    const beat = f.h.clock.now().toISOString().replace('Z', '');
    const r = await f.call('GET', `${P}/os-services`);
    expect(r.status).toBe(200);
    expect(r.json.services).toEqual([
      { binary: 'cinder-scheduler', host: 'localhost', zone: 'nova', status: 'enabled', state: 'up', updated_at: beat, disabled_reason: null },
      {
        binary: 'cinder-volume',
        host: 'localhost@test',
        zone: 'nova',
        status: 'enabled',
        state: 'up',
        updated_at: beat,
        disabled_reason: null,
        replication_status: 'disabled',
        active_backend_id: null,
        frozen: false,
      },
    ]);
    // 3.7 adds the cluster, 3.49 the backend state.
    const v349 = await f.call('GET', `${P}/os-services?binary=cinder-volume`, { headers: { 'OpenStack-API-Version': 'volume 3.49' } });
    expect(v349.json.services).toHaveLength(1);
    expect(v349.json.services[0]).toMatchObject({ cluster: null, backend_state: 'up' });
    // Filtered by host as Cinder filters: the bare host name finds both roles.
    expect((await f.call('GET', `${P}/os-services?host=localhost`)).json.services).toHaveLength(2);
    expect((await f.call('GET', `${P}/os-services?host=localhost@test`)).json.services.map((s: { binary: string }) => s.binary)).toEqual(['cinder-volume']);
    expect((await f.call('GET', `${P}/os-services?host=nowhere`)).json.services).toEqual([]);

    f.h.clock.advance(SERVICE_DOWN_SECONDS + 1);
    expect((await f.call('GET', `${P}/os-services`)).json.services.map((s: { state: string }) => s.state)).toEqual(['down', 'down']);
    // The next beat brings it back, on the same rows.
    await services().heartbeat();
    expect((await f.call('GET', `${P}/os-services`)).json.services.map((s: { state: string }) => s.state)).toEqual(['up', 'up']);
    expect(await f.h.db.prisma.service.count()).toBe(2);
  });

  it('lists each instance of a cluster on its own rows; one that stops beating goes down alone', async () => {
    const other = new Services(f.h.engine, f.h.driver, { host: 'node-2', availabilityZone: 'nova' });
    await services().heartbeat();
    await other.heartbeat();
    f.h.clock.advance(SERVICE_DOWN_SECONDS - 10);
    await services().heartbeat();
    f.h.clock.advance(20);
    const listed = (await f.call('GET', `${P}/os-services`)).json.services.map((s: { host: string; state: string }) => `${s.host} ${s.state}`);
    expect(listed).toEqual(['localhost up', 'localhost@test up', 'node-2 down', 'node-2@test down']);
    expect((await f.call('GET', `${P}/os-services?host=node-2&binary=cinder-volume`)).json.services).toHaveLength(1);
  });

  it('beats on its own once started, until stopped', async () => {
    await services().start((err) => {
      throw err;
    }, 60_000);
    await services().stop();
    expect((await f.call('GET', `${P}/os-services`)).json.services.map((s: { state: string }) => s.state)).toEqual(['up', 'up']);
  });

  it('disables with a reason, enables, and keeps the flags across heartbeats', async () => {
    await services().heartbeat();
    const body = { host: 'localhost@test', binary: 'cinder-volume', disabled_reason: 'maintenance' };
    const d = await f.call('PUT', `${P}/os-services/disable-log-reason`, { body });
    expect(d.status, d.text).toBe(200);
    expect(d.json).toEqual({ host: 'localhost@test', service: '', binary: 'cinder-volume', status: 'disabled', disabled: true, disabled_reason: 'maintenance' });
    await services().heartbeat();
    const listed = (await f.call('GET', `${P}/os-services?binary=cinder-volume`)).json.services[0];
    expect(listed).toMatchObject({ status: 'disabled', disabled_reason: 'maintenance' });
    // A disabled volume service is no host and no zone any more.
    expect((await f.call('GET', `${P}/os-hosts`)).json.hosts.map((h: { host_name: string }) => h.host_name)).toEqual(['localhost']);

    const e = await f.call('PUT', `${P}/os-services/enable`, { body: { host: 'localhost@test', binary: 'cinder-volume' } });
    expect(e.json).toEqual({ host: 'localhost@test', service: '', binary: 'cinder-volume', status: 'enabled', disabled: false, disabled_reason: null });
    expect((await f.call('GET', `${P}/os-services?binary=cinder-volume`)).json.services[0]).toMatchObject({ status: 'enabled', disabled_reason: null });

    // The deprecated `service` key names the binary too, and is echoed as sent.
    const plain = await f.call('PUT', `${P}/os-services/disable`, { body: { host: 'localhost', service: 'cinder-scheduler' } });
    expect(plain.json).toEqual({ host: 'localhost', service: 'cinder-scheduler', binary: '', status: 'disabled', disabled: true });
  });

  it('refuses bad service requests as Cinder does', async () => {
    await services().heartbeat();
    expectFault(await f.call('PUT', `${P}/os-services/enable`, { body: { host: 'invalid_host', binary: 'cinder-volume' } }), 404, 'itemNotFound', 'Could not find binary cinder-volume on host invalid_host.');
    expectFault(await f.call('PUT', `${P}/os-services/disable`, { body: { host: 'localhost', binary: 'invalid_binary' } }), 404, 'itemNotFound');
    expectFault(await f.call('PUT', `${P}/os-services/disable-log-reason`, { body: { host: 'localhost', binary: 'cinder-scheduler', disabled_reason: null } }), 400, 'badRequest');
    expectFault(await f.call('PUT', `${P}/os-services/enable`, { body: { binary: 'cinder-volume' } }), 400, 'badRequest');
    expectFault(await f.call('PUT', `${P}/os-services/freeze`, { body: {} }), 400, 'badRequest');
    expectFault(await f.call('PUT', `${P}/os-services/enable`, { body: { host: 'localhost' } }), 400, 'badRequest');
    expectFault(await f.call('PUT', `${P}/os-services/freeze`, { body: { host: 'invalid_host' } }), 400, 'badRequest', 'Invalid input received: No service found with host=invalid_host');
    expectFault(await f.call('PUT', `${P}/os-services/thaw`, { body: { host: 'invalid_host' } }), 400, 'badRequest');
    expectFault(await f.call('PUT', `${P}/os-services/reboot`, { body: {} }), 404, 'itemNotFound');
    // No replication, so no failover.
    expectFault(await f.call('PUT', `${P}/os-services/failover_host`, { body: { host: 'localhost@test' } }), 400, 'badRequest', /replication_status in \['localhost@test'\] must be enabled or failed-over/);
  });

  it('freezes and thaws the volume service once each', async () => {
    await services().heartbeat();
    const freeze = await f.call('PUT', `${P}/os-services/freeze`, { body: { host: 'localhost' } });
    expect([freeze.status, freeze.text]).toEqual([200, '']);
    expect((await f.call('GET', `${P}/os-services?binary=cinder-volume`)).json.services[0].frozen).toBe(true);
    expectFault(await f.call('PUT', `${P}/os-services/freeze`, { body: { host: 'localhost' } }), 400, 'badRequest', /frozen in \['localhost@test'\] must be False/);
    expect((await f.call('PUT', `${P}/os-services/thaw`, { body: { host: 'localhost@test' } })).status).toBe(200);
    expect((await f.call('GET', `${P}/os-services?binary=cinder-volume`)).json.services[0].frozen).toBe(false);
  });

  it('lists hosts and shows the usage on the volume host, per project', async () => {
    await services().heartbeat();
    const hosts = (await f.call('GET', `${P}/os-hosts`)).json.hosts;
    expect(hosts).toEqual([
      expect.objectContaining({ host_name: 'localhost', service: 'cinder-scheduler', zone: 'nova', 'service-status': 'available', 'service-state': 'enabled' }),
      expect.objectContaining({ host_name: 'localhost@test', service: 'cinder-volume', 'service-status': 'available' }),
    ]);
    await createVolume(f, { size: 2 });
    await createVolume(f, { size: 3 });
    const shown = await f.call('GET', `${P}/os-hosts/localhost@test`);
    expect(shown.status).toBe(200);
    expect(shown.json.host).toEqual([
      { resource: { host: 'localhost@test', project: '(total)', volume_count: '2', total_volume_gb: '5', snapshot_count: '0', total_snapshot_gb: '0' } },
      { resource: { host: 'localhost@test', project: 'proj', volume_count: '2', total_volume_gb: '5', snapshot_count: '0', total_snapshot_gb: '0' } },
    ]);
    expectFault(await f.call('GET', `${P}/os-hosts/elsewhere@test`), 404, 'itemNotFound');
  });

  it('lists the pool, with capabilities on detail, and the backend capabilities by pool name', async () => {
    await services().heartbeat();
    expect((await f.call('GET', `${P}/scheduler-stats/get_pools`)).json).toEqual({ pools: [{ name: 'localhost@test#test' }] });
    const detail = await f.call('GET', `${P}/scheduler-stats/get_pools?detail=True`);
    expect(detail.json.pools[0]).toMatchObject({ name: 'localhost@test#test', capabilities: { volume_backend_name: 'test', total_capacity_gb: 'unknown', allocated_capacity_gb: 0 } });
    expectFault(await f.call('GET', `${P}/scheduler-stats/get_pools?detail=maybe`), 400, 'badRequest');

    const caps = await f.call('GET', `${P}/capabilities/localhost@test#test`);
    expect(caps.status).toBe(200);
    expect(caps.json).toMatchObject({ namespace: 'OS::Storage::Capabilities::localhost@test', volume_backend_name: 'test', replication_targets: [] });
    expect((await f.call('GET', `${P}/capabilities/localhost`)).status).toBe(200);
    expectFault(await f.call('GET', `${P}/capabilities/nowhere@test`), 404, 'itemNotFound', "Can't find service: nowhere@test");
  });

  it("answers the scheduler's capability check from the pool's capabilities", async () => {
    expect(await services().unmetSpec({ volume_backend_name: 'test', 'capabilities:thin_provisioning_support': '<is> True' })).toBeNull();
    expect(await services().unmetSpec({ storage_protocol: 'tempest-storage_protocol-1', vendor_name: 'tempest-vendor_name-1' })).toBe('storage_protocol');
  });

  it("shows the volume's host@backend#pool to admins", async () => {
    const v = await createVolume(f);
    expect(v['os-vol-host-attr:host']).toBe('localhost@test#test');
  });

  it('records a message when a snapshot fails, and lists, shows and deletes it at 3.3', async () => {
    const unfollow = f.h.manager.messages.follow((err) => {
      throw err;
    });
    try {
      const vol = await createVolume(f);
      f.h.driver.failNext.push('createSnapshot');
      const s = await f.call('POST', `${P}/snapshots`, { body: { snapshot: { volume_id: vol.id } } });
      expect(s.status).toBe(202);
      await f.h.worker.drain();
      expect((await f.call('GET', `${P}/snapshots/${s.json.snapshot.id}`)).json.snapshot.status).toBe('error');
      await f.h.manager.messages.settled();
    } finally {
      unfollow();
    }
    expectFault(await f.call('GET', `${P}/messages`), 404, 'itemNotFound');
    const list = await f.call('GET', `${P}/messages`, { headers: V33 });
    expect(list.status).toBe(200);
    expect(list.json.messages).toHaveLength(1);
    const m = list.json.messages[0];
    expect(m).toMatchObject({
      event_id: 'VOLUME_VOLUME_SNAPSHOT_009_013',
      user_message: 'create snapshot:Snapshot failed to create.',
      message_level: 'ERROR',
      resource_type: 'VOLUME_SNAPSHOT',
      request_id: expect.stringMatching(/^req-/),
    });
    // Kept for Cinder's message_ttl, 30 days.
    expect(Date.parse(`${m.guaranteed_until}Z`) - Date.parse(`${m.created_at}Z`)).toBe(2_592_000_000);
    expect((await f.call('GET', `${P}/messages/${m.id}`, { headers: V33 })).json.message).toEqual(m);
    const del = await f.call('DELETE', `${P}/messages/${m.id}`, { headers: V33 });
    expect([del.status, del.text]).toEqual([204, '']);
    expectFault(await f.call('GET', `${P}/messages/${m.id}`, { headers: V33 }), 404, 'itemNotFound', `Message ${m.id} could not be found.`);
    expectFault(await f.call('DELETE', `${P}/messages/${MISSING}`, { headers: V33 }), 404, 'itemNotFound');
    expectFault(await f.call('GET', `${P}/messages/not-a-uuid`, { headers: V33 }), 404, 'itemNotFound');
  });

  it("hides another project's messages and drops expired ones", async () => {
    const own = await f.h.manager.messages.record({ projectId: 'proj', resourceType: 'VOLUME', resourceUuid: MISSING, action: ['001', 'schedule allocate volume'], detail: ['003', 'Could not find any available weighted backend.'] });
    expect(own.eventId).toBe('VOLUME_VOLUME_001_003');
    const other = await f.h.manager.messages.record({ projectId: 'other', resourceType: 'VOLUME', resourceUuid: MISSING, action: ['001', 'schedule allocate volume'], detail: ['003', 'Could not find any available weighted backend.'] });
    // bob of "other" is an admin under noauth too, so the visibility check is the manager's list.
    expect((await f.h.manager.messages.list('other')).map((m) => m.id)).toEqual([other.id]);
    expect((await f.call('GET', `${P}/messages/${own.id}`, { headers: V33 })).json.message.user_message).toBe('schedule allocate volume:Could not find any available weighted backend.');
    f.h.clock.advance(2_592_000 + 1);
    expect((await f.call('GET', `${P}/messages`, { headers: V33 })).json.messages).toEqual([]);
  });
});

describe('RemoteFS capacity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ops-capacity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports the share filesystem's statvfs", async () => {
    const driver = createRemoteFsDriver(dir);
    const c = await driver.capacity();
    const s = await statfs(dir);
    expect(c.totalBytes).toBe(s.blocks * s.bsize);
    // Free space moves with other writers on the machine: within 1 GiB of a fresh look.
    expect(Math.abs(c.freeBytes - s.bavail * s.bsize)).toBeLessThan(1024 ** 3);
    expect(c.totalBytes).toBeGreaterThan(c.freeBytes);
  });
});
