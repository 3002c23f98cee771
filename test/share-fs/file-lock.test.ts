// FileVolumeLocks in one process: the lock (a directory, proper-lockfile's) exists exactly while
// its holder runs and says who holds it, and one its holder stopped touching is broken. Across
// processes: test/drivers/remotefs/locking.test.ts.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileVolumeLocks } from '../../src/share-fs/index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'share-fs-lock-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const fileFor = (key: string) => path.join(dir, `${key}.lock`);

describe('FileVolumeLocks', () => {
  it('holds a lock naming this process while fn runs, and removes it after', async () => {
    const locks = new FileVolumeLocks(fileFor);
    const result = await locks.withLock('v1', async () => {
      expect((await fs.stat(fileFor('v1'))).isDirectory()).toBe(true);
      const holder = JSON.parse(await fs.readFile(path.join(fileFor('v1'), 'holder.json'), 'utf8'));
      expect(holder).toMatchObject({ pid: process.pid, host: os.hostname() });
      expect(typeof holder.token).toBe('string');
      return 'done';
    });
    expect(result).toBe('done');
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('queues callers of one key, across instances, and releases after a failure', async () => {
    const a = new FileVolumeLocks(fileFor);
    const b = new FileVolumeLocks(fileFor);
    const log: string[] = [];
    let inside = 0;
    const op = (locks: FileVolumeLocks, name: string, fail = false) =>
      locks.withLock('v1', async () => {
        inside += 1;
        expect(inside).toBe(1);
        log.push(name);
        await Promise.resolve();
        inside -= 1;
        if (fail) throw new Error(`${name} failed`);
      });
    const results = await Promise.allSettled([op(a, 'first', true), op(b, 'second'), op(a, 'third')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log).toEqual(['first', 'second', 'third']);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('breaks a lock its holder stopped touching (a dead process or host), without reporting contention', async () => {
    const contended: unknown[] = [];
    const locks = new FileVolumeLocks(fileFor, { staleMs: 2000, onContended: (c) => contended.push(c) });
    // Left by a holder on another host that went away: no pid here can say so, its age does.
    await fs.mkdir(fileFor('v1'));
    await fs.writeFile(path.join(fileFor('v1'), 'holder.json'), JSON.stringify({ pid: 1, host: 'gone-host', token: 't', since: 'earlier' }));
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(fileFor('v1'), old, old);
    await expect(locks.withLock('v1', async () => 'taken')).resolves.toBe('taken');
    expect(contended).toEqual([]);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('waits for a lock its holder keeps touching, and names the holder when it gives up', async () => {
    const contended: unknown[] = [];
    const locks = new FileVolumeLocks(fileFor, { timeoutMs: 50, onContended: (c) => contended.push(c) });
    await fs.mkdir(fileFor('v1'));
    const holder = { pid: 4242, host: 'nfs-client-2', token: 't', since: 'earlier' };
    await fs.writeFile(path.join(fileFor('v1'), 'holder.json'), JSON.stringify(holder));
    await expect(locks.withLock('v1', async () => 'taken')).rejects.toThrow(/timed out after 50 ms waiting for volume lock v1\.lock held by pid 4242 on nfs-client-2/);
    expect(contended).toEqual([{ key: 'v1', holder }]);
    expect(await fs.readdir(dir)).toEqual(['v1.lock']);
  });

  it('says the share may be unmounted when its directory is missing', async () => {
    const locks = new FileVolumeLocks((key) => path.join(dir, 'gone', `${key}.lock`));
    await expect(locks.withLock('v1', async () => undefined)).rejects.toThrow(/does not exist \(is the share mounted\?\)/);
  });
});
