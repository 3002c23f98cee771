// The volume lock as the driver takes it (share-fs's FileVolumeLocks, proper-lockfile's lock
// directory volume-<id>.lock): phases on one volume queue, in this process and across processes;
// different volumes run in parallel; a lock is judged stale by age, so a dead host's is broken.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect } from 'vitest';
import { createRemoteFsDriver } from '../../../src/drivers/remotefs/index.js';
import { qemuImgChain } from '../../support/qemu.js';
import { it, runScenario, sids, World } from '../../support/remotefs-world.js';

describe('locking', () => {
  it('two volumes snapshot concurrently', async ({ share }) => {
    const a = new World(share, { twice: true });
    const b = new World(share, { twice: true });
    await Promise.all([
      runScenario(a, 3, (i) => (i === 1 ? 'offline' : 'assisted'), [1, 0, 2], () => 'assisted'),
      runScenario(b, 3, () => 'offline', [2, 0, 1], (k) => (k === 0 ? 'assisted' : 'offline')),
    ]);
  });

  it('snapshot requests on one volume, from two driver instances at once, queue behind each other', async ({ share }) => {
    const w = new World(share);
    const other = createRemoteFsDriver(share);
    await w.create();
    await w.write(0, 0x11);
    const ids = sids(4);
    for (const sid of ids) w.views.set(sid, new Map(w.active));
    await Promise.all(ids.map((sid, i) => (i % 2 ? other : w.driver).createSnapshot(w.ref(sid))));
    await w.write(0, 0x22);
    await w.verify('after concurrent creates');
    const chain = await qemuImgChain(w.file(await w.activeName()));
    expect(chain).toHaveLength(5);
    await Promise.all(ids.slice(0, 3).map((sid, i) => (i % 2 ? other : w.driver).deleteSnapshot(w.ref(sid))));
    for (const sid of ids.slice(0, 3)) w.views.delete(sid);
    await w.verify('after concurrent deletes');
  });

  it('waits for a lock held by another process, and proceeds once it is released', async ({ share }) => {
    let sawContention!: () => void;
    const contendedSeen = new Promise<void>((resolve) => (sawContention = resolve));
    const contended: unknown[] = [];
    const driver = createRemoteFsDriver(share, {
      onLockContended: (c) => {
        contended.push(c);
        sawContention();
      },
    });
    const w = new World(share, { driver });
    await w.create();
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/lock-holder.ts'), share, w.vol.id], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('locked');

    const [sid] = sids(1);
    w.views.set(sid, new Map());
    const creating = w.driver.createSnapshot(w.ref(sid));
    // The child still holds the lock here: the create has seen it and is waiting.
    await Promise.race([
      contendedSeen,
      creating.then(() => {
        throw new Error('the create ran while another process held the volume lock');
      }),
    ]);
    expect(contended).toEqual([{ key: w.vol.id, holder: expect.objectContaining({ pid: child.pid, host: os.hostname() }) }]);
    expect(await fs.readdir(share)).not.toContain(w.snapFile(sid));
    child.stdin!.write('release\n');
    expect((await lines.next()).value).toBe('released');
    await creating;
    expect(await exited).toBe(0);
    await w.verify();
  });

  it('breaks a lock its holder stopped touching, and times out on a live one naming its holder', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const lock = w.file(`${w.volumeFile}.lock`);
    // Left by a host that died mid-phase: nothing touches it any more.
    await fs.mkdir(lock);
    await fs.writeFile(path.join(lock, 'holder.json'), JSON.stringify({ pid: 1, host: 'dead-host', token: 'gone', since: 'earlier' }));
    const old = new Date(Date.now() - 10 * 60_000);
    await fs.utimes(lock, old, old);
    const [s1, s2] = sids(2);
    await w.snapshot('offline', s1);
    await expect(fs.access(lock)).rejects.toThrow();

    // Held by a live holder on another host (its lock is fresh).
    await fs.mkdir(lock);
    await fs.writeFile(path.join(lock, 'holder.json'), JSON.stringify({ pid: 777, host: 'other-host', token: 'alive', since: 'earlier' }));
    const impatient = createRemoteFsDriver(share, { lockTimeoutMs: 50 });
    await expect(impatient.createSnapshot(w.ref(s2))).rejects.toThrow(
      new RegExp(`timed out after 50 ms waiting for volume lock ${w.volumeFile}.lock held by pid 777 on other-host`),
    );
    await fs.rm(lock, { recursive: true });
    await w.verify();
  });
});
