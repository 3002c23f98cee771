// The feed behind the live UI and the inspector: every committed history row exactly once, even
// when PostgreSQL makes a lower id visible after a higher one (the transaction holding the
// lower id commits later).
import { afterEach, describe, expect, it } from 'vitest';
import type { FeedBatch } from '../../src/engine/transition-feed.js';
import { TransitionFeed } from '../../src/engine/transition-feed.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor, type Harness } from '../support/harness.js';

class Received {
  readonly ids: number[] = [];
  private waiters: Array<{ id: number; resolve: () => void }> = [];
  readonly listener = (batch: FeedBatch) => {
    for (const item of batch.items) this.ids.push(item.transition.id);
    this.waiters = this.waiters.filter((w) => (this.ids.includes(w.id) ? (w.resolve(), false) : true));
  };
  has(id: number, timeoutMs = 10_000): Promise<void> {
    if (this.ids.includes(id)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`row ${id} not delivered within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ id, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

describe.each(providers)('transition feed on %s', (provider) => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setup() {
    const h: Harness = await harness(await freshDatabaseUrl(provider));
    const feed = new TransitionFeed(h.engine.store, { pollMs: 50 });
    const received = new Received();
    cleanup.push(() => h.close(), () => feed.stop());
    feed.subscribe(received.listener);
    await feed.ready();
    return { h, feed, received };
  }

  const lastId = async (h: Harness) => (await h.db.prisma.snapshotTransition.findFirstOrThrow({ orderBy: { id: 'desc' } })).id;

  it('delivers what commits after it is ready, once, with the snapshot row', async () => {
    const { h, received } = await setup();
    const volume = await volumeFor(h, false);
    const s = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    await h.worker.drain();
    const rows = await h.manager.transitions(s.id);
    await received.has(rows.at(-1)!.id);
    expect(received.ids).toEqual(rows.map((r) => r.id));
  });

  it('delivers a row whose transaction commits after a later row, and nothing twice', async () => {
    const { h, received } = await setup();
    const volume = await volumeFor(h, false);
    const first = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    await h.worker.drain();

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: (id: number) => void;
    const slowId = new Promise<number>((r) => (inserted = r));
    // Takes an id now, commits only when released: what a slow writer does on PostgreSQL.
    const slow = h.db.prisma.$transaction(async (tx) => {
      const row = await tx.snapshotTransition.create({
        data: { snapshotId: first.id, version: 99, fromPhase: 'available', toPhase: 'available', fromStatus: 'available', toStatus: 'available', eventType: 'test.slow', source: 'admin', rejected: true, reason: 'held open by the test' },
      });
      inserted(row.id);
      await gate;
    });
    if (provider === 'sqlite') {
      // SQLite serialises writers: nobody commits past the open transaction. Nothing to reorder.
      release();
      await slow;
      await received.has(await slowId);
      return;
    }
    const held = await slowId;
    await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a' });
    const later = await lastId(h);
    expect(later).toBeGreaterThan(held);
    await received.has(later);
    expect(received.ids).not.toContain(held);

    release();
    await slow;
    await received.has(held);
    await h.worker.drain();
    const all = await h.db.prisma.snapshotTransition.findMany({ orderBy: { id: 'asc' } });
    await received.has(all.at(-1)!.id);
    expect([...received.ids].sort((a, b) => a - b)).toEqual(all.map((r) => r.id));
    expect(new Set(received.ids).size).toBe(received.ids.length);
  });

  it('started() rejects when the first read fails, resolves once one succeeds, and at once after that', async () => {
    const h: Harness = await harness(await freshDatabaseUrl(provider));
    let down = true;
    const store = h.engine.store;
    const feed = new TransitionFeed(
      { lastHistoryId: () => (down ? Promise.reject(new Error('Connection terminated unexpectedly')) : store.lastHistoryId()), historySince: store.historySince, loadSnapshots: store.loadSnapshots, volumeStamp: store.volumeStamp },
      { pollMs: 50 },
    );
    cleanup.push(() => h.close(), () => feed.stop());
    const unsubscribe = feed.subscribe(() => {});
    await expect(feed.started()).rejects.toThrow('Connection terminated unexpectedly');
    down = false;
    // The feed keeps reading meanwhile; the next caller waits for the read that succeeds.
    await feed.started();
    await feed.ready();
    await expect(feed.started()).resolves.toBeUndefined();
    unsubscribe();
  });
});
