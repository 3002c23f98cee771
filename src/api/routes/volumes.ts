// /v3/{project_id}/volumes: create, list, show, update, delete, and the legacy attach actions
// Nova uses (reserve, initialize_connection, attach, begin_detaching, detach), and the volume
// machine's history (an admin extension of ours, as for snapshots).
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { assertVisible, authorize, grantedByRole, type PolicyRule } from '../../http/policy/index.js';
import { volumeActionSchemas, volumeCreateSchema, volumeListQuerySchema, volumeUpdateSchema } from '../schemas/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import { notFound } from '../../http/faults/index.js';
import { volumeSummaryView, volumeView, collectionPage, transitionView } from '../views.js';
import type { VolumeManager } from '../../manager/volume-manager.js';

export function volumeRoutes(manager: VolumeManager) {
  const app = new Hono();
  const selfUrl = (c: Context, id: string) => new URL(`${c.req.path.replace(/\/volumes.*$/, '')}/volumes/${id}`, c.req.url).toString();
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Volume');
  /** The volume if the caller may see it and, given `rule`, act on it under that rule (owner checks read the row). */
  const visible = async (c: Context, id: string, rule?: PolicyRule) => {
    const volume = await manager.getVolume(id);
    assertVisible(c.var.auth, volume.projectId, `Volume ${id} could not be found.`);
    if (rule) authorize(c, rule, volume);
    return volume;
  };
  /** Renders a row the handler already holds (with its live attachments). */
  const render = (c: Context, v: Parameters<typeof volumeView>[0]) => volumeView(v, selfUrl(c, v.id), { admin: grantedByRole(c, 'volume:all_tenants') });

  app.post('/', async (c) => {
    authorize(c, 'volume:create');
    // Only blank volumes: the schema takes the other sources as null only.
    const { volume: body } = await parseBody(c, volumeCreateSchema);
    const created = await manager.createVolume({
      projectId: c.var.auth.projectId,
      userId: c.var.auth.userId,
      size: body.size,
      name: body.name ?? null,
      description: body.description ?? null,
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
    await manager.deleteVolume(id);
    return c.body(null, 202);
  });

  app.get('/:id/transitions', async (c) => {
    authorize(c, 'volume:transitions');
    const id = idParam(c);
    // The history outlives the volume: a deleted volume's path to `deleted` stays readable.
    const owner = await manager.volumeOwner(id);
    if (!owner) throw notFound(`Volume ${id} could not be found.`);
    if (!grantedByRole(c, 'volume:transitions')) {
      assertVisible(c.var.auth, owner.projectId, `Volume ${id} could not be found.`);
      authorize(c, 'volume:transitions', { id, ...owner });
    }
    return c.json({ transitions: (await manager.volumeTransitions(id)).map(transitionView) });
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, volumeActionSchemas);
    const volume = await visible(c, id);
    switch (request.action) {
      case 'os-reserve':
        authorize(c, 'volume:reserve', volume);
        await manager.reserveVolume(id);
        return c.body(null, 202);
      case 'os-unreserve':
        authorize(c, 'volume:unreserve', volume);
        await manager.unreserveVolume(id);
        return c.body(null, 202);
      case 'os-initialize_connection': {
        authorize(c, 'volume:initialize_connection', volume);
        const connector = request.body['os-initialize_connection'].connector;
        const info = await manager.initializeConnection(id, typeof connector === 'string' ? { connector } : connector);
        return c.json({ connection_info: info });
      }
      case 'os-terminate_connection':
        authorize(c, 'volume:terminate_connection', volume);
        return c.body(null, 202);
      case 'os-attach': {
        authorize(c, 'volume:attach', volume);
        const a = request.body['os-attach'];
        await manager.attachVolume(id, { instanceUuid: a.instance_uuid ?? null, mountpoint: a.mountpoint });
        return c.body(null, 202);
      }
      case 'os-begin_detaching':
        authorize(c, 'volume:begin_detaching', volume);
        await manager.beginDetaching(id);
        return c.body(null, 202);
      case 'os-roll_detaching':
        authorize(c, 'volume:roll_detaching', volume);
        await manager.rollDetaching(id);
        return c.body(null, 202);
      case 'os-detach':
        authorize(c, 'volume:detach', volume);
        await manager.detachVolume(id, request.body['os-detach']?.attachment_id ?? null);
        return c.body(null, 202);
      case 'os-reset_status': {
        authorize(c, 'volume:reset_status', volume);
        const r = request.body['os-reset_status'];
        await manager.resetVolumeStatus(id, { status: r.status ?? null, attachStatus: r.attach_status ?? null });
        return c.body(null, 202);
      }
      case 'os-force_delete':
        authorize(c, 'volume:force_delete', volume);
        await manager.deleteVolume(id, true);
        return c.body(null, 202);
    }
  });

  return app;
}
