// /v3/{project_id}/volumes: create, list, show, update, delete, and the legacy attach actions
// Nova uses (reserve, initialize_connection, attach, begin_detaching, detach), and the volume
// machine's history (an admin extension of ours, as for snapshots).
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { assertVisible, authorize, grantedByRole, type PolicyRule } from '../../http/policy/index.js';
import { volumeActionSchemas, volumeCreateSchema, volumeDeleteQuerySchema, volumeListQuerySchema, volumeUpdateSchema, type VolumeActionName } from '../schemas/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import { volumeSummaryView, volumeView, collectionPage } from '../views.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { transitionsResponse } from './transitions.js';

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
  /** Renders a row the handler already holds (with its live attachments). */
  const render = (c: Context, v: Parameters<typeof volumeView>[0]) => volumeView(v, selfUrl(c, v.id), { admin: grantedByRole(c, 'volume:all_tenants') });

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
    const rows = await manager.listVolumes({
      projectId: allTenants ? null : c.var.auth.projectId,
      filters: q.filters,
      limit: q.limit,
      offset: q.offset,
      marker: q.marker,
      sort: q.sort,
    });
    const admin = grantedByRole(c, 'volume:all_tenants');
    const volumes = rows.map((v) => (detail ? volumeView(v, selfUrl(c, v.id), { admin }) : volumeSummaryView(v, selfUrl(c, v.id))));
    return c.json(collectionPage(c.req.url, 'volumes', volumes, rows.at(-1)?.id, q.limit));
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/:id', async (c) => {
    authorize(c, 'volume:get');
    return c.json({ volume: render(c, await visible(c, idParam(c), 'volume:get')) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'volume:update');
    const id = idParam(c);
    await visible(c, id, 'volume:update');
    const { volume: fields } = await parseBody(c, volumeUpdateSchema);
    const updated = await manager.updateVolume(id, {
      ...(fields.name !== undefined ? { name: fields.name } : {}),
      ...(fields.description !== undefined ? { description: fields.description } : {}),
    });
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
      case 'os-extend':
        await manager.extendVolume(id, request.body['os-extend'].new_size);
        return c.body(null, 202);
    }
  });

  return app;
}
