// The one qemu-img wrapper, for both sides of the share: the RemoteFS driver (storage) and the
// embedded compute agent, which stands in for libvirt/QEMU and runs the offline equivalents of
// libvirt's block jobs. Every failure carries qemu-img's stderr, because that text (e.g. "Could
// not open backing file", "Failed to get write lock") is what an operator needs; the engine
// records it as `driver_error: ...` and the agent reports it in its error callback. A run cut
// short by a signal is not qemu-img's answer: its error says `interrupted`, and the engine runs
// the phase again instead of recording a failure. Each run is a child in a process group of its
// own (child-processes.ts), so a stop signal to the service's group does not reach it.
import { ChildProcessError, children } from './child-processes.js';

export interface ImageInfo {
  /** The path as qemu-img reports it (absolute when it was opened by an absolute path). */
  filename: string;
  format: string;
  virtualSize: number;
  /** The backing pointer exactly as stored in the image header, or null for none. */
  backingFile: string | null;
  /** The backing pointer resolved against the image's directory, or null for none. */
  fullBackingFile: string | null;
}

export class QemuImgError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null = null,
    /** Cut short (a signal, or the service stopping), not refused: worth running again. */
    readonly interrupted = false,
    how = exitCode === null ? 'failed' : `failed (exit ${exitCode})`,
  ) {
    super(`qemu-img ${args.join(' ')} ${how}: ${stderr.trim() || 'no output'}`);
    this.name = 'QemuImgError';
  }
}

const INSTALL_HINT = 'install it with: apt-get install qemu-utils';

async function run(binary: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    return await children.run(binary, args, { maxBuffer: 64 * 1024 * 1024, env: env ?? process.env });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${binary} not found on PATH; ${INSTALL_HINT}`);
    if (!(err instanceof ChildProcessError)) throw err;
    const how = err.signal ? `interrupted by ${err.signal}` : err.interrupted ? `interrupted (${err.detail})` : err.exitCode === null ? `failed (${err.detail})` : undefined;
    throw new QemuImgError(args, err.stderr, err.exitCode, err.signal, err.interrupted, how);
  }
}

const qemuImg = (args: string[]) => run('qemu-img', args);

/**
 * Fails with a message naming the first missing binary, so a misconfigured host stops the
 * service at start instead of failing the first snapshot. `env` exists so a test can hide PATH.
 */
export async function checkQemuTools(options: { binaries?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  for (const binary of options.binaries ?? ['qemu-img']) {
    try {
      await run(binary, ['--version'], options.env);
    } catch (err) {
      if (err instanceof QemuImgError) throw new Error(`${binary} --version failed: ${err.stderr.trim()}; ${INSTALL_HINT}`);
      throw err;
    }
  }
}

function toInfo(raw: Record<string, unknown>): ImageInfo {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    filename: String(raw.filename),
    format: String(raw.format),
    virtualSize: Number(raw['virtual-size']),
    backingFile: text(raw['backing-filename']),
    fullBackingFile: text(raw['full-backing-filename']),
  };
}

// -U (force share): a running VM holds a write lock on the files of an attached volume, and
// reading a header must not wait for, or be refused by, that lock.
export async function imageInfo(path: string): Promise<ImageInfo> {
  return toInfo(JSON.parse(await qemuImg(['info', '-U', '--output=json', path])) as Record<string, unknown>);
}

/** The chain from `path` down to its root, top first. */
export async function backingChain(path: string): Promise<ImageInfo[]> {
  const raw = JSON.parse(await qemuImg(['info', '-U', '--backing-chain', '--output=json', path])) as unknown;
  // qemu-img prints a bare object, not an array, when the image has no backing file.
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((entry) => toInfo(entry as Record<string, unknown>));
}

// qemu's option syntax splits on commas; a literal comma in a path is written twice.
const optionValue = (s: string) => s.replaceAll(',', ',,');

export async function createImage(path: string, sizeGiB: number): Promise<void> {
  await qemuImg(['create', '-f', 'qcow2', path, `${sizeGiB}G`]);
}

/**
 * A qcow2 overlay on `backingAbs`, then pointed at `backingRelative` without touching data: the
 * header must hold a name relative to the share, since compute mounts the share elsewhere.
 */
export async function createOverlay(path: string, backingAbs: string, backingRelative: string, backingFormat: string, sizeGiB: number): Promise<void> {
  await qemuImg([
    'create', '-f', 'qcow2',
    '-o', `backing_file=${optionValue(backingAbs)},backing_fmt=${optionValue(backingFormat)}`,
    path, `${sizeGiB}G`,
  ]);
  await rebaseUnsafe(path, backingRelative, backingFormat);
}

/** Rewrites only the backing pointer; the caller guarantees the data already matches. */
export async function rebaseUnsafe(path: string, backingRelative: string, backingFormat: string): Promise<void> {
  await qemuImg(['rebase', '-u', '-f', 'qcow2', '-b', backingRelative, '-F', backingFormat, path]);
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

/**
 * A standalone qcow2 copy of everything `source` reads through its backing chain (Cinder's
 * image_utils.convert_image). -U: the source may be the chain of a volume a VM has open; as for
 * Cinder's snapshots of in-use volumes, reading it must not wait for, or be refused by, its lock.
 */
export async function convertImage(source: string, target: string): Promise<void> {
  await qemuImg(['convert', '-U', '-O', 'qcow2', source, target]);
}

/** Grows the virtual size of `path` (Cinder's image_utils.resize_image). */
export async function resizeImage(path: string, sizeGiB: number): Promise<void> {
  await qemuImg(['resize', '-f', 'qcow2', path, `${sizeGiB}G`]);
}

/** Writes `path`'s clusters into its backing file; -d keeps `path` intact so a re-run is harmless. */
export async function commitIntoBacking(path: string): Promise<void> {
  await qemuImg(['commit', '-d', path]);
}

/** Writes `top`'s data into `base` (an image below it in its chain), like libvirt's blockCommit. */
export async function commitInto(top: string, base: string): Promise<void> {
  await qemuImg(['commit', '-f', 'qcow2', '-b', base, top]);
}

/** What QEMU's image locking says about a file: a live QEMU writing to it holds its write lock. */
export type WriteLockState = 'locked' | 'free';

/**
 * Opens `path` the way any reader does, without -U: a QEMU that has the image open read-write
 * (the file an instance writes to) refuses it with "Failed to get shared "write" lock", while a
 * backing file a QEMU only reads, or a file nobody has open, opens fine. This is the one call
 * here that must not force sharing: the refusal is the answer.
 */
export async function writeLockState(path: string): Promise<WriteLockState> {
  try {
    await qemuImg(['info', '--output=json', path]);
    return 'free';
  } catch (err) {
    if (err instanceof QemuImgError && /Failed to get (shared )?"write" lock/.test(err.stderr)) return 'locked';
    throw err;
  }
}
