/**
 * One running QEMU as a hypervisor runs it for an instance: `qemu-system-x86_64 -machine none
 * -nodefaults -display none` (TCG, no KVM, no guest code to run), QMP on a Unix socket, and the
 * instance's disks as block nodes added with blockdev-add, the way libvirt's -blockdev mode does.
 *
 * QEMU is started with -daemonize: the command returns once QEMU is initialised (its QMP socket
 * listens), and the daemon belongs to no process of ours, so it outlives a crash of whoever
 * started it, as a guest outlives a crash of libvirtd. A restarted agent reconnects to the same
 * socket and finds the same QEMU.
 *
 * What the disks look like is always read from QEMU (the block graph), never from a record:
 * `x-debug-query-block-graph` gives the nodes and their backing/file edges (the only QMP command
 * that names a node's backing node), `query-named-block-nodes` the file name of each protocol node.
 * The x-debug prefix marks the command unstable; QEMU 7.2 to 9.x answer it the same way, and
 * blockGraph() is the one place that reads it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { within } from '../lib/within.js';
import { ChildProcessError, children } from './child-processes.js';
import { QmpClient, QmpClosedError, QmpCommandError, type QmpEvent } from './qmp.js';

export const QEMU_SYSTEM = 'qemu-system-x86_64';

/** Whether `qemu-system-x86_64` can be run here (Debian's qemu-system-x86). */
export function qemuSystemAvailable(binary = QEMU_SYSTEM): Promise<boolean> {
  return new Promise((resolve) => execFile(binary, ['--version'], (err) => resolve(!err)));
}

export interface QemuPaths {
  socketPath: string;
  pidFile: string;
  /**
   * A second QMP monitor for everyone but the agent (QEMU serves one client per monitor, and the
   * agent keeps its own connection): what an operator, or the demo playing the guest, talks to.
   */
  consoleSocketPath?: string;
}

/** How long QEMU gets to initialise (its command returns once the daemon is ready). */
const START_TIMEOUT_MS = 30_000;

/**
 * Starts a daemonized QEMU with QMP at `socketPath`; resolves once its socket listens. It is run
 * as the process's other tools are (child-processes.ts): in a group of its own, and refused once
 * the service is stopping. The daemon it leaves behind is no child of ours and outlives us.
 */
export async function startQemu({ socketPath, pidFile, consoleSocketPath }: QemuPaths, name: string, binary = QEMU_SYSTEM): Promise<void> {
  await rm(socketPath, { force: true });
  if (consoleSocketPath) await rm(consoleSocketPath, { force: true });
  const args = [
    '-machine', 'none', '-nodefaults', '-display', 'none', '-accel', 'tcg',
    '-name', name.replaceAll(',', ',,'),
    '-qmp', `unix:${socketPath.replaceAll(',', ',,')},server=on,wait=off`,
    ...(consoleSocketPath ? ['-qmp', `unix:${consoleSocketPath.replaceAll(',', ',,')},server=on,wait=off`] : []),
    '-pidfile', pidFile, '-daemonize',
  ];
  const run = children.run(binary, args);
  if (!(await within(run, START_TIMEOUT_MS))) throw new Error(`${binary} did not start: not ready within ${START_TIMEOUT_MS / 1000} s`);
  try {
    await run;
  } catch (err) {
    throw new Error(`${binary} did not start: ${(err instanceof ChildProcessError && err.stderr) || (err as Error).message}`);
  }
}

/** A block-driver node and its edges, as QEMU's block graph has them. */
export interface BlockNode {
  name: string;
  /** `file` for protocol nodes, else the format (qcow2, raw). */
  driver: string;
  /** The image file this node reads: its own for a protocol node, its `file` child's for a format node. */
  file: string | null;
  backing: string | null;
  /**
   * For a filter node a job puts above the disk (block-stream's copy-on-read, block-commit's
   * commit_top, a mirror's mirror_top): the node it filters. A filter has no file of its own.
   */
  filtered: string | null;
  parents: number;
  readOnly: boolean;
}

/** Filters whose filtered child is their `backing` edge rather than `file`. */
const FILTER_DRIVERS = new Set(['commit_top', 'mirror_top']);

