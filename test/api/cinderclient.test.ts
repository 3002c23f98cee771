// The real client: Debian's python3-cinderclient against the service running as a child process
// on a free port with a fresh SQLite file.
//
//   1. test/api/cinderclient_flow.py (Python API, noauth plugin) against test/api/assisted-server.ts
//      (the real service with an assisted TestDriver, so a snapshot of an attached volume waits for
//      compute): volume + legacy attach, snapshot with force=True, Nova's callback
//      {"status": "creating", "progress": "90%"}, show, duplicate callback, 3.66 create, reset,
//      force delete, assisted delete with Nova's delete callback. The script and this test
//      synchronise over stdio (WAIT/OK), on events the server announces; nothing polls.
//   2. The README's "same with the real client" commands, taken from README.md itself and run
//      with the `cinder` CLI against `node --import tsx src/main.ts` (the default driver).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = '/usr/bin/python3';
const CINDER = '/usr/bin/cinder';
const OPENSTACK = '/usr/bin/openstack';
let fileCounter = 0;

/** Environment for Debian's Python: no pyenv/virtualenv settings leaking in. */
function pythonEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' };
  return { ...env, ...extra };
}

interface Server {
  child: ChildProcess;
  url: string;
  /**
   * Every JSON line the server wrote to stdout (assisted-server's announcements, or pino's log
   * lines of src/main.ts at LOG_LEVEL=info), and a way to wait for one (event-driven).
   */
  seen: Array<Record<string, string>>;
  waitFor(pred: (e: Record<string, string>) => boolean): Promise<void>;
  stderr(): string;
  stop(): Promise<void>;
}

async function startServer(entry: string, logLevel = 'silent'): Promise<Server> {
  const port = await freePort();
  // src/main.ts runs its defaults: the RemoteFS driver on a share and the embedded compute agent.
  const agentPort = await freePort();
  const db = path.join(inject('testDatabases').runDir, `cinderclient-${process.pid}-${++fileCounter}.db`);
  const share = path.join(inject('testDatabases').runDir, `cinderclient-share-${process.pid}-${fileCounter}`);
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `file:${db}`, LOG_LEVEL: logLevel, AUTH_STRATEGY: 'noauth', WORKER_POLL_MS: '200', REMOTEFS_SHARE: share, COMPUTE_AGENT_PORT: String(agentPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += String(d)));
  const seen: Array<Record<string, string>> = [];
  const waiters: Array<{ pred: (e: Record<string, string>) => boolean; resolve: () => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, string>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    seen.push(event);
    for (const w of waiters.splice(0)) {
      if (w.pred(event)) w.resolve();
      else waiters.push(w);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // Bounded readiness poll: the only polling here, for a child process to start listening.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server ${entry} exited with ${child.exitCode}: ${err}`);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 300) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server ${entry} did not answer on ${url} within 30 s: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url,
    seen,
    waitFor: (pred) =>
      seen.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve })),
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

