// Chain building for the compute agent's tests, the way the storage side does it (reference §2:
// create with the absolute backing path, then rebase -u to the relative name). Reading and writing
// patterns is test/support/qemu.ts's job.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const MiB = 1024 * 1024;

export async function makeShare(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'compute-agent-share-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `volume-<id>`, as a fresh volume file of the given format. */
export async function createVolumeFile(share: string, name: string, format: 'qcow2' | 'raw' = 'raw', size = 4 * MiB): Promise<string> {
  await run('qemu-img', ['create', '-f', format, path.join(share, name), String(size)]);
  return name;
}

/** A new overlay on top of `backing`, exactly as the storage side's create does it. */
export async function createOverlay(share: string, backing: string, name: string, backingFormat: 'qcow2' | 'raw', size = 4 * MiB): Promise<string> {
  const file = path.join(share, name);
  await run('qemu-img', [
    'create', '-f', 'qcow2',
    '-o', `backing_file=${path.join(share, backing)},backing_fmt=${backingFormat}`,
    file, String(size),
  ]);
  await run('qemu-img', ['rebase', '-u', '-b', backing, '-F', backingFormat, file]);
  return name;
}
