// The children the driver and the compute agent run (src/qemu/child-processes.ts): each leads a
// process group of its own, so a signal to the service's group misses it; how it ended says
// whether it was cut short; interrupt() stops them and starts no more; and none outlives its
// parent, whether the parent exits or is killed outright.
//
// A child reports through a FIFO the test reads: its pid (or what it saw) when it is ready, and
// end-of-file once every process holding the FIFO open has gone, which is how the test knows a
// child is dead without polling.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { within } from '../../src/lib/within.js';
import { ChildProcessError, ChildProcesses } from '../../src/qemu/child-processes.js';

const root = path.join(import.meta.dirname, '..', '..');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'children-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A FIFO, and a reader of it: its lines as they come, and a promise of end-of-file. */
function fifo(name: string) {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  // Opening for reading waits (in libuv's thread pool) for the first writer.
  const handle = fs.open(file, 'r');
  const lines: string[] = [];
  let onLine = () => {};
  const ended = handle.then(
    (h) =>
      new Promise<void>((resolve) => {
        const rl = createInterface({ input: h.createReadStream() });
        rl.on('line', (l) => {
          lines.push(l);
          onLine();
        });
        rl.once('close', () => resolve());
      }),
  );
  const line = (n: number) =>
    new Promise<string>((resolve) => {
      onLine = () => lines.length >= n && resolve(lines[n - 1]!);
      onLine();
    });
  return { file, line, ended };
}

const stopped = (p: Promise<unknown>) => p.then(() => expect.unreachable('the child exited 0'), (err: unknown) => err);

describe('ChildProcesses', () => {
  it('runs each child as the leader of a process group of its own', async () => {
    const out = await new ChildProcesses().run('/bin/sh', ['-c', 'echo $$ $(cut -d" " -f5 /proc/$$/stat)']);
    const [pid, group] = out.trim().split(' ').map(Number);
    expect(group).toBe(pid);
    const ours = Number((await fs.readFile('/proc/self/stat', 'utf8')).split(') ')[1]!.split(' ')[2]);
    expect(group).not.toBe(ours);
  });

  it('says a child killed by a signal, or reported so by a shell (128 + n), was interrupted; any other exit was not', async () => {
    const children = new ChildProcesses();
    const killed = (await stopped(children.run('/bin/sh', ['-c', 'kill -TERM $$']))) as ChildProcessError;
    expect([killed.signal, killed.exitCode, killed.interrupted, killed.detail]).toEqual(['SIGTERM', null, true, 'killed by SIGTERM']);
    const reported = (await stopped(children.run('/bin/sh', ['-c', 'exit 143']))) as ChildProcessError;
    expect([reported.signal, reported.exitCode, reported.interrupted]).toEqual([null, 143, true]);
    const refused = (await stopped(children.run('/bin/sh', ['-c', 'echo "no such file" >&2; exit 1']))) as ChildProcessError;
    expect([refused.signal, refused.exitCode, refused.interrupted, refused.stderr]).toEqual([null, 1, false, 'no such file\n']);
  });

  it('interrupt() stops the running children, SIGKILLs one that ignores SIGTERM, and refuses to start more', async () => {
    const children = new ChildProcesses();
    const plainReady = fifo('plain');
    const stubbornReady = fifo('stubborn');
    const plain = stopped(children.run('/bin/sh', ['-c', `echo ready > ${plainReady.file}; exec sleep 1000`]));
    // SIG_IGN survives exec: this one shrugs off SIGTERM.
    const stubborn = stopped(children.run('/bin/sh', ['-c', `trap "" TERM; echo ready > ${stubbornReady.file}; exec sleep 1000`]));
    await Promise.all([plainReady.line(1), stubbornReady.line(1)]);
    expect(children.size).toBe(2);
    await children.interrupt({ killAfterMs: 200 });
    expect(children.size).toBe(0);
    expect(await plain).toMatchObject({ signal: 'SIGTERM', interrupted: true });
    expect(await stubborn).toMatchObject({ signal: 'SIGKILL', interrupted: true });
    expect(await stopped(children.run('/bin/sh', ['-c', 'true']))).toMatchObject({ interrupted: true, detail: 'not started: the service is stopping' });
  });

  describe.each([
    ['exits', 'SIGKILL in the exit hook', (parent: ReturnType<typeof spawn>) => parent.stdin!.end('exit\n'), { PATH: '' }],
    ['is killed outright (SIGKILL)', 'its parent-death signal (setpriv)', (parent: ReturnType<typeof spawn>) => parent.kill('SIGKILL'), {}],
  ] as const)('when the parent %s', (_, how, end, env) => {
    it(`the child goes with it: ${how}`, async () => {
      const report = fifo('report');
      // The child keeps the FIFO open for as long as it lives, and would live on (sleep 1000).
      const parent = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/support/child-parent.ts'), `exec > ${report.file}; echo $$; exec /bin/sleep 1000`], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => parent.once('exit', resolve));
      const pid = Number(await report.line(1));
      expect(pid).toBeGreaterThan(0);
      end(parent);
      await exited;
      try {
        // Bounded only so that a survivor fails the test with a message rather than by its timeout.
        expect(await within(report.ended, 20_000), `child ${pid} outlived its parent`).toBe(true);
      } finally {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    });
  });
});
