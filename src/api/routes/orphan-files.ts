// GET /v3/{project_id}/os-orphan-files: an admin extension (Cinder has none). Lists the files in
// the backend that no volume or snapshot owns, scanned at the time of the request; the service
// never removes them, an operator decides.
import { Hono } from 'hono';
import { authorize } from '../../http/policy/index.js';
import type { VolumeManager } from '../../manager/volume-manager.js';
import type { OrphanFilesView } from '../schemas/responses.js';

export function orphanFileRoutes(manager: VolumeManager) {
  const app = new Hono();
  app.get('/', async (c) => {
    authorize(c, 'orphan_files:get_all');
    const scan = await manager.scanOrphanFiles();
    const view: OrphanFilesView = {
      orphan_files: scan.files.map((f) => ({ name: f.name, size: f.size, modified_at: f.modifiedAt, reason: f.why })),
      scanned_at: scan.scannedAt.toISOString(),
    };
    return c.json(view);
  });
  return app;
}
