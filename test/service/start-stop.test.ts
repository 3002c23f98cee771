// `npm start`'s process for real: it migrates a brand-new database, serves, drains on SIGTERM
// (exit 0, nothing lost), and a restarted process continues where the first one stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

const root = join(import.meta.dirname, '..', '..');

/** Starts src/main.ts and resolves once it logged "listening"; collects its JSON log lines. */
async function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const listening = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line);
      logs.push(entry);
      if (entry.msg === 'listening') resolve();
    });
    child.on('exit', (code) => reject(new Error(`service exited (${code}) before listening: ${stderr}`)));
  });
  await listening;
  return { child, logs };
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

describe('the service process', () => {
  it('migrates a new database, serves, drains on SIGTERM and continues after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'service-'));
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${join(dir, 'nested', 'db.sqlite')}`,
      WORKER_POLL_MS: '50',
      VOLUME_DRIVER: 'bookkeeping',
    };
    const base = `http://127.0.0.1:${port}/v3/demo`;
    const headers = { 'X-Auth-Token': 'me:demo', 'Content-Type': 'application/json' };

    const first = await start(env);
    const volume = await (await fetch(`${base}/volumes`, { method: 'POST', headers, body: JSON.stringify({ volume: { size: 1, name: 'v' } }) })).json();
    const created = await fetch(`${base}/snapshots`, { method: 'POST', headers, body: JSON.stringify({ snapshot: { volume_id: volume.volume.id } }) });
    expect(created.status).toBe(202);
    const snapshot = (await created.json()).snapshot;
    const gone = exited(first.child);
    first.child.kill('SIGTERM');
    expect(await gone).toBe(0);
    expect(first.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));

    // Whatever the first process had not finished is in the database; the second one finishes it.
    const second = await start(env);
    try {
      let status = '';
      for (let i = 0; i < 100 && status !== 'available'; i++) {
        status = (await (await fetch(`${base}/snapshots/${snapshot.id}`, { headers })).json()).snapshot.status;
        if (status !== 'available') await new Promise((r) => second.child.stdout!.once('data', r));
      }
      expect(status).toBe('available');
      const history = (await (await fetch(`${base}/snapshots/${snapshot.id}/transitions`, { headers })).json()).transitions;
      expect(history.map((t: { to_phase: string }) => t.to_phase)).toEqual(['creating.driverCreate', 'available']);
    } finally {
      const stopped = exited(second.child);
      second.child.kill('SIGTERM');
      expect(await stopped).toBe(0);
    }
  });

  it('refuses noauth on a non-loopback address with a clear message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, HOST: '0.0.0.0', AUTH_STRATEGY: 'noauth', DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), 'svc-')), 'db')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    expect(await exited(child)).toBe(1);
    expect(stderr).toMatch(/noauth/);
  });
});
