// Every row appended to `snapshot_transitions`, in order, exactly once, to whoever listens (the
// web UI's SSE streams, the XState inspector), whichever process committed it.
//
// The table is the one source: the engine's in-process 'transition' event only *pokes* the feed
// so it reads at once instead of at its next poll, and the poll (every ~1 s) covers what other
// processes commit and what commits without an engine event (rejected events). Reading rows
// rather than relaying the engine event means listeners also get the row id, the time, the
// payload and rejections, and never see a transition that did not commit.
//
// Ids come from an autoincrement. On SQLite writers are serialised, so ids become visible in
// order; on PostgreSQL a transaction holding id 10 may commit after the one holding id 11. So
// the feed keeps a low-water mark below which every id was delivered, remembers which ids above
// it were, and re-reads from the mark: a late commit is still delivered. An id that never
// appears was rolled back; it is given up after `gapGiveUpMs`, longer than any transaction
// may run.
import type { Snapshot, SnapshotTransition } from '../db/client.js';
import { TRANSACTION_OPTIONS } from '../db/client.js';
import type { SnapshotStore } from '../engine/store/index.js';

export interface FeedItem {
  transition: SnapshotTransition;
  /** The snapshot's row when the transition was read (it may have moved on since). */
  snapshot: Snapshot | null;
}

export interface FeedBatch {
  items: FeedItem[];
  /** True when volumes were created, changed or deleted since the last batch. */
  volumesChanged: boolean;
}

export type FeedListener = (batch: FeedBatch) => void;

export interface TransitionFeedOptions {
  pollMs?: number;
  gapGiveUpMs?: number;
  batchSize?: number;
  onError?: (err: unknown) => void;
}

export class TransitionFeed {
  private readonly listeners = new Set<FeedListener>();
  private readonly closers = new Map<FeedListener, () => void>();
  private readonly pollMs: number;
  private readonly gapGiveUpMs: number;
  private readonly batchSize: number;
  /** Every id <= mark was delivered (or given up); null until the first read sets it. */
  private mark: number | null = null;
  private readonly deliveredAbove = new Set<number>();
  /** Ids below a delivered one that have not appeared yet, with when that was noticed. */
  private readonly missingSince = new Map<number, number>();
  private volumeStamp: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private primed = deferred();
  /** Who waits for the first read and wants to hear when it fails (see `started`). */
  private readonly startFailures = new Set<(err: unknown) => void>();
  private generation = 0;

  constructor(
    private readonly store: Pick<SnapshotStore, 'lastHistoryId' | 'historySince' | 'loadSnapshots' | 'volumeStamp'>,
    private readonly options: TransitionFeedOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    // A transaction may run for TRANSACTION_OPTIONS.timeout; an id missing for longer is gone.
    this.gapGiveUpMs = options.gapGiveUpMs ?? TRANSACTION_OPTIONS.timeout + 5_000;
    this.batchSize = options.batchSize ?? 500;
  }

  /**
   * Listens from now on: the first read only sets the starting point, so a new listener gets
   * what commits after it subscribed, never the whole history (it loads that itself).
   */
  subscribe(listener: FeedListener, onClose?: () => void): () => void {
    this.listeners.add(listener);
    if (onClose) this.closers.set(listener, onClose);
    if (this.listeners.size === 1) this.poke();
    return () => {
      this.listeners.delete(listener);
      this.closers.delete(listener);
      if (this.listeners.size > 0) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      // Nobody hears the rows from here on; the next listener starts from its own present. A
      // read still under way belongs to the old generation and is dropped.
      this.generation += 1;
      this.mark = null;
      this.deliveredAbove.clear();
      this.missingSince.clear();
      this.volumeStamp = null;
      this.primed = deferred();
    };
  }

  /**
   * Resolves once the feed knows where "now" is: everything committed after that reaches the
   * listeners. A client that loads its initial state after this misses nothing in between.
   */
  ready(): Promise<void> {
    return this.primed.promise;
  }

