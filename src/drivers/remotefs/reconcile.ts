// Compute went quiet after its deadline (or an admin asked): what do the files say happened?
// The storage side does not take compute's silence as a failure, nor trust it: it reads the
// evidence it can check itself, under the volume lock, and answers with a verdict the machine
// maps to a state (machines/snapshot.ts, reconcilingPhase).
//
// Evidence, in the order it is gathered:
//   - the backing chain, read with `qemu-img info --backing-chain -U` (never blocked by a VM);
//   - QEMU's image locks: `qemu-img info` without -U is refused on the file a live QEMU writes
//     to ("Failed to get shared "write" lock"), and not on a backing file it only reads;
//   - compute's own report of the file it has open, where compute offers one (the embedded
//     agent's status extension, ActiveFileProbe).
// A create is only completed, or rolled back, when the evidence points one way and nothing
// points the other; anything else is `unverified` and changes nothing.
import { writeLockState } from '../../qemu/qemu-img.js';
import type { ActiveFileProbe, PhaseResult, ReconcileReport, SnapshotRef } from '../driver.js';
import { recordedPlan } from './assisted-delete.js';
import { snapshotFile, volumeFile } from './layout.js';
import { mergeOutstanding, type ChainLink } from './merge-plan.js';
import { overlayInUseReason, removeOverlay } from './overlay.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

type LockEvidence = Record<string, 'locked' | 'free' | `unreadable: ${string}`>;
type ComputeEvidence = { active_file: string | null; instance_id: string | null } | { unavailable: string };

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

async function locksOf(share: RemoteFsShare, files: readonly string[]): Promise<LockEvidence> {
  const locks: LockEvidence = {};
  for (const file of new Set(files)) {
    if (!(await exists(share.at(file)))) continue;
    try {
      locks[file] = await writeLockState(share.at(file));
    } catch (err) {
      locks[file] = `unreadable: ${errorText(err)}`;
    }
  }
  return locks;
}

async function computeReport(probe: ActiveFileProbe | undefined, volumeId: string): Promise<ComputeEvidence> {
  if (!probe) return { unavailable: 'no compute status query configured' };
  try {
    const seen = await probe.activeFile(volumeId);
    return { active_file: seen.activeFile, instance_id: seen.instanceId };
  } catch (err) {
    return { unavailable: errorText(err) };
  }
}

const chainText = (chain: readonly ChainLink[]) => chain.map((l) => l.name).join(' <- ');

function describeCompute(c: ComputeEvidence): string {
  if ('unavailable' in c) return `compute status unavailable (${c.unavailable})`;
  return c.active_file === null ? 'compute has no instance with the volume attached' : `compute has ${c.active_file} open`;
}

function describeLocks(locks: LockEvidence): string {
  const held = Object.entries(locks).filter(([, s]) => s === 'locked').map(([f]) => f);
  return held.length === 0 ? 'no write lock held' : `write lock held on ${held.join(', ')}`;
}

const report = (r: ReconcileReport): PhaseResult => ({ reconcile: r });

