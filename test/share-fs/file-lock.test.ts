// FileVolumeLocks in one process: the lock file exists exactly while its holder runs, says who
// holds it, and a file no live holder owns is broken. Across processes: test/drivers/remotefs/locking.test.ts.
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
  it('holds a lock file naming this process while fn runs, and removes it after', async () => {
    const locks = new FileVolumeLocks(fileFor);
    const result = await locks.withLock('v1', async () => {
      const holder = JSON.parse(await fs.readFile(fileFor('v1'), 'utf8'));
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

  it('breaks a lock file no holder could have written, without reporting contention', async () => {
    const contended: unknown[] = [];
    const locks = new FileVolumeLocks(fileFor, { onContended: (c) => contended.push(c) });
    await fs.writeFile(fileFor('v1'), 'not a holder');
    await expect(locks.withLock('v1', async () => 'taken')).resolves.toBe('taken');
    expect(contended).toEqual([]);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('says the share may be unmounted when its directory is missing', async () => {
    const locks = new FileVolumeLocks((key) => path.join(dir, 'gone', `${key}.lock`));
    await expect(locks.withLock('v1', async () => undefined)).rejects.toThrow(/does not exist \(is the share mounted\?\)/);
  });
});
