// A stop as systemd sends it by default (SIGTERM to the service's whole process group) while 50
// offline snapshots are being created by the real service with the RemoteFS driver and real
// qemu-img: the qemu-img children, in groups of their own, are not hit; the service drains and
// exits 0, once with a grace that lets the effects in hand finish, once with none, so that they are
// interrupted and handed back; what was not finished runs after a restart on the same database and
// share. All 50 end `available`; none went through `error` and no `storage.failed` was recorded.
//
// qemu-img is held mid-run by a gate, not by the clock: `qemu-img` on the service's PATH is a
// script that, while QEMU_IMG_GATE names a FIFO, logs its pid and waits for a line on that FIFO
// before it execs the real qemu-img, for the one call that does an offline snapshot's work (the
// overlay's `create` with a backing file). The test waits until every worker slot holds a child
// parked there, then signals.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, watch, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { call, removeScratch, scratchDir, ServiceProcess, type Transition } from '../support/e2e.js';
import { freePort } from '../support/ports.js';

const root = path.join(import.meta.dirname, '..', '..');
const SNAPSHOTS = 50;
/** The worker slots of the gated runs: this many qemu-img children are parked at the gate when the signal is sent. */
const CONCURRENCY = 4;

interface World {
  dir: string;
  share: string;
  gate: string;
  parked: string;
  env: Record<string, string>;
}

