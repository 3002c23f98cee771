// A file that others read after a crash (the share's .info, a volume's image, the compute agent's
// state) must be the old one or the new one, never half of either: the content goes to a
// temporary next to the target, is flushed, renamed over the target, and the directory is flushed
// so the rename itself survives power loss.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Marker inside names of files still being written; a reader may remove any file carrying it. */
export const TEMP_MARKER = '.tmp-';

export interface DurableWriteOptions {
  /** Mode of the file when `content` is bytes (default 0o600). */
  mode?: number;
}

/** What to write: the bytes, or a function that fills the temporary file (e.g. `qemu-img create`). */
export type DurableContent = string | Uint8Array | ((temp: string) => Promise<void>);

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAndSync(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  // 'wx': the temporary's name is unique, so finding it already there means something is wrong.
  const handle = await fs.open(file, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `target` with `content` so that a crash at any point leaves the previous or the new
 * file. A temporary that could not be published is removed; one left by a crash carries
 * TEMP_MARKER in its name, so whoever owns the directory can recognise and remove it.
 */
export async function writeDurably(target: string, content: DurableContent, options: DurableWriteOptions = {}): Promise<void> {
  const temp = `${target}${TEMP_MARKER}${randomUUID()}`;
  try {
    if (typeof content === 'function') {
      await content(temp);
      await fsyncFile(temp);
    } else {
      await writeAndSync(temp, content, options.mode ?? 0o600);
    }
    await fs.rename(temp, target);
  } catch (err) {
    // The write's own error is the one worth reporting, not a failed clean-up.
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
}
