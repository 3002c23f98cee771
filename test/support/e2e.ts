// End-to-end helpers: the service (src/main.ts) and the compute agent (src/compute/agent/main.ts)
// as separate processes on real files and real HTTP, the way an operator runs them against Nova.
// Every wait is on a log line the process writes (pino JSON on stdout), never on the clock; a
// wait has a bound only so that a hang fails with the process's recent output instead of the
// test runner's bare timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freshDatabaseUrl } from './databases.js';
import { qemuImgChain, qemuImgCheckClean, qemuIoMismatches, qemuIoWrite, type PatternRead } from './qemu.js';
import { AGENT_STATE_FILE_NAME } from '../../src/contracts/compute-agent-files.js';

const root = path.join(import.meta.dirname, '..', '..');

export type LogLine = Record<string, unknown> & { msg?: string };

const tryPort = (port: number) =>
  new Promise<number | null>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });

/**
 * A free port below Linux's ephemeral range (32768 and up), so that no outgoing connection is
 * handed it while it is free: the agent's port stays the service's COMPUTE_URL across agent
 * restarts, and must still be there for the next agent.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryPort(20_000 + Math.floor(Math.random() * 12_000));
    if (port !== null) return port;
  }
  throw new Error('no free port in 20000-31999');
}

/** A directory for one test file's share; removeScratch() takes it away (E2E_KEEP=1 keeps it). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `e2e-${prefix}-`));
}

export function removeScratch(dir: string | undefined): void {
  if (!dir) return;
  if (process.env.E2E_KEEP === '1') console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

// Whatever a failed or interrupted test file left running goes down with its worker.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

interface Waiter {
  test: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
  reject: (err: Error) => void;
}

/** A child process whose JSON log lines are kept and can be waited on. */
export class LoggedProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private stderr = '';
  private exitCode: number | null | undefined = undefined;
  private readonly waiters = new Set<Waiter>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, unparsed: true };
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.test(line)) {
          this.waiters.delete(w);
          w.resolve(line);
        }
      }
    });
    running.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        this.exitCode = code ?? (signal ? -1 : null);
        for (const w of [...this.waiters]) w.reject(new Error(`${this.name} exited (${code ?? signal}) while a test waited on it\n${this.tail()}`));
        this.waiters.clear();
        resolve(code);
      }),
    );
  }

  /** The first line, from the start of the process's log, that satisfies `test`. */
  waitFor(test: (line: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited; never logged ${what}\n${this.tail()}`));
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name} did not log ${what} within ${timeoutMs} ms\n${this.tail()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** The last log lines and stderr, for failure messages. */
  tail(n = 25): string {
    return `--- last ${n} log lines of ${this.name} ---\n${this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')}\n--- stderr ---\n${this.stderr}`;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL: a crash (or a hung host taken down). */
  async kill(): Promise<void> {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function spawnTs(file: string, args: string[], env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, file), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface SnapshotTransitionLog extends LogLine {
  snapshotId: string;
  version: number;
  fromPhase: string | null;
  phase: string;
  status: string;
  event: string;
  source: string;
}

export class ServiceProcess extends LoggedProcess {
  constructor(
    child: ChildProcess,
    readonly port: number,
    readonly share: string,
  ) {
    super(`service :${port}`, child);
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}/v3/demo`;
  }

  /** The first committed transition of volume `volumeId` into any of `phases`: where it settled. */
  volumeSettled(volumeId: string, phases: readonly string[] = ['available', 'error'], timeoutMs?: number): Promise<{ phase: string }> {
    return this.waitFor(
      (l) => l.msg === 'volume transition' && l.volumeId === volumeId && phases.includes(l.phase as string),
      `volume ${volumeId} settling in ${phases.join(' or ')}`,
      timeoutMs,
    ) as Promise<{ phase: string }>;
  }

  /** The first committed transition of `snapshotId` into any of `phases`: where it settled. */
  settled(snapshotId: string, phases: readonly string[] = ['available', 'error'], timeoutMs?: number): Promise<SnapshotTransitionLog> {
    return this.waitFor(
      (l) => l.msg === 'snapshot transition' && l.snapshotId === snapshotId && phases.includes(l.phase as string),
      `snapshot ${snapshotId} settling in ${phases.join(' or ')}`,
      timeoutMs,
    ) as Promise<SnapshotTransitionLog>;
  }
}

export interface ServiceOptions {
  share: string;
  agentPort: number;
  env?: Record<string, string>;
}

/** src/main.ts with the RemoteFS driver on `share` and Nova at the agent's port; resolves once listening. */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawnTs('src/main.ts', [], {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: await freshDatabaseUrl('sqlite'),
    REMOTEFS_SHARE: options.share,
    COMPUTE_URL: `http://127.0.0.1:${options.agentPort}/v2.1`,
    LOG_LEVEL: 'info',
    WORKER_POLL_MS: '100',
    ...options.env,
  });
  const service = new ServiceProcess(child, port, options.share);
  await service.waitFor((l) => l.msg === 'listening', 'listening');
  return service;
}

export type AgentFault = 'refuse-requests' | 'fail-live-part' | 'never-call-back' | 'hang-live-part' | 'drop-callbacks=1';

export interface AgentOptions {
  port: number;
  share: string;
  servicePort: number;
  legacy?: boolean;
  faults?: AgentFault[];
  /** Default `file` (see below); `qemu` for the tests about the running guest itself. */
  mode?: 'file' | 'qemu';
}

/** src/compute/agent/main.ts on `port`; resolves once it is ready. Its state file lives in the share. */
export async function startAgent(options: AgentOptions): Promise<LoggedProcess> {
  const args = [
    '--port',
    String(options.port),
    '--share',
    options.share,
    '--storage-url',
    `http://127.0.0.1:${options.servicePort}/v3/{project_id}`,
    '--project-id',
    'demo',
    // File mode: these tests inspect the chain offline (qemu-img check, qemu-io reads of the
    // active file) between steps, which a QEMU holding the write lock would refuse. The QEMU
    // mode's data path has its own tests on real QEMU processes (test/compute/agent/qemu-live.test.ts).
    '--mode',
    options.mode ?? 'file',
  ];
  if (options.legacy) args.push('--legacy');
  for (const fault of options.faults ?? []) {
    const [flag, value] = fault.split('=');
    args.push(`--${flag}`, ...(value ? [value] : []));
  }
  const agent = new LoggedProcess(`agent :${options.port}${options.faults?.length ? ` [${options.faults.join(' ')}]` : ''}`, spawnTs('src/compute/agent/main.ts', args, { LOG_LEVEL: 'info' }));
  const ready = await agent.waitFor((l) => l.msg === 'compute agent ready', 'ready');
  // The flags reached the process: a test that relies on a fault cannot pass without it.
  const expected = options.faults ?? [];
  if (JSON.stringify(ready.faults) !== JSON.stringify(expected)) {
    await agent.kill();
    throw new Error(`agent started with faults ${JSON.stringify(ready.faults)}, expected ${JSON.stringify(expected)}`);
  }
  return agent;
}

// ---- HTTP ---------------------------------------------------------------------------------------

export const HEADERS = { 'X-Auth-Token': 'e2e-user:demo', 'Content-Type': 'application/json', 'OpenStack-API-Version': 'volume 3.0' };

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: ${status} ${body}`);
  }
}

/** JSON request; rejects on a non-2xx answer with its status and body. */
export async function call<T = any>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, { method, headers: HEADERS, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text, `${method} ${url}`);
  return (text ? JSON.parse(text) : null) as T;
}

export interface Transition {
  id: number;
  version: number;
  from_phase: string | null;
  to_phase: string;
  from_status: string | null;
  to_status: string;
  event: string;
  source: string;
  payload: Record<string, unknown> | null;
  rejected: boolean;
  reason: string | null;
  created_at: string;
}

/** The storage API and the compute agent's Nova API, as the tests use them. */
export class Cloud {
  constructor(
    readonly service: ServiceProcess,
    readonly agentPort: number,
  ) {}

  /** Creates a volume and waits until the driver made it (Cinder's create is asynchronous). */
  async createVolume(name: string, volumeType?: string): Promise<string> {
    const id = (await call('POST', `${this.service.base}/volumes`, { volume: { size: 1, name, ...(volumeType ? { volume_type: volumeType } : {}) } })).volume.id as string;
    const { phase } = await this.service.volumeSettled(id);
    if (phase !== 'available') throw new Error(`volume ${id} ended ${phase}`);
    return id;
  }

  /** Nova's attach through the agent (os-reserve, os-initialize_connection, os-attach). */
  async attach(serverId: string, volumeId: string): Promise<void> {
    await call('POST', `http://127.0.0.1:${this.agentPort}/v2.1/servers/${serverId}/os-volume_attachments`, { volumeAttachment: { volumeId } });
  }

  async volumeStatus(volumeId: string): Promise<string> {
    return (await call('GET', `${this.service.base}/volumes/${volumeId}`)).volume.status;
  }

  /** POST /snapshots; resolves with the id as soon as the request is accepted (202). */
  async requestSnapshot(volumeId: string, name: string, force = true): Promise<string> {
    return (await call('POST', `${this.service.base}/snapshots`, { snapshot: { volume_id: volumeId, name, force } })).snapshot.id;
  }

  /** Requests a snapshot and waits until it settles; returns its id and the state it settled in. */
  async snapshot(volumeId: string, name: string, force = true): Promise<{ id: string; phase: string }> {
    const id = await this.requestSnapshot(volumeId, name, force);
    return { id, phase: (await this.service.settled(id)).phase };
  }

  async requestDelete(id: string): Promise<void> {
    await call('DELETE', `${this.service.base}/snapshots/${id}`);
  }

  /** Deletes and waits until the delete settles; returns the state it settled in. */
  async deleteSnapshot(id: string): Promise<string> {
    await this.requestDelete(id);
    return (await this.service.settled(id, ['deleted', 'error_deleting'])).phase;
  }

  async snapshotView(id: string): Promise<{ status: string; [k: string]: unknown }> {
    return (await call('GET', `${this.service.base}/snapshots/${id}`)).snapshot;
  }

  async snapshotStatuses(volumeId: string): Promise<Record<string, string>> {
    const list = (await call('GET', `${this.service.base}/snapshots/detail?volume_id=${volumeId}`)).snapshots as Array<{ id: string; status: string; volume_id: string }>;
    return Object.fromEntries(list.filter((s) => s.volume_id === volumeId).map((s) => [s.id, s.status]));
  }

  async transitions(id: string): Promise<Transition[]> {
    return (await call('GET', `${this.service.base}/snapshots/${id}/transitions`)).transitions;
  }

  async adminMetadata(id: string): Promise<Record<string, string>> {
    return (await call('GET', `${this.service.base}/snapshots/${id}/admin_metadata`)).admin_metadata;
  }
}

