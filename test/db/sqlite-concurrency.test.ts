// Several processes sharing one SQLite file: read-then-write interactive transactions must wait
// for each other (BEGIN IMMEDIATE + busy timeout), never fail with SQLITE_BUSY or lose updates.
// Guards patches/@prisma+adapter-better-sqlite3+6.19.3.patch.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { freshDatabaseUrl } from '../support/databases.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runContender(url: string, count: number): Promise<{ code: number | null; out: string }> {
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const script = path.join(root, 'test', 'support', 'sqlite-contender.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsx, script, url, String(count)], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

it('processes sharing a SQLite file serialise read-then-write transactions', async () => {
  const url = await freshDatabaseUrl('sqlite');
  const db = await openDatabase(url);
  try {
    await db.prisma.volume.create({ data: { id: 'counter', projectId: 'p', userId: 'u', size: 0, machineState: '{}', phase: 'available' } });
    const processes = 3;
    const perProcess = 40;
    const results = await Promise.all(Array.from({ length: processes }, () => runContender(url, perProcess)));
    for (const r of results) {
      expect(r.code, r.out).toBe(0);
      expect(JSON.parse(r.out.trim().split('\n').pop()!), r.out).toEqual({ ok: perProcess, errors: [] });
    }
    const counter = await db.prisma.volume.findUniqueOrThrow({ where: { id: 'counter' } });
    expect(counter.size).toBe(processes * perProcess);
  } finally {
    await db.close();
  }
});
