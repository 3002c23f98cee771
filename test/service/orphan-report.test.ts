// Issue 10, the recovery report: a starting service scans the share for files that no volume or
// snapshot owns, logs each, counts them in assisted_snapshots_orphan_files, and lists them to an
// admin at GET /v3/{project}/os-orphan-files. It never removes one. Real RemoteFS driver on real
// qcow2 files, on both providers; the service is the one src/service.ts builds.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AGENT_QEMU_RUN_DIR_NAME, AGENT_STATE_FILE_NAME } from '../../src/contracts/compute-agent-files.js';
import { createRemoteFsDriver } from '../../src/drivers/remotefs/index.js';
import { buildService, type Service } from '../../src/service.js';
import { TEMP_MARKER } from '../../src/share-fs/index.js';
import { parsePrometheusText, valueOf } from '../observability/prometheus-text.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { TestCompute } from '../support/doubles.js';
import { dirDigest, qemuIoWrite } from '../support/qemu.js';
import { volumeSettled } from '../support/volume-settled.js';

/** pino's JSON lines, kept and waited on (the scan runs in the background of the start). */
class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  private waiters: Array<{ test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    for (const text of chunk.toString().split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Record<string, unknown>;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
    }
    done();
  }
  waitFor(test: (l: Record<string, unknown>) => boolean, what: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never logged ${what}`)), timeoutMs);
      this.waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }
}

const ADMIN = { 'X-Auth-Token': 'admin-user:demo' };

describe.each(providers)('the orphan report on %s', (provider) => {
  let share: string;
  let url: string;
  let service: Service;
  let logs: LogLines;
  let volumeId: string;
  let snapshotId: string;
  const planted: Record<string, string> = {};

  const start = async () => {
    logs = new LogLines();
    const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', REMOTEFS_SHARE: share });
    return buildService(config, { driver: createRemoteFsDriver(share), compute: new TestCompute(), logger: pino({ level: 'info' }, logs) });
  };

  beforeAll(async () => {
    share = await fs.mkdtemp(path.join(os.tmpdir(), 'orphans-'));
    url = await freshDatabaseUrl(provider);
    // A first life of the service: a volume with an offline snapshot, owned files only.
    service = await start();
    const volume = await service.manager.createVolume({ projectId: 'demo', userId: 'u', size: 1, name: 'kept' });
    volumeId = volume.id;
    // Cinder's create is asynchronous: the runner has the driver make it.
    expect(await volumeSettled(service.engine, volumeId)).toBe('available');
    const snap = await service.manager.createSnapshot({ volumeId, projectId: 'demo', userId: 'u', force: false });
    snapshotId = snap.id;
    await waitForStatus(service, snapshotId, 'available');
    await service.stop();

    // What a crash, a hand repair or another tool left: none of it is owned by a row.
    const ghostVolume = randomUUID();
    planted[`volume-${ghostVolume}`] = `volume ${ghostVolume} does not exist`;
    planted[`volume-${volumeId}.${randomUUID()}`] = 'does not exist and .info of volume';
    planted['notes.txt'] = 'not a volume file';
    await fs.copyFile(path.join(share, `volume-${volumeId}`), path.join(share, `volume-${ghostVolume}`));
    await qemuIoWrite(path.join(share, `volume-${ghostVolume}`), 0x5a, 0, 4096);
    await fs.writeFile(path.join(share, Object.keys(planted)[1]!), 'left by a failed create of an older release');
    await fs.writeFile(path.join(share, 'notes.txt'), 'an operator\'s notes');

    service = await start();
  });
  afterAll(async () => {
    await service?.stop();
    if (share) await fs.rm(share, { recursive: true, force: true });
  });

  it('logs each orphan at start and counts them in the metric', async () => {
    const done = await logs.waitFor((l) => l.msg === 'orphan scan done', 'the orphan scan');
    expect(done.orphanFiles).toBe(3);
    const logged = logs.lines.filter((l) => l.msg === 'orphan file in the share (left in place)');
    expect(logged.map((l) => l.file).sort()).toEqual(Object.keys(planted).sort());
    const metrics = parsePrometheusText(await (await service.app.request('/metrics')).text());
    expect(metrics.get('assisted_snapshots_orphan_files')?.type).toBe('gauge');
    expect(valueOf(metrics, 'assisted_snapshots_orphan_files')).toBe(3);
  });

  it('lists them to an admin, with why each is an orphan, and leaves every file in place', async () => {
    const before = await dirDigest(share);
    const res = await service.app.request('/v3/demo/os-orphan-files', { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { orphan_files: Array<{ name: string; size: number; reason: string; modified_at: string }>; scanned_at: string };
    expect(body.orphan_files.map((f) => f.name)).toEqual(Object.keys(planted).sort());
    for (const f of body.orphan_files) {
      expect(f.reason).toContain(planted[f.name]);
      expect(f.size).toBe((await fs.stat(path.join(share, f.name))).size);
      expect(Number.isNaN(Date.parse(f.modified_at))).toBe(false);
    }
    // The volume, its snapshot's overlay and .info are owned: not listed.
    const owned = [`volume-${volumeId}`, `volume-${volumeId}.${snapshotId}`, `volume-${volumeId}.info`];
    for (const name of owned) await fs.stat(path.join(share, name));
    expect(body.orphan_files.some((f) => owned.includes(f.name))).toBe(false);
    // Nothing was touched, by the start's scan or by this one.
    expect(await dirDigest(share)).toEqual(before);
  });

  it('is admin only (policy orphan_files:get_all), in the OpenStack fault format', async () => {
    const policyFile = await policyWithout(share);
    const config = loadConfig({ DATABASE_URL: url, HOST: '127.0.0.1', PORT: '0', REMOTEFS_SHARE: share, POLICY_FILE: policyFile });
    const restricted = await buildService(config, { driver: createRemoteFsDriver(share), compute: new TestCompute(), logger: pino({ level: 'silent' }) });
    try {
      const res = await restricted.app.request('/v3/demo/os-orphan-files', { headers: ADMIN });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ forbidden: { code: 403, message: expect.stringContaining('orphan_files:get_all') } });
    } finally {
      await restricted.stop();
      await fs.rm(policyFile, { force: true });
    }
  });

  it("does not list the compute agent's own files: its state file, that file's temporary, its QEMUs' run directory", async () => {
    // What an agent whose state directory is the share (the default) leaves there.
    const agentFiles = [AGENT_STATE_FILE_NAME, `${AGENT_STATE_FILE_NAME}${TEMP_MARKER}${randomUUID()}`, AGENT_QEMU_RUN_DIR_NAME];
    await fs.writeFile(path.join(share, agentFiles[0]!), '{"instances":{}}');
    await fs.writeFile(path.join(share, agentFiles[1]!), '{"instances"');
    await fs.mkdir(path.join(share, AGENT_QEMU_RUN_DIR_NAME));
    await fs.writeFile(path.join(share, AGENT_QEMU_RUN_DIR_NAME, '0123456789abcdef.pid'), '4242\n');
    const res = await service.app.request('/v3/demo/os-orphan-files', { headers: ADMIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { orphan_files: Array<{ name: string }> };
    expect(body.orphan_files.map((f) => f.name)).toEqual(Object.keys(planted).sort());
    for (const name of agentFiles) await fs.stat(path.join(share, name));
  });
});

async function waitForStatus(service: Service, id: string, status: string): Promise<void> {
  // Listening first, then reading: a transition between the two cannot be missed.
  let listener: ((t: { snapshotId: string; toStatus: string }) => void) | undefined;
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`snapshot ${id} never reached ${status}`)), 20_000);
    listener = (t) => {
      if (t.snapshotId !== id || t.toStatus !== status) return;
      clearTimeout(timer);
      resolve();
    };
    service.engine.events.on('transition', listener);
  });
  try {
    if ((await service.manager.getSnapshot(id)).status !== status) await reached;
  } finally {
    service.engine.events.off('transition', listener!);
  }
}

/** A policy file that grants the listing to a role nobody has (noauth makes every caller admin). */
async function policyWithout(dir: string): Promise<string> {
  const file = path.join(dir, '..', `policy-${randomUUID()}.json`);
  await fs.writeFile(file, JSON.stringify({ 'orphan_files:get_all': ['auditor'] }));
  return file;
}
