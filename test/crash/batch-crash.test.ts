// A SIGKILL in the middle of a group commit: every callback the engine acknowledged is in the
// database, and the batch that was cut off left nothing behind, for no snapshot. State, history
// and admin metadata of each snapshot agree with one another.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, volumeFor } from '../support/harness.js';

const child = join(import.meta.dirname, 'batch-child.ts');
const SNAPSHOTS = 8;

function run(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, err }));
  });
}

describe.each(providers)('SIGKILL inside a group commit on %s', (provider) => {
  it('loses no acknowledged callback and half-applies no batch', async () => {
    const url = await freshDatabaseUrl(provider);
    const dir = mkdtempSync(join(tmpdir(), 'batch-crash-'));
    const h = await harness(url);
    const ids: string[] = [];
    for (let i = 0; i < SNAPSHOTS; i++) {
      const v = await volumeFor(h, true);
      ids.push((await h.manager.createSnapshot({ volumeId: v.id, projectId: 'project-a', userId: 'user-a', force: true })).id);
    }
    await h.worker.drain();

    // Round 1 and 2 commit; round 3's transaction dies after three of its eight events were written.
    const ackFile = join(dir, 'acks');
    const crashed = await run([url, ackFile, '5', String(2 * SNAPSHOTS + 3)]);
    expect(crashed.signal, crashed.err).toBe('SIGKILL');
    const acks = existsSync(ackFile) ? readFileSync(ackFile, 'utf8').trim().split('\n') : [];
    expect(acks).toHaveLength(2 * SNAPSHOTS);

    const check = async (acceptedCallbacks: number) => {
      for (const id of ids) {
        const row = await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id } });
        const history = (await h.manager.transitions(id)).filter((t) => !t.rejected);
        // Gap-free versions, the row at the last one: nothing of a cut-off batch is left.
        expect(history.map((t) => t.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
        const callbacks = history.filter((t) => t.eventType === 'compute.status');
        expect(callbacks).toHaveLength(acceptedCallbacks);
        const meta = await h.manager.adminMetadata(id);
        expect(meta.compute_progress).toBe(JSON.parse(callbacks.at(-1)!.payload!).computeProgress);
      }
      for (const line of readFileSync(ackFile, 'utf8').trim().split('\n')) {
        const [id, version, progress] = line.split(' ');
        const t = (await h.manager.transitions(id)).find((x) => x.version === Number(version) && !x.rejected);
        expect(t && JSON.parse(t.payload!).computeProgress).toBe(progress);
      }
    };
    await check(2);

    const restarted = await run([url, ackFile, '2']);
    expect([restarted.code, restarted.err]).toEqual([0, '']);
    await check(4);
    await h.close();
  });
});