/** The accepted transitions as `from -> to (event/source)`, for whole-path assertions. */
export function acceptedPath(history: Transition[]): string[] {
  return history.filter((t) => !t.rejected).map((t) => `${t.from_phase ?? '-'} -> ${t.to_phase} (${t.event}/${t.source})`);
}

// ---- files --------------------------------------------------------------------------------------

export type SnapInfo = Record<string, string> & { active: string };

export async function readInfo(share: string, volumeId: string): Promise<SnapInfo | null> {
  try {
    return JSON.parse(await fs.readFile(path.join(share, `volume-${volumeId}.info`), 'utf8')) as SnapInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The files of volume `volumeId` in the share (its .info, lock and temporaries left out). */
export async function volumeFiles(share: string, volumeId: string): Promise<string[]> {
  const prefix = `volume-${volumeId}`;
  return (await fs.readdir(share)).filter((n) => (n === prefix || n.startsWith(`${prefix}.`)) && n !== `${prefix}.info` && !n.endsWith('.lock')).sort();
}

/** What the agent (the "hypervisor") has open for the volume, from its state file in the share. */
export async function agentActiveFile(share: string, volumeId: string): Promise<string | null> {
  const doc = JSON.parse(await fs.readFile(path.join(share, AGENT_STATE_FILE_NAME), 'utf8')) as {
    instances: Record<string, Record<string, { activeFile: string }>>;
  };
  for (const volumes of Object.values(doc.instances)) if (volumes[volumeId]) return volumes[volumeId].activeFile;
  return null;
}

export async function checkClean(share: string, files: string[]): Promise<void> {
  for (const f of files) await qemuImgCheckClean(path.join(share, f));
}

/**
 * What each point in time should read: a region of its own per write, plus a shared region that
 * every write overwrites (so an older snapshot reading a newer write shows up).
 */
export const REGION = 64 * 1024;
export const SHARED_OFFSET = 0;
export const regionOf = (k: number) => (k + 1) * REGION;
export const patternOf = (k: number) => 0x10 + k;

/** The reads that must match after writes 1..k (k = 0: nothing written yet) out of `total`. */
export function expectedReads(k: number, total: number): PatternRead[] {
  const reads: PatternRead[] = [{ pattern: k === 0 ? 0 : patternOf(k), offset: SHARED_OFFSET, length: REGION }];
  for (let j = 1; j <= total; j++) reads.push({ pattern: j <= k ? patternOf(j) : 0, offset: regionOf(j), length: REGION });
  return reads;
}

/** Offsets that do not read as expected through `file`'s chain, with the file for the message. */
export async function mismatches(share: string, file: string, reads: PatternRead[]): Promise<{ file: string; offsets: number[] }> {
  return { file, offsets: await qemuIoMismatches(path.join(share, file), reads) };
}

/** Write number k (1-based) through the chain of `activeFile`: the shared region and region k. */
export async function writeGeneration(share: string, activeFile: string, k: number): Promise<void> {
  await qemuIoWrite(path.join(share, activeFile), patternOf(k), SHARED_OFFSET, REGION);
  await qemuIoWrite(path.join(share, activeFile), patternOf(k), regionOf(k), REGION);
}

/** Regions the tests write into (one per write, 1-based); reads check all of them. */
export const REGIONS = 6;

export interface SnapshotModel {
  id: string;
  /** How many writes had happened when the snapshot was taken: what it must read. */
  writes: number;
}

export interface VolumeModel {
  volumeId: string;
  /** Remaining snapshots, oldest first. */
  snapshots: SnapshotModel[];
  /** Writes so far: what the active chain must read. */
  writes: number;
  /** Attached: the agent's open file must be .info's active file. */
  attached: boolean;
}

/** The active file per .info (the volume's own file before the first snapshot). */
export async function activeFile(share: string, volumeId: string): Promise<string> {
  return (await readInfo(share, volumeId))?.active ?? `volume-${volumeId}`;
}

/**
 * Everything the share must show for `model`: .info names exactly the remaining snapshots and
 * the file the agent has open; the active chain holds each snapshot's file, newer above older,
 * one link per distinct file plus the base, and nothing else of the volume lies in the share
 * (but the files in `allowedExtra`, if there); every chain file passes qemu-img check; below each snapshot's file its
 * own data reads back, and the active chain reads every write.
 */
export async function verifyVolume(share: string, model: VolumeModel, allowedExtra: string[] = []): Promise<void> {
  const { volumeId } = model;
  const info = await readInfo(share, volumeId);
  const active = info?.active ?? `volume-${volumeId}`;
  const where = `volume ${volumeId}`;
  if (model.snapshots.length > 0 || info) {
    if (!info) throw new Error(`${where}: no .info with ${model.snapshots.length} snapshots`);
    const keys = Object.keys(info).sort();
    const want = ['active', ...model.snapshots.map((s) => s.id)].sort();
    if (JSON.stringify(keys) !== JSON.stringify(want)) throw new Error(`${where}: .info has ${JSON.stringify(keys)}, expected ${JSON.stringify(want)}`);
  }
  if (model.attached) {
    const open = await agentActiveFile(share, volumeId);
    if (open !== active) throw new Error(`${where}: the agent has ${open} open, .info says ${active}`);
  }
  const chain = await qemuImgChain(path.join(share, active));
  const names = chain.map((c) => path.relative(share, c.filename));
  if (chain.at(-1)!['backing-filename']) throw new Error(`${where}: the chain's last file ${names.at(-1)} has a backing file`);
  const snapFiles = model.snapshots.map((s) => info![s.id]);
  const at = snapFiles.map((f) => names.indexOf(f));
  at.forEach((i, n) => {
    if (i < 0) throw new Error(`${where}: ${snapFiles[n]} (snapshot ${model.snapshots[n].id}) is not in the chain ${names.join(' <- ')}`);
    if (n > 0 && !(at[n - 1] > i)) throw new Error(`${where}: snapshot files out of order in ${names.join(' <- ')}: ${snapFiles.join(', ')}`);
  });
  const distinct = new Set(snapFiles).size;
  if (names.length !== 1 + distinct) throw new Error(`${where}: chain ${names.join(' <- ')} has ${names.length} files for ${distinct} snapshot files`);
  const files = await volumeFiles(share, volumeId);
  const missing = names.filter((n) => !files.includes(n));
  const stray = files.filter((f) => !names.includes(f) && !allowedExtra.includes(f));
  if (missing.length || stray.length) {
    throw new Error(`${where}: share holds ${JSON.stringify(files)}; chain files missing: ${JSON.stringify(missing)}, stray files: ${JSON.stringify(stray)}`);
  }
  await checkClean(share, names);
  const wrong: Array<{ file: string; offsets: number[]; what: string }> = [];
  for (const [n, s] of model.snapshots.entries()) {
    const below = names[at[n] + 1];
    if (!below) throw new Error(`${where}: nothing lies below ${snapFiles[n]}, the file of snapshot ${s.id}`);
    const m = await mismatches(share, below, expectedReads(s.writes, REGIONS));
    if (m.offsets.length) wrong.push({ ...m, what: `snapshot ${s.id} (after ${s.writes} writes)` });
  }
  const m = await mismatches(share, active, expectedReads(model.writes, REGIONS));
  if (m.offsets.length) wrong.push({ ...m, what: `active chain (after ${model.writes} writes)` });
  if (wrong.length) throw new Error(`${where}: data does not read back: ${JSON.stringify(wrong)}`);
}
