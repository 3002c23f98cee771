// Two processes on one PostgreSQL deliver events for the same snapshot at the same moment:
// every version is won by exactly one of them, and no event is lost.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/databases.js';
import { harness, volumeFor } from '../support/harness.js';

const racerFile = join(import.meta.dirname, 'racer.ts');

function racer(url: string, snapshotId: string) {
  const p = spawn(process.execPath, ['--import', 'tsx', racerFile, url, snapshotId], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`racer ended: ${err}`);
    return r.value;
  };
  return {
    ready: next(),
    ask: async (line: string) => {
      p.stdin!.write(`${line}\n`);
      return JSON.parse(await next());
    },
    end: () => p.stdin!.end(),
  };
}

describe('two processes on one PostgreSQL', () => {
  it('win each version exactly once and lose no event', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const h = await harness(url);
    const volume = await volumeFor(h, true);
    const snap = await h.manager.createSnapshot({ volumeId: volume.id, projectId: 'project-a', userId: 'user-a', force: true });
    await h.worker.runOne(); // storage-begin done: the snapshot now waits for compute callbacks
    const a = racer(url, snap.id);
    const b = racer(url, snap.id);
    await Promise.all([a.ready, b.ready]);

    // Both offer an event computed from the same version, at the same moment: one wins.
    for (let round = 0; round < 10; round++) {
      const version = (await h.manager.getSnapshot(snap.id)).version;
      const results = await Promise.all([a.ask(`try ${version} a${round}`), b.ask(`try ${version} b${round}`)]);
      expect(results.map((r) => r.kind).sort()).toEqual(['accepted', 'conflict']);
      expect(results.find((r) => r.kind === 'accepted').version).toBe(version + 1);
      expect((await h.manager.getSnapshot(snap.id)).version).toBe(version + 1);
    }

    // Both flood: every event lands, each at its own version, none lost.
    const before = (await h.manager.getSnapshot(snap.id)).version;
    const [fa, fb] = await Promise.all([a.ask('flood 30 fa'), b.ask('flood 30 fb')]);
    a.end();
    b.end();
    const versions = [...fa.versions, ...fb.versions].sort((x: number, y: number) => x - y);
    expect(versions).toEqual(Array.from({ length: 60 }, (_, i) => before + 1 + i));

    const history = await h.manager.transitions(snap.id);
    const accepted = history.filter((t) => !t.rejected);
    expect(accepted.map((t) => t.version)).toEqual(Array.from({ length: before + 60 }, (_, i) => i + 1));
    expect(accepted.filter((t) => t.payload?.includes('"computeProgress":"f')).length).toBe(60);
    await h.close();
  });
});
