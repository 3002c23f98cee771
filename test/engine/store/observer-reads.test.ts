// What the store hands the observers and the manager's reads beyond the hot path: the UI's
// overview, the history read as a feed, the replay of a snapshot's accepted history, the volume
// stamp, the counts metrics scrape, a volume with its live attachments, and a page whose marker
// is unknown.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest } from '../../../src/manager/errors.js';
import { freshDatabaseUrl, providers } from '../../support/databases.js';
import { deletedVolume, harness, volumeFor, type Harness } from '../../support/harness.js';

describe.each(providers)('store reads on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });
  const setup = async () => {
    h = await harness(await freshDatabaseUrl(provider));
    return h.engine.store;
  };

  it('reads the overview (volumes) of one project or of all, live rows only, oldest first', async () => {
    const store = await setup();
    const a = await volumeFor(h, false, 'project-a');
    h.clock.advance(1);
    const b = await volumeFor(h, false, 'project-b');
    h.clock.advance(1);
    const gone = await volumeFor(h, false, 'project-a');
    await deletedVolume(h, gone.id);
    const mine = await store.readOverview('project-a');
    expect(mine.volumes.map((v) => v.id)).toEqual([a.id]);
    const all = await store.readOverview(null);
    expect(all.volumes.map((v) => v.id)).toEqual([a.id, b.id]);
  });

  it('reads the history as a feed: where it ends, and what came after, leaving out ids already had', async () => {
    const store = await setup();
    expect(await store.lastHistoryId()).toBe(0);
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    await h.worker.drain();
    const ids = (await h.manager.transitions(snap.id)).map((t) => t.id);
    expect(ids).toHaveLength(2);
    expect(await store.lastHistoryId()).toBe(ids[1]);
    expect((await store.historySince(0, [], 10)).map((t) => t.id)).toEqual(ids);
    expect((await store.historySince(0, [ids[0]], 10)).map((t) => t.id)).toEqual([ids[1]]);
    expect((await store.historySince(0, [], 1)).map((t) => t.id)).toEqual([ids[0]]);
    expect(await store.historySince(ids[1], [], 10)).toEqual([]);
  });

  it("replays a snapshot's accepted history before a row, without the rejected rows", async () => {
    const store = await setup();
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    await expect(h.manager.updateSnapshotStatus(snap.id, { status: 'deleting' })).rejects.toThrow(InvalidRequest);
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', progress: '50%' });
    const history = await h.manager.transitions(snap.id);
    expect(history.map((t) => t.rejected)).toEqual([false, false, true, false]);
    const before = await store.acceptedHistoryBefore(snap.id, history[3].id);
    expect(before.map((t) => t.id)).toEqual([history[0].id, history[1].id]);
  });

  it('stamps the volumes with their count, latest change and newest history row', async () => {
    const store = await setup();
    const expected = async () => {
      const rows = await h.db.prisma.volume.findMany();
      const history = await h.db.prisma.volumeTransition.findMany();
      return `${rows.length}/${Math.max(0, ...rows.map((r) => r.updatedAt.getTime()))}/${Math.max(0, ...history.map((t) => t.id))}`;
    };
    const empty = await store.volumeStamp();
    expect(empty).toBe('0/0/0');
    const volume = await volumeFor(h, false);
    const created = await store.volumeStamp();
    expect(created).not.toBe(empty);
    expect(created).toBe(await expected());
    await h.manager.updateVolume(volume.id, { name: 'renamed' });
    expect(await store.volumeStamp()).toBe(await expected());
    // A soft delete keeps the count; the change shows in the latest update.
    await deletedVolume(h, volume.id);
    expect(await store.volumeStamp()).toBe(await expected());
    expect((await store.volumeStamp()).startsWith('1/')).toBe(true);
    // A refused event changes no row, but it is in the history: the stamp moves.
    const before = await store.volumeStamp();
    await expect(h.manager.reserveVolume((await volumeFor(h, true)).id)).rejects.toThrow(/to reserve/);
    const after = await store.volumeStamp();
    expect(after).not.toBe(before);
    expect(after).toBe(await expected());
  });

  it('counts snapshots per phase (deleted ones too), pending jobs per effect kind and the oldest due one', async () => {
    const store = await setup();
    expect([await store.snapshotsPerPhase(), await store.pendingJobsPerKind()]).toEqual([new Map(), new Map()]);
    const offline = await volumeFor(h, false);
    const online = await volumeFor(h, true);
    await h.manager.createSnapshot({ volumeId: offline.id, projectId: 'project-a', userId: 'user-a' });
    await h.manager.createSnapshot({ volumeId: offline.id, projectId: 'project-a', userId: 'user-a' });
    await h.manager.createSnapshot({ volumeId: online.id, projectId: 'project-a', userId: 'user-a', force: true });
    expect(await store.snapshotsPerPhase()).toEqual(new Map([['creating.driverCreate', 2], ['creating.storageBegin', 1]]));
    expect(await store.pendingJobsPerKind()).toEqual(new Map([['createSnapshot', 2], ['createSnapshotAssistedBegin', 1]]));
    // The outbox's lag: when the oldest pending job of each kind became due; none is due before
    // it was enqueued.
    const jobs = await h.engine.store.db.prisma.outboxJob.findMany({ where: { status: 'pending' } });
    const earliest = (kind: string) => new Date(Math.min(...jobs.filter((j) => j.kind === kind).map((j) => j.runAfter.getTime())));
    expect(await store.oldestDueJobs(new Date('2999-01-01T00:00:00Z'))).toEqual(new Map([['createSnapshot', earliest('createSnapshot')], ['createSnapshotAssistedBegin', earliest('createSnapshotAssistedBegin')]]));
    expect(await store.oldestDueJobs(new Date(earliest('createSnapshot').getTime() - 1))).toEqual(new Map());
    await h.worker.drain();
    expect(await store.pendingJobsPerKind()).toEqual(new Map());
    expect(await store.oldestDueJobs(new Date('2999-01-01T00:00:00Z'))).toEqual(new Map());
  });

  it('reads a volume with its live attachments, and null for an unknown one; an unknown marker pages nothing', async () => {
    const store = await setup();
    const volume = await volumeFor(h, true);
    expect((await store.readVolume(volume.id))?.attachments.map((a) => a.deleted)).toEqual([false]);
    await h.manager.detachVolume(volume.id);
    expect((await store.readVolume(volume.id))?.attachments).toEqual([]);
    expect(await store.readVolume('nope')).toBeNull();
    const page = { projectId: null, filters: {}, orderBy: [{ column: 'id' as const, dir: 'asc' as const }], take: 10, marker: 'nope' };
    expect(await store.listVolumes(page)).toBeNull();
    expect(await store.listSnapshots(page)).toBeNull();
  });
});
