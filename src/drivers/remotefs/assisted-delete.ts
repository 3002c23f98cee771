// Snapshot delete of an attached volume, in two phases around compute: begin plans the merge
// (merge-plan.ts) and hands compute its delete_info; compute merges inside the running VM;
// complete checks the merge happened, records .info without the snapshot, and removes the file
// that left the chain.
import { promises as fs } from 'node:fs';
import { DELETE_INFO_KEY, type PhaseResult, type SnapshotRef } from '../driver.js';
import { isReferenced, type SnapInfo } from './info-store.js';
import { mergeOutstanding, NothingToMergeError, planOnlineDelete, type MergePlan } from './merge-plan.js';
import { removeUnusedOverlay } from './overlay.js';
import { recover } from './recovery.js';
import { exists, type RemoteFsShare } from './share.js';

/**
 * Snapshot admin metadata key holding the whole merge plan: after compute has merged, the chain
 * no longer shows which file left it, and delete_info alone does not say (for a pull it names the
 * new base, not the file to remove).
 */
export const DELETE_PLAN_KEY = 'remotefs_delete_plan';

/** What begin recorded when compute had nothing to merge: the delete skips compute. */
const nothingToMerge = (snapshotId: string) => JSON.stringify({ snapshotId, mode: 'none' });

/** The plan begin recorded for this snapshot; `none` when there was nothing to merge; null when none was recorded. */
export function recordedPlan(snapshot: SnapshotRef): MergePlan | 'none' | null {
  const raw = snapshot.adminMetadata[DELETE_PLAN_KEY];
  if (!raw) return null;
  const plan = JSON.parse(raw) as MergePlan | { snapshotId: string; mode: 'none' };
  if (plan.mode === 'none') return 'none';
  return plan.snapshotId === snapshot.id ? plan : null;
}

export async function deleteSnapshotAssistedBegin(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async (): Promise<PhaseResult> => {
    const info = await recover(share, volumeId);
    const chain = info ? await share.chainOf(volumeId, info.active) : [];
    // A plan left by an earlier attempt whose merge compute already carried out must not be
    // planned again: recomputed on the merged chain, it would merge a different snapshot.
    const earlier = recordedPlan(snapshot);
    if (earlier && info && id in info && (earlier === 'none' || mergeOutstanding(earlier, chain) === null)) {
      // Compute already merged (its callback was lost and the delete is being retried), or had
      // nothing to merge: only the complete phase is left, with the plan recorded the first time.
      return { skipCompute: true };
    }
    let plan: MergePlan;
    try {
      plan = planOnlineDelete(volumeId, id, info, chain);
    } catch (err) {
      if (!(err instanceof NothingToMergeError)) throw err;
      // E.g. the snapshot's create failed before it reached .info: Cinder deletes such a
      // snapshot without asking compute, and so do we.
      return { skipCompute: true, adminMetadata: { [DELETE_PLAN_KEY]: nothingToMerge(id) } };
    }
    return {
      adminMetadata: { [DELETE_INFO_KEY]: JSON.stringify(plan.deleteInfo), [DELETE_PLAN_KEY]: JSON.stringify(plan) },
    };
  });
}

export async function deleteSnapshotAssistedComplete(share: RemoteFsShare, snapshot: SnapshotRef): Promise<PhaseResult> {
  const { volumeId, id } = snapshot;
  return share.withVolume(volumeId, async () => {
    const plan = recordedPlan(snapshot);
    if (plan === 'none') {
      // Nothing was merged (the create never reached .info, e.g. it failed): a stale .info entry
      // and the create's overlay go, if no chain uses them. Nothing else is touched.
      let current = await recover(share, volumeId);
      if (current && id in current) {
        const next: SnapInfo = { ...current };
        delete next[id];
        await share.infos.write(volumeId, next);
        await share.afterStep('info-written');
        current = next;
      }
      await removeUnusedOverlay(share, volumeId, id, current);
      return { volume: { adminMetadata: { format: 'qcow2' } } };
    }
    if (!plan) throw new Error(`snapshot ${id} has no ${DELETE_PLAN_KEY}: deleteSnapshotAssistedBegin did not run`);
    let info = await recover(share, volumeId);
    if (!info) throw new Error(`${share.infos.pathOf(volumeId)} is missing`);
    let chain = await share.chainOf(volumeId, info.active);
    if (id in info) {
      const outstanding = mergeOutstanding(plan, chain);
      if (outstanding) throw new Error(`compute has not merged snapshot ${id}: ${outstanding}`);
      const next: SnapInfo = { ...info };
      delete next[id];
      // remotefs.py _delete_snapshot_online: after a pull the base's snapshot lives in the active file.
      if (plan.mode === 'pull' && plan.baseId !== null) next[plan.baseId] = plan.snapshotFile;
      await share.infos.write(volumeId, next);
      await share.afterStep('info-written');
      info = next;
      chain = await share.chainOf(volumeId, info.active);
    }
    const stale = plan.fileToDelete;
    if (await exists(share.at(stale))) {
      if (isReferenced(info, stale) || chain.some((l) => l.name === stale)) {
        throw new Error(`refusing to remove ${stale}: it is still in use by volume ${volumeId}`);
      }
      await fs.rm(share.at(stale), { force: true });
    }
    // remotefs.py sets format=qcow2 after a pull (the raw base may be gone); every file here is qcow2.
    return { volume: { adminMetadata: { format: 'qcow2' } } };
  });
}

