// /v3/{project_id}/volumes: create, list, show, update, delete, the summary (3.12), metadata, the
// legacy attach actions Nova uses (reserve, initialize_connection, attach, begin_detaching,
// detach), the flags (bootable, readonly), and the volume machine's history (an admin extension
// of ours, as for snapshots).
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { assertVisible, authorize, grantedByRole, type PolicyRule } from '../../http/policy/index.js';
import {
  METADATA_KEY_PATTERN,
  snapshotMetadataBodySchema as metadataBodySchema,
  snapshotMetaItemBodySchema as metaItemBodySchema,
  volumeActionSchemas,
  volumeCreateSchema,
  volumeDeleteQuerySchema,
  volumeListQuerySchema,
  volumeSummaryQuerySchema,
  volumeUpdateSchema,
  type VolumeActionName,
} from '../schemas/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { MV, requestVersion, supports } from '../microversions.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import { volumeSummaryTotalsView, volumeSummaryView, volumeView, collectionPage } from '../views.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { transitionsResponse } from './transitions.js';
import { atLeast } from '../version.js';

/** The policy rule each action is authorised under, with the volume as the target. */
const VOLUME_ACTION_RULE: Readonly<Record<VolumeActionName, PolicyRule>> = {
  'os-reserve': 'volume:reserve',
  'os-unreserve': 'volume:unreserve',
  'os-initialize_connection': 'volume:initialize_connection',
  'os-terminate_connection': 'volume:terminate_connection',
  'os-attach': 'volume:attach',
  'os-begin_detaching': 'volume:begin_detaching',
  'os-roll_detaching': 'volume:roll_detaching',
  'os-detach': 'volume:detach',
  'os-reset_status': 'volume:reset_status',
  'os-force_delete': 'volume:force_delete',
  'os-retype': 'volume:retype',
  // As Cinder: setting the flag is an update of the volume.
  'os-set_bootable': 'volume:update',
  'os-update_readonly_flag': 'volume:update_readonly_flag',
  'os-extend': 'volume:extend',
};

