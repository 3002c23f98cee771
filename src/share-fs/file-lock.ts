// A volume's chain and .info are read-modify-written by every phase, so two phases on the same
// volume, in this process or another, must never overlap (Cinder's locked_volume_id_operation).
//
// Two layers: an in-process queue, so callers in this process wait in order without polling, and
// a lock file in the share for other processes. The file is made by link(2) from a fully written
// temporary, so it never exists half-written, and holds {pid, host, token}. A file left behind by
// a dead process on this host (or by an earlier process with our own pid, as happens after a
// container restart) is stale and broken; a holder on another host cannot be judged and is waited
// for until the timeout. `proper-lockfile` (mtime heartbeats, works across NFS clients) is the
// intended replacement: anything with `withLock` fits `VolumeLocks`.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { KeyedLock } from './keyed-lock.js';

export interface VolumeLocks {
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export interface LockHolder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

export interface FileLockOptions {
  /** How long to wait for another process's lock before failing (default 10 min). */
  timeoutMs?: number;
  /** Called once per acquisition that finds the lock held by someone else; for logs and tests. */
  onContended?: (info: { key: string; holder: LockHolder | null }) => void;
}

interface ProcessRegistry {
  queues: Map<string, Promise<void>>;
  held: Set<string>;
}

// Shared through globalThis so two copies of this module in one process (bundles, test
// isolation) still agree on which tokens this process holds; otherwise each would think the
// other's lock file, carrying our pid, was stale.
const REGISTRY = Symbol.for('assisted-snapshots.remotefs.volume-locks');
function registry(): ProcessRegistry {
  const g = globalThis as unknown as Record<symbol, ProcessRegistry | undefined>;
  return (g[REGISTRY] ??= { queues: new Map(), held: new Set() });
}

// One queue per lock file for the whole process, whichever copy of this module a caller holds.
const inProcess = new KeyedLock(registry().queues);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<LockHolder | null | 'gone'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.token === 'string' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

function isStale(holder: LockHolder | null): boolean {
  // Not written by this code (link(2) only ever publishes complete files): nobody can own it.
  if (holder === null) return true;
  if (holder.host !== os.hostname()) return false;
  if (holder.pid === process.pid) return !registry().held.has(holder.token);
  return !isAlive(holder.pid);
}

export class FileVolumeLocks implements VolumeLocks {
  private readonly timeoutMs: number;

  constructor(
    private readonly fileFor: (key: string) => string,
    private readonly options: FileLockOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
  }

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const file = this.fileFor(key);
    return inProcess.run(file, async () => {
      const token = await this.acquire(key, file);
      try {
        return await fn();
      } finally {
        await this.release(file, token);
      }
    });
  }

  private async acquire(key: string, file: string): Promise<string> {
    const token = randomUUID();
    const holder: LockHolder = { pid: process.pid, host: os.hostname(), token, since: new Date().toISOString() };
    const temp = `${file}.${token}`;
    const started = Date.now();
    let wait = 5;
    let reported = false;
    for (;;) {
      try {
        await fs.writeFile(temp, JSON.stringify(holder), { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`cannot take volume lock ${file}: ${path.dirname(file)} does not exist (is the share mounted?)`);
        throw err;
      }
      try {
        await fs.link(temp, file);
        registry().held.add(token);
        return token;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await fs.rm(temp, { force: true });
      }
      const current = await readHolder(file);
      if (current === 'gone') continue;
      if (isStale(current)) {
        await this.breakStale(file, current, token);
        continue;
      }
      if (!reported) {
        reported = true;
        this.options.onContended?.({ key, holder: current });
      }
      if (Date.now() - started >= this.timeoutMs) {
        const who = current ? `pid ${current.pid} on ${current.host} since ${current.since}` : 'an unknown holder';
        throw new Error(`timed out after ${this.timeoutMs} ms waiting for volume lock ${path.basename(file)} held by ${who}`);
      }
      // Another process holds it and file locks give no wake-up: poll, backing off to 250 ms.
      await delay(wait);
      wait = Math.min(wait * 2, 250);
    }
  }

  /**
   * Moves the stale file aside before deleting it and checks it is the one judged stale: if a
   * live contender replaced it in between, it is put back instead of being deleted.
   */
  private async breakStale(file: string, stale: LockHolder | null, token: string): Promise<void> {
    const aside = `${file}.broken-${token}`;
    try {
      await fs.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const moved = await readHolder(aside);
    const same = moved === stale || (moved !== 'gone' && moved !== null && stale !== null && moved.token === stale.token);
    if (!same) {
      try {
        await fs.link(aside, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    await fs.rm(aside, { force: true });
  }

  private async release(file: string, token: string): Promise<void> {
    registry().held.delete(token);
    const current = await readHolder(file);
    // Only ever remove our own file: if it was broken and retaken, it is someone else's now.
    if (current !== 'gone' && current !== null && current.token === token) await fs.rm(file, { force: true });
  }
}
