// Snapshot create of an attached volume (assisted-create.ts): begin prepares the overlay and
// hands compute create_info; complete records the overlay once compute switched to it. The
// scenarios in assisted-delete.test.ts create every snapshot this way too.
import { describe, expect } from 'vitest';
import { it, sids, World } from '../../support/remotefs-world.js';

describe.concurrent('assisted snapshots', () => {
  it('create complete refuses a new file that is not on the active file', async ({ share }) => {
    const w = new World(share);
    await w.create();
    const [s1, s2] = sids(2);
    await w.phase('createSnapshotAssistedBegin', s1);
    await w.snapshot('offline', s2);
    await expect(w.driver.createSnapshotAssistedComplete(w.ref(s1))).rejects.toThrow(/is backed by .*, but the active file is/);
  });
});
