// Volume transfers: /v3/{project_id}/os-volume-transfer (every version) and, from 3.55,
// /v3/{project_id}/volume-transfers (cinder/api/v3/volume_transfer.py serves both; the newer one
// takes no_snapshots). The views follow the request's version, whichever URL it came by: 3.55
// adds no_snapshots, 3.57 the transfer's history (source and destination project, accepted).
import { Hono, type Context } from 'hono';
import { parseBody } from '../../http/body/index.js';
import { notFound } from '../../http/faults/index.js';
import { authorize } from '../../http/policy/index.js';
import { parseQuery, parseUuidParam } from '../../http/validation/index.js';
import type { TransferRow } from '../../engine/store/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import { transferAcceptSchema, transferCreateSchema, transferListQuerySchema } from '../schemas/index.js';
import type { TransferCreatedView, TransferSummaryView, TransferView } from '../schemas/transfers.js';
import { atLeast } from '../version.js';

const iso = (d: Date) => d.toISOString().replace('Z', '');

/** Cinder's TRANSFER_WITH_SNAPSHOTS and TRANSFER_WITH_HISTORY. */
const WITH_SNAPSHOTS = '3.55';
const WITH_HISTORY = '3.57';

export function transferRoutes(manager: VolumeManager, options: { since?: string } = {}) {
  const app = new Hono();
  // The newer URL does not exist before its version (a 404, as for any unknown resource).
  if (options.since) {
    const since = options.since;
    app.use('*', async (c, next) => {
      if (!atLeast(c, since)) throw notFound('The resource could not be found.');
      await next();
    });
  }
  const collection = (c: Context) => c.req.path.replace(/\/(os-volume-transfer|volume-transfers)(\/.*)?$/, '/$1');
  const links = (c: Context, id: string) => {
    const self = new URL(`${collection(c)}/${id}`, c.req.url).toString();
    return [
      { rel: 'self', href: self },
      { rel: 'bookmark', href: self.replace('/v3/', '/') },
    ];
  };
  const history = (c: Context, t: TransferRow) => ({
    ...(atLeast(c, WITH_SNAPSHOTS) ? { no_snapshots: t.noSnapshots } : {}),
    ...(atLeast(c, WITH_HISTORY) ? { destination_project_id: t.destinationProjectId, source_project_id: t.sourceProjectId, accepted: t.accepted } : {}),
  });
  const summary = (c: Context, t: TransferRow): TransferSummaryView => ({ id: t.id, volume_id: t.volumeId, name: t.displayName, links: links(c, t.id) });
  const detail = (c: Context, t: TransferRow): TransferView => ({
    id: t.id,
    created_at: iso(t.createdAt),
    name: t.displayName,
    volume_id: t.volumeId,
    links: links(c, t.id),
    ...history(c, t),
  });
  const idParam = (c: Context) => parseUuidParam(c, 'id', 'Transfer');
  const canSee = (c: Context) => (projectId: string) => c.var.auth.isAdmin || c.var.auth.projectId === projectId;

  app.post('/', async (c) => {
    const { transfer: body } = await parseBody(c, transferCreateSchema);
    // The target is the volume (transfer/api.py create authorizes on volume_ref).
    const volume = await manager.getVolume(body.volume_id);
    if (!canSee(c)(volume.projectId)) throw notFound(`Volume ${body.volume_id} could not be found.`);
    authorize(c, 'volume:create_transfer', volume);
    const created = await manager.transfers.create({
      volumeId: volume.id,
      name: body.name ?? null,
      noSnapshots: atLeast(c, WITH_SNAPSHOTS) ? (body.no_snapshots ?? false) : false,
    });
    const view: TransferCreatedView = {
      id: created.id,
      created_at: iso(created.createdAt),
      name: created.displayName,
      volume_id: created.volumeId,
      auth_key: created.authKey,
      links: links(c, created.id),
      ...history(c, created),
    };
    return c.json({ transfer: view }, 202);
  });

  const list = (detailed: boolean) => async (c: Context) => {
    authorize(c, 'volume:get_all_transfers');
    const q = parseQuery(c, transferListQuerySchema);
    const all = q.all_tenants === true && c.var.auth.isAdmin;
    const rows = await manager.transfers.list(all ? null : c.var.auth.projectId);
    return c.json({ transfers: rows.map((t) => (detailed ? detail(c, t) : summary(c, t))) });
  };
  app.get('/', list(false));
  app.get('/detail', list(true));

  app.get('/:id', async (c) => {
    const t = await manager.transfers.get(idParam(c), canSee(c));
    authorize(c, 'volume:get_transfer', { id: t.id, projectId: t.sourceProjectId, volumeId: t.volumeId });
    return c.json({ transfer: detail(c, t) });
  });

  app.delete('/:id', async (c) => {
    const id = idParam(c);
    const t = await manager.transfers.get(id, canSee(c));
    authorize(c, 'volume:delete_transfer', { id: t.id, projectId: t.sourceProjectId, volumeId: t.volumeId });
    await manager.transfers.delete(id, canSee(c));
    return c.body(null, 202);
  });

  app.post('/:id/accept', async (c) => {
    const id = idParam(c);
    authorize(c, 'volume:accept_transfer');
    const { accept } = await parseBody(c, transferAcceptSchema);
    const t = await manager.transfers.accept(id, accept.auth_key, { projectId: c.var.auth.projectId, userId: c.var.auth.userId });
    return c.json({ transfer: summary(c, t) }, 202);
  });

  return app;
}
