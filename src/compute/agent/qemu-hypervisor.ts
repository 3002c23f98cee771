/**
 * The agent's QEMU mode: one real QEMU per instance holds the instance's volumes open, and the
 * live part is done over QMP the way Nova's libvirt driver has libvirt do it
 * (nova/virt/libvirt/driver.py, volume_snapshot_create / _volume_snapshot_delete):
 *
 * - create: libvirt's external disk-only snapshot with REUSE_EXT: the overlay the storage side
 *   made is opened with blockdev-add and `backing: null`, then `blockdev-snapshot` (node, overlay)
 *   puts it on top of the node the guest writes to, so the guest writes to the overlay from then on;
 * - delete, Nova's decision table (live.ts planDelete): the pull is `block-stream` into the active
 *   node (base-node: file_to_merge, or none to flatten; the new backing pointer written relative,
 *   as VIR_DOMAIN_BLOCK_REBASE_RELATIVE), the commit is `block-commit` of file_to_merge into
 *   merge_target_file (backing-file relative, as VIR_DOMAIN_BLOCK_COMMIT_RELATIVE); a commit whose
 *   top is the active node is an active commit, completed (pivoted) when QEMU reports it ready.
 *   The job is waited for by its events; a failed or cancelled job, or a QEMU that dies, fails
 *   the operation.
 *
 * Which file is active is read from QEMU's block graph each time, never from the agent's record;
 * the record only names one file of the volume's chain, to tell the volume's chain from the
 * instance's other disks, and what to reopen if QEMU has to be restarted.
 *
 * Supervision: a QEMU whose QMP connection closes while nobody asked it to stop is restarted with
 * the instance's volumes reopened; detach of the last volume and agent shutdown quit it. QEMU runs
 * daemonized, so an agent that crashes leaves the guest running and the next agent reconnects.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  chainFrom,
  QemuMachine,
  startQemu,
  topNodes,
  type BlockNode,
  type QemuPaths,
} from '../../qemu/qemu-machine.js';
import { imageInfo } from '../../qemu/qemu-img.js';
import type { Attached, Hypervisor } from './hypervisor.js';
import { createLive, fileNextTo, LivePartError, type BlockJob } from './live.js';
import type { AgentFaults, VolumeAttachmentRecord } from './types.js';

export interface QemuHypervisorOptions {
  shareDir: string;
  /** Where QMP sockets and pid files live (the agent's state directory). */
  runDir: string;
  logger: Logger;
  faults?: AgentFaults;
  binary?: string;
  /**
   * Crash-consistent snapshots: pause the guest (QMP `stop`) just before the overlay switch and
   * resume it (`cont`) right after, whatever happens in between.
   */
  pauseGuest?: boolean;
  /**
   * A user-supplied freeze/thaw pair (shell commands, as Velero's pre/post hooks), run around the
   * pause: freeze before `stop`, thaw after `cont`, with INSTANCE_ID and VOLUME_ID in their
   * environment. Thaw runs whenever freeze was started, on every way out, after an agent crash
   * (at the next start) and on the storage side's resume; each run is bounded by timeoutMs.
   */
  hooks?: GuestHooks;
}

export interface GuestHooks {
  freeze?: string;
  thaw?: string;
  /** Longest a hook may run before it is killed (and counts as failed); default 30 s. */
  timeoutMs?: number;
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

interface Vm {
  instanceId: string;
  /**
   * `pausedMarker`: a file that exists while this agent has the guest paused (paused());
   * `frozenMarker`: one that exists from the start of the freeze hook until a thaw succeeded.
   */
  paths: QemuPaths & { pausedMarker: string; frozenMarker: string };
  machine: QemuMachine | null;
  /** Set while a (re)start runs, so operations wait for it. */
  ready: Promise<QemuMachine> | null;
  stopping: boolean;
  volumes: Map<string, VolumeAttachmentRecord>;
  restarts: number;
}

export class QemuHypervisor implements Hypervisor {
  readonly mode = 'qemu' as const;
  private readonly vms = new Map<string, Vm>();
  private closing = false;

  constructor(private readonly options: QemuHypervisorOptions) {}

  async resume(attached: Attached[]): Promise<void> {
    for (const { instanceId, record } of attached) this.vmFor(instanceId).volumes.set(record.volumeId, { ...record });
    for (const vm of this.vms.values()) await this.machineOf(vm);
  }

