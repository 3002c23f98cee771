/**
 * The live part of an assisted snapshot, done the way Nova's libvirt driver does it for a running
 * guest (nova/virt/libvirt/driver.py, Zed): the "guest" here is the agent's record of which file
 * is active, and libvirt's block jobs become the equivalent qemu-img commands.
 *
 * Delete follows the driver's decision table (_volume_snapshot_delete):
 *
 *   merge_target_file  file_to_merge   libvirt call                          here
 *   null               null            blockRebase(disk, base=None)          qemu-img rebase -b '' <active>
 *   null               <name>          blockRebase(disk, base=<name>, REL)   qemu-img rebase -b <name> -F fmt <active>
 *   <target>           <name>          blockCommit(disk, base=<target>,      qemu-img commit -b <target> <name>;
 *                                                  top=<name>, RELATIVE)    rebase -u the overlay above <name>
 *
 * Cinder (remotefs.py _delete_snapshot_online) sends the first two when the snapshot's own
 * overlay is the active file (file_to_merge is then the *new* base of the active file, not a file
 * to merge), and the third otherwise.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DeleteInfo } from '../../contracts/nova.js';
import { backingChain, commitInto, imageInfo, rebaseSafe, rebaseUnsafe, type ImageInfo } from '../../qemu/qemu-img.js';

export class LivePartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LivePartError';
  }
}

/** The libvirt block job a delete_info asks for: pull a new base into the active file, or commit top into base. */
export type BlockJob =
  | { kind: 'pull'; newBase: string | null }
  | { kind: 'commit'; top: string; base: string };

/** The driver's branch on merge_target_file; nothing else chooses between rebase and commit. */
export function planDelete(info: DeleteInfo): BlockJob {
  if (info.type !== 'qcow2') throw new LivePartError(`Unknown delete_info type ${info.type}`);
  const target = info.merge_target_file ?? null;
  const toMerge = info.file_to_merge ?? null;
  if (target === null) return { kind: 'pull', newBase: toMerge };
  // libvirt's blockCommit needs a top; _get_snap_dev says the same with 'filename cannot be None'.
  if (toMerge === null) throw new LivePartError('filename cannot be None');
  return { kind: 'commit', top: toMerge, base: target };
}

/**
 * Names in create_info / delete_info are file names next to the active file (Nova joins them to
 * dirname(current_file)). Anything that would leave that directory is refused: the share is the
 * only place the storage side may point compute at.
 */
export function fileNextTo(activePath: string, name: string): string {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw new LivePartError(`invalid file name ${JSON.stringify(name)}: expected a file name in the volume's directory`);
  }
  return path.join(path.dirname(activePath), name);
}

async function canonical(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    return path.resolve(p);
  }
}

export interface CreateLiveInput {
  shareDir: string;
  /** The instance's current active file, relative to the share. */
  activeFile: string;
  newFile: string;
}

/**
 * libvirt's external disk-only snapshot with reuse_ext: the new overlay must already be there and
 * sit on top of what the guest has open, then the guest switches to it. Returns the new active
 * file relative to the share.
 */
export async function createLive({ shareDir, activeFile, newFile }: CreateLiveInput): Promise<string> {
  const activePath = path.resolve(shareDir, activeFile);
  const newPath = fileNextTo(activePath, newFile);
  const st = await stat(newPath).catch(() => undefined);
  if (!st?.isFile()) throw new LivePartError(`new_file ${newFile} does not exist in the share`);
  let info: ImageInfo;
  try {
    info = await imageInfo(newPath);
  } catch (err) {
    throw new LivePartError(`cannot read new_file ${newFile}: ${(err as Error).message}`);
  }
  if (info.format !== 'qcow2') throw new LivePartError(`new_file ${newFile} is ${info.format}, not qcow2`);
  if (!info.fullBackingFile) throw new LivePartError(`new_file ${newFile} has no backing file`);
  if ((await canonical(info.fullBackingFile)) !== (await canonical(activePath))) {
    throw new LivePartError(
      `new_file ${newFile} is backed by ${info.backingFile}, not by the active file ${activeFile}`,
    );
  }
  return path.relative(path.resolve(shareDir), newPath);
}

export interface DeleteLiveInput {
  shareDir: string;
  activeFile: string;
  plan: BlockJob;
}

/** Index of `name` in the chain (0 = active), like _get_snap_dev's walk down <backingStore>. */
async function chainIndex(chain: ImageInfo[], activePath: string, name: string): Promise<number> {
  const wanted = await canonical(fileNextTo(activePath, name));
  for (let i = 0; i < chain.length; i++) {
    if ((await canonical(chain[i]!.filename)) === wanted) return i;
  }
  throw new LivePartError(`no match found for ${name}`);
}

/** Runs the block job; the active file stays the same in every case. */
export async function deleteLive({ shareDir, activeFile, plan }: DeleteLiveInput): Promise<void> {
  const activePath = path.resolve(shareDir, activeFile);
  let chain: ImageInfo[];
  try {
    chain = await backingChain(activePath);
  } catch (err) {
    throw new LivePartError(`cannot read the backing chain of ${activeFile}: ${(err as Error).message}`);
  }

  if (plan.kind === 'pull') {
    if (plan.newBase === null) {
      await rebaseSafe(activePath, null);
      return;
    }
    const index = await chainIndex(chain, activePath, plan.newBase);
    // libvirt refuses a rebase base that is the disk itself ("invalid base").
    if (index === 0) throw new LivePartError(`${plan.newBase} is the active file, not a base below it`);
    await rebaseSafe(activePath, plan.newBase, chain[index]!.format);
    return;
  }

  const top = await chainIndex(chain, activePath, plan.top);
  const base = await chainIndex(chain, activePath, plan.base);
  // Nova calls blockCommit without VIR_DOMAIN_BLOCK_COMMIT_ACTIVE, so libvirt refuses an active
  // layer commit; Cinder never asks for one (it uses the pull branch for the active file).
  if (top === 0) throw new LivePartError(`${plan.top} is the active file; committing the active layer is not supported`);
  if (base <= top) throw new LivePartError(`${plan.base} is not below ${plan.top} in the backing chain`);
  const topImage = chain[top]!;
  const baseImage = chain[base]!;
  const above = chain[top - 1]!;
  await commitInto(topImage.filename, baseImage.filename);
  // With VIR_DOMAIN_BLOCK_COMMIT_RELATIVE libvirt writes the new pointer relative to the overlay.
  const relativeBase = path.relative(path.dirname(above.filename), baseImage.filename);
  await rebaseUnsafe(above.filename, relativeBase, baseImage.format);
}
