// Several instances of the service, real processes (`npm start`'s compiled command, with the
// settings `npm run cluster` gives each), active-active on one PostgreSQL database and one
// RemoteFS share with real qcow2 files; a stand-in Nova whose callbacks the test sends, to any
// instance. Every wait is on a log line or a database row, bounded only so a hang fails with
// context; the bounds are far below the instances' poll interval where a test is about wakeups.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../scripts/build.js';
import { LISTENER_APPLICATION_NAME } from '../../src/db/work-listener.js';
import { attachedVolume, sendCreateDone, StandInNova, startCluster, startInstance } from '../support/cluster.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { HEADERS, type ServiceProcess } from '../support/e2e.js';
import { ManualClock } from '../support/doubles.js';
import { harness } from '../support/harness.js';
import { qemuImgChain } from '../support/qemu.js';

beforeAll(() => ensureBuilt(), 300_000);

const scratch: string[] = [];
const everyone: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(everyone.map((s) => s.kill()));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function newShare(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cluster-share-'));
  scratch.push(dir);
  return dir;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function requestSnapshot(instance: ServiceProcess, volumeId: string, name: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${instance.base}/snapshots`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ snapshot: { volume_id: volumeId, name, force: true } }) });
    const text = await res.text();
    // An instance short of database connections under this load says so (503, Retry-After), and
    // wrote nothing: a client tries again, as cinderclient does.
    if (res.status === 503 && attempt < 10) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    if (res.status !== 202) throw new Error(`POST /snapshots on :${instance.port}: ${res.status} ${text}`);
    return JSON.parse(text).snapshot.id as string;
  }
}

/** `fn` over `items`, at most `width` at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Where the snapshot settled, as whichever instance committed it logged (a killed one's log included). */
function settledAnywhere(instances: ServiceProcess[], snapshotId: string, timeoutMs = 240_000): Promise<string> {
  return Promise.any(instances.map((i) => i.settled(snapshotId, ['available', 'error'], timeoutMs))).then((l) => l.phase);
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/**
 * Answers every create request at once and sends its callback to a random live instance (once per
 * snapshot: a request repeated by an instance that took over a dead one's job needs no second).
 */
function playHypervisor(nova: StandInNova, live: () => ServiceProcess[]) {
  const called = new Set<string>();
  const failures: string[] = [];
  nova.onRequest = (r) => {
    if (r.method === 'POST' && !called.has(r.snapshotId)) {
      called.add(r.snapshotId);
      setImmediate(async () => {
        for (let attempt = 0; attempt < 20; attempt++) {
          const target = pick(live());
          try {
            const res = await sendCreateDone(target, r.snapshotId);
            await res.text();
            if (res.status === 202) return;
            failures.push(`${r.snapshotId}: ${res.status}`);
            return;
          } catch {
            // That instance went away mid-request (the kill test): a load balancer would retry on another.
          }
        }
        failures.push(`${r.snapshotId}: no instance answered`);
      });
    }
    return 200;
  };
  return failures;
}

const ASSISTED_PATH = [
  'new -> creating.storageBegin',
  'creating.storageBegin -> creating.computeAssisted',
  'creating.computeAssisted -> creating.storageComplete',
  'creating.storageComplete -> available',
];

/** Every snapshot: the one assisted path, versions 1..n with no gap; each effect closed done exactly once. */
async function expectCleanRuns(url: string, ids: string[], o: { takenOver?: boolean } = {}) {
  const history = await query<{ snapshot_id: string; version: number; from_phase: string | null; to_phase: string; rejected: boolean }>(
    url,
    'SELECT snapshot_id, version, from_phase, to_phase, rejected FROM snapshot_transitions WHERE snapshot_id = ANY($1) ORDER BY id',
    [ids],
  );
  const jobs = await query<{ snapshot_id: string; kind: string; status: string; attempts: number; last_error: string | null }>(
    url,
    'SELECT snapshot_id, kind, status, attempts, last_error FROM outbox WHERE snapshot_id = ANY($1) ORDER BY id',
    [ids],
  );
  const attempts: number[] = [];
  for (const id of ids) {
    const accepted = history.filter((h) => h.snapshot_id === id && !h.rejected);
    expect(accepted.map((h) => `${h.from_phase ?? 'new'} -> ${h.to_phase}`), id).toEqual(ASSISTED_PATH);
    expect(accepted.map((h) => h.version), id).toEqual([1, 2, 3, 4]);
    const own = jobs.filter((j) => j.snapshot_id === id);
    // A job taken over from a killed instance whose run had already done its part (the snapshot
    // moved on meanwhile) is closed as cancelled by the second run, with the reason recorded.
    const status = (j: (typeof own)[number]) =>
      o.takenOver && j.status === 'cancelled' && j.attempts > 1 && /^snapshot left phase /.test(j.last_error ?? '') ? 'done' : j.status;
    expect(own.map((j) => `${j.kind}:${status(j)}`), id).toEqual(['createSnapshotAssistedBegin:done', 'requestComputeCreate:done', 'createSnapshotAssistedComplete:done']);
    attempts.push(...own.map((j) => j.attempts));
  }
  return { attempts, rejected: history.filter((h) => h.rejected).length };
}

async function expectChains(share: string, url: string, volumes: string[], perVolume: number) {
  const rows = await query<{ volume_id: string; n: string }>(url, "SELECT volume_id, count(*) AS n FROM snapshots WHERE phase = 'available' GROUP BY volume_id");
  for (const v of volumes) {
    expect(Number(rows.find((r) => r.volume_id === v)?.n)).toBe(perVolume);
    const info = JSON.parse((await import('node:fs')).readFileSync(path.join(share, `volume-${v}.info`), 'utf8')) as { active: string };
    // One overlay per snapshot, each on the one before: no two operations on a volume overlapped.
    expect(await qemuImgChain(path.join(share, info.active))).toHaveLength(perVolume + 1);
  }
}

interface Run {
  url: string;
  share: string;
  instances: ServiceProcess[];
  volumes: string[];
  ids: string[];
  failures: string[];
}

async function manySnapshots(o: { instances: number; volumes: number; perVolume: number; killWhenAvailable?: number }): Promise<Run & { killed?: ServiceProcess }> {
  const url = await freshDatabaseUrl('postgresql');
  const share = newShare();
  const nova = await new StandInNova().start();
  const instances = await startCluster(o.instances, { databaseUrl: url, share, computeUrl: nova.url, env: { WORKER_LEASE_SECONDS: '5', WORKER_POLL_MS: '1000' } });
  everyone.push(...instances);
  let killed: ServiceProcess | undefined;
  const live = () => instances.filter((i) => i !== killed);
  const failures = playHypervisor(nova, live);
  const volumes = await inBatches(Array.from({ length: o.volumes }, (_, k) => k), 8, (k) => attachedVolume(pick(instances), `vol${k}`, instances));
  // Requested as many clients would, 32 at a time, each to a random instance.
  const requests = volumes.flatMap((v, k) => Array.from({ length: o.perVolume }, (_, j) => ({ v, name: `s${k}-${j}` })));
  const ids = await inBatches(requests, 32, (r) => requestSnapshot(pick(instances), r.v, r.name));
  if (o.killWhenAvailable !== undefined) {
    await Promise.all(ids.slice(0, o.killWhenAvailable).map((id) => settledAnywhere(instances, id)));
    // The instance holding the most running jobs right now: its leases must run out for the others.
    const held = await query<{ locked_by: string; n: string }>(url, "SELECT locked_by, count(*) AS n FROM outbox WHERE status = 'pending' AND locked_by IS NOT NULL GROUP BY locked_by ORDER BY 2 DESC");
    const victim = held[0] ? instances.findIndex((_, i) => held[0]!.locked_by.endsWith(`-instance-${i + 1}`)) : 0;
    killed = instances[Math.max(0, victim)];
    await killed!.kill();
  }
  const phases = await Promise.all(ids.map((id) => settledAnywhere(instances, id)));
  const failed = await query<{ id: string; error_reason: string }>(url, "SELECT id, error_reason FROM snapshots WHERE phase <> 'available'");
  expect(failed).toEqual([]);
  expect(phases.filter((p) => p !== 'available')).toEqual([]);
  await nova.stop();
  return { url, share, instances, volumes, ids, failures, killed };
}

describe('N instances on one PostgreSQL', () => {
  it('300 assisted snapshots, callbacks spread at random over 3 instances: every one available, each phase once, history gap-free', async () => {
    const run = await manySnapshots({ instances: 3, volumes: 50, perVolume: 6 });
    expect(run.failures).toEqual([]);
    const { attempts } = await expectCleanRuns(run.url, run.ids);
    // Nothing ran twice: no lease ran out, no claim was doubled (a volume's turn handed back is no attempt).
    expect(attempts.every((a) => a === 1)).toBe(true);
    await expectChains(run.share, run.url, run.volumes, 6);
    // The work was spread: every instance committed transitions.
    for (const i of run.instances) expect(i.lines.filter((l) => l.msg === 'snapshot transition').length).toBeGreaterThan(0);
    await Promise.all(run.instances.map((i) => i.stop()));
  }, 600_000);

  it('the same with one instance killed by SIGKILL mid-run: everything still completes, nothing left in between', async () => {
    const run = await manySnapshots({ instances: 3, volumes: 50, perVolume: 6, killWhenAvailable: 60 });
    expect(run.failures).toEqual([]);
    const { attempts } = await expectCleanRuns(run.url, run.ids, { takenOver: true });
    // The killed instance's jobs were run again by the others after their lease: recorded as a second attempt.
    expect(attempts.some((a) => a > 1) || run.killed!.lines.every((l) => l.msg !== 'snapshot transition')).toBe(true);
    await expectChains(run.share, run.url, run.volumes, 6);
    const open = await query(run.url, "SELECT id, phase FROM snapshots WHERE phase NOT IN ('available', 'error', 'deleted')");
    expect(open).toEqual([]);
    await Promise.all(run.instances.filter((i) => i !== run.killed).map((i) => i.stop()));
  }, 600_000);

  it('two instances, one volume, two snapshot requests at the same moment: the assisted operations never overlap', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const share = newShare();
    const nova = await new StandInNova().start();
    const [a, b] = await startCluster(2, { databaseUrl: url, share, computeUrl: nova.url });
    everyone.push(a!, b!);
    const overlaps: string[] = [];
    nova.onRequest = async (r) => {
      // The moment compute is asked for one snapshot, no other snapshot of its volume may be
      // anywhere between its begin and its end.
      const others = await query<{ id: string; phase: string }>(url, 'SELECT id, phase FROM snapshots WHERE volume_id = $1 AND id <> $2', [r.volumeId, r.snapshotId]);
      for (const o of others) if (o.phase !== 'available' && o.phase !== 'creating.storageBegin') overlaps.push(`${r.snapshotId} asked for while ${o.id} in ${o.phase}`);
      setImmediate(() => void sendCreateDone(pick([a!, b!]), r.snapshotId).then((res) => res.text()));
      return 200;
    };
    const rounds = 6;
    const volumes = await Promise.all(Array.from({ length: rounds }, (_, k) => attachedVolume(a!, `race${k}`, [a!, b!])));
    const pairs = await Promise.all(volumes.map((v, k) => Promise.all([requestSnapshot(a!, v, `a${k}`), requestSnapshot(b!, v, `b${k}`)])));
    const phases = await Promise.all(pairs.flat().map((id) => settledAnywhere([a!, b!], id, 120_000)));
    expect(phases).toEqual(pairs.flat().map(() => 'available'));
    expect(overlaps).toEqual([]);
    await expectCleanRuns(url, pairs.flat());
    await expectChains(share, url, volumes, 2);
    // Both instances took part in the races.
    const runners = await query<{ locked_by: string }>(url, "SELECT DISTINCT locked_by FROM outbox WHERE kind = 'createSnapshotAssistedBegin'");
    expect(runners.length).toBeGreaterThan(0);
    await nova.stop();
    await Promise.all([a!.stop(), b!.stop()]);
  }, 300_000);

  it('work queued by another process wakes an idle instance at once (NOTIFY), also after its listener was killed with pg_terminate_backend', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const share = newShare();
    const nova = await new StandInNova().start();
    // Polling every 10 minutes: within this test only a notification can wake the instance.
    const instance = await startInstance(1, { databaseUrl: url, share, computeUrl: nova.url, env: { WORKER_POLL_MS: '600000', VOLUME_DRIVER: 'bookkeeping' } });
    everyone.push(instance);
    // Another process (the test's own engine, no worker running) queues the work.
    const other = await harness(url, { clock: new ManualClock(Date.now()) });
    const queue = async (name: string) => {
      const volume = await other.manager.createVolume({ projectId: 'demo', userId: 'u', size: 1, name });
      // The volume's own create job is work too: only a notification brings the instance to it.
      expect((await instance.volumeSettled(volume.id, ['available', 'error'], 20_000)).phase).toBe('available');
      return (await other.manager.createSnapshot({ volumeId: volume.id, projectId: 'demo', userId: 'u' })).id;
    };
    const first = await queue('before');
    expect((await instance.settled(first, ['available', 'error'], 20_000)).phase).toBe('available');

    const listeners = () => query<{ pid: number }>(url, 'SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_APPLICATION_NAME]);
    const [listener] = await listeners();
    expect(listener).toBeDefined();
    await query(url, 'SELECT pg_terminate_backend($1)', [listener!.pid]);
    // Queued while the listener may still be down: the reconnect looks for work at once.
    const during = await queue('during');
    await instance.waitFor((l) => l.msg === 'work listener reconnected; looking for work', 'the listener reconnecting', 20_000);
    expect((await instance.settled(during, ['available', 'error'], 20_000)).phase).toBe('available');
    const [again] = await listeners();
    expect(again!.pid).not.toBe(listener!.pid);
    // And the new session hears the next commit.
    const after = await queue('after');
    expect((await instance.settled(after, ['available', 'error'], 20_000)).phase).toBe('available');
    await other.close();
    await nova.stop();
    expect(await instance.stop()).toBe(0);
  }, 120_000);

  it('kill -9 of the instance that holds a compute request: another instance takes the job over after its lease', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const share = newShare();
    const nova = await new StandInNova().start();
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    const instances = await startCluster(2, { databaseUrl: url, share, computeUrl: nova.url, env: { WORKER_LEASE_SECONDS: '3' } });
    everyone.push(...instances);
    nova.onRequest = async (r) => {
      if (nova.requests.length === 1) {
        // The first request hangs, as a compute node that stopped answering mid-request.
        firstArrived();
        await firstHeld;
        return 503;
      }
      setImmediate(() => void sendCreateDone(survivor(), r.snapshotId).then((res) => res.text()));
      return 200;
    };
    let victim: ServiceProcess | undefined;
    const survivor = () => instances.find((i) => i !== victim)!;
    const volume = await attachedVolume(instances[0]!, 'failover', instances);
    const id = await requestSnapshot(instances[1]!, volume, 'snap');
    await arrived;
    const [job] = await query<{ id: number; locked_by: string }>(url, "SELECT id, locked_by FROM outbox WHERE snapshot_id = $1 AND kind = 'requestComputeCreate'", [id]);
    victim = instances.find((_, i) => job!.locked_by.endsWith(`-instance-${i + 1}`))!;
    const t0 = Date.now();
    // The transcript the closing note of issue 9 quotes: what was killed, and who finished.
    const say = (line: string) => console.log(`[kill -9 test +${String(Date.now() - t0).padStart(5)} ms] ${line}`);
    say(`compute request of snapshot ${id} held by ${job!.locked_by} (pid ${victim.child.pid}, :${victim.port}); kill -9 ${victim.child.pid}`);
    await victim.kill();
    say(`pid ${victim.child.pid} gone; lease ${3} s; waiting on :${survivor().port}`);
    const phase = await survivor().settled(id, ['available', 'error'], 60_000);
    releaseFirst();
    const requests = nova.requests.filter((r) => r.snapshotId === id).length;
    say(`snapshot ${id} ${phase.phase} (committed by :${survivor().port}); compute asked ${requests} times`);
    expect(phase.phase).toBe('available');
    const [done] = await query<{ status: string; attempts: number; locked_by: string }>(url, 'SELECT status, attempts, locked_by FROM outbox WHERE id = $1', [job!.id]);
    // Run twice: once by the dead instance (its request reached compute), once by the survivor.
    say(`job ${job!.id}: ${JSON.stringify(done)}`);
    expect(done).toEqual({ status: 'done', attempts: 2, locked_by: expect.stringMatching(new RegExp(`-instance-${instances.indexOf(survivor()) + 1}$`)) });
    expect(nova.requests.filter((r) => r.snapshotId === id).length).toBe(2);
    await expectCleanRuns(url, [id]);
    await nova.stop();
    expect(await survivor().stop()).toBe(0);
  }, 120_000);
});