  async plug(instanceId: string, record: VolumeAttachmentRecord): Promise<void> {
    const vm = this.vmFor(instanceId);
    vm.volumes.set(record.volumeId, { ...record });
    try {
      const machine = await this.machineOf(vm);
      await this.openVolume(machine, record);
    } catch (err) {
      vm.volumes.delete(record.volumeId);
      if (vm.volumes.size === 0) await this.stopVm(vm);
      throw err;
    }
  }

  async unplug(instanceId: string, record: VolumeAttachmentRecord): Promise<void> {
    const vm = this.vms.get(instanceId);
    if (!vm) return;
    vm.volumes.delete(record.volumeId);
    if (vm.volumes.size === 0) {
      await this.stopVm(vm);
      return;
    }
    const { machine, chain } = await this.volumeChain(instanceId, record);
    // Removing the top closes the chain below it (the auto-named backing nodes go with it).
    for (const node of chain) await machine.removeNode(node.name).catch(() => undefined);
  }

  async activeFile(instanceId: string, record: VolumeAttachmentRecord): Promise<string> {
    const { chain } = await this.volumeChain(instanceId, record);
    return this.relative(chain[0]!.file!);
  }

  async snapshotCreate(instanceId: string, record: VolumeAttachmentRecord, newFile: string, options: { pauseGuest?: boolean } = {}): Promise<string> {
    const { machine, chain } = await this.volumeChain(instanceId, record);
    const top = chain[0]!;
    const active = this.relative(top.file!);
    // The same checks as file mode, against the file QEMU has open: new_file exists, is qcow2
    // and is backed by the active file.
    const newActive = await createLive({ shareDir: this.options.shareDir, activeFile: active, newFile });
    const switchOver = async () => {
      const overlay = await machine.addImage(path.resolve(this.options.shareDir, newActive), 'qcow2', true);
      try {
        await this.options.faults?.whilePaused?.('after-overlay-added');
        await machine.qmp.execute('blockdev-snapshot', { node: top.name, overlay });
      } catch (err) {
        await machine.removeNode(overlay).catch(() => undefined);
        throw new LivePartError(`blockdev-snapshot failed: ${(err as Error).message}`);
      }
      await this.options.faults?.whilePaused?.('after-switch');
    };
    if (options.pauseGuest ?? this.options.pauseGuest) await this.paused(this.requireVm(instanceId), machine, record.volumeId, switchOver);
    else await switchOver();
    this.remember(instanceId, record.volumeId, newActive);
    return newActive;
  }

  /**
   * Runs `work` with the guest paused, and resumes it on every way out: success, a failure at any
   * step, a QMP error. A marker file says "the agent paused this guest" for as long as it is
   * paused, so that an agent that crashed in between resumes the guest when it starts again
   * (resume(), machineOf) and never resumes a guest someone else paused.
   */
  private async paused(vm: Vm, machine: QemuMachine, volumeId: string, work: () => Promise<void>): Promise<void> {
    const status = await machine.status();
    if (!status.running) throw new LivePartError(`the guest is not running (${status.status}); not pausing it for the snapshot`);
    try {
      await this.freeze(vm, volumeId);
      await this.stopped(vm, machine, work);
    } finally {
      await this.thawIfFrozen(vm);
    }
  }

  /** The freeze hook, if any; the marker goes first, so a crash mid-hook still gets its thaw. */
  private async freeze(vm: Vm, volumeId: string): Promise<void> {
    const command = this.options.hooks?.freeze;
    if (!command) return;
    await writeFile(vm.paths.frozenMarker, `${volumeId}\n`);
    try {
      await this.runHook('freeze', command, vm.instanceId, volumeId);
    } catch (err) {
      throw new LivePartError(`the freeze hook failed: ${(err as Error).message}`);
    }
  }

  /**
   * The thaw hook, once per freeze that was started. A failed thaw keeps the marker, so the next
   * resume request (the storage side retries it) or agent start runs it again, and is reported.
   */
  private async thawIfFrozen(vm: Vm): Promise<boolean> {
    const volumeId = (await readFile(vm.paths.frozenMarker, 'utf8').catch(() => null))?.trim();
    if (volumeId === undefined) return false;
    const command = this.options.hooks?.thaw;
    if (command) await this.runHook('thaw', command, vm.instanceId, volumeId);
    await rm(vm.paths.frozenMarker, { force: true });
    return true;
  }

