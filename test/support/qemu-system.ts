// A real QEMU holding a disk image open the way a running instance does: qemu-system-x86_64 with
// no machine to run (`-machine none`), the image attached as a qcow2 block node with -blockdev,
// and QMP on a Unix socket. QEMU takes the image's write lock (and shares read on its backing
// files) exactly as under Nova/libvirt, which is what the reconcile phase's lock evidence reads.
//
// Readiness is an event, not a wait: QEMU connects to a QMP socket this helper listens on
// (`-qmp unix:<path>`, QEMU as the client), and the helper asks it over QMP which block nodes are
// open before it resolves. Debian package: qemu-system-x86.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningQemu {
  /** The files QEMU has open as block nodes, as query-named-block-nodes names them. */
  openFiles: string[];
  /** Asks QEMU to quit over QMP and waits for the process to exit. */
  quit(): Promise<void>;
}

export async function qemuHolding(image: string, timeoutMs = 30_000): Promise<RunningQemu> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qmp-'));
  const socketPath = path.join(dir, 'qmp.sock');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  const child = spawn(
    'qemu-system-x86_64',
    [
      '-machine', 'none', '-nodefaults', '-display', 'none', '-S',
      '-qmp', `unix:${socketPath}`,
      '-blockdev', `driver=qcow2,node-name=disk0,file.driver=file,file.filename=${image.replaceAll(',', ',,')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cleanup = () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const socket = await Promise.race([
      new Promise<Socket>((resolve) =>
        server.once('connection', (socket) => {
          // QEMU closes (or resets) the socket as it quits; nothing is waiting on it then.
          socket.on('error', () => undefined);
          resolve(socket);
        }),
      ),
      exited.then((code) => Promise.reject(new Error(`qemu-system-x86_64 exited (${code}) before connecting to QMP: ${stderr}`))),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`qemu-system-x86_64 did not connect to QMP within ${timeoutMs} ms: ${stderr}`)), timeoutMs).unref()),
    ]);
    const qmp = new QmpClient(socket);
    await qmp.next(); // the greeting
    await qmp.execute('qmp_capabilities');
    const nodes = (await qmp.execute('query-named-block-nodes')) as Array<{ file: string; 'node-name': string }>;
    const openFiles = nodes.map((n) => n.file);
    let quitting: Promise<void> | null = null;
    return {
      openFiles,
      quit: () =>
        (quitting ??= (async () => {
          await qmp.execute('quit').catch(() => undefined);
          await exited;
          cleanup();
        })()),
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw err;
  }
}

/** QMP, one JSON object a line: answers arrive in order; events are skipped. */
class QmpClient {
  private readonly queue: Record<string, unknown>[] = [];
  private readonly waiting: Array<(m: Record<string, unknown>) => void> = [];

  constructor(private readonly socket: Socket) {
    const lines = createInterface({ input: socket });
    // readline forwards the socket's errors; a reset as QEMU quits concerns nobody.
    lines.on('error', () => undefined);
    lines.on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if ('event' in message) return;
      const w = this.waiting.shift();
      if (w) w(message);
      else this.queue.push(message);
    });
  }

  next(): Promise<Record<string, unknown>> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async execute(command: string): Promise<unknown> {
    this.socket.write(`${JSON.stringify({ execute: command })}\n`);
    const answer = await this.next();
    if ('error' in answer) throw new Error(`QMP ${command}: ${JSON.stringify(answer.error)}`);
    return answer.return;
  }
}
