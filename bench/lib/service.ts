// The service under test as a separate process, started exactly as `npm start` starts it (the
// compiled dist/src/main.js with package.json's start command, which migrates the database
// itself), or from its sources under tsx as `npm run dev` does (and as `npm start` did before
// the service shipped compiled), with its output in a log file.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startCommand } from '../../scripts/start-command.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings the service reads that must not leak in from the caller's environment. */
const SERVICE_SETTINGS = [
  'DATABASE_URL', 'HOST', 'PORT', 'LOG_LEVEL', 'AUTH_STRATEGY', 'POLICY_FILE', 'VOLUME_DRIVER', 'REMOTEFS_SHARE',
  'COMPUTE_URL', 'COMPUTE_TOKEN', 'COMPUTE_AGENT_PORT', 'COMPUTE_AGENT_PROJECT', 'COMPUTE_AGENT_LEGACY',
  'COMPUTE_WAIT_CREATE_SECONDS', 'COMPUTE_WAIT_DELETE_SECONDS', 'WORKER_ID', 'WORKER_POLL_MS', 'WORKER_LEASE_SECONDS',
  'INSPECT', 'INSPECT_URL', 'KEYSTONE_URL',
];

export interface ServiceOptions {
  /** Settings for the service (DATABASE_URL, PORT, ...); merged over the caller's env minus SERVICE_SETTINGS. */
  env: Record<string, string>;
  /** Where stdout and stderr go (appended). */
  logFile: string;
  host: string;
  port: number;
  /** The checkout whose service runs (default this one): another commit's, for before/after in one run. */
  root?: string;
  /** How the service is started (default `compiled`, what `npm start` runs). */
  form?: ServiceForm;
}

/**
 * `compiled`: `npm start`'s command (package.json), the build in dist/ with the environment the
 * script sets; `plain`: `node dist/src/main.js` alone, without that environment (what the
 * script's settings buy); `tsx`: `tsx src/main.ts`, the sources compiled at run time (`npm run
 * dev`, and `npm start` before the service shipped compiled).
 */
export type ServiceForm = 'compiled' | 'plain' | 'tsx';
export const serviceForms: readonly ServiceForm[] = ['compiled', 'plain', 'tsx'];

/** The command that starts the service of the checkout at `root` in the given form. */
export function serviceCommand(root: string, form: ServiceForm): { command: string; args: string[]; entry: string; env: Record<string, string> } {
  const compiled = form === 'tsx' ? null : startCommand(root);
  if (compiled && form === 'compiled') return compiled;
  if (compiled) return { command: compiled.command, args: [compiled.entry], entry: compiled.entry, env: {} };
  return { command: path.join(root, 'node_modules', '.bin', 'tsx'), args: ['src/main.ts'], entry: 'src/main.ts', env: {} };
}

export class ServiceProcess {
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;
  /** Node processes under the tsx wrapper (tsx runs the script in a child), found once ready. */
  private descendants: number[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly options: ServiceOptions,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      });
    });
  }

  get baseUrl() {
    return `http://${this.options.host}:${this.options.port}`;
  }

  /** Spawns the service (`npm start`'s command, or `tsx src/main.ts`) in the project root. */
  static spawn(options: ServiceOptions): ServiceProcess {
    const root = options.root ?? projectRoot;
    const how = serviceCommand(root, options.form ?? 'compiled');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of [...SERVICE_SETTINGS, 'MALLOC_ARENA_MAX']) delete env[key];
    Object.assign(env, how.env, options.env);
    const log = openSync(options.logFile, 'a');
    try {
      const child = spawn(how.command, how.args, {
        cwd: root,
        env,
        stdio: ['ignore', log, log],
      });
      return new ServiceProcess(child, options);
    } finally {
      closeSync(log);
    }
  }

  /**
   * Starts the service and waits until `probePath` answers (any HTTP status unless `expectStatus`).
   * Returns the process and the milliseconds from spawn to the first good answer.
   */
  static async start(options: ServiceOptions, probe: { path: string; headers?: Record<string, string>; expectStatus?: number; timeoutMs?: number }) {
    const started = performance.now();
    const service = ServiceProcess.spawn(options);
    try {
      await service.waitUntilServing(probe.path, probe.headers ?? {}, probe.expectStatus, probe.timeoutMs ?? 60_000);
    } catch (err) {
      await service.stop().catch(() => {});
      throw new Error(`${err instanceof Error ? err.message : err}\n--- tail of ${options.logFile} ---\n${tail(options.logFile, 40)}`);
    }
    const readyMs = performance.now() - started;
    service.descendants = descendantsOf(service.child.pid!);
    return { service, readyMs };
  }

  private async waitUntilServing(probePath: string, headers: Record<string, string>, expectStatus: number | undefined, timeoutMs: number) {
    const deadline = performance.now() + timeoutMs;
    let last = 'no answer yet';
    while (performance.now() < deadline) {
      if (this.exitCode !== undefined) throw new Error(`service exited (code ${this.exitCode}) before serving`);
      try {
        const res = await fetch(this.baseUrl + probePath, { headers, signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (expectStatus === undefined || res.status === expectStatus) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      }
      await sleep(20);
    }
    throw new Error(`service not serving ${probePath} within ${timeoutMs / 1000} s (last: ${last})`);
  }

  /**
   * VmRSS in KiB of the process that runs the service's entry point (compiled: the process
   * spawned; under tsx: tsx's child, the last process in the tree whose command line names
   * src/main.ts, since the tsx wrapper only relays signals), and of the whole tree (wrapper and
   * any helper such as esbuild's service process included).
   */
  rss(): { serviceKiB: number; treeKiB: number; servicePid: number; pids: number[] } {
    const pids = [this.child.pid!, ...descendantsOf(this.child.pid!)];
    const { entry } = serviceCommand(this.options.root ?? projectRoot, this.options.form ?? 'compiled');
    const runsMain = pids.filter((pid) => cmdline(pid).includes(entry));
    const servicePid = runsMain[runsMain.length - 1] ?? this.child.pid!;
    return {
      serviceKiB: vmRssKiB(servicePid),
      treeKiB: pids.reduce((sum, pid) => sum + vmRssKiB(pid), 0),
      servicePid,
      pids,
    };
  }

  /** True when the last stop() had to SIGKILL because SIGTERM did not end the service in time. */
  forced = false;

  /** SIGTERM (the service drains and exits); SIGKILL after `graceMs`. Resolves with the ms it took. */
  async stop(graceMs = 30_000): Promise<number> {
    const started = performance.now();
    if (this.exitCode === undefined) {
      const pids = [...new Set([...this.descendants, ...descendantsOf(this.child.pid!)])];
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        this.forced = true;
        this.child.kill('SIGKILL');
        for (const pid of pids) killQuietly(pid, 'SIGKILL');
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
      // tsx relays the signal and waits for its child; make sure none outlives it.
      for (const pid of pids) killQuietly(pid, 'SIGKILL');
    }
    return performance.now() - started;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Pids below `root`, parents before children (read from /proc/<pid>/stat). */
export function descendantsOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function vmRssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// One free-port helper for tests and benchmarks alike.
export { freePort } from '../../test/support/ports.js';
