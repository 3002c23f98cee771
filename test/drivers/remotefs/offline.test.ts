// Snapshots of a detached volume (offline.ts), made and merged by the driver alone with qemu-img.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { qemuIoMismatches } from '../../support/qemu.js';
import { it, LEN, ORDERS, runScenario, sids, World } from '../../support/remotefs-world.js';

describe.concurrent('offline snapshots', () => {
  it('keep the data written before them, unchanged by later writes', async ({ share }) => {
    const w = new World(share, { twice: true });
    await w.create();
    await w.write(0, 0x11);
    const [sid] = sids(1);
    await w.snapshot('offline', sid);
    expect(await w.readInfo()).toEqual({ active: w.snapFile(sid), [sid]: w.snapFile(sid) });
    await w.write(0, 0x22);
    await w.write(1, 0x33);
    await w.verify();
    expect(await qemuIoMismatches(w.file(w.volumeFile), [{ pattern: 0x11, offset: 0, length: LEN }])).toEqual([]);
  });

  it.for(ORDERS)('3 snapshots deleted in order $label', async ({ order }, { share }) => {
    await runScenario(new World(share, { twice: true }), 3, () => 'offline', order, () => 'offline');
  });

  it('4 snapshots: middle, first, last, then the remaining one', async ({ share }) => {
    await runScenario(new World(share, { twice: true }), 4, () => 'offline', [1, 0, 3, 2], () => 'offline');
  });

  it('fails with qemu-img stderr when a file of the chain is missing', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.snapshot('offline', s1);
    await w.snapshot('offline', s2);
    await fs.rm(w.file(w.volumeFile));
    await expect(w.driver.deleteSnapshot(w.ref(s1))).rejects.toThrow(/qemu-img info .* failed \(exit 1\): .*Could not open/s);
  });

  it('refuses a chain whose backing file points outside the volume', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [sid] = sids(1);
    await w.snapshot('offline', sid);
    const outside = path.join(share, 'elsewhere');
    await fs.writeFile(outside, '');
    await new Promise<void>((resolve, reject) =>
      execFile('qemu-img', ['rebase', '-u', '-b', outside, '-F', 'raw', w.file(w.snapFile(sid))], (err) => (err ? reject(err) : resolve())),
    );
    await expect(w.driver.deleteSnapshot(w.ref(sid))).rejects.toThrow(/invalid backing file/);
  });
});
