// /v3/{project_id}/groups (microversion 3.13) and /v3/{project_id}/group_snapshots (3.14), as
// cinder/api/v3/groups.py and group_snapshots.py: each request becomes an event of the group's
// or group snapshot's machine (src/manager/group-commands.ts). The machines' histories are an
// admin extension, as for volumes and snapshots.
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { assertVisible, authorize, grantedByRole } from '../../http/policy/index.js';
import { parseUuidParam } from '../../http/validation/index.js';
import type { GroupRow } from '../../engine/store/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { groupSnapshotView, groupView } from '../group-views.js';
import { groupActionSchemas, groupCreateFromSrcSchema, groupCreateSchema, groupSnapshotActionSchemas, groupSnapshotCreateSchema, groupUpdateSchema } from '../schemas/index.js';
import { atLeast, requireVersion } from '../version.js';
import { transitionsResponse } from './transitions.js';

/** Comma-separated volume ids, as Cinder's add_volumes / remove_volumes. */
const idList = (text: string | null | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

export function groupRoutes(manager: VolumeManager) {
  const app = new Hono();
  const groups = manager.groups;
  app.use('*', async (c, next) => {
    requireVersion(c, '3.13');
    await next();
  });
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Group');
  const visible = async (c: Context, id: string, rule: 'group:get' | 'group:update' | 'group:delete' | 'group:reset_status') => {
    const g = await groups.group(id);
    assertVisible(c.var.auth, g.projectId, `Group ${id} could not be found.`);
    authorize(c, rule, g);
    return g;
  };
  const render = (c: Context, g: GroupRow, volumes?: string[]) => groupView(g, { sources: atLeast(c, '3.14'), ...(volumes ? { volumes } : {}) });

  app.post('/', async (c) => {
    authorize(c, 'group:create');
    const { group: body } = await parseBody(c, groupCreateSchema);
    const created = await groups.createGroup({
      projectId: c.var.auth.projectId,
      userId: c.var.auth.userId,
      name: body.name ?? null,
      description: body.description ?? null,
      groupTypeId: body.group_type,
      volumeTypeIds: body.volume_types,
      availabilityZone: body.availability_zone ?? null,
    });
    return c.json({ group: { id: created.id, name: created.name } }, 202);
  });

  // Registered before /:id/action; Cinder's create_from_src (3.14), under group:create.
  app.post('/action', async (c) => {
    requireVersion(c, '3.14');
    authorize(c, 'group:create');
    const { 'create-from-src': body } = await parseBody(c, groupCreateFromSrcSchema);
    const groupSnapshotId = body.group_snapshot_id ?? null;
    const sourceGroupId = body.source_group_id ?? null;
    if (groupSnapshotId && sourceGroupId) throw badRequest('Cannot specify both group_snapshot_id and source_group_id.');
    if (!groupSnapshotId && !sourceGroupId) {
      throw badRequest(`Either 'group_snapshot_id' or 'source_group_id' must be provided to create group ${body.name ?? 'None'} from source.`);
    }
    const auth = c.var.auth;
    const created = await groups.createGroupFromSource({
      projectId: auth.projectId,
      userId: auth.userId,
      name: body.name ?? null,
      description: body.description ?? null,
      groupSnapshotId,
      sourceGroupId,
      canSee: (projectId) => projectId === auth.projectId || auth.isAdmin,
    });
    return c.json({ group: { id: created.id, name: created.name } }, 202);
  });

  const list = (detail: boolean) => async (c: Context) => {
    authorize(c, 'group:get_all');
    const rows = await groups.listGroups(c.var.auth.projectId);
    return c.json({ groups: rows.map((g) => (detail ? render(c, g) : { id: g.id, name: g.name })) });
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/:id', async (c) => {
    authorize(c, 'group:get');
    const g = await visible(c, idParam(c), 'group:get');
    const listVolumes = atLeast(c, '3.25') && ['true', '1', 'yes'].includes((c.req.query('list_volume') ?? '').toLowerCase());
    return c.json({ group: render(c, g, listVolumes ? (await manager.engine.store.groups.groupMembers(g.id)).map((v) => v.id) : undefined) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'group:update');
    const id = idParam(c);
    await visible(c, id, 'group:update');
    const { group: body } = await parseBody(c, groupUpdateSchema);
    const addVolumes = idList(body.add_volumes);
    const removeVolumes = idList(body.remove_volumes);
    if (body.name === undefined && body.description === undefined && addVolumes.length === 0 && removeVolumes.length === 0) {
      throw badRequest('Name, description, add_volumes, and remove_volumes can not be all empty in the request body.');
    }
    await groups.updateGroup(id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      addVolumes,
      removeVolumes,
    });
    return c.body(null, 202);
  });

  app.get('/:id/transitions', async (c) => {
    authorize(c, 'group:transitions');
    const id = idParam(c);
    return transitionsResponse(c, id, 'group:transitions', `Group ${id} could not be found.`, {
      owner: async (gid) => manager.engine.store.groups.findGroup(gid),
      history: (gid) => groups.groupHistory(gid),
    });
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, groupActionSchemas);
    switch (request.action) {
      case 'delete': {
        await visible(c, id, 'group:delete');
        await groups.deleteGroup(id, request.body.delete?.['delete-volumes'] ?? false);
        return c.body(null, 202);
      }
      case 'reset_status': {
        requireVersion(c, '3.20');
        await visible(c, id, 'group:reset_status');
        await groups.resetGroupStatus(id, request.body.reset_status.status);
        return c.body(null, 202);
      }
    }
  });

  return app;
}

