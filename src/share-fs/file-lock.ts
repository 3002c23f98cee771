// A volume's chain and .info are read-modify-written by every phase, so two phases on the same
// volume, in this process, another process or on another host mounting the same share, must
// never overlap (Cinder's locked_volume_id_operation).
//
// Two layers: an in-process queue, so callers in this process wait in order without polling, and
// a lock in the share for everyone else, taken with proper-lockfile:
//   - the lock is a directory made with mkdir(2), which is atomic on NFS (unlike O_EXCL creation
//     on older NFS clients), so two hosts can never both take it;
//   - its holder touches it every `staleMs / 2`; one not touched for `staleMs` belongs to a
//     holder that died (or a host that went away) and is broken. That is judged by age, not by a
//     pid, so it works the same for a holder on another host, which no pid can describe;
//   - it is plain JavaScript: nothing to compile on the hosts.
// Chosen over fcntl/OFD locks, which NFS honours too and which the kernel releases when the
// holder dies: from Node.js they need a native addon (fs-ext, os-lock), built on every host, and
// on NFSv3 they rely on the lock manager (lockd/statd) being run and reachable between every
// client and the server, a configuration the service cannot check. The price of the choice: a
// holder that cannot touch its lock for `staleMs` (a share that hangs that long) loses it; the
// phase then fails in a passing way, is retried, and its recovery step repairs what it left.
//
// The directory holds a `holder.json` naming who holds it (pid, host, since), for logs and for
// the timeout's message; it is written after the lock is taken, so a contender may find it
// missing for a moment.
import { randomUUID } from 'node:crypto';
import fs, { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
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
  /** A lock not touched by its holder for this long is broken (default 30 s; at least 2 s). */
  staleMs?: number;
  /** Called once per acquisition that finds the lock held by someone else; for logs and tests. */
  onContended?: (info: { key: string; holder: LockHolder | null }) => void;
}

const HOLDER_FILE = 'holder.json';

// Shared through globalThis so two copies of this module in one process (bundles, test
// isolation) still queue on one another.
const QUEUES = Symbol.for('assisted-snapshots.remotefs.volume-locks');
function queues(): Map<string, Promise<void>> {
  const g = globalThis as unknown as Record<symbol, Map<string, Promise<void>> | undefined>;
  return (g[QUEUES] ??= new Map());
}
const inProcess = new KeyedLock(queues());

// proper-lockfile removes its lock with rmdir(2); ours holds the holder file, so it goes with it.
const lockFs = { ...fs, rmdir: (p: string, cb: (err: NodeJS.ErrnoException | null) => void) => fs.rm(p, { recursive: true }, cb) };

async function readHolder(lockDir: string): Promise<LockHolder | null> {
  try {
    const h = JSON.parse(await fsp.readFile(path.join(lockDir, HOLDER_FILE), 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** The lock was broken by someone who judged it stale while this process held it. */
class LockCompromised extends Error {
  readonly code = 'ECOMPROMISED';
  /** Worth retrying: the phase runs again under a fresh lock, and its recovery step repairs. */
  readonly transient = true;
}

export class FileVolumeLocks implements VolumeLocks {
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(
    private readonly fileFor: (key: string) => string,
    private readonly options: FileLockOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.staleMs = Math.max(2000, options.staleMs ?? 30_000);
  }

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockDir = this.fileFor(key);
    return inProcess.run(lockDir, async () => {
      let compromised: Error | null = null;
      const release = await this.acquire(key, lockDir, (err) => (compromised ??= err));
      let result: T;
      try {
        result = await fn();
      } finally {
        await release().catch(() => {});
      }
      if (compromised) throw new LockCompromised(`volume lock ${path.basename(lockDir)} was lost while held: ${(compromised as Error).message}`);
      return result;
    });
  }

  private async acquire(key: string, lockDir: string, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
    const started = Date.now();
    let wait = 5;
    let reported = false;
    for (;;) {
      try {
        // The lock is the directory itself; `realpath: false` because the key names no file.
        const release = await lockfile.lock(lockDir, {
          lockfilePath: lockDir,
          realpath: false,
          stale: this.staleMs,
          retries: 0,
          fs: lockFs,
          onCompromised,
        });
        const holder: LockHolder = { pid: process.pid, host: os.hostname(), token: randomUUID(), since: new Date().toISOString() };
        await fsp.writeFile(path.join(lockDir, HOLDER_FILE), JSON.stringify(holder)).catch(() => {});
        return release;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          // Also what a race gives: another process breaking a stale lock removes the directory
          // this one has just made. Only a share that is really gone is an error; otherwise the
          // lock is simply tried again.
          const shareThere = await fsp.stat(path.dirname(lockDir)).then(() => true, () => false);
          if (!shareThere) throw new Error(`cannot take volume lock ${lockDir}: ${path.dirname(lockDir)} does not exist (is the share mounted?)`);
        } else if (code !== 'ELOCKED') throw err;
      }
      const current = await readHolder(lockDir);
      if (!reported) {
        reported = true;
        this.options.onContended?.({ key, holder: current });
      }
      if (Date.now() - started >= this.timeoutMs) {
        const who = current ? `pid ${current.pid} on ${current.host} since ${current.since}` : 'an unknown holder';
        throw new Error(`timed out after ${this.timeoutMs} ms waiting for volume lock ${path.basename(lockDir)} held by ${who}`);
      }
      // Held elsewhere, and a lock in a file system gives no wake-up: poll, backing off to 250 ms.
      await delay(wait);
      wait = Math.min(wait * 2, 250);
    }
  }
}