  /**
   * Like `ready`, but a first read that fails (the database cannot be reached) rejects with its
   * error instead of waiting for a later read to succeed: for a caller that would rather say
   * "try again" than wait. Call it after `subscribe`, which starts the first read.
   */
  started(): Promise<void> {
    if (this.mark !== null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) => reject(err);
      this.startFailures.add(fail);
      void this.primed.promise.then(() => {
        this.startFailures.delete(fail);
        resolve();
      });
    });
  }

  /** Read now (something committed); coalesces with a read already under way. */
  poke(): void {
    if (this.stopped || this.listeners.size === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Resolves once the read under way, and any it asked for, are done. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.settled();
    const closers = [...this.closers.values()];
    this.listeners.clear();
    this.closers.clear();
    for (const close of closers) close();
    // Whoever still waits for the feed to be ready must not wait forever.
    this.primed.resolve();
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.read().finally(() => {
        this.running = null;
        if (this.stopped || this.listeners.size === 0) return;
        const pokedMeanwhile = this.again;
        this.again = false;
        this.schedule(pokedMeanwhile ? 0 : this.pollMs);
      });
    }, delay);
    this.timer.unref?.();
  }

  private async read(): Promise<void> {
    try {
      const batch = await this.fetch();
      if (batch.items.length === 0 && !batch.volumesChanged) return;
      for (const listener of [...this.listeners]) {
        try {
          listener(batch);
        } catch (err) {
          this.options.onError?.(err);
        }
      }
    } catch (err) {
      if (this.mark === null) {
        const waiting = [...this.startFailures];
        this.startFailures.clear();
        for (const fail of waiting) fail(err);
      }
      this.options.onError?.(err);
    }
  }

  private async fetch(): Promise<FeedBatch> {
    const generation = this.generation;
    const nothing: FeedBatch = { items: [], volumesChanged: false };
    const volumesChanged = await this.volumesChanged();
    if (generation !== this.generation) return nothing;
    if (this.mark === null) {
      const last = await this.store.lastHistoryId();
      if (generation !== this.generation) return nothing;
      this.mark = last;
      this.primed.resolve();
      return nothing;
    }
    // Ids delivered above the mark exist only while an earlier id is missing (rare, short).
    const rows = await this.store.historySince(this.mark, [...this.deliveredAbove], this.batchSize);
    if (generation !== this.generation) return nothing;
    // A full page means more is waiting: read on at once rather than after the poll interval.
    if (rows.length === this.batchSize) this.again = true;
    const fresh = rows;
    for (const r of fresh) this.deliveredAbove.add(r.id);
    this.advanceMark();
    const ids = [...new Set(fresh.map((r) => r.snapshotId))];
    const byId = await this.store.loadSnapshots(ids);
    if (generation !== this.generation) return nothing;
    return { items: fresh.map((t) => ({ transition: t, snapshot: byId.get(t.snapshotId) ?? null })), volumesChanged };
  }

  private advanceMark() {
    let mark = this.mark!;
    const now = Date.now();
    const highest = Math.max(mark, ...this.deliveredAbove);
    // Every id below the highest delivered one is either delivered, still in flight, or
    // rolled back; each missing one gets its own clock.
    for (let id = mark + 1; id < highest; id++) {
      if (!this.deliveredAbove.has(id) && !this.missingSince.has(id)) this.missingSince.set(id, now);
    }
    for (;;) {
      const next = mark + 1;
      if (this.deliveredAbove.delete(next)) {
        this.missingSince.delete(next);
      } else if (this.missingSince.has(next) && now - this.missingSince.get(next)! >= this.gapGiveUpMs) {
        this.missingSince.delete(next);
      } else break;
      mark = next;
    }
    this.mark = mark;
  }

  /** Volume rows and their history are not in this feed: their stamp (count, latest change, newest history row) says when to reload them. */
  private async volumesChanged(): Promise<boolean> {
    const stamp = await this.store.volumeStamp();
    const changed = this.volumeStamp !== null && stamp !== this.volumeStamp;
    this.volumeStamp = stamp;
    return changed;
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
