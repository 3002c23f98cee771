// How the driver and the compute agent run their tools (qemu-img; the command that starts a
// daemonized QEMU, whose daemon is no child of ours once it runs): each child in a process group
// of its own, so that a stop signal sent to the service's whole group (systemd's default, `kill
// -TERM -- -<pgid>`, Ctrl-C in a terminal) reaches the service alone, and the service decides
// what becomes of the work in hand (it drains: src/service.ts). A child must still not outlive
// the service:
//   - when the service's shutdown grace runs out, interrupt() stops the children still running
//     (SIGTERM to each child's group, SIGKILL if it lingers), and no new child starts after that;
//   - a process that exits any other way takes its children down in an 'exit' hook;
//   - a process killed outright (SIGKILL, the OOM killer) runs no hook, so every child carries a
//     parent-death signal (prctl PR_SET_PDEATHSIG, set by util-linux's `setpriv --pdeathsig
//     KILL`, which then execs the tool): the kernel kills it with its parent. An orphaned
//     qemu-img would otherwise go on writing a chain whose volume lock the restarted service has
//     meanwhile judged stale (share-fs/file-lock.ts: proper-lockfile breaks a lock its dead holder
//     stopped touching for `staleMs`) and broken.
//     util-linux is essential on Debian; where setpriv is missing, children run without the
//     signal and an orphan finishes on its own, as every child did before.
// node:child_process has no parent-death option and no npm package sets one without a native
// addon; setpriv is the maintained tool for exactly this.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { within } from '../lib/within.js';

/** A child that did not exit 0: its exit code or signal and what it printed on stderr. */
export class ChildProcessError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    /**
     * Cut short rather than refused: killed by a signal, an exit code a shell gives a child
     * killed by signal n (128 + n), or never started because the children are being stopped.
     */
    readonly interrupted: boolean,
    /** How it ended, in words: `killed by SIGTERM`, `exited with 1`, ... */
    readonly detail: string,
  ) {
    super(`${command} ${detail}`);
    this.name = 'ChildProcessError';
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Most bytes kept of stdout; a child printing more is killed and the run fails. */
  maxBuffer?: number;
}

/** 128 + n, n a signal number (1..64): how a shell reports a child that a signal killed. */
const signalExit = (code: number | null) => code !== null && code > 128 && code <= 128 + 64;

/** The executable `command` names on the PATH of `env`, as execvp would find it, or null. */
function onPath(command: string, env: NodeJS.ProcessEnv): string | null {
  if (command.includes('/')) return command;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

let setprivPath: string | null | undefined;
const setpriv = () => (setprivPath === undefined ? (setprivPath = onPath('setpriv', process.env)) : setprivPath);

function signalGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    // The child leads its own group (detached: setsid), so its pid is the group's id.
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

// Every running child of every ChildProcesses, for the exit hook.
const everyChild = new Set<ChildProcess>();
let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const child of everyChild) signalGroup(child, 'SIGKILL');
  });
}

export class ChildProcesses {
  private readonly running = new Map<ChildProcess, Promise<void>>();
  private interrupting = false;

  /** How many children are running now. */
  get size(): number {
    return this.running.size;
  }

  /** Runs `command` in a process group of its own; resolves with its stdout if it exits 0. */
  run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
    const env = options.env ?? process.env;
    const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      if (this.interrupting) {
        reject(new ChildProcessError(command, null, null, '', true, 'not started: the service is stopping'));
        return;
      }
      const file = onPath(command, env);
      if (!file) {
        reject(Object.assign(new Error(`spawn ${command} ENOENT`), { code: 'ENOENT', syscall: `spawn ${command}`, path: command }));
        return;
      }
      const helper = setpriv();
      const child = helper
        ? spawn(helper, ['--pdeathsig', 'KILL', '--', file, ...args], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(file, [...args], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let stdoutBytes = 0;
      let overflow = false;
      child.stdout!.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > maxBuffer) {
          if (!overflow) signalGroup(child, 'SIGKILL');
          overflow = true;
          return;
        }
        stdout.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      let failed: Error | null = null;
      child.once('error', (err) => {
        failed = err;
        if (child.pid === undefined) reject(err); // never started (EACCES, ...)
      });
      const closed = new Promise<void>((done) =>
        child.once('close', (code, signal) => {
          this.running.delete(child);
          everyChild.delete(child);
          done();
          const errText = Buffer.concat(stderr).toString('utf8');
          if (failed) reject(failed);
          else if (overflow) reject(new ChildProcessError(command, code, null, errText, false, `printed more than ${maxBuffer} bytes and was stopped`));
          else if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
          else if (signal) reject(new ChildProcessError(command, code, signal, errText, true, `killed by ${signal}`));
          else reject(new ChildProcessError(command, code, null, errText, signalExit(code), `exited with ${code}`));
        }),
      );
      if (child.pid === undefined) return;
      this.running.set(child, closed);
      everyChild.add(child);
      hookExit();
    });
  }

  /**
   * Stops every running child (SIGTERM to its group; SIGKILL after `killAfterMs`) and refuses to
   * start any new one: the process is going away. Resolves once they are gone, or after a second
   * `killAfterMs` for one that not even SIGKILL ends at once (stuck in the kernel on a dead NFS server).
   */
  async interrupt({ killAfterMs = 5000 }: { killAfterMs?: number } = {}): Promise<void> {
    this.interrupting = true;
    const children = [...this.running.keys()];
    if (children.length === 0) return;
    const gone = Promise.all(this.running.values());
    for (const child of children) signalGroup(child, 'SIGTERM');
    if (await within(gone, killAfterMs)) return;
    for (const child of children) signalGroup(child, 'SIGKILL');
    await within(gone, killAfterMs);
  }
}

/** The process's children: the driver's and the embedded compute agent's qemu-img runs, and QEMU starts. */
export const children = new ChildProcesses();