export class QemuJobError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: 'failed' | 'cancelled' | 'qemu-exited',
    message: string,
  ) {
    super(message);
    this.name = 'QemuJobError';
  }
}

/** A node name QEMU accepts (a letter, then at most 31 characters) that the same file always gets. */
export function nodeNameFor(file: string): string {
  return `f${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 24)}`;
}

export interface BlockJobOptions {
  /** QMP command: block-stream or block-commit. */
  command: 'block-stream' | 'block-commit';
  jobId: string;
  args: Record<string, unknown>;
  /** Called once the job is running, before it is waited on (tests write "guest" data here). */
  onRunning?: () => Promise<void>;
}

export class QemuMachine {
  private constructor(
    readonly qmp: QmpClient,
    readonly pid: number | null,
  ) {}

  /** Connects to a running QEMU's QMP socket; rejects when no QEMU listens there. */
  static async connect({ socketPath, pidFile }: QemuPaths, timeoutMs = 10_000): Promise<QemuMachine> {
    const qmp = await QmpClient.connect(socketPath, timeoutMs);
    const pidText = await readFile(pidFile, 'utf8').catch(() => '');
    const pid = Number.parseInt(pidText.trim(), 10);
    return new QemuMachine(qmp, Number.isInteger(pid) && pid > 0 ? pid : null);
  }

  get closed(): Promise<void> {
    return this.qmp.closed;
  }

  async blockGraph(): Promise<BlockNode[]> {
    const graph = await this.qmp.execute<{
      nodes: { id: number; type: string; name: string }[];
      edges: { parent: number; child: number; name: string }[];
    }>('x-debug-query-block-graph');
    const named = await this.qmp.execute<{ 'node-name': string; drv: string; file: string; ro: boolean }[]>('query-named-block-nodes', {
      flat: true,
    });
    const info = new Map(named.map((n) => [n['node-name'], n]));
    const byId = new Map(graph.nodes.filter((n) => n.type === 'block-driver').map((n) => [n.id, n.name]));
    const childOf = (id: number, edge: string) => {
      const e = graph.edges.find((x) => x.parent === id && x.name === edge);
      return e ? (byId.get(e.child) ?? null) : null;
    };
    const out: BlockNode[] = [];
    for (const [id, name] of byId) {
      const own = info.get(name);
      if (!own) continue;
      const fileChild = childOf(id, 'file');
      const backing = childOf(id, 'backing');
      const filesFilter = fileChild !== null && info.get(fileChild)?.drv !== 'file';
      const filtered = filesFilter ? fileChild : FILTER_DRIVERS.has(own.drv) ? backing : null;
      out.push({
        name,
        driver: own.drv,
        file: own.drv === 'file' ? own.file : fileChild && !filtered ? (info.get(fileChild)?.file ?? null) : null,
        backing: filtered ? null : backing,
        filtered,
        parents: graph.edges.filter((e) => e.child === id && byId.has(e.parent)).length,
        readOnly: own.ro,
      });
    }
    return out;
  }

  /** Opens `file` as a format node named nodeNameFor(file); `noBacking` leaves its backing unopened (for an overlay). */
  async addImage(file: string, format: string, noBacking: boolean): Promise<string> {
    const nodeName = nodeNameFor(file);
    await this.qmp.execute('blockdev-add', {
      driver: format,
      'node-name': nodeName,
      file: { driver: 'file', filename: path.resolve(file) },
      ...(noBacking ? { backing: null } : {}),
    });
    return nodeName;
  }

  async removeNode(nodeName: string): Promise<void> {
    await this.qmp.execute('blockdev-del', { 'node-name': nodeName });
  }

