// `npm run demo`: the whole story in under a minute, on real qcow2 files and real HTTP.
// Starts the service as `npm start` does (the compiled dist/, rebuilt first if older than the
// sources) with its embedded defaults (SQLite, RemoteFS share, embedded compute agent) in a
// scratch directory, creates a volume, writes data, attaches it to an instance through the
// compute agent (which plays Nova's attach against the service), snapshots it twice, deletes
// the older (middle-of-chain) snapshot, and prints every snapshot transition as the service
// commits it. Exits non-zero if anything does not end as it should.
//
// In QEMU mode (the default wherever qemu-system-x86_64 runs; COMPUTE_AGENT_MODE=file for the
// other) the instance is a real QEMU: the demo plays its guest through the QEMU's console QMP
// socket (HMP qemu-io on the node the guest writes to), keeps writing while the merge's block job
// runs, and prints QEMU's block nodes (query-named-block-nodes) before and after each step.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { chainFrom, QemuMachine, topNodes } from '../src/qemu/qemu-machine.js';
import { ensureBuilt } from './build.js';
import { startCommand } from './start-command.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'assisted-snapshots-demo-'));
const share = join(dir, 'share');
const [port, agentPort] = [await freePort(), await freePort()];
const base = `http://127.0.0.1:${port}/v3/demo`;
const headers = { 'X-Auth-Token': 'demo-user:demo', 'Content-Type': 'application/json' };
const started = Date.now();
const t = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

