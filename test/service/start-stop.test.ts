// `npm start`'s process for real: the compiled service (dist/, what `npm start` runs, started with
// package.json's own start command) migrates a brand-new database, serves the API and the web UI,
// drains on SIGTERM (exit 0, nothing lost), and a restarted process continues where the first one
// stopped. The sources under tsx (`npm run dev`) refuse a bad setting as the compiled form would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../scripts/build.js';
import { startCommand } from '../../scripts/start-command.js';
import { emptyDatabaseUrl, providers } from '../support/databases.js';
import { freePort } from '../support/ports.js';

const root = join(import.meta.dirname, '..', '..');
const npmStart = startCommand(root);
const dev = { command: process.execPath, args: ['--import', 'tsx', join(root, 'src/main.ts')], env: {} };

// `npm install` builds dist/ (CI's `npm ci` included); after an edit here the compiled form would
// be stale, and this test would prove nothing about the code in front of you, so it builds first.
beforeAll(() => ensureBuilt(), 300_000);

/** Starts the service and resolves once it logged "listening"; collects its JSON log lines. */
async function start(how: { command: string; args: string[]; env: Record<string, string> }, env: Record<string, string>) {
  const child = spawn(how.command, how.args, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', ...how.env, ...env },
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

describe.each(providers)('the compiled service process (npm start) on %s', (provider) => {
  it('migrates a new database, serves, drains on SIGTERM and continues after a restart', async () => {
    const port = await freePort();
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      // The SQLite file's directory does not exist yet either.
      DATABASE_URL: provider === 'sqlite' ? `file:${join(mkdtempSync(join(tmpdir(), 'service-')), 'nested', 'db.sqlite')}` : await emptyDatabaseUrl(provider),
      WORKER_POLL_MS: '50',
      VOLUME_DRIVER: 'bookkeeping',
    };
    const base = `http://127.0.0.1:${port}/v3/demo`;
    const headers = { 'X-Auth-Token': 'me:demo', 'Content-Type': 'application/json' };

    const first = await start(npmStart, env);
    expect(first.logs).toContainEqual(expect.objectContaining({ msg: 'database migrated', migrations: expect.arrayContaining([expect.any(String)]) }));
    // The web UI's files are read beside the compiled modules.
    for (const [file, type] of [['', 'text/html'], ['/app.js', 'javascript'], ['/style.css', 'text/css']]) {
      const res = await fetch(`http://127.0.0.1:${port}/ui${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect((await res.text()).length).toBeGreaterThan(0);
    }
    const volume = await (await fetch(`${base}/volumes`, { method: 'POST', headers, body: JSON.stringify({ volume: { size: 1, name: 'v' } }) })).json();
    // Cinder's create is asynchronous: wait for the service to log the volume available.
    const made = () => first.logs.some((l) => l.msg === 'volume transition' && l.volumeId === volume.volume.id && l.phase === 'available');
    for (let i = 0; i < 100 && !made(); i++) await new Promise((r) => first.child.stdout!.once('data', r));
    expect(made()).toBe(true);
    const created = await fetch(`${base}/snapshots`, { method: 'POST', headers, body: JSON.stringify({ snapshot: { volume_id: volume.volume.id } }) });
    expect(created.status).toBe(202);
    const snapshot = (await created.json()).snapshot;
    const gone = exited(first.child);
    first.child.kill('SIGTERM');
    expect(await gone).toBe(0);
    expect(first.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));

    // Whatever the first process had not finished is in the database; the second one finishes it.
    const second = await start(npmStart, env);
    try {
      expect(second.logs.map((l) => l.msg)).not.toContain('database migrated');
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
});

describe('the service from its sources (npm run dev)', () => {
  it('refuses noauth on a non-loopback address with a clear message', async () => {
    const child = spawn(dev.command, dev.args, {
      cwd: root,
      env: { ...process.env, ...dev.env, HOST: '0.0.0.0', AUTH_STRATEGY: 'noauth', DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), 'svc-')), 'db')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    expect(await exited(child)).toBe(1);
    expect(stderr).toMatch(/noauth/);
  });
});