function world(provider: string, databaseUrl: string): World {
  const dir = scratchDir(`graceful-stop-${provider}`);
  const share = path.join(dir, 'share');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const gate = path.join(dir, 'gate');
  execFileSync('mkfifo', [gate]);
  const parked = path.join(dir, 'parked');
  writeFileSync(parked, '');
  const qemuImg = execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim();
  writeFileSync(
    path.join(bin, 'qemu-img'),
    [
      '#!/bin/sh',
      'case "$*" in *backing_file=*)',
      '  if [ -n "$QEMU_IMG_GATE" ]; then echo "$$" >> "$QEMU_IMG_PARKED"; read _ < "$QEMU_IMG_GATE"; fi;;',
      'esac',
      `exec ${qemuImg} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return {
    dir,
    share,
    gate,
    parked,
    env: {
      DATABASE_URL: databaseUrl,
      VOLUME_DRIVER: 'remotefs',
      REMOTEFS_SHARE: share,
      PATH: `${bin}:${process.env.PATH}`,
      QEMU_IMG_PARKED: parked,
      WORKER_POLL_MS: '100',
    },
  };
}

/** src/main.ts in a process group of its own (as systemd starts a service); resolves once listening. */
async function startService(w: World, env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
    cwd: root,
    detached: true,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), COMPUTE_AGENT_PORT: String(await freePort()), LOG_LEVEL: 'info', ...w.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = new ServiceProcess(child, port, w.share);
  await service.waitFor((l) => l.msg === 'listening', 'listening');
  return service;
}

/** The pids the gate script logged, once there are `count` of them (woken by the file's changes). */
async function parkedPids(w: World, count: number, timeoutMs = 60_000): Promise<number[]> {
  const read = () => readFileSync(w.parked, 'utf8').split('\n').filter(Boolean).map(Number);
  return new Promise((resolve, reject) => {
    const check = () => {
      const pids = read();
      if (pids.length < count) return false;
      watcher.close();
      clearTimeout(timer);
      resolve(pids);
      return true;
    };
    const watcher = watch(w.parked, () => void check());
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`only ${read().length} of ${count} qemu-img children reached the gate`));
    }, timeoutMs);
    check();
  });
}

/** Lets every parked qemu-img (and any later one) through: the FIFO stays open with lines to spare. */
function openGate(w: World): () => void {
  const fd = openSync(w.gate, 'r+');
  writeSync(fd, '\n'.repeat(4 * SNAPSHOTS));
  return () => closeSync(fd);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

/** Runs `task` for 0..n-1, `width` at a time. */
async function inParallel<T>(n: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  }));
  return out;
}

/** One snapshot request per detached volume: offline creates, each on a volume of its own. */
async function createSnapshots(service: ServiceProcess): Promise<string[]> {
  const volumes = await inParallel(SNAPSHOTS, 8, async (i) => {
    const id = (await call('POST', `${service.base}/volumes`, { volume: { size: 1, name: `v${i}` } })).volume.id as string;
    // Cinder's create is asynchronous: a snapshot needs the volume available.
    expect((await service.volumeSettled(id)).phase).toBe('available');
    return id;
  });
  return inParallel(SNAPSHOTS, 8, async (i) => (await call('POST', `${service.base}/snapshots`, { snapshot: { volume_id: volumes[i], name: `s${i}` } })).snapshot.id as string);
}

const transitions = (service: ServiceProcess) => service.lines.filter((l) => l.msg === 'snapshot transition');

/** SIGTERM to the service's whole process group, as `kill -TERM -- -<pgid>` and systemd send it. */
async function stopGroup(service: ServiceProcess): Promise<number | null> {
  process.kill(-service.child.pid!, 'SIGTERM');
  return service.exited;
}

/** Their statuses, as the API lists them. */
async function statuses(service: ServiceProcess, ids: string[]): Promise<string[]> {
  const listed: Array<{ id: string; status: string }> = (await call('GET', `${service.base}/snapshots/detail?limit=1000`)).snapshots;
  const byId = new Map(listed.map((s) => [s.id, s.status]));
  return ids.map((id) => byId.get(id) ?? 'missing');
}

/**
 * Asks the API until no snapshot is `creating` any more, looking again each time the service logs
 * a transition; bounded, so a hang fails with the service's log.
 */
async function settle(service: ServiceProcess, ids: string[], timeoutMs = 120_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set(service.lines);
    const now = await statuses(service, ids);
    if (!now.includes('creating')) return now;
    await service.waitFor((l) => l.msg === 'snapshot transition' && !seen.has(l), 'a transition', Math.max(1, until - Date.now()));
  }
}

/** Every snapshot reaches `available` after the restart, and none ever failed. */
async function expectAllAvailable(service: ServiceProcess, ids: string[]) {
  expect(await settle(service, ids)).toEqual(ids.map(() => 'available'));
  for (const id of ids) {
    const history: Transition[] = (await call('GET', `${service.base}/snapshots/${id}/transitions`)).transitions;
    expect(history.filter((t) => t.event === 'storage.failed' || t.to_phase === 'error'), id).toEqual([]);
    expect(history.filter((t) => !t.rejected).map((t) => t.to_phase), id).toEqual(['creating.driverCreate', 'available']);
  }
}

describe.each(providers)('a stop signal to the whole process group on %s', (provider) => {
  let w: World | undefined;
  const services: ServiceProcess[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.kill();
    removeScratch(w?.dir);
    w = undefined;
  });

  it('never fails work: the effects in hand finish within the grace, or are interrupted and handed back when it runs out; after a restart all 50 are available', { timeout: 240_000 }, async () => {
    w = world(provider, await freshDatabaseUrl(provider));

    // 1. A grace long enough: the parked children are not hit by the group's signal and finish
    // once let through; nothing new is claimed after the signal.
    const first = await startService(w, { QEMU_IMG_GATE: w.gate, WORKER_CONCURRENCY: String(CONCURRENCY), SHUTDOWN_GRACE_SECONDS: '600' });
    services.push(first);
    const ids = await createSnapshots(first);
    const parked = await parkedPids(w, CONCURRENCY);
    const exit = stopGroup(first);
    await first.waitFor((l) => l.msg === 'draining', 'draining');
    // The group signal has been handled: the children, in groups of their own, are still there.
    expect(parked.filter((pid) => !alive(pid))).toEqual([]);
    const closeGate = openGate(w);
    try {
      expect(await exit).toBe(0);
    } finally {
      closeGate();
    }
    expect(transitions(first).filter((l) => l.phase === 'available')).toHaveLength(CONCURRENCY);
    expect(transitions(first).filter((l) => l.phase !== 'available' && l.phase !== 'creating.driverCreate')).toEqual([]);
    expect(first.lines.filter((l) => l.msg === 'effect interrupted; handed back')).toEqual([]);

    // 2. No grace: the parked children are interrupted by the service itself, their jobs handed back.
    writeFileSync(w.parked, '');
    const second = await startService(w, { QEMU_IMG_GATE: w.gate, WORKER_CONCURRENCY: String(CONCURRENCY), SHUTDOWN_GRACE_SECONDS: '0' });
    services.push(second);
    const cut = await parkedPids(w, CONCURRENCY);
    expect(await stopGroup(second)).toBe(0);
    const interrupted = second.lines.filter((l) => l.msg === 'effect interrupted; handed back');
    expect(interrupted).toHaveLength(CONCURRENCY);
    for (const line of interrupted) expect(line.error).toMatch(/^qemu-img create .* interrupted by SIGTERM/);
    expect(cut.filter(alive)).toEqual([]);
    expect(transitions(second)).toEqual([]);

    // 3. No WORKER_ID: each start is another worker, so only the hand-back lets this one run the
    // interrupted jobs now rather than after their leases (300 s).
    const third = await startService(w, {});
    services.push(third);
    await expectAllAvailable(third, ids);
    expect(await stopGroup(third)).toBe(0);
  });
});
