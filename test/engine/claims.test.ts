// Outbox jobs are claimed under a lease: one worker holds a job, another takes it over once the
// lease has expired.
import { describe, expect, it } from 'vitest';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';
import { ManualClock } from '../support/doubles.js';
import { providers } from '../support/databases.js';
import { volumeFor } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

describe.each(providers)('job claims on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('lets only one worker hold a job, and hands it to another once the lease expires', async () => {
    const clock = new ManualClock();
    const h = await setup({ clock, leaseMs: 10_000 });
    const volume = await volumeFor(h, false);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    const first = await h.worker.claim();
    expect(first?.kind).toBe('createSnapshot');
    const other = new OutboxWorker(h.engine, h.driver, h.compute, { leaseMs: 10_000 });
    expect(await other.claim()).toBeNull();
    clock.advance(11);
    const reports = await other.drain();
    expect(reports.map((r) => [r.kind, r.result])).toEqual([['createSnapshot', 'ran']]);
    const job = await h.db.prisma.outboxJob.findFirstOrThrow({ where: { snapshotId: snap.id } });
    expect([job.status, job.attempts]).toEqual(['done', 2]);
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');
  });
});
