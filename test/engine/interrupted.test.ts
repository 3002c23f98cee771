// An effect cut short is not an answer: its child process killed by a signal, or a passing fault
// while the process shuts down, never fails the snapshot. During a shutdown the job is handed back
// at once, uncounted, for the next start; at any other time a killed child is retried like a
// passing fault. And the runner's two-step stop: claim nothing more, let the jobs in hand finish,
// then free whatever this worker still holds.
import { describe, expect, it } from 'vitest';
import type { SnapshotRef } from '../../src/drivers/driver.js';
import { OutboxWorker } from '../../src/engine/outbox-worker.js';
import { Runner } from '../../src/engine/runner.js';
import { isInterrupted } from '../../src/engine/transient.js';
import { providers } from '../support/databases.js';
import { volumeFor, type Harness } from '../support/harness.js';
import { engineFixture } from './engine-fixture.js';

const create = async (h: Harness) => {
  const volume = await volumeFor(h, false);
  return h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
};
const jobOf = (h: Harness, snapshotId: string) => h.db.prisma.outboxJob.findFirstOrThrow({ where: { snapshotId } });

describe('isInterrupted', () => {
  it('knows a child killed by a signal and an error flagged interrupted, and nothing else', () => {
    expect(isInterrupted(Object.assign(new Error('Command failed'), { signal: 'SIGTERM', code: null }))).toBe(true);
    expect(isInterrupted({ interrupted: true })).toBe(true);
    expect(isInterrupted(new Error('wrapped', { cause: { signal: 'SIGKILL' } }))).toBe(true);
    expect(isInterrupted(Object.assign(new Error('qemu-img failed (exit 1)'), { signal: null, interrupted: false }))).toBe(false);
    expect(isInterrupted(Object.assign(new Error('EIO'), { code: 'EIO' }))).toBe(false);
    expect(isInterrupted({ signal: new AbortController().signal })).toBe(false);
  });
});

describe.each(providers)('interrupted effects on %s', (provider) => {
  const { setup, history } = engineFixture(provider);

  it('during a shutdown: hands the job back uncounted, due at once; the next worker runs it and nothing failed', async () => {
    const h = await setup();
    h.driver.interruptNext.push('createSnapshot');
    const snap = await create(h);
    h.worker.beginShutdown();
    expect((await h.worker.runOne())?.result).toBe('interrupted');
    const job = await jobOf(h, snap.id);
    expect([job.status, job.attempts, job.lockedBy, job.runAfter.getTime() <= h.clock.now().getTime()]).toEqual(['pending', 0, null, true]);
    expect(job.lastError).toMatch(/killed by SIGTERM/);
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('creating');
    // Due now, and free: the next process's worker runs it at once.
    const next = new OutboxWorker(h.engine, h.driver, h.compute, { leaseMs: 60_000 });
    expect((await next.drain()).map((r) => r.result)).toEqual(['ran']);
    expect(await history(snap.id)).toEqual(['1 - -> creating.driverCreate [snapshot.create/api]', '2 creating.driverCreate -> available [storage.done/driver]']);
  });

  it('during a shutdown: a passing fault is handed back the same way', async () => {
    const h = await setup();
    h.driver.transientNext.push('createSnapshot');
    const snap = await create(h);
    h.worker.beginShutdown();
    expect((await h.worker.runOne())?.result).toBe('interrupted');
    const job = await jobOf(h, snap.id);
    expect([job.status, job.attempts, job.runAfter.getTime() <= h.clock.now().getTime()]).toEqual(['pending', 0, true]);
  });

  it('during a shutdown: a definite refusal is still the snapshot\'s failure', async () => {
    const h = await setup();
    h.driver.failNext.push('createSnapshot');
    const snap = await create(h);
    h.worker.beginShutdown();
    expect((await h.worker.runOne())?.result).toBe('ran');
    const row = await h.manager.getSnapshot(snap.id);
    expect([row.status, row.errorReason]).toEqual(['error', 'driver_error: injected failure in createSnapshot']);
  });

  it('outside a shutdown: a child killed by a signal is retried like a passing fault, never failed', async () => {
    const h = await setup();
    h.driver.interruptNext.push('createSnapshot');
    const snap = await create(h);
    expect((await h.worker.drain()).map((r) => r.result)).toEqual(['retrying']);
    const job = await jobOf(h, snap.id);
    expect([job.status, job.attempts, job.runAfter.getTime() - h.clock.now().getTime()]).toEqual(['pending', 1, 250]);
    h.clock.advance(0.25);
    expect((await h.worker.drain()).map((r) => r.result)).toEqual(['ran']);
    expect((await h.manager.getSnapshot(snap.id)).status).toBe('available');
    expect((await history(snap.id)).filter((l) => l.includes('storage.failed'))).toEqual([]);
  });
});

/** A driver phase that waits until released, announcing each call. */
function holdCreates(h: Harness) {
  const original = h.driver.createSnapshot;
  const started: string[] = [];
  let onStart: () => void = () => {};
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  h.driver.createSnapshot = async (s: SnapshotRef) => {
    started.push(s.id);
    onStart();
    await released;
    return original(s);
  };
  const startedCount = (n: number) =>
    new Promise<void>((resolve) => {
      onStart = () => started.length >= n && resolve();
      onStart();
    });
  return { started, startedCount, release };
}

describe.each(providers)('the runner stopping on %s', (provider) => {
  const { setup } = engineFixture(provider);

  it('claims nothing once stopClaiming is called, and settles when the jobs in hand are done', async () => {
    const h = await setup();
    const held = holdCreates(h);
    const first = await create(h);
    const runner = new Runner(h.engine, h.worker, { pollMs: 20, concurrency: 1 });
    runner.start();
    await held.startedCount(1);
    const second = await create(h);
    runner.stopClaiming();
    held.release();
    await runner.settled();
    expect(held.started).toEqual([first.id]);
    expect((await h.manager.getSnapshot(first.id)).status).toBe('available');
    const job = await jobOf(h, second.id);
    expect([job.status, job.attempts, job.lockedBy]).toEqual(['pending', 0, null]);
  });

  it('handBack frees the jobs still held, for another worker to run at once', async () => {
    const h = await setup();
    const held = holdCreates(h);
    const snap = await create(h);
    const runner = new Runner(h.engine, h.worker, { pollMs: 20, concurrency: 1 });
    runner.start();
    await held.startedCount(1);
    runner.stopClaiming();
    expect(await runner.handBack()).toBe(1);
    const job = await jobOf(h, snap.id);
    expect([job.status, job.lockedBy, job.lockedUntil]).toEqual(['pending', null, null]);
    const next = new OutboxWorker(h.engine, h.driver, h.compute, { leaseMs: 60_000 });
    expect((await next.claimBatch(1)).map((j) => j.snapshotId)).toEqual([snap.id]);
    held.release();
    await runner.settled();
  });
});