  /**
   * Runs a block job to its end: an active commit is completed when it reports ready (the pivot,
   * libvirt's VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT); a failed or cancelled job, or a QEMU that exits
   * meanwhile, rejects with QemuJobError. Jobs are started with auto-dismiss off so their error
   * can be read after they conclude, then dismissed.
   */
  async runBlockJob({ command, jobId, args, onRunning }: BlockJobOptions): Promise<void> {
    let cancelled = false;
    let completedError: string | undefined;
    const seen = (e: QmpEvent) => (e.data?.id ?? e.data?.device) === jobId;
    const stopListening = this.qmp.onEvent((e) => {
      if (!seen(e)) return;
      if (e.event === 'BLOCK_JOB_CANCELLED') cancelled = true;
      if (e.event === 'BLOCK_JOB_COMPLETED' && typeof e.data?.error === 'string') completedError = e.data.error;
      if (e.event === 'BLOCK_JOB_READY') {
        this.qmp.execute('job-complete', { id: jobId }).catch(() => undefined);
      }
    });
    const concluded = this.qmp.waitForEvent((e) => e.event === 'JOB_STATUS_CHANGE' && seen(e) && e.data?.status === 'concluded');
    // Awaited below, unless the command itself fails first.
    concluded.event.catch(() => undefined);
    try {
      await this.qmp.execute(command, { 'job-id': jobId, 'auto-dismiss': false, ...args });
      if (onRunning) await onRunning();
      await concluded.event;
      const jobs = await this.qmp.execute<{ id: string; error?: string }[]>('query-jobs');
      const error = jobs.find((j) => j.id === jobId)?.error ?? completedError;
      await this.qmp.execute('job-dismiss', { id: jobId }).catch(() => undefined);
      if (cancelled) throw new QemuJobError(jobId, 'cancelled', `${command} job ${jobId} was cancelled${error ? `: ${error}` : ''}`);
      if (error) throw new QemuJobError(jobId, 'failed', `${command} job ${jobId} failed: ${error}`);
    } catch (err) {
      if (err instanceof QmpClosedError) {
        throw new QemuJobError(jobId, 'qemu-exited', `QEMU exited while ${command} job ${jobId} ran`);
      }
      throw err;
    } finally {
      concluded.cancel();
      stopListening();
    }
  }

  async cancelJob(jobId: string): Promise<void> {
    await this.qmp.execute('job-cancel', { id: jobId });
  }

  /** The "guest" writes through the node: HMP's qemu-io, as QEMU's own iotests do. */
  async qemuIo(nodeName: string, command: string): Promise<string> {
    const out = await this.qmp.execute<string>('human-monitor-command', {
      'command-line': `qemu-io ${nodeName} ${JSON.stringify(command)}`,
    });
    if (/error|failed|Pattern verification/i.test(out)) throw new QmpCommandError('qemu-io', 'GenericError', out.trim());
    return out;
  }

  async status(): Promise<{ status: string; running: boolean }> {
    return this.qmp.execute('query-status');
  }

  /** Ends the QMP connection and leaves QEMU running. */
  disconnect(): Promise<void> {
    return this.qmp.close();
  }

  /** Asks QEMU to quit and waits for the process to be gone (its socket closes a moment before). */
  async quit(): Promise<void> {
    await this.qmp.execute('quit').catch(() => undefined);
    await this.qmp.closed;
    if (this.pid !== null && !(await exited(this.pid, 10_000))) {
      // QEMU flushed and closed its images before it closed the monitor; only the process is left.
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Whether `pid` runs: a zombie counts as gone (a daemonized QEMU is reaped by whoever is pid 1,
 * which in a container may never do it).
 */
export async function processRuns(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is gone, false after `timeoutMs`; polls /proc, there is no exit event for a process that is not our child. */
export async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processRuns(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** The images below `top`, top first, as QEMU has them open; filter nodes are looked through. */
export function chainFrom(nodes: BlockNode[], top: string): BlockNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const chain: BlockNode[] = [];
  let steps = 0;
  for (let at = byName.get(top); at && steps++ <= nodes.length; ) {
    if (at.filtered) {
      at = byName.get(at.filtered);
      continue;
    }
    chain.push(at);
    at = at.backing ? byName.get(at.backing) : undefined;
  }
  return chain;
}

/** Format nodes nothing uses: the top of each disk's chain (and nodes a job dropped, until removed). */
export function topNodes(nodes: BlockNode[]): BlockNode[] {
  return nodes.filter((n) => n.driver !== 'file' && n.parents === 0);
}