describe('python3-cinderclient against the running service', () => {
  let assisted: Server;
  let plain: Server;

  beforeAll(async () => {
    // .ci/run installs it; a missing client is a broken environment, not a reason to skip.
    if (!existsSync(CINDER) || !existsSync('/usr/lib/python3/dist-packages/cinderclient/contrib/noauth.py')) {
      throw new Error('python3-cinderclient is not installed: apt-get install -y python3-cinderclient');
    }
    [assisted, plain] = await Promise.all([startServer('test/api/assisted-server.ts'), startServer('src/main.ts', 'info')]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([assisted?.stop(), plain?.stop()]);
  });

  it('the Python API: create, attach, snapshot with force, Nova\'s callback, show, delete', async () => {
    const py = spawn(PYTHON, [path.join(ROOT, 'test/api/cinderclient_flow.py'), `${assisted.url}/v3`], {
      env: pythonEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    py.stderr.on('data', (d) => (stderr += String(d)));
    // A script that died mid-flow cannot take its OK any more; its exit code tells the story.
    py.stdin.on('error', () => undefined);
    const out: string[] = [];
    const waits: string[] = [];
    createInterface({ input: py.stdout }).on('line', (line) => {
      out.push(line);
      const m = /^WAIT (\S+) (\S+)$/.exec(line);
      if (!m) return;
      const [, id, event] = m as unknown as [string, string, string];
      waits.push(`${id} ${event}`);
      const pred = event.startsWith('compute.')
        ? (e: Record<string, string>) => e.snapshot === id && e.event === event
        : (e: Record<string, string>) => (e.snapshot === id || e.volume === id) && e.event === 'transition' && e.phase === event;
      void assisted.waitFor(pred).then(() => py.stdin.write('OK\n'));
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      py.once('error', reject);
      py.once('exit', (c) => resolve(c));
    });
    // The server's stderr rides along to explain a failure; the client must be silent (no
    // warnings about versions or endpoints either).
    expect({ code, stderr: stderr.slice(-3000) }, assisted.stderr().slice(-2000)).toEqual({ code: 0, stderr: '' });

    const summary = JSON.parse(out.at(-1)!);
    expect(summary).toMatchObject({ result: 'ok', statuses: ['creating', 'available', 'deleted'] });
    const { snapshot, snapshot_366: snapshot366, volume } = summary as { snapshot: string; snapshot_366: string; volume: string };
    expect(waits).toEqual([
      `${volume} available`,
      `${snapshot} compute.create`,
      `${snapshot} available`,
      `${snapshot366} compute.create`,
      `${snapshot366} compute.delete`,
      `${snapshot366} deleted`,
      `${snapshot} compute.delete`,
      `${snapshot} deleted`,
      `${volume} deleted`,
    ]);
    // What the server went through for the first snapshot, as it announced it.
    const phases = assisted.seen.filter((e) => e.snapshot === snapshot && e.event === 'transition').map((e) => e.phase);
    expect(phases).toEqual([
      'creating.storageBegin',
      'creating.computeAssisted',
      'creating.storageComplete',
      'available',
      'deleting.storageBegin',
      'deleting.computeAssisted',
      'deleting.storageComplete',
      'deleted',
    ]);
    // The refused duplicate callback is in the history (the history outlives the snapshot).
    const history = await fetch(`${assisted.url}/v3/demo/snapshots/${snapshot}/transitions`, { headers: { 'X-Auth-Token': 'nova:demo' } });
    const rows = ((await history.json()) as { transitions: Array<{ event: string; rejected: boolean; source: string; from_status: string }> }).transitions;
    expect(rows.filter((t) => t.rejected)).toEqual([expect.objectContaining({ event: 'compute.status', source: 'compute', from_status: 'available' })]);
  });

  it('the README\'s cinder CLI commands work as written', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /The same with the real client[\s\S]*?\n\n((?: {4}.*\n?)+)/.exec(readme)?.[1];
    expect(block, 'README block "The same with the real client"').toBeDefined();
    const lines = block!.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean);
    const exportLine = lines.find((l) => l.startsWith('export '))!;
    const env: Record<string, string> = {};
    for (const [, k, v] of exportLine.slice('export '.length).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!.replace('http://127.0.0.1:8776', plain.url);
    expect(Object.keys(env).sort()).toEqual(['CINDER_ENDPOINT', 'OS_AUTH_TYPE', 'OS_PROJECT_ID', 'OS_USER_ID', 'OS_VOLUME_API_VERSION']);
    const commands = lines.filter((l) => l.startsWith('cinder '));
    expect(commands).toEqual(['cinder create --name vol1 1', 'cinder snapshot-create --name snap1 <volume id>', 'cinder snapshot-list']);

    const run = async (command: string) => {
      const args = command.split(/\s+/).slice(1);
      const { stdout } = await promisify(execFile)(CINDER, args, { env: pythonEnv(env), timeout: 60_000 });
      return stdout;
    };
    const row = (table: string, field: string) => new RegExp(`^\\|\\s*${field}\\s*\\|\\s*(\\S+)\\s*\\|`, 'm').exec(table)?.[1];

    const created = await run(commands[0]!);
    // Asynchronous, as Cinder's: the volume is being created; the server's worker makes it.
    expect([row(created, 'name'), row(created, 'status'), row(created, 'size')]).toEqual(['vol1', 'creating', '1']);
    const volumeId = row(created, 'id')!;
    await plain.waitFor((e) => e.msg === 'volume transition' && e.volumeId === volumeId && e.status === 'available');
    const snap = await run(commands[1]!.replace('<volume id>', volumeId));
    expect([row(snap, 'name'), row(snap, 'volume_id'), row(snap, 'status')]).toEqual(['snap1', volumeId, 'creating']);
    const snapId = row(snap, 'id')!;
    // The bookkeeping driver finishes the (single-phase) snapshot in the server's worker; wait for
    // the server to log that transition rather than polling the CLI.
    await plain.waitFor((e) => e.msg === 'snapshot transition' && e.snapshotId === snapId && e.status === 'available');
    const listed = await run(commands[2]!);
    // The client's default microversion is below 3.41, so no User ID column (Cinder adds user_id at 3.41).
    expect(listed).toMatch(new RegExp(`\\| ${snapId} \\| ${volumeId} \\| available +\\| snap1 +\\| 1 +\\|$`, 'm'));
  });

  it('the README\'s openstack CLI commands (python3-openstackclient) work as written', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /The same with the `openstack` CLI[\s\S]*?\n\n((?: {4}.*\n?)+)/.exec(readme)?.[1];
    expect(block, 'README block "The same with the `openstack` CLI"').toBeDefined();
    const lines = block!.replace(/\\\n\s*/g, ' ').split('\n').map((l) => l.trim()).filter(Boolean);
    const exportLine = lines.find((l) => l.startsWith('export '))!;
    const env: Record<string, string> = {};
    for (const [, k, v] of exportLine.slice('export '.length).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!.replace('http://127.0.0.1:8776', plain.url);
    expect(Object.keys(env).sort()).toEqual(['OS_AUTH_TYPE', 'OS_ENDPOINT', 'OS_IMAGE_API_VERSION', 'OS_TOKEN', 'OS_VOLUME_API_VERSION']);
    const commands = lines.filter((l) => l.startsWith('openstack '));
    expect(commands).toEqual([
      'openstack volume create --size 1 vol1',
      'openstack volume snapshot create --volume <volume id> snap1',
      'openstack volume snapshot list',
      'openstack volume snapshot show <snapshot id>',
      'openstack volume snapshot delete <snapshot id>',
    ]);

    const run = async (command: string) => {
      const { stdout } = await promisify(execFile)(OPENSTACK, command.split(/\s+/).slice(1), { env: pythonEnv(env), timeout: 60_000 });
      return stdout;
    };
    const row = (table: string, field: string) => new RegExp(`^\\|\\s*${field}\\s*\\|\\s*(\\S+)\\s*\\|`, 'm').exec(table)?.[1];

    const created = await run(commands[0]!);
    // Asynchronous, as Cinder's: the volume is being created; the server's worker makes it.
    expect([row(created, 'name'), row(created, 'status'), row(created, 'size')]).toEqual(['vol1', 'creating', '1']);
    const volumeId = row(created, 'id')!;
    await plain.waitFor((e) => e.msg === 'volume transition' && e.volumeId === volumeId && e.status === 'available');
    const snap = await run(commands[1]!.replace('<volume id>', volumeId));
    expect([row(snap, 'name'), row(snap, 'volume_id'), row(snap, 'status')]).toEqual(['snap1', volumeId, 'creating']);
    const snapId = row(snap, 'id')!;
    await plain.waitFor((e) => e.msg === 'snapshot transition' && e.snapshotId === snapId && e.status === 'available');
    expect(await run(commands[2]!)).toMatch(new RegExp(`\\| ${snapId} \\| snap1 +\\| None +\\| available +\\| +1 \\|`));
    const shown = await run(commands[3]!.replace('<snapshot id>', snapId));
    // No user_id below microversion 3.41, as Cinder's view.
    expect([row(shown, 'id'), row(shown, 'status'), row(shown, 'volume_id'), row(shown, 'user_id')]).toEqual([snapId, 'available', volumeId, undefined]);
    expect(await run(commands[4]!.replace('<snapshot id>', snapId))).toBe('');
    await plain.waitFor((e) => e.msg === 'snapshot transition' && e.snapshotId === snapId && e.status === 'deleted');
    expect(await run(commands[2]!)).not.toContain(snapId);
  });
});