export function groupSnapshotRoutes(manager: VolumeManager) {
  const app = new Hono();
  const groups = manager.groups;
  app.use('*', async (c, next) => {
    requireVersion(c, '3.14');
    await next();
  });
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'GroupSnapshot');
  const visible = async (c: Context, id: string, rule: 'group:get_group_snapshot' | 'group:delete_group_snapshot' | 'group:reset_group_snapshot_status') => {
    const s = await groups.groupSnapshot(id);
    assertVisible(c.var.auth, s.projectId, `GroupSnapshot ${id} could not be found.`);
    authorize(c, rule, s);
    return s;
  };

  app.post('/', async (c) => {
    const { group_snapshot: body } = await parseBody(c, groupSnapshotCreateSchema);
    const group = await groups.group(body.group_id).catch(() => {
      throw notFound(`Group ${body.group_id} could not be found.`);
    });
    assertVisible(c.var.auth, group.projectId, `Group ${body.group_id} could not be found.`);
    authorize(c, 'group:create_group_snapshot', group);
    const created = await groups.createGroupSnapshot({
      groupId: group.id,
      projectId: c.var.auth.projectId,
      userId: c.var.auth.userId,
      name: body.name ?? null,
      description: body.description ?? null,
    });
    return c.json({ group_snapshot: { id: created.id, name: created.name, group_type_id: created.groupTypeId } }, 202);
  });

  const list = (detail: boolean) => async (c: Context) => {
    authorize(c, 'group:get_all_group_snapshots');
    const rows = await groups.listGroupSnapshots(c.var.auth.projectId);
    return c.json({ group_snapshots: rows.map((s) => (detail ? groupSnapshotView(s) : { id: s.id, name: s.name })) });
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/:id', async (c) => {
    authorize(c, 'group:get_group_snapshot');
    return c.json({ group_snapshot: groupSnapshotView(await visible(c, idParam(c), 'group:get_group_snapshot')) });
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'group:delete_group_snapshot');
    const id = idParam(c);
    await visible(c, id, 'group:delete_group_snapshot');
    await groups.deleteGroupSnapshot(id);
    return c.body(null, 202);
  });

  app.get('/:id/transitions', async (c) => {
    authorize(c, 'group:transitions');
    const id = idParam(c);
    return transitionsResponse(c, id, 'group:transitions', `GroupSnapshot ${id} could not be found.`, {
      owner: async (sid) => manager.engine.store.groups.findGroupSnapshot(sid),
      history: (sid) => groups.groupSnapshotHistory(sid),
    });
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, groupSnapshotActionSchemas);
    requireVersion(c, '3.19');
    await visible(c, id, 'group:reset_group_snapshot_status');
    await groups.resetGroupSnapshotStatus(id, request.body.reset_status.status);
    return c.body(null, 202);
  });

  return app;
}
