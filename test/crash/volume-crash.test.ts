// Crash tests of the volume machine: a child process is SIGKILLed inside a volume's transaction
// before commit, after a commit before its effect ran, and after the driver's effect before its
// result was recorded; a restarted process must bring every volume from `creating` through
// `deleting` to `deleted`, with each driver effect applied once and the history free of gaps.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness } from '../support/harness.js';
import { VolumeJournalDriver } from '../support/doubles.js';

const child = join(import.meta.dirname, 'volume-child.ts');

function run(url: string, dir: string, crash?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, url, dir, ...(crash ? [crash] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

describe.each(providers)('volume crash recovery on %s', (provider) => {
  const cases = ['beforeCommit:1', 'beforeCommit:4', 'afterCommit:2', 'afterCommit:5', 'afterEffect:1', 'afterEffect:4'];
  it.each(cases)('SIGKILL at %s, then restart: every volume is created and deleted, effects applied once', async (crash) => {
    const url = await freshDatabaseUrl(provider);
    const dir = mkdtempSync(join(tmpdir(), 'volume-crash-'));
    const h = await harness(url);
    // Committed `creating`, their driver jobs queued: the child does the rest.
    const volumes = [];
    for (let i = 0; i < 3; i++) volumes.push(await h.manager.createVolume({ projectId: 'project-a', userId: 'user-a', size: 1, name: `v${i}` }));

    const crashed = await run(url, dir, crash);
    expect(crashed.signal, crashed.err).toBe('SIGKILL');
    const restarted = await run(url, dir);
    expect([restarted.code, restarted.err]).toEqual([0, '']);
    expect(JSON.parse(restarted.out)).toEqual({ left: 0 });

    const driver = new VolumeJournalDriver(false, join(dir, 'driver'));
    for (const v of volumes) for (const op of ['createVolume', 'deleteVolume']) expect(driver.journal.appliedCount(op, v.id), `${op} ${v.id}`).toBe(1);
    const runs = new Map<string, number>();
    for (const inv of driver.journal.invocations()) runs.set(`${inv.op} ${inv.id}`, (runs.get(`${inv.op} ${inv.id}`) ?? 0) + 1);
    // An effect runs again only when the crash cut it off from its recorded result.
    expect(Math.max(...runs.values())).toBeLessThanOrEqual(2);
    if (crash.startsWith('afterEffect')) expect([...runs.values()].filter((n) => n === 2)).toHaveLength(1);

    for (const v of volumes) {
      const row = await h.db.prisma.volume.findUniqueOrThrow({ where: { id: v.id } });
      expect([row.status, row.phase, row.deleted]).toEqual(['deleted', 'deleted', true]);
      const accepted = (await h.manager.volumeTransitions(v.id)).filter((t) => !t.rejected);
      expect(accepted.map((t) => t.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
      expect(accepted.map((t) => t.toPhase)).toEqual(['creating', 'available', 'deleting', 'deleted']);
    }
    expect(await h.db.prisma.outboxJob.count({ where: { status: 'pending' } })).toBe(0);
    await h.close();
  });
});