  private runHook(name: 'freeze' | 'thaw', command: string, instanceId: string, volumeId: string): Promise<void> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      execFile(
        '/bin/sh',
        ['-c', command],
        { env: { ...process.env, INSTANCE_ID: instanceId, VOLUME_ID: volumeId }, timeout: this.options.hooks?.timeoutMs ?? 30_000, killSignal: 'SIGKILL' },
        (err, _stdout, stderr) => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          if (!err) {
            this.options.logger.info({ instanceId, volumeId, hook: name, ms }, `${name} hook ran`);
            resolve();
            return;
          }
          const why = err.killed ? `timed out after ${this.options.hooks?.timeoutMs ?? 30_000} ms` : `exited with ${err.code ?? err.signal}`;
          this.options.logger.error({ instanceId, volumeId, hook: name, ms, stderr: String(stderr).slice(0, 500) }, `${name} hook failed`);
          reject(new Error(`${name} hook ${why}: ${String(stderr).trim().slice(0, 200)}`));
        },
      );
    });
  }

  private async stopped(vm: Vm, machine: QemuMachine, work: () => Promise<void>): Promise<void> {
    const marker = vm.paths.pausedMarker;
    await writeFile(marker, `${new Date().toISOString()}\n`);
    const started = process.hrtime.bigint();
    await machine.qmp.execute('stop');
    try {
      await this.options.faults?.whilePaused?.('after-stop');
      await work();
    } finally {
      await machine.qmp.execute('cont');
      await rm(marker, { force: true });
      const pausedMs = Number(process.hrtime.bigint() - started) / 1e6;
      this.lastPauseMs = pausedMs;
      this.options.logger.info({ instanceId: vm.instanceId, pausedMs }, 'guest paused for the overlay switch, and resumed');
    }
  }

  /** How long the last snapshot kept the guest paused, in ms (null before any). */
  lastPauseMs: number | null = null;

  /**
   * The storage side's resume (the guest pause extension): the snapshot left its pause window, so
   * a guest this agent paused runs again now, even while the create that paused it still hangs
   * (its own `cont` later is then a no-op). A guest paused by anyone else is left alone.
   */
  async resumeGuest(instanceId: string): Promise<boolean> {
    const vm = this.vms.get(instanceId);
    if (!vm) return false;
    return this.resumeIfWePaused(vm, await this.machineOf(vm));
  }

  /** A guest this agent paused and did not resume (it crashed in between) is resumed now. */
  private async resumeIfWePaused(vm: Vm, machine: QemuMachine): Promise<boolean> {
    const marker = vm.paths.pausedMarker;
    const since = await readFile(marker, 'utf8').catch(() => null);
    if (since === null) return this.thawIfFrozen(vm);
    const status = await machine.status();
    let resumed = false;
    if (!status.running) {
      await machine.qmp.execute('cont');
      resumed = true;
      this.options.logger.warn({ instanceId: vm.instanceId, pausedSince: since.trim() }, 'resumed a guest left paused for a snapshot');
    }
    await rm(marker, { force: true });
    // Thaw after cont, as on the normal way out; true as well when only a thaw was owed.
    return (await this.thawIfFrozen(vm)) || resumed;
  }

  async snapshotDelete(instanceId: string, record: VolumeAttachmentRecord, plan: BlockJob): Promise<string> {
    const { machine, chain } = await this.volumeChain(instanceId, record);
    const top = chain[0]!;
    const activePath = top.file!;
    const indexOf = (name: string) => {
      const wanted = fileNextTo(activePath, name);
      const at = chain.findIndex((n) => n.file === wanted);
      if (at < 0) throw new LivePartError(`no match found for ${name}`);
      return at;
    };
    const jobId = `delete-${randomUUID().slice(0, 12)}`;
    const speed = this.options.faults?.blockJobSpeed;
    const onRunning = this.options.faults?.duringBlockJob
      ? () => this.options.faults!.duringBlockJob!({ jobId, machine, topNode: top.name })
      : undefined;

    let newTop = top.name;
    let dropped: BlockNode[];
    if (plan.kind === 'pull') {
      const base = plan.newBase === null ? null : indexOf(plan.newBase);
      // libvirt refuses a rebase base that is the disk itself ("invalid base").
      if (base === 0) throw new LivePartError(`${plan.newBase} is the active file, not a base below it`);
      dropped = chain.slice(1, base ?? chain.length);
      await machine.runBlockJob({
        command: 'block-stream',
        jobId,
        args: {
          device: top.name,
          ...(base !== null ? { 'base-node': chain[base]!.name, 'backing-file': plan.newBase } : {}),
          ...(speed ? { speed } : {}),
        },
        onRunning,
      });
    } else {
      const topAt = indexOf(plan.top);
      const baseAt = indexOf(plan.base);
      if (baseAt <= topAt) throw new LivePartError(`${plan.base} is not below ${plan.top} in the backing chain`);
      dropped = chain.slice(topAt, baseAt);
      const args: Record<string, unknown> = { device: top.name, 'top-node': chain[topAt]!.name, 'base-node': chain[baseAt]!.name };
      if (topAt > 0) {
        const above = chain[topAt - 1]!.file!;
        args['backing-file'] = path.relative(path.dirname(above), chain[baseAt]!.file!);
      } else {
        // An active commit: the base becomes what the guest writes to once the job pivots.
        newTop = chain[baseAt]!.name;
      }
      if (speed) args.speed = speed;
      await machine.runBlockJob({ command: 'block-commit', jobId, args, onRunning });
    }
    // The nodes the job took out of the chain stay open while the monitor still holds them;
    // closing them releases their files for the storage side to remove.
    for (const node of dropped) {
      if (node.name.startsWith('#')) continue;
      await machine.removeNode(node.name).catch((err: unknown) => {
        this.options.logger.warn({ node: node.name, file: node.file, err: (err as Error).message }, 'could not close a merged node');
      });
    }
    const after = chainFrom(await machine.blockGraph(), newTop)[0];
    if (!after?.file) throw new LivePartError(`QEMU lost the volume's active node ${newTop}`);
    const active = this.relative(after.file);
    this.remember(instanceId, record.volumeId, active);
    return active;
  }

  /** The process id of the instance's QEMU (tests, the demo). */
  async pidOf(instanceId: string): Promise<number | null> {
    return (await this.machineOf(this.requireVm(instanceId))).pid;
  }

  /** The instance's QEMU, for what only QEMU can do: guest I/O, query commands (tests, the demo). */
  machineFor(instanceId: string): Promise<QemuMachine> {
    return this.machineOf(this.requireVm(instanceId));
  }

  /**
   * The guest's I/O on a volume (tests, the demo): a qemu-io command (`write -P 0x22 0 64k`,
   * `read -P …`, `flush`) run by QEMU on the node the guest writes to.
   */
  async guestIo(instanceId: string, volumeId: string, command: string): Promise<string> {
    const vm = this.requireVm(instanceId);
    const record = vm.volumes.get(volumeId);
    if (!record) throw new LivePartError(`volume ${volumeId} is not attached to instance ${instanceId}`);
    const machine = await this.machineOf(vm);
    return machine.qemuIo(this.volumeTop(await machine.blockGraph(), record).name, command);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const vm of this.vms.values()) await this.stopVm(vm);
  }

  /** Drops every QMP connection and leaves each QEMU running, as a crashed agent would. */
  async abandon(): Promise<void> {
    this.closing = true;
    for (const vm of this.vms.values()) {
      vm.stopping = true;
      await vm.machine?.disconnect();
    }
  }

  private vmFor(instanceId: string): Vm {
    let vm = this.vms.get(instanceId);
    if (!vm) {
      const id = createHash('sha256').update(instanceId).digest('hex').slice(0, 16);
      const socketPath = path.resolve(this.options.runDir, `${id}.qmp`);
      if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
        throw new LivePartError(`the QMP socket path ${socketPath} is longer than a Unix socket allows; use a shorter state directory`);
      }
      const pidFile = path.resolve(this.options.runDir, `${id}.pid`);
      vm = {
        instanceId,
        paths: {
          socketPath,
          pidFile,
          consoleSocketPath: path.resolve(this.options.runDir, `${id}.console.qmp`),
          pausedMarker: `${pidFile}.paused-by-agent`,
          frozenMarker: `${pidFile}.frozen-by-agent`,
        },
        machine: null,
        ready: null,
        stopping: false,
        volumes: new Map(),
        restarts: 0,
      };
      this.vms.set(instanceId, vm);
    }
    return vm;
  }

  private requireVm(instanceId: string): Vm {
    const vm = this.vms.get(instanceId);
    if (!vm) throw new LivePartError(`instance ${instanceId} has no running QEMU`);
    return vm;
  }

  private remember(instanceId: string, volumeId: string, activeFile: string): void {
    const record = this.vms.get(instanceId)?.volumes.get(volumeId);
    if (record) record.activeFile = activeFile;
  }

  private relative(file: string): string {
    return path.relative(path.resolve(this.options.shareDir), file);
  }

  /**
   * The top node of the volume's chain: the unused format node whose chain holds the record's
   * file. After a snapshot the record's file is below the new top, and still identifies it.
   */
  private volumeTop(nodes: BlockNode[], record: VolumeAttachmentRecord): BlockNode {
    const tops = topsHolding(nodes, path.resolve(this.options.shareDir, record.activeFile));
    if (tops.length === 0) throw new LivePartError(`Disk of volume ${record.volumeId} is not open in the instance's QEMU`);
    // A node a job dropped is unused too until closed; the writable one is the guest's.
    return tops.find((t) => !t.readOnly) ?? tops[0]!;
  }

  /** The instance's QEMU and the volume's chain as QEMU has it open, the node the guest writes to first. */
  private async volumeChain(instanceId: string, record: VolumeAttachmentRecord): Promise<{ machine: QemuMachine; chain: BlockNode[] }> {
    const machine = await this.machineOf(this.requireVm(instanceId));
    const nodes = await machine.blockGraph();
    return { machine, chain: chainFrom(nodes, this.volumeTop(nodes, record).name) };
  }

  private async openVolume(machine: QemuMachine, record: VolumeAttachmentRecord): Promise<void> {
    const nodes = await machine.blockGraph();
    const file = path.resolve(this.options.shareDir, record.activeFile);
    if (topsHolding(nodes, file).length > 0) return;
    // The active file is opened with its backing chain as its header names it, as QEMU opens a
    // -drive; only overlays added for a snapshot are opened without (blockdev-snapshot links them).
    const { format } = await imageInfo(file);
    await machine.addImage(file, format, false);
  }

  /** The VM's machine, connecting to a running QEMU or starting one (with its volumes) if none runs. */
  private machineOf(vm: Vm): Promise<QemuMachine> {
    if (vm.machine && !vm.machine.qmp.isClosed) return Promise.resolve(vm.machine);
    if (this.closing) return Promise.reject(new LivePartError('the compute agent is stopping'));
    vm.ready ??= (async () => {
      try {
        await mkdir(this.options.runDir, { recursive: true });
        let machine: QemuMachine;
        let found = true;
        try {
          machine = await QemuMachine.connect(vm.paths, 5_000);
        } catch {
          found = false;
          await startQemu(vm.paths, `instance-${vm.instanceId}`, this.options.binary);
          machine = await QemuMachine.connect(vm.paths);
        }
        vm.stopping = false;
        vm.machine = machine;
        this.options.logger.info({ instanceId: vm.instanceId, pid: machine.pid, found }, found ? 'found the running QEMU' : 'started QEMU');
        for (const record of vm.volumes.values()) await this.openVolume(machine, record);
        // What a crashed predecessor owed (a cont, a thaw) is done now; if that fails, the storage
        // side's resume, retried until it succeeds, tries again, so the machine is usable meanwhile.
        if (!found) await rm(vm.paths.pausedMarker, { force: true });
        await (found ? this.resumeIfWePaused(vm, machine) : this.thawIfFrozen(vm)).catch((err: unknown) =>
          this.options.logger.error({ instanceId: vm.instanceId, err: (err as Error).message }, 'could not resume (or thaw) a guest left paused; the next resume request tries again'),
        );
        void machine.closed.then(() => this.onClosed(vm, machine));
        return machine;
      } finally {
        vm.ready = null;
      }
    })();
    return vm.ready;
  }

  private onClosed(vm: Vm, machine: QemuMachine): void {
    if (vm.machine !== machine) return;
    vm.machine = null;
    if (vm.stopping || this.closing || vm.volumes.size === 0) return;
    vm.restarts++;
    this.options.logger.error({ instanceId: vm.instanceId, pid: machine.pid, restarts: vm.restarts }, 'QEMU exited; restarting it');
    this.machineOf(vm).catch((err: unknown) => {
      this.options.logger.error({ instanceId: vm.instanceId, err: (err as Error).message }, 'could not restart QEMU');
    });
  }

  private async stopVm(vm: Vm): Promise<void> {
    vm.stopping = true;
    const machine = vm.machine ?? (await vm.ready?.catch(() => null)) ?? null;
    if (machine) await machine.quit();
    vm.machine = null;
    this.vms.delete(vm.instanceId);
  }
}

/** The unused format nodes (chain tops) whose chain has `file` open. */
function topsHolding(nodes: BlockNode[], file: string): BlockNode[] {
  return topNodes(nodes).filter((t) => chainFrom(nodes, t.name).some((n) => n.file === file));
}