export async function reconcileCreate(share: RemoteFsShare, probe: ActiveFileProbe | undefined, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const info = await recover(share, volumeId);
    const overlay = snapshotFile(volumeId, id);
    const active = info?.active ?? volumeFile(volumeId);
    const evidence: Record<string, unknown> = { overlay, info_active: active };
    if (info && id in info) {
      // The complete phase already recorded it: compute's part was done.
      return report({ verdict: 'in_use', reason: `.info already names ${info[id]} for snapshot ${id}`, evidence: { ...evidence, info_entry: info[id] } });
    }
    if (!(await exists(share.at(overlay)))) {
      evidence.overlay_exists = false;
      return report({ verdict: 'rolled_back', reason: `${overlay} does not exist; nothing to remove, .info unchanged`, evidence });
    }
    let chain: ChainLink[];
    try {
      chain = await share.chainOf(volumeId, overlay);
    } catch (err) {
      evidence.chain_error = errorText(err);
      return report({ verdict: 'unverified', reason: `cannot read the backing chain of ${overlay}: ${evidence.chain_error}`, evidence });
    }
    evidence.chain = chain.map((l) => l.name);
    const locks = await locksOf(share, [overlay, active]);
    const compute = await computeReport(probe, volumeId);
    evidence.locks = locks;
    evidence.compute = compute;
    const seen = `chain ${chainText(chain)}; ${describeLocks(locks)}; ${describeCompute(compute)}`;

    const told = 'active_file' in compute ? compute : null;
    const inUse = locks[overlay] === 'locked' || told?.active_file === overlay;
    // Compute reporting another file (or no attachment at all), or QEMU writing to the old file
    // and not to the overlay, both say the instance never switched.
    const unused = (told !== null && told.active_file !== overlay) || (locks[active] === 'locked' && locks[overlay] === 'free');
    if (inUse && !unused) {
      if (chain[0]!.backing !== active) {
        return report({ verdict: 'unverified', reason: `${overlay} is in use but backed by ${chain[0]!.backing ?? 'nothing'}, not the active file ${active}; ${seen}`, evidence });
      }
      return report({ verdict: 'in_use', reason: `${overlay} is the file the instance writes to: ${seen}`, evidence });
    }
    if (unused && !inUse) {
      // .info never named the overlay (only the complete phase adds it), so removing the file
      // puts the share back as it was before the create; the check guards a hand-edited .info.
      let inUseBy: string | null;
      try {
        inUseBy = await overlayInUseReason(share, volumeId, overlay, info);
      } catch (err) {
        inUseBy = `the backing chain of ${active} cannot be read (${errorText(err)})`;
      }
      if (inUseBy !== null) {
        return report({ verdict: 'unverified', reason: `${overlay} is unused but ${inUseBy}; ${seen}`, evidence });
      }
      await removeOverlay(share, overlay);
      evidence.removed = overlay;
      return report({ verdict: 'rolled_back', reason: `${overlay} was never used (${seen}); removed it, .info unchanged`, evidence });
    }
    return report({ verdict: 'unverified', reason: inUse ? `the evidence disagrees: ${seen}` : `nothing shows which file is in use: ${seen}`, evidence });
  });
}

export async function reconcileDelete(share: RemoteFsShare, probe: ActiveFileProbe | undefined, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const plan = recordedPlan(snapshot);
    if (plan === 'none') {
      return report({ verdict: 'merged', reason: 'nothing was there for compute to merge', evidence: { plan: 'none' } });
    }
    if (!plan) return report({ verdict: 'unverified', reason: `no merge plan was recorded for snapshot ${id}`, evidence: {} });
    const evidence: Record<string, unknown> = { plan: { mode: plan.mode, snapshot_file: plan.snapshotFile, base_file: plan.baseFile, file_to_delete: plan.fileToDelete } };
    const info = await recover(share, volumeId);
    if (!info) return report({ verdict: 'unverified', reason: `${share.infos.pathOf(volumeId)} is missing`, evidence });
    evidence.info_active = info.active;
    if (!(id in info)) return report({ verdict: 'merged', reason: `.info no longer names snapshot ${id}`, evidence });
    let chain: ChainLink[];
    try {
      chain = await share.chainOf(volumeId, info.active);
    } catch (err) {
      evidence.chain_error = errorText(err);
      return report({ verdict: 'unverified', reason: `cannot read the backing chain of ${info.active}: ${evidence.chain_error}`, evidence });
    }
    evidence.chain = chain.map((l) => ({ file: l.name, backing: l.backing }));
    evidence.locks = await locksOf(share, [info.active, plan.fileToDelete]);
    evidence.compute = await computeReport(probe, volumeId);
    const outstanding = mergeOutstanding(plan, chain);
    if (outstanding === null) {
      return report({ verdict: 'merged', reason: `the chain shows the merge done: ${chainText(chain)}`, evidence });
    }
    return report({ verdict: 'not_merged', reason: `${outstanding}; chain found: ${chainText(chain)}`, evidence });
  });
}
