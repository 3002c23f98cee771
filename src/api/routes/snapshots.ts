// /v3/{project_id}/snapshots: Cinder's snapshot API, its actions, and two admin extensions of
// ours (admin_metadata, transitions). Lifecycle changes go through the manager and the machine;
// the handlers only authorize, validate and render.
import { Hono, type Context } from 'hono';
import { parseAction, parseBody } from '../../http/body/index.js';
import { badRequest, notFound } from '../../http/faults/index.js';
import { assertVisible, authorize, grantedByRole, isAllowed, type PolicyRule } from '../../http/policy/index.js';
import {
  METADATA_KEY_PATTERN,
  snapshotActionSchemas,
  snapshotCreateSchema,
  snapshotListQuerySchema,
  snapshotMetadataBodySchema,
  snapshotMetaItemBodySchema,
  snapshotUpdateSchema,
} from '../schemas/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import { MV, requestVersion, supports } from '../microversions.js';
import { snapshotView, collectionPage } from '../views.js';
import { transitionsResponse } from './transitions.js';
import type { SnapshotIdOrRow, VolumeManager } from '../../manager/volume-manager.js';
import type { Snapshot } from '../../db/client.js';

export function snapshotRoutes(manager: VolumeManager) {
  const app = new Hono();

  /**
   * The snapshot if the caller may see it (another project's snapshot is "not found") and `rule`
   * allows the caller on it (owner checks read the row).
   */
  const visible = async (c: Context, id: string, rule: PolicyRule) => {
    const snapshot = await manager.getSnapshot(id);
    assertVisible(c.var.auth, snapshot.projectId, `Snapshot ${id} could not be found.`);
    authorize(c, rule, snapshot);
    return snapshot;
  };
  /**
   * The snapshot an action under `rule` may touch: a rule that holds whatever the target (a role:
   * the compute service's callback, admins) reaches across projects; any other (an owner check a
   * POLICY_FILE may write) only the caller's own project, like every other route. Granted
   * whatever the target, there is nothing to check here: the id goes on and whoever needs the row reads
   * it (a callback's, with the rest of its batch); otherwise the row read to check is handed on.
   */
  const reachable = async (c: Context, id: string, rule: PolicyRule): Promise<SnapshotIdOrRow> =>
    grantedByRole(c, rule) ? id : visible(c, id, rule);
  /** What every view of this request shares: its microversion and whether Cinder would call the caller admin. */
  const viewContext = (c: Context) => ({ version: requestVersion(c), admin: grantedByRole(c, 'snapshot:all_tenants') });
  /**
   * Renders a row the handler already holds (Cinder's detailed view); only its metadata is read.
   * `extended`: the os-extended-snapshot-attributes fields, which Cinder adds to show only.
   */
  const render = async (c: Context, s: Snapshot, extended = false) =>
    snapshotView(s, await manager.metadata(s.id), {
      ...viewContext(c),
      detail: true,
      extended: extended && isAllowed(c, 'snapshot:extended_attributes', s),
    });
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Snapshot');
  /** A key outside the metadata key alphabet (NUL included) cannot exist: not found, not a query. */
  const keyParam = (c: Context) => {
    const key = c.req.param('key') ?? '';
    if (!METADATA_KEY_PATTERN.test(key)) throw notFound('Metadata item was not found');
    return key;
  };

  app.post('/', async (c) => {
    authorize(c, 'snapshot:create');
    const { snapshot: body } = await parseBody(c, snapshotCreateSchema);
    // An unknown volume and another project's volume get the same 404 (as Cinder's volume
    // lookup answers), so the answer does not tell which ids exist elsewhere.
    // A null volume_id passes Cinder's schema and is then not found.
    if (body.volume_id === null) throw notFound('Volume None could not be found.');
    const volume = await manager.getVolume(body.volume_id);
    assertVisible(c.var.auth, volume.projectId, `Volume ${body.volume_id} could not be found.`);
    // As Cinder: the volume is the target of snapshot:create.
    authorize(c, 'snapshot:create', volume);
    // From 3.66 an in-use volume needs no force flag, and force=false is refused (as Cinder).
    const inUseAllowed = supports(requestVersion(c), MV.SNAPSHOT_IN_USE);
    if (inUseAllowed && body.force === false) throw badRequest("Invalid value 'False' for force. Microversion 3.66 and later do not accept force=False.");
    const force = body.force ?? inUseAllowed;
    const created = await manager.createSnapshot({
      volumeId: volume.id,
      projectId: c.var.auth.projectId,
      userId: c.var.auth.userId,
      name: body.name ?? null,
      description: body.description ?? null,
      force,
      metadata: body.metadata ?? {},
    });
    return c.json({ snapshot: await render(c, created) }, 202);
  });

  // The plain list is Cinder's summary view; the detail list adds the fields of later
  // microversions and the extended attributes.
  const list = (detail: boolean) => async (c: Context) => {
    authorize(c, 'snapshot:get_all');
    const q = parseQuery(c, snapshotListQuerySchema);
    const allTenants = q.allTenants === true && grantedByRole(c, 'snapshot:all_tenants');
    const listOptions = {
      projectId: allTenants ? null : c.var.auth.projectId,
      filters: q.filters,
      limit: q.limit,
      offset: q.offset,
      marker: q.marker,
      sort: q.sort,
    };
    const rows = await manager.listSnapshots(listOptions);
    const snapshots = rows.map((s) =>
      snapshotView(s, Object.fromEntries(s.metadata.map((m) => [m.key, m.value])), {
        ...viewContext(c),
        detail,
        extended: detail && isAllowed(c, 'snapshot:extended_attributes', s),
      }),
    );
    const count = q.withCount && supports(requestVersion(c), MV.SUPPORT_COUNT_INFO) ? await manager.countSnapshots(listOptions) : undefined;
    return c.json(collectionPage(c.req.url, 'snapshots', snapshots, rows.at(-1)?.id, q.limit, count));
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/:id', async (c) => {
    authorize(c, 'snapshot:get');
    return c.json({ snapshot: await render(c, await visible(c, idParam(c), 'snapshot:get'), true) });
  });

  app.put('/:id', async (c) => {
    authorize(c, 'snapshot:update');
    const id = idParam(c);
    await visible(c, id, 'snapshot:update');
    const { snapshot: fields } = await parseBody(c, snapshotUpdateSchema);
    const updated = await manager.updateSnapshotFields(id, fields);
    return c.json({ snapshot: await render(c, updated) });
  });

  app.delete('/:id', async (c) => {
    authorize(c, 'snapshot:delete');
    const id = idParam(c);
    // Read once: the row authorised against is the row the event is offered to.
    await manager.deleteSnapshot(await visible(c, id, 'snapshot:delete'));
    return c.body(null, 202);
  });

  app.post('/:id/action', async (c) => {
    const id = idParam(c);
    const request = await parseAction(c, snapshotActionSchemas);
    switch (request.action) {
      case 'os-update_snapshot_status': {
        authorize(c, 'snapshot:update_snapshot_status');
        // The compute service calls under its own project; its role admits it across projects.
        const target = await reachable(c, id, 'snapshot:update_snapshot_status');
        const u = request.body['os-update_snapshot_status'];
        await manager.updateSnapshotStatus(target, {
          status: u.status,
          ...(u.progress !== undefined ? { progress: u.progress } : {}),
          ...(u.compute_snapshot_status !== undefined ? { computeSnapshotStatus: u.compute_snapshot_status } : {}),
          ...(u.compute_progress !== undefined ? { computeProgress: u.compute_progress } : {}),
        });
        return c.body(null, 202);
      }
      case 'os-reset_status':
        authorize(c, 'snapshot:reset_status');
        await manager.resetSnapshotStatus(await reachable(c, id, 'snapshot:reset_status'), request.body['os-reset_status'].status);
        return c.body(null, 202);
      case 'os-force_delete':
        authorize(c, 'snapshot:force_delete');
        await manager.forceDeleteSnapshot(await reachable(c, id, 'snapshot:force_delete'));
        return c.body(null, 202);
      case 'os-reconcile':
        authorize(c, 'snapshot:reconcile');
        await manager.reconcileSnapshot(await reachable(c, id, 'snapshot:reconcile'));
        return c.body(null, 202);
    }
  });

  app.get('/:id/metadata', async (c) => {
    authorize(c, 'snapshot:get');
    const id = idParam(c);
    await visible(c, id, 'snapshot:get');
    return c.json({ metadata: await manager.metadata(id) });
  });
  const writeMetadata = (replace: boolean) => async (c: Context) => {
    authorize(c, 'snapshot:update');
    const id = idParam(c);
    await visible(c, id, 'snapshot:update');
    const { metadata } = await parseBody(c, snapshotMetadataBodySchema);
    return c.json({ metadata: await manager.setSnapshotMetadata(id, metadata, replace) });
  };
  app.post('/:id/metadata', writeMetadata(false));
  app.put('/:id/metadata', writeMetadata(true));
  app.get('/:id/metadata/:key', async (c) => {
    authorize(c, 'snapshot:get');
    const id = idParam(c);
    await visible(c, id, 'snapshot:get');
    const key = keyParam(c);
    const metadata = await manager.metadata(id);
    if (!Object.hasOwn(metadata, key)) throw notFound('Metadata item was not found');
    return c.json({ meta: { [key]: metadata[key] } });
  });
  app.put('/:id/metadata/:key', async (c) => {
    authorize(c, 'snapshot:update');
    const id = idParam(c);
    await visible(c, id, 'snapshot:update');
    const key = c.req.param('key');
    const { meta } = await parseBody(c, snapshotMetaItemBodySchema);
    if (!Object.hasOwn(meta, key)) throw badRequest('Request body and URI mismatch');
    await manager.setSnapshotMetadata(id, meta, false);
    return c.json({ meta });
  });
  app.delete('/:id/metadata/:key', async (c) => {
    authorize(c, 'snapshot:update');
    const id = idParam(c);
    await visible(c, id, 'snapshot:update');
    await manager.deleteSnapshotMetadataKey(id, keyParam(c));
    return c.body(null, 200);
  });

  app.get('/:id/admin_metadata', async (c) => {
    authorize(c, 'snapshot:admin_metadata');
    const id = idParam(c);
    // An unknown (or deleted) snapshot is 404 whoever asks.
    const target = await reachable(c, id, 'snapshot:admin_metadata');
    if (typeof target === 'string') await manager.getSnapshot(target);
    return c.json({ admin_metadata: await manager.adminMetadata(id) });
  });
  app.get('/:id/transitions', async (c) => {
    authorize(c, 'snapshot:transitions');
    const id = idParam(c);
    return transitionsResponse(c, id, 'snapshot:transitions', `Snapshot ${id} could not be found.`, { owner: manager.snapshotOwner, history: manager.transitions });
  });

  return app;
}