interface Transition {
  snapshotId: string;
  version: number;
  fromPhase: string | null;
  phase: string;
  status: string;
  event: string;
  source: string;
}
const names = new Map<string, string>();
/** Who waits for a logged transition: each is resolved, and dropped, by the first entry it accepts. */
const waiters: Array<{ test: (entry: Record<string, unknown>) => boolean; resolve: () => void }> = [];
const waitForLog = (test: (entry: Record<string, unknown>) => boolean) => new Promise<void>((resolve) => waiters.push({ test, resolve }));
function wake(entry: Record<string, unknown>) {
  for (const w of [...waiters]) {
    if (w.test(entry)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

ensureBuilt();
const npmStart = startCommand(root);
const service = spawn(npmStart.command, npmStart.args, {
  cwd: root,
  env: {
    ...process.env,
    ...npmStart.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(dir, 'demo.db')}`,
    REMOTEFS_SHARE: share,
    COMPUTE_AGENT_PORT: String(agentPort),
    COMPUTE_AGENT_PROJECT: 'demo',
    WORKER_POLL_MS: '200',
    LOG_LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let agentMode = 'file';
const listening = new Promise<void>((resolve, reject) => {
  service.on('exit', (code) => reject(new Error(`service exited with ${code}`)));
  createInterface({ input: service.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (entry.msg === 'compute agent listening' && typeof entry.mode === 'string') agentMode = entry.mode;
    if (entry.msg === 'listening') resolve();
    if (entry.msg === 'volume transition') {
      const v = entry as { volumeId: string; version: number; fromPhase: string | null; phase: string; event: string; source: string };
      console.log(`${t()}  volume v${v.version}  ${(v.fromPhase ?? '-').padEnd(26)} -> ${v.phase.padEnd(26)} ${v.event} (${v.source})`);
      wake(entry);
      return;
    }
    if (entry.msg !== 'snapshot transition') return;
    const tr = entry as unknown as Transition;
    const who = names.get(tr.snapshotId) ?? tr.snapshotId.slice(0, 8);
    console.log(`${t()}  ${who.padEnd(6)} v${tr.version}  ${(tr.fromPhase ?? '-').padEnd(26)} -> ${tr.phase.padEnd(26)} ${tr.event} (${tr.source})`);
    wake(entry);
  });
});
/** Cinder's volume create is asynchronous: the demo waits for the service to log it available. */
const volumeReached = (volumeId: string, phase: string) => waitForLog((e) => e.msg === 'volume transition' && e.volumeId === volumeId && e.phase === phase);
const reached = (snapshotId: () => string, phase: string) => waitForLog((e) => e.msg === 'snapshot transition' && e.snapshotId === snapshotId() && e.phase === phase);

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(path.startsWith('http') ? path : `${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
const qemuIo = (file: string, cmd: string) => run('qemu-io', ['-c', cmd, join(share, file)]);

/** QEMU mode: the instance's QEMU, through its console monitor (the agent holds the other). */
let vm: QemuMachine | null = null;
let writes = 0;
async function connectConsole(): Promise<QemuMachine> {
  const runDir = join(share, '.compute-agent-qemu');
  const socket = readdirSync(runDir).find((f) => f.endsWith('.console.qmp'));
  if (!socket) throw new Error(`no QEMU console socket in ${runDir}`);
  return QemuMachine.connect({ socketPath: join(runDir, socket), pidFile: join(runDir, socket.replace('.console.qmp', '.pid')) });
}
async function activeNode(): Promise<string> {
  const nodes = await vm!.blockGraph();
  const [top] = topNodes(nodes);
  return top!.name;
}
/** The guest writes: qemu-io run by QEMU on the node at the top of the disk's chain. */
async function guestWrite(cmd: string): Promise<void> {
  await vm!.qemuIo(await activeNode(), cmd);
}
async function showBlockNodes(when: string): Promise<void> {
  if (!vm) return;
  const nodes = await vm.blockGraph();
  const raw = await vm.qmp.execute<Array<Record<string, unknown>>>('query-named-block-nodes', { flat: true });
  console.log(`${t()}  QEMU pid ${vm.pid}, ${when}: query-named-block-nodes`);
  const fileOf = new Map(nodes.map((n) => [n.name, n.file]));
  for (const n of raw.filter((x) => x.drv !== 'file')) {
    const file = String(fileOf.get(String(n['node-name'])) ?? n.file).replace(`${share}/`, '');
    console.log(`         {"node-name": "${n['node-name']}", "drv": "${n.drv}", "ro": ${n.ro}, "file": "${file}"}`);
  }
  for (const top of topNodes(nodes)) {
    console.log(`         guest writes to ${chainFrom(nodes, top.name).map((c) => c.file!.replace(`${share}/`, '')).join(' <- ')}`);
  }
}

try {
  await listening;
  console.log(`${t()}  service on ${base}, compute agent on http://127.0.0.1:${agentPort}/v2.1, files in ${share}\n`);

  const { volume } = await api('POST', '/volumes', { volume: { size: 1, name: 'demo-volume' } });
  const available = volumeReached(volume.id, 'available');
  // Logged already? The answer says where it is; otherwise the log line says when it got there.
  if ((await api('GET', `/volumes/${volume.id}`)).volume.status !== 'available') await available;
  const volumeFile = `volume-${volume.id}`;
  await qemuIo(volumeFile, 'write -P 0x11 0 64k');
  console.log(`${t()}  volume ${volume.id} created; wrote 64 KiB of 0x11 at offset 0 (compute agent mode: ${agentMode})`);

  const server = '9b2d6f3a-7f0e-4a47-9c4e-1d7b2f3c4a5e';
  await api('POST', `http://127.0.0.1:${agentPort}/v2.1/servers/${server}/os-volume_attachments`, { volumeAttachment: { volumeId: volume.id, device: '/dev/vdb' } });
  console.log(`${t()}  attached to instance ${server} through the compute agent (status ${(await api('GET', `/volumes/${volume.id}`)).volume.status})`);
  if (agentMode === 'qemu') {
    vm = await connectConsole();
    await showBlockNodes('after the attach');
  }
  console.log('');

  let s1 = '';
  const s1Available = reached(() => s1, 'available');
  s1 = (await api('POST', '/snapshots', { snapshot: { volume_id: volume.id, name: 'snap-1', force: true } })).snapshot.id;
  names.set(s1, 'snap-1');
  await s1Available;
  await showBlockNodes('after snap-1');

  const active1 = JSON.parse((await run('cat', [join(share, `${volumeFile}.info`)])).stdout).active as string;
  if (vm) {
    await guestWrite('write -P 0x22 64k 64k');
    // Enough data in this layer for the merge's block job to take a moment.
    await guestWrite('write -P 0x23 1M 32M');
  } else {
    await qemuIo(active1, 'write -P 0x22 64k 64k');
  }
  console.log(`${t()}  the instance writes 64 KiB of 0x22 at 64 KiB${vm ? ' and 32 MiB of 0x23 at 1 MiB' : ''} (into ${active1})\n`);

  let s2 = '';
  const s2Available = reached(() => s2, 'available');
  s2 = (await api('POST', '/snapshots', { snapshot: { volume_id: volume.id, name: 'snap-2', force: true } })).snapshot.id;
  names.set(s2, 'snap-2');
  await s2Available;
  await showBlockNodes('after snap-2');

  console.log(`\n${t()}  deleting snap-1, the middle of the chain`);
  let deleted = false;
  const s1Deleted = reached(() => s1, 'deleted').then(() => (deleted = true));
  await api('DELETE', `/snapshots/${s1}`);
  if (vm) {
    // The guest keeps writing while compute merges: one 64 KiB write at a time, each checked
    // against the jobs QEMU is running at that moment.
    writes = 0;
    let duringJob = 0;
    while (!deleted && writes < 2000) {
      const jobs = await vm.qmp.execute<Array<{ type: string }>>('query-block-jobs');
      await guestWrite(`write -P 0x44 ${34 * 1024 + 64 * (writes % 64)}k 64k`);
      writes++;
      if (jobs.length > 0) duringJob++;
    }
    await s1Deleted;
    console.log(`${t()}  the guest wrote ${writes} times (64 KiB of 0x44 each) during the delete, ${duringJob} of them while QEMU listed the block job`);
    await showBlockNodes('after deleting snap-1');
  } else {
    await s1Deleted;
  }

  const info = JSON.parse((await run('cat', [join(share, `${volumeFile}.info`)])).stdout);
  // -U: in QEMU mode the instance holds the write lock; QEMU flushes first so the files are current.
  if (vm) await guestWrite('flush');
  const chain = (await run('qemu-img', ['info', '-U', '--backing-chain', '--output=json', join(share, info.active)])).stdout;
  const parsed = JSON.parse(chain) as Array<{ filename: string }> | { filename: string };
  const files = (Array.isArray(parsed) ? parsed : [parsed]).map((f) => f.filename.replace(`${share}/`, ''));
  const readsBack = async (file: string, pattern: string, offset: string, length = '64k') =>
    !(await run('qemu-io', ['-U', '-r', '-c', `read -P ${pattern} ${offset} ${length}`, join(share, file)])).stdout.includes('Pattern verification failed');
  const ok =
    (await readsBack(info.active, '0x11', '0')) &&
    (await readsBack(info.active, '0x22', '64k')) &&
    (!vm || (await readsBack(info.active, '0x23', '1M', '32M'))) &&
    (!vm || writes === 0 || (await readsBack(info.active, '0x44', '34M', `${64 * Math.min(writes, 64)}k`))) &&
    !(s1 in info) &&
    s2 in info;
  console.log(`\n${t()}  .info: ${JSON.stringify(info)}`);
  console.log(`${t()}  chain (active first): ${files.join(' <- ')}`);
  console.log(`${t()}  data intact in the active chain: ${ok ? 'yes' : 'NO'}`);
  const history = (await api('GET', `/snapshots/${s1}/transitions`)).transitions as Array<{ to_phase: string }>;
  console.log(`${t()}  snap-1's history: ${history.map((h) => h.to_phase).join(' -> ')}`);
  if (!ok) process.exitCode = 1;
  await vm?.disconnect();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  service.removeAllListeners('exit');
  const stopped = new Promise((resolve) => service.on('exit', resolve));
  service.kill('SIGTERM');
  await stopped;
  if (keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
