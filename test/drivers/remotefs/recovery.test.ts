// Recovery (recovery.ts): a phase stopped after any of its durable steps, as a crash would stop
// it, is finished by running it again, offline and assisted alike.
import { promises as fs } from 'node:fs';
import { describe, expect } from 'vitest';
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
});
