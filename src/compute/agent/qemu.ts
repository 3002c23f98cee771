// qemu-img, the only tool that touches image files here: the agent stands in for libvirt/QEMU, so
// the block jobs libvirt would run inside the VM become the equivalent offline qemu-img commands.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ImageInfo {
  /** Absolute path as qemu-img resolved it. */
  filename: string;
  format: string;
  /** The backing pointer exactly as stored in the image (often relative). */
  backingFilename?: string;
  /** The backing pointer resolved against the image's directory. */
  fullBackingFilename?: string;
  virtualSize: number;
}

export class QemuImgError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`qemu-img ${args.join(' ')} failed: ${stderr.trim() || 'no output'}`);
    this.name = 'QemuImgError';
  }
}

async function qemuImg(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('qemu-img', args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('qemu-img is not installed (Debian package qemu-utils)');
    throw new QemuImgError(args, e.stderr ?? e.message);
  }
}

function toInfo(raw: Record<string, unknown>): ImageInfo {
  return {
    filename: String(raw.filename),
    format: String(raw.format),
    backingFilename: typeof raw['backing-filename'] === 'string' ? raw['backing-filename'] : undefined,
    fullBackingFilename: typeof raw['full-backing-filename'] === 'string' ? raw['full-backing-filename'] : undefined,
    virtualSize: Number(raw['virtual-size']),
  };
}

/**
 * The format is probed, as Nova's qemu_img_info does for a backing file; callers only probe files
 * the storage side wrote into the share.
 */
export async function imageInfo(path: string): Promise<ImageInfo> {
  return toInfo(JSON.parse(await qemuImg(['info', '--output=json', path])) as Record<string, unknown>);
}

/** The whole chain, top first; what libvirt shows as the disk's <backingStore> nesting. */
export async function backingChain(path: string): Promise<ImageInfo[]> {
  const raw = JSON.parse(await qemuImg(['info', '--output=json', '--backing-chain', path])) as unknown;
  return (Array.isArray(raw) ? raw : [raw]).map((r) => toInfo(r as Record<string, unknown>));
}

/**
 * Safe rebase (copies whatever the old chain provided and the new one does not), the offline
 * equivalent of libvirt's blockRebase pull. `newBacking` null drops the backing file altogether.
 * A relative `newBacking` is resolved by qemu-img against the image's directory and stored as given.
 */
export async function rebaseSafe(image: string, newBacking: string | null, backingFormat?: string): Promise<void> {
  const args = ['rebase', '-f', 'qcow2', '-b', newBacking ?? ''];
  if (newBacking !== null) {
    if (!backingFormat) throw new Error('a backing format is required to rebase onto a file');
    args.push('-F', backingFormat);
  }
  args.push(image);
  await qemuImg(args);
}

/** Rewrites only the backing pointer (data untouched), as libvirt does to the overlay above a commit. */
export async function rebaseUnsafe(image: string, newBacking: string, backingFormat: string): Promise<void> {
  await qemuImg(['rebase', '-u', '-f', 'qcow2', '-b', newBacking, '-F', backingFormat, image]);
}

/** Writes `top`'s data into `base` (an image below it in its chain), like libvirt's blockCommit. */
export async function commitInto(top: string, base: string): Promise<void> {
  await qemuImg(['commit', '-f', 'qcow2', '-b', base, top]);
}
