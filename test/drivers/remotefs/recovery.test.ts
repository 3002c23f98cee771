// Recovery (recovery.ts): a phase stopped after any of its durable steps, as a crash would stop
// it, is finished by running it again, offline and assisted alike.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect } from 'vitest';
import { TEMP_MARKER } from '../../../src/share-fs/index.js';
import { CRASH_ORDERS, it, runScenario, sids, World } from '../../support/remotefs-world.js';

describe.concurrent('offline snapshots', () => {
  it.for(CRASH_ORDERS)('resume after a crash at every step, deleting in order $label', async ({ order, crashes }, { share }) => {
    const w = new World(share, { crashEverywhere: true, twice: true });
    await runScenario(w, 3, () => 'offline', order, () => 'offline');
    expect(w.crashes).toBe(crashes.offline);
  });
});

describe.concurrent('assisted snapshots', () => {
  it.for(CRASH_ORDERS)('resume after a crash at every step, deleting in order $label', async ({ order, crashes }, { share }) => {
    const w = new World(share, { crashEverywhere: true, twice: true });
    await runScenario(w, 3, () => 'assisted', order, () => 'assisted');
    expect(w.crashes).toBe(crashes.assisted);
  });
});

describe('recovery', () => {
  it("clears the volume's temporaries a crash left, and no other volume's", async ({ share }) => {
    const a = new World(share);
    const b = new World(share);
    await a.create();
    await b.create();
    const [sid] = sids(1);
    await a.snapshot('offline', sid);
    const leftovers = [`${a.snapFile(sid)}.tmp-1`, `${a.volumeFile}.info.tmp-2`];
    const others = [`${b.volumeFile}.tmp-3`];
    for (const name of [...leftovers, ...others]) await fs.writeFile(a.file(name), 'half written');
    await a.verify('after recovery');
    const names = await fs.readdir(share);
    for (const name of leftovers) expect(names).not.toContain(name);
    for (const name of others) expect(names).toContain(name);
  });

  it('clears the half-written overlay a killed qemu-img left, and the snapshot is then taken', async ({ share }) => {
    const w = new World(share);
    await w.create();
    await w.write(0, 0x11);
    const [sid] = sids(1);
    // What the overlay's two qemu-img runs leave when killed (the driver builds it under a
    // temporary name): a header cut short by `create`, and a whole file still pointing at the
    // absolute backing path because `rebase -u` never ran.
    const temp = () => w.file(`${w.snapFile(sid)}${TEMP_MARKER}${randomUUID()}`);
    const [cut, unrebased] = [temp(), temp()];
    for (const file of [cut, unrebased]) {
      await promisify(execFile)('qemu-img', ['create', '-f', 'qcow2', '-o', `backing_file=${w.file(w.volumeFile)},backing_fmt=qcow2`, file, '1G']);
    }
    await fs.truncate(cut, 100);
    await w.snapshot('offline', sid);
    await w.write(0, 0x22);
    await w.verify('after the killed runs');
    const names = await fs.readdir(share);
    expect(names.filter((n) => n.includes(TEMP_MARKER))).toEqual([]);
  });
});
