// Crash tests: a real child process is SIGKILLed at injected points (inside the transaction
// before commit, after commit before the effect, after the effect before its result is
// recorded); a restarted process must finish every snapshot, with each driver phase's effect
// applied exactly once and the history free of gaps.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { TestCompute, TestDriver } from '../support/doubles.js';
import { harness, volumeFor } from '../support/harness.js';

const child = join(import.meta.dirname, 'child.ts');

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

const assistedOps = ['createSnapshotAssistedBegin', 'createSnapshotAssistedComplete', 'deleteSnapshotAssistedBegin', 'deleteSnapshotAssistedComplete'];
const offlineOps = ['createSnapshot', 'deleteSnapshot'];

describe.each(providers)('crash recovery on %s', (provider) => {
  const cases = ['beforeCommit:2', 'beforeCommit:5', 'afterCommit:2', 'afterCommit:6', 'afterEffect:1', 'afterEffect:4'];
  it.each(cases)('SIGKILL at %s, then restart: every snapshot completes, effects applied once', async (crash) => {
    const url = await freshDatabaseUrl(provider);
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    const h = await harness(url, { driver: new TestDriver(true, join(dir, 'driver')) });
    const online = [];
    for (let i = 0; i < 2; i++) {
      const v = await volumeFor(h, true);
      online.push(await h.manager.createSnapshot({ volumeId: v.id, projectId: 'project-a', userId: 'user-a', force: true }));
    }
    const v = await volumeFor(h, false);
    const offline = await h.manager.createSnapshot({ volumeId: v.id, projectId: 'project-a', userId: 'user-a' });

    const crashed = await run(url, dir, crash);
    expect(crashed.signal, crashed.err).toBe('SIGKILL');
    const restarted = await run(url, dir);
    expect([restarted.code, restarted.err]).toEqual([0, '']);
    expect(JSON.parse(restarted.out)).toEqual({ left: 0 });

    const driver = new TestDriver(true, join(dir, 'driver'));
    for (const s of online) for (const op of assistedOps) expect(driver.journal.appliedCount(op, s.id), `${op} ${s.id}`).toBe(1);
    for (const op of offlineOps) expect(driver.journal.appliedCount(op, offline.id)).toBe(1);
    // A phase runs again only when the crash cut it off from its recorded result: at most once more.
    const runs = new Map<string, number>();
    for (const inv of driver.journal.invocations()) runs.set(`${inv.op} ${inv.id}`, (runs.get(`${inv.op} ${inv.id}`) ?? 0) + 1);
    expect(Math.max(...runs.values())).toBeLessThanOrEqual(2);
    if (crash.startsWith('afterEffect')) {
      // The killed process had run exactly one effect whose result it never recorded: that one,
      // and only that one, ran again (driver phase or compute request).
      const compute = new TestCompute(join(dir, 'compute'));
      for (const inv of compute.journal.invocations()) runs.set(`${inv.op} ${inv.id}`, (runs.get(`${inv.op} ${inv.id}`) ?? 0) + 1);
      expect([...runs.values()].filter((n) => n === 2)).toHaveLength(1);
    }

    for (const s of [...online, offline]) {
      const row = await h.db.prisma.snapshot.findUniqueOrThrow({ where: { id: s.id } });
      expect(row.status).toBe('deleted');
      const accepted = (await h.manager.transitions(s.id)).filter((t) => !t.rejected);
      expect(accepted.map((t) => t.version)).toEqual(Array.from({ length: row.version }, (_, i) => i + 1));
    }
    expect(await h.db.prisma.outboxJob.count({ where: { status: 'pending' } })).toBe(0);
    await h.close();
  });
});
