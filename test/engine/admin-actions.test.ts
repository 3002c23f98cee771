// Admin reset and force-delete work from any phase; the queued work of the abandoned phase is
// cancelled, not run.
import { describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('admin actions on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('lets an admin reset and force-delete from any phase; work of the abandoned phase is cancelled, not run', async () => {
    const h = await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.manager.resetSnapshotStatus(snap.id, 'error');
    const reports = await h.worker.drain();
    expect(reports.map((r) => r.result)).toEqual(['cancelled']);
    expect(h.driver.journal.invocations()).toEqual([]);
    expect((await h.manager.getSnapshot(snap.id)).errorReason).toBe('reset_by_admin');
    await h.manager.forceDeleteSnapshot(snap.id);
    await h.worker.drain();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'deleting', progress: '90%' });
    await h.worker.drain();
    expect((await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: snap.id } })).status).toBe('deleted');
  });
});
