// The read-mostly operator resources, as Cinder's contrib extensions and v3 controllers answer
// them: extensions, os-availability-zone, os-services, os-hosts, scheduler-stats/get_pools,
// capabilities/{host}, and messages (3.3). What they report about services and the backend comes
// from the manager (src/manager/services.ts, messages.ts).
import { Hono, type Context } from 'hono';
import { parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { assertVisible, authorize } from '../../http/policy/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { userMessageOf } from '../../manager/messages.js';
import { VOLUME_BINARY } from '../../manager/services.js';
import type { MessageRow } from '../../engine/store/index.js';
import {
  hostListQuerySchema,
  poolListQuerySchema,
  serviceActionSchemas,
  serviceListQuerySchema,
  type ServiceAction,
  type CapabilitiesBody,
  type ExtensionsBody,
  type HostBody,
  type HostsBody,
  type MessageViewBody,
  type PoolsBody,
  type ServiceViewBody,
} from '../schemas/operator.js';
import { atLeast } from '../version.js';

const iso = (d: Date | null) => (d ? d.toISOString().replace('Z', '') : null);

/** The extensions this service implements, as Cinder describes them (cinder/api/contrib). */
export const EXTENSIONS: ExtensionsBody['extensions'] = [
  ['AdminActions', 'os-admin-actions', '2012-08-25T00:00:00+00:00', 'Enable admin actions.'],
  ['AvailabilityZones', 'os-availability-zone', '2013-06-27T00:00:00+00:00', 'Describe Availability Zones.'],
  ['Capabilities', 'capabilities', '2015-08-31T00:00:00+00:00', 'Capabilities support.'],
  ['ExtendedServices', 'os-extended-services', '2014-01-10T00:00:00-00:00', 'Extended services support.'],
  ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes', '2012-06-19T00:00:00+00:00', 'Extended SnapshotAttributes support.'],
  ['Hosts', 'os-hosts', '2011-06-29T00:00:00+00:00', 'Admin-only host administration.'],
  ['Scheduler_stats', 'scheduler-stats', '2014-09-07T00:00:00+00:00', 'Scheduler stats support.'],
  ['Services', 'os-services', '2012-10-28T00:00:00-00:00', 'Services support.'],
  ['SnapshotActions', 'os-snapshot-actions', '2013-07-16T00:00:00+00:00', 'Enable snapshot manager actions.'],
  ['VolumeActions', 'os-volume-actions', '2012-05-31T00:00:00+00:00', 'Enable volume actions.'],
  ['VolumeHostAttribute', 'os-vol-host-attr', '2011-11-03T00:00:00+00:00', 'Expose host as an attribute of a volume.'],
  ['VolumeTenantAttribute', 'os-vol-tenant-attr', '2011-11-03T00:00:00+00:00', 'Expose the internal project_id as an attribute of a volume.'],
].map(([name, alias, updated, description]) => ({ name: name!, alias: alias!, updated: updated!, description: description!, links: [] }));

/** Cinder's get_bool_param: true, 1, yes, on (any case) are true; other text is a 400. */
function boolParam(name: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  if (['true', '1', 'yes', 'y', 'on', 't'].includes(v)) return true;
  if (['false', '0', 'no', 'n', 'off', 'f'].includes(v)) return false;
  throw badRequest(`Invalid value '${value}' for ${name}.`);
}

export function operatorRoutes(manager: VolumeManager) {
  const app = new Hono();
  const services = manager.services;

  app.get('/extensions', (c) => c.json({ extensions: EXTENSIONS } satisfies ExtensionsBody));

  // Cinder lists the zones of its enabled cinder-volume services, as available when one is up.
  app.get('/os-availability-zone', async (c) => {
    const volumeServices = (await services.list({ binary: VOLUME_BINARY })).filter((s) => !s.row.disabled);
    const zones = new Map<string, boolean>();
    for (const s of volumeServices) zones.set(s.row.availabilityZone, (zones.get(s.row.availabilityZone) ?? false) || s.up);
    return c.json({ availabilityZoneInfo: [...zones].map(([zoneName, available]) => ({ zoneName, zoneState: { available } })) });
  });

  app.get('/os-services', async (c) => {
    authorize(c, 'volume_extension:services:index');
    const q = parseQuery(c, serviceListQuerySchema);
    const list = await services.list({ ...(q.host !== undefined ? { host: q.host } : {}), ...(q.binary !== undefined ? { binary: q.binary } : {}) });
    const cluster = atLeast(c, '3.7');
    const backendState = atLeast(c, '3.49');
    const views: ServiceViewBody[] = list.map(({ row, up }) => {
      const updated = row.modifiedAt && row.updatedAt && row.modifiedAt > row.updatedAt ? row.modifiedAt : row.updatedAt;
      const volume = row.binary === VOLUME_BINARY;
      return {
        binary: row.binary,
        host: row.host,
        zone: row.availabilityZone,
        status: row.disabled ? 'disabled' : 'enabled',
        state: up ? 'up' : 'down',
        updated_at: iso(updated),
        ...(backendState && volume ? { backend_state: up ? 'up' : 'down' } : {}),
        ...(cluster ? { cluster: row.clusterName } : {}),
        disabled_reason: row.disabledReason,
        ...(volume ? { replication_status: 'disabled', active_backend_id: null, frozen: row.frozen } : {}),
      };
    });
    return c.json({ services: views });
  });

  // One route per action, as Cinder's update(id=<action>) dispatches; any other is a 404.
  for (const action of Object.keys(serviceActionSchemas) as ServiceAction[])
  app.put(`/os-services/${action}`, async (c) => {
    const rule = action === 'freeze' ? 'volume:freeze_host' : action === 'thaw' ? 'volume:thaw_host' : action.startsWith('failover') ? 'volume:failover_host' : 'volume_extension:services:update';
    authorize(c, 'volume_extension:services:update');
    if (rule !== 'volume_extension:services:update') authorize(c, rule);
    const key = action;
    const body = (await parseBody(c, serviceActionSchemas[key])) as { host?: string; binary?: string; service?: string; disabled_reason?: string; cluster?: string | null };
    const host = body.host!;
    switch (key) {
      case 'freeze':
      case 'thaw':
        await services.setFrozen(host, key === 'freeze');
        return c.body(null, 200);
      case 'failover':
      case 'failover_host':
        return services.failover(host);
      default: {
        const binary = body.binary || body.service || '';
        const disabled = key !== 'enable';
        const row = await services.setDisabled(host, binary, disabled, key === 'disable-log-reason' ? body.disabled_reason : undefined);
        return c.json({
          host,
          service: body.service ?? '',
          binary: body.binary ?? '',
          status: disabled ? 'disabled' : 'enabled',
          disabled,
          ...(key === 'disable' ? {} : { disabled_reason: key === 'enable' ? null : row.disabledReason }),
        });
      }
    }
  });

  // os-hosts lists the enabled services, as Cinder's _list_hosts does.
  const hostList = async (c: Context): Promise<HostsBody['hosts']> => {
    const q = parseQuery(c, hostListQuerySchema);
    return (await services.list())
      .filter((s) => !s.row.disabled && (!q.zone || s.row.availabilityZone === q.zone))
      .map(({ row, up }) => ({
        host_name: row.host,
        service: row.topic,
        zone: row.availabilityZone,
        'service-status': up ? 'available' : 'unavailable',
        'service-state': row.disabled ? 'disabled' : 'enabled',
        'last-update': iso(row.updatedAt),
      }));
  };
  app.get('/os-hosts', async (c) => {
    authorize(c, 'volume_extension:hosts');
    return c.json({ hosts: await hostList(c) } satisfies HostsBody);
  });
  app.get('/os-hosts/:host', async (c) => {
    authorize(c, 'volume_extension:hosts');
    const host = c.req.param('host');
    const usage = await services.hostUsage(host);
    const total = { volumeCount: 0, volumeGb: 0, snapshotCount: 0, snapshotGb: 0 };
    for (const u of usage) {
      total.volumeCount += u.volumeCount;
      total.volumeGb += u.volumeGb;
      total.snapshotCount += u.snapshotCount;
      total.snapshotGb += u.snapshotGb;
    }
    const resource = (project: string, u: typeof total) => ({
      resource: {
        host,
        project,
        volume_count: String(u.volumeCount),
        total_volume_gb: String(u.volumeGb),
        snapshot_count: String(u.snapshotCount),
        total_snapshot_gb: String(u.snapshotGb),
      },
    });
    return c.json({ host: [resource('(total)', total), ...usage.map((u) => resource(u.projectId, u))] } satisfies HostBody);
  });

  app.get('/scheduler-stats/get_pools', async (c) => {
    authorize(c, 'scheduler_extension:scheduler_stats:get_pools');
    const detail = boolParam('detail', parseQuery(c, poolListQuerySchema).detail);
    const pools = await services.pools();
    return c.json({ pools: pools.map((p) => (detail ? { name: p.name, capabilities: p.capabilities } : { name: p.name })) } satisfies PoolsBody);
  });

  app.get('/capabilities/:host', async (c) => {
    authorize(c, 'volume_extension:capabilities');
    const id = c.req.param('host');
    const backend = await services.backendFor(id);
    const [pool] = await services.pools();
    const caps = pool!.capabilities;
    const body: CapabilitiesBody = {
      namespace: `OS::Storage::Capabilities::${backend.row.host}`,
      vendor_name: caps.vendor_name,
      volume_backend_name: caps.volume_backend_name,
      pool_name: null,
      driver_version: caps.driver_version,
      storage_protocol: caps.storage_protocol,
      display_name: null,
      description: null,
      visibility: null,
      replication_targets: [],
      properties: {
        thin_provisioning: { title: 'Thin Provisioning', description: 'Sets thin provisioning.', type: 'boolean' },
        compression: { title: 'Compression', description: 'Enables compression.', type: 'boolean' },
        qos: { title: 'QoS', description: 'Enables QoS.', type: 'boolean' },
        replication_enabled: { title: 'Replication', description: 'Enables replication.', type: 'boolean' },
      },
    };
    return c.json(body);
  });

  // Messages: 3.3 and later; below it Cinder has no such resource.
  const messagesVersion = (c: Context) => {
    if (!atLeast(c, '3.3')) throw notFound('The resource could not be found.');
  };
  const messageView = (c: Context, m: MessageRow): MessageViewBody => {
    const href = new URL(`${c.req.path.replace(/\/messages.*$/, '')}/messages/${m.id}`, c.req.url).toString();
    return {
      id: m.id,
      event_id: m.eventId,
      user_message: userMessageOf(m),
      message_level: m.messageLevel,
      created_at: iso(m.createdAt)!,
      guaranteed_until: iso(m.expiresAt)!,
      request_id: m.requestId,
      links: [
        { rel: 'self', href },
        { rel: 'bookmark', href },
      ],
      ...(m.resourceType ? { resource_type: m.resourceType } : {}),
      ...(m.resourceUuid ? { resource_uuid: m.resourceUuid } : {}),
    };
  };
  const visibleMessage = async (c: Context) => {
    messagesVersion(c);
    const id = parseUuidParam(c, 'id', 'Message');
    const auth = c.get('auth');
    const row = await manager.messages.get(id);
    assertVisible(auth, row.projectId, `Message ${id} could not be found.`);
    return row;
  };
  app.get('/messages', async (c) => {
    messagesVersion(c);
    authorize(c, 'message:get_all');
    const auth = c.get('auth');
    const rows = await manager.messages.list(auth.isAdmin ? null : auth.projectId);
    return c.json({ messages: rows.map((m) => messageView(c, m)) });
  });
  app.get('/messages/:id', async (c) => {
    const row = await visibleMessage(c);
    authorize(c, 'message:get', { id: row.id, projectId: row.projectId });
    return c.json({ message: messageView(c, row) });
  });
  app.delete('/messages/:id', async (c) => {
    const row = await visibleMessage(c);
    authorize(c, 'message:delete', { id: row.id, projectId: row.projectId });
    await manager.messages.delete(row.id);
    return c.body(null, 204);
  });

  return app;
}