export function volumeRoutes(manager: VolumeManager) {
  const app = new Hono();
  const selfUrl = (c: Context, id: string) => new URL(`${c.req.path.replace(/\/volumes.*$/, '')}/volumes/${id}`, c.req.url).toString();
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Volume');
  /** The volume if the caller may see it and act on it under `rule` (owner checks read the row). */
  const visible = async (c: Context, id: string, rule: PolicyRule) => {
    const volume = await manager.getVolume(id);
    assertVisible(c.var.auth, volume.projectId, `Volume ${id} could not be found.`);
    authorize(c, rule, volume);
    return volume;
  };
  /** What every view of this request shares: its microversion and whether Cinder would call the caller admin. */
  const viewContext = (c: Context) => ({ version: requestVersion(c), admin: grantedByRole(c, 'volume:all_tenants'), host: manager.services.poolName });
  /**
   * Renders a row the handler already holds (with its live attachments and metadata).
   * `extensions`: the host, tenant and migration attributes, which Cinder adds to show only.
   */
  const render = (c: Context, v: Parameters<typeof volumeView>[0], extensions = false) =>
    volumeView(v, selfUrl(c, v.id), { ...viewContext(c), extensions });
  /** A key outside the metadata key alphabet (NUL included) cannot exist: not found, not a query. */
  const keyParam = (c: Context, id: string) => {
    const key = c.req.param('key') ?? '';
    if (!METADATA_KEY_PATTERN.test(key)) throw notFound(`Volume ${id} has no metadata with key ${key}.`);
    return key;
  };

  app.post('/', async (c) => {
    authorize(c, 'volume:create');
    // Blank volumes, or copies of a snapshot or a volume; the schema takes other sources as null only.
    const { volume: body } = await parseBody(c, volumeCreateSchema);
    const auth = c.var.auth;
    const created = await manager.createVolume({
      projectId: auth.projectId,
      userId: auth.userId,
      size: body.size ?? null,
      name: body.name ?? null,
      description: body.description ?? null,
      volumeType: body.volume_type ?? null,
      viewer: { projectId: c.var.auth.projectId, isAdmin: c.var.auth.isAdmin },
      // Below 3.13 Cinder has no groups: the key is taken and left unused, as it was before.
      ...(body.group_id && atLeast(c, '3.13') ? { groupId: body.group_id } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      snapshotId: body.snapshot_id ?? null,
      sourceVolid: body.source_volid ?? null,
      // Another project's source is not found, as Cinder's get_snapshot / get_volume under the caller's context.
      canSee: (projectId) => auth.isAdmin || auth.projectId === projectId,
    });
    // As in Cinder, the answer is the volume being created; the driver's work follows.
    return c.json({ volume: render(c, created) }, 202);
  });

  const list = (detail: boolean) => async (c: Context) => {
    authorize(c, 'volume:get_all');
    const q = parseQuery(c, volumeListQuerySchema);
    const allTenants = q.allTenants === true && grantedByRole(c, 'volume:all_tenants');
    const listOptions = {
      projectId: allTenants ? null : c.var.auth.projectId,
      filters: q.filters,
      limit: q.limit,
      offset: q.offset,
      marker: q.marker,
      sort: q.sort,
    };
    const rows = await manager.listVolumes(listOptions);
    const volumes = rows.map((v) => (detail ? volumeView(v, selfUrl(c, v.id), { ...viewContext(c), extensions: true }) : volumeSummaryView(v, selfUrl(c, v.id))));
    const count = q.withCount && supports(requestVersion(c), MV.SUPPORT_COUNT_INFO) ? await manager.countVolumes(listOptions) : undefined;
    return c.json(collectionPage(c.req.url, 'volumes', volumes, rows.at(-1)?.id, q.limit, count));
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/summary', async (c) => {
    // Before 3.12 "summary" is read as a volume id, which no volume has.
    if (!supports(requestVersion(c), MV.VOLUME_SUMMARY)) throw notFound('Volume summary could not be found.');
    authorize(c, 'volume:get_all');
    const q = parseQuery(c, volumeSummaryQuerySchema);
    const allTenants = q.allTenants && grantedByRole(c, 'volume:all_tenants');
    const summary = await manager.volumeSummary(allTenants ? null : c.var.auth.projectId);
    return c.json(volumeSummaryTotalsView(summary, requestVersion(c)));
  });

  app.get('/:id', async (c) => {
    authorize(c, 'volume:get');
    return c.json({ volume: render(c, await visible(c, idParam(c), 'volume:get'), true) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'volume:update');
    const id = idParam(c);
    await visible(c, id, 'volume:update');
    const { volume: fields } = await parseBody(c, volumeUpdateSchema);
    let updated = await manager.updateVolume(id, {
      ...(fields.name !== undefined ? { name: fields.name } : {}),
      ...(fields.description !== undefined ? { description: fields.description } : {}),
    });
    // Cinder's volume update replaces the user metadata when the body has it.
    if (fields.metadata !== undefined) {
      await manager.setVolumeMetadata(id, fields.metadata, true);
      updated = await manager.getVolume(id);
    }
    return c.json({ volume: render(c, updated) });
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'volume:delete');
    const id = idParam(c);
    await visible(c, id, 'volume:delete');
    const { cascade } = parseQuery(c, volumeDeleteQuerySchema);
    await manager.deleteVolume(id, false, cascade === true);
    return c.body(null, 202);
  });

  app.get('/:id/transitions', async (c) => {
    authorize(c, 'volume:transitions');
    const id = idParam(c);
    return transitionsResponse(c, id, 'volume:transitions', `Volume ${id} could not be found.`, { owner: manager.volumeOwner, history: manager.volumeTransitions });
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, volumeActionSchemas);
    await visible(c, id, VOLUME_ACTION_RULE[request.action]);
    switch (request.action) {
      case 'os-reserve':
        await manager.reserveVolume(id);
        return c.body(null, 202);
      case 'os-unreserve':
        await manager.unreserveVolume(id);
        return c.body(null, 202);
      case 'os-initialize_connection': {
        const connector = request.body['os-initialize_connection'].connector;
        const info = await manager.initializeConnection(id, typeof connector === 'string' ? { connector } : connector);
        return c.json({ connection_info: info });
      }
      case 'os-terminate_connection':
        return c.body(null, 202);
      case 'os-attach': {
        const a = request.body['os-attach'];
        await manager.attachVolume(id, { instanceUuid: a.instance_uuid ?? null, mountpoint: a.mountpoint });
        return c.body(null, 202);
      }
      case 'os-begin_detaching':
        await manager.beginDetaching(id);
        return c.body(null, 202);
      case 'os-roll_detaching':
        await manager.rollDetaching(id);
        return c.body(null, 202);
      case 'os-detach':
        await manager.detachVolume(id, request.body['os-detach']?.attachment_id ?? null);
        return c.body(null, 202);
      case 'os-reset_status': {
        const r = request.body['os-reset_status'];
        await manager.resetVolumeStatus(id, { status: r.status ?? null, attachStatus: r.attach_status ?? null });
        return c.body(null, 202);
      }
      case 'os-force_delete':
        await manager.deleteVolume(id, true);
        return c.body(null, 202);
      case 'os-set_bootable':
        await manager.updateVolume(id, { bootable: request.body['os-set_bootable'].bootable });
        // Cinder answers this action 200 with no body.
        return c.body(null, 200);
      case 'os-update_readonly_flag':
        await manager.updateVolumeReadonly(id, request.body['os-update_readonly_flag'].readonly);
        return c.body(null, 202);
      case 'os-retype':
        await manager.retypeVolume(id, request.body['os-retype'].new_type, { projectId: c.var.auth.projectId, isAdmin: c.var.auth.isAdmin });
        return c.body(null, 202);
      case 'os-extend':
        await manager.extendVolume(id, request.body['os-extend'].new_size);
        return c.body(null, 202);
    }
  });

  // User metadata (cinder/api/v3/volume_metadata.py), stored as snapshots' is.
  app.get('/:id/metadata', async (c) => {
    const id = idParam(c);
    await visible(c, id, 'volume:get_volume_metadata');
    return c.json({ metadata: await manager.volumeMetadata(id) });
  });
  const writeMetadata = (replace: boolean) => async (c: Context) => {
    const id = idParam(c);
    await visible(c, id, replace ? 'volume:update_volume_metadata' : 'volume:create_volume_metadata');
    const { metadata } = await parseBody(c, metadataBodySchema);
    return c.json({ metadata: await manager.setVolumeMetadata(id, metadata, replace) });
  };
  app.post('/:id/metadata', writeMetadata(false));
  app.put('/:id/metadata', writeMetadata(true));
  app.get('/:id/metadata/:key', async (c) => {
    const id = idParam(c);
    await visible(c, id, 'volume:get_volume_metadata');
    const key = keyParam(c, id);
    const metadata = await manager.volumeMetadata(id);
    if (!Object.hasOwn(metadata, key)) throw notFound(`Volume ${id} has no metadata with key ${key}.`);
    return c.json({ meta: { [key]: metadata[key] } });
  });
  app.put('/:id/metadata/:key', async (c) => {
    const id = idParam(c);
    await visible(c, id, 'volume:update_volume_metadata');
    const key = c.req.param('key');
    const { meta } = await parseBody(c, metaItemBodySchema);
    if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
    await manager.setVolumeMetadata(id, meta, false);
    return c.json({ meta });
  });
  app.delete('/:id/metadata/:key', async (c) => {
    const id = idParam(c);
    await visible(c, id, 'volume:delete_volume_metadata');
    await manager.deleteVolumeMetadataKey(id, keyParam(c, id));
    return c.body(null, 200);
  });

  return app;
}
