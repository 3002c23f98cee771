// The group committer: events that arrive together share one transaction, yet each gets the
// answer it would have had alone; results carry the version their job was queued at; a passing
// driver fault is retried instead of failing the snapshot.
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import type { BatchWrites } from '../../src/engine/store/index.js';
import { providers, freshDatabaseUrl } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

describe.each(providers)('group commit on %s', (provider) => {
  let h: Harness;
  let other: Engine | undefined;
  afterEach(async () => {
    await h?.close();
    other = undefined;
  });
  const setup = async (opts: Parameters<typeof harness>[1] = {}) => {
    h = await harness(await freshDatabaseUrl(provider), opts);
    return h;
  };
  /** Counts the transactions the engine commits, and what each held. */
  const watchBatches = () => {
    const batches: BatchWrites[] = [];
    const commit = h.engine.store.commitBatch;
    h.engine.store.commitBatch = (w, now, before) => {
      batches.push(w);
      return commit(w, now, before);
    };
    return batches;
  };
  /** An attached volume's snapshot waiting for compute's create callback. */
  const waiting = async () => {
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.drain();
    return h.manager.getSnapshot(snap.id);
  };

  it('gives each event of one batch its own outcome: accepted, chained, refused, conflicting, re-read, unknown', async () => {
    await setup();
    const [a, b, c, d] = [await waiting(), await waiting(), await waiting(), await waiting()];
    // Another process moves d on after this one read it: the handed-in row is stale.
    other = new Engine(h.db, { clock: h.clock.now });
    await other.deliver({ snapshotId: d.id, event: { type: 'compute.status', status: 'creating', progress: '40%' }, source: 'compute' });

    const batches = watchBatches();
    const progress = (p: string) => ({ type: 'compute.status' as const, status: 'creating', progress: p });
    const outcomes = await Promise.all([
      h.engine.deliver({ snapshotId: a.id, event: progress('50%'), source: 'compute', row: a }),
      // Chains on the event before it in the same batch.
      h.engine.deliver({ snapshotId: a.id, event: { type: 'compute.status', status: 'creating', computeStatus: 'complete' }, source: 'compute', row: a }),
      // Cinder's table forbids creating -> deleting: refused and recorded.
      h.engine.deliver({ snapshotId: b.id, event: { type: 'compute.status', status: 'deleting' }, source: 'compute', row: b }),
      h.engine.deliver({ snapshotId: c.id, event: { type: 'admin.reset_status', status: 'error' }, source: 'admin', expectedVersion: c.version - 1 }),
      h.engine.deliver({ snapshotId: d.id, event: progress('60%'), source: 'compute', row: d }),
      h.engine.deliver({ snapshotId: '00000000-0000-0000-0000-000000000000', event: progress('1%'), source: 'compute' }),
    ]);

    expect(outcomes.map((o) => o.kind)).toEqual(['accepted', 'accepted', 'rejected', 'conflict', 'accepted', 'not_found']);
    // One transaction for all of them, plus one more for the event that met a moved-on row.
    expect(batches).toHaveLength(2);
    expect(batches[1].updates.map((u) => u.id)).toEqual([d.id]);
    const [first, second, , , reread] = outcomes;
    expect(first.kind === 'accepted' && [first.version, first.toPhase]).toEqual([a.version + 1, 'creating.computeAssisted']);
    expect(second.kind === 'accepted' && [second.version, second.toPhase]).toEqual([a.version + 2, 'creating.storageComplete']);
    expect(reread.kind === 'accepted' && [reread.version, reread.attempts]).toEqual([d.version + 2, 2]);

    const rowB = await h.manager.getSnapshot(b.id);
    expect([rowB.version, rowB.updatedAt]).toEqual([b.version, b.updatedAt]);
    expect((await h.manager.transitions(b.id)).at(-1)).toMatchObject({ rejected: true, version: b.version, eventType: 'compute.status' });
    expect((await h.manager.getSnapshot(c.id)).version).toBe(c.version);
    const rowD = await h.manager.getSnapshot(d.id);
    expect([rowD.progress, rowD.version]).toEqual(['60%', d.version + 2]);
    // Versions stay gap-free: every accepted history row carries the next version.
    for (const s of [a, d]) {
      const accepted = (await h.manager.transitions(s.id)).filter((t) => !t.rejected).map((t) => t.version);
      expect(accepted).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 1));
    }
  });

  it('refuses a stale job result: a delete force-deleted before its begin ran', async () => {
    await setup();
    const snap = await waiting();
    await h.manager.updateSnapshotStatus(snap.id, { status: 'creating', computeSnapshotStatus: 'complete' });
    await h.worker.drain();
    await h.manager.deleteSnapshot(snap.id);
    const stale = await h.worker.claim();
    expect(stale?.kind).toBe('deleteSnapshotAssistedBegin');
    // The admin force-deletes: the snapshot re-enters the same phase at a newer version.
    await h.manager.forceDeleteSnapshot(snap.id);
    const atForce = await h.manager.getSnapshot(snap.id);
    expect(atForce.phase).toBe(stale!.phase);

    const outcome = await h.engine.deliver({
      snapshotId: snap.id,
      event: { type: 'storage.done', phase: stale!.phase },
      source: 'driver',
      completesJob: stale!.id,
      expectedVersion: stale!.version,
    });
    expect(outcome).toMatchObject({ kind: 'rejected', version: atForce.version });
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/^stale storage\.done: its job was queued at version \d+, the snapshot is at version \d+/);
    expect((await h.manager.getSnapshot(snap.id)).phase).toBe('deleting.storageBegin');
    const job = await h.db.prisma.outboxJob.findUniqueOrThrow({ where: { id: stale!.id } });
    expect(job.status).toBe('cancelled');

    // The worker does not even run a job whose visit is over; the new visit's job runs.
    const invocations = h.driver.journal.invocations().length;
    const reports = await h.worker.drain();
    expect(reports.map((r) => [r.kind, r.result])).toEqual([['deleteSnapshotAssistedBegin', 'ran'], ['requestComputeDelete', 'ran']]);
    expect(h.driver.journal.invocations().length).toBe(invocations + 1);
  });

  it('retries a driver phase that failed with a passing fault, then succeeds', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    h.driver.transientNext.push('createSnapshot', 'createSnapshot');
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    expect((await h.worker.drain()).map((r) => r.result)).toEqual(['retrying']);
    // Not runnable before its backoff has passed.
    expect(await h.worker.drain()).toEqual([]);
    h.clock.advance(0.25);
    expect((await h.worker.drain()).map((r) => r.result)).toEqual(['retrying']);
    h.clock.advance(0.5);
    expect((await h.worker.drain()).map((r) => r.result)).toEqual(['ran']);
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['available', null]);
    const job = await h.db.prisma.outboxJob.findFirstOrThrow({ where: { snapshotId: snap.id } });
    expect([job.status, job.attempts, job.lastError]).toEqual(['done', 3, 'EIO: i/o error, injected in createSnapshot']);
  });

  it('fails the snapshot once a passing fault outlasts the attempts', async () => {
    await setup();
    const volume = await volumeFor(h, false);
    const worker = new (h.worker.constructor as typeof import('../../src/engine/outbox-worker.js').OutboxWorker)(h.engine, h.driver, h.compute, { maxAttempts: 2, leaseMs: 60_000 });
    h.driver.transientNext.push('createSnapshot', 'createSnapshot', 'createSnapshot');
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    expect((await worker.drain()).map((r) => r.result)).toEqual(['retrying']);
    h.clock.advance(1);
    expect((await worker.drain()).map((r) => r.result)).toEqual(['ran']);
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['error', 'driver_error: EIO: i/o error, injected in createSnapshot']);
  });

  it('commits the creates of one batch together, and refuses alone a create whose volume moved on', async () => {
    await setup();
    const [v1, v2] = [await volumeFor(h, false), await volumeFor(h, false)];
    const batches = watchBatches();
    const results = await Promise.allSettled([
      h.manager.createSnapshot({ volumeId: v1.id, projectId: 'project-a', userId: 'user-a' }),
      h.manager.createSnapshot({ volumeId: v2.id, projectId: 'project-a', userId: 'user-a' }),
      h.manager.createSnapshot({ volumeId: v2.id, projectId: 'project-a', userId: 'user-a' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(batches).toHaveLength(1);
    expect(batches[0].inserts).toHaveLength(3);
    // The volume's status moved on between the read and the commit: refused alone.
    const [v3, v4] = [await volumeFor(h, false), await volumeFor(h, false)];
    const stale = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: v3.id } });
    await h.db.prisma.volume.update({ where: { id: v3.id }, data: { status: 'maintenance' } });
    const outcomes = await Promise.all([
      h.engine.start({ id: crypto.randomUUID(), volumeId: v3.id, projectId: 'p', userId: 'u', name: null, description: null, volumeSize: 1, metadata: {} }, { type: 'snapshot.create', assisted: false }, 'api', { volumeId: v3.id, status: stale.status }),
      h.engine.start({ id: crypto.randomUUID(), volumeId: v4.id, projectId: 'p', userId: 'u', name: null, description: null, volumeSize: 1, metadata: { k: 'v' } }, { type: 'snapshot.create', assisted: false }, 'api', { volumeId: v4.id, status: 'available' }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['refused', 'accepted']);
    expect(await h.db.prisma.snapshot.count({ where: { volumeId: v3.id } })).toBe(0);
    expect(await h.db.prisma.snapshotMetadata.count({ where: { snapshot: { volumeId: v4.id } } })).toBe(1);
  });
});
