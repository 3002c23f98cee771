// Joins the parents to their children. A group snapshot's effects are events for its member
// snapshots' machines (start one per volume, delete them, fail them); a child's committed step
// becomes the parent's `children.changed`, with the children counted from their rows. Groups get
// the same for their member volumes (`members.changed`) while they wait for them.
//
// Nothing here is the only record of anything: the parent's state and the children's are rows,
// the effects are idempotent (a child is started only for a volume that has none, a delete or a
// failure only offered to a child that can take it), and sweep() offers every waiting parent its
// children's state again and delivers the parents' expired deadlines. So a crash between a
// parent's commit and its effects, or between a child's commit and the parent's event, is made
// good by the next sweep (the service runs one at start and then periodically).
import { restoreGroup, restoreGroupSnapshot } from '../../machines/group-derive.js';
import type { GroupSnapshotEffectKind, GroupSnapshotEvent } from '../../machines/group-snapshot.js';
import type { GroupEvent } from '../../machines/group.js';
import type { VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { CommittedTransition, VolumeTransitionCommitted } from '../engine/engine.js';
import { randomUUID } from 'node:crypto';

/** Statuses of a child that count as failed for its parent (cinder/objects/fields.py). */
const FAILED = new Set(['error', 'error_deleting']);
/** Group phases that wait for their member volumes. */
const GROUP_WAITING_PHASES = ['creating', 'deleting'] as const;

export class GroupReactor {
  /** One offer at a time per parent in this process, so its counts are never older than its state. */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Reactions under way, from the child's step to the parent's offer. */
  private readonly reacting = new Set<Promise<unknown>>();
  private started = false;
  private readonly onSnapshot = (t: CommittedTransition) => void this.guard(this.snapshotStepped(t.snapshotId));
  private readonly onVolume = (t: VolumeTransitionCommitted) => void this.guard(this.volumeStepped(t.volumeId));

  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  private get store() {
    return this.engine.store.groups;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.engine.events.on('transition', this.onSnapshot);
    this.engine.events.on('volumeTransition', this.onVolume);
  }

  stop() {
    if (!this.started) return;
    this.started = false;
    this.engine.events.off('transition', this.onSnapshot);
    this.engine.events.off('volumeTransition', this.onVolume);
  }

  /** Resolves once every offer under way has been made (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.chains.size > 0 || this.reacting.size > 0) await Promise.allSettled([...this.chains.values(), ...this.reacting]);
  }

  private guard(p: Promise<unknown>): Promise<void> {
    const tracked = p.then(
      () => {},
      (err) => this.onError(err),
    );
    this.reacting.add(tracked);
    void tracked.finally(() => this.reacting.delete(tracked));
    return tracked;
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  private async snapshotStepped(snapshotId: string) {
    const row = await this.engine.store.findSnapshot(snapshotId);
    if (row?.groupSnapshotId) await this.offerChildren(row.groupSnapshotId);
  }

  private async volumeStepped(volumeId: string) {
    const row = await this.engine.store.findVolume(volumeId);
    if (row?.groupId) await this.offerMembers(row.groupId);
  }

  /** Tells a group snapshot what its children's machines say, if its state waits for that. */
  offerChildren(groupSnapshotId: string, extraFailed = 0): Promise<void> {
    return this.serial(`gs:${groupSnapshotId}`, async () => {
      const parent = await this.store.findGroupSnapshot(groupSnapshotId);
      if (!parent || parent.deleted) return;
      const children = await this.store.groupSnapshotChildren(groupSnapshotId);
      const event: GroupSnapshotEvent = {
        type: 'children.changed',
        children: {
          total: children.length,
          available: children.filter((c) => c.status === 'available').length,
          failed: children.filter((c) => FAILED.has(c.status)).length + extraFailed,
        },
      };
      // Offered only where the machine takes it, so the history is not filled with refusals.
      if (!restoreGroupSnapshot(JSON.parse(parent.machineState)).can(event)) return;
      const outcome = await this.engine.parents.deliverGroupSnapshot(groupSnapshotId, event, 'driver', parent.version);
      if (outcome.kind === 'accepted') await this.effects(groupSnapshotId, outcome.effects as GroupSnapshotEffectKind[]);
    });
  }

  /** Tells a group what its member volumes' machines say, if its state waits for that. */
  offerMembers(groupId: string, extraFailed = 0): Promise<void> {
    return this.serial(`g:${groupId}`, async () => {
      const group = await this.store.findGroup(groupId);
      if (!group || group.deleted) return;
      const members = await this.store.groupMembers(groupId);
      const event: GroupEvent = {
        type: 'members.changed',
        members: {
          total: members.length,
          available: members.filter((m) => m.status === 'available').length,
          failed: members.filter((m) => FAILED.has(m.status)).length + extraFailed,
        },
      };
      if (!restoreGroup(JSON.parse(group.machineState)).can(event)) return;
      await this.engine.parents.deliverGroup(groupId, event, 'driver');
    });
  }

  /** Carries out a group snapshot's effects, committed with its last step. */
  runEffects(groupSnapshotId: string, effects: readonly string[]): Promise<void> {
    return this.serial(`gs:${groupSnapshotId}`, () => this.effects(groupSnapshotId, effects as GroupSnapshotEffectKind[])).then(() =>
      effects.length > 0 ? this.offerChildren(groupSnapshotId) : undefined,
    );
  }

  private async effects(groupSnapshotId: string, effects: readonly GroupSnapshotEffectKind[]) {
    for (const kind of effects) {
      if (kind === 'createMembers') await this.createMembers(groupSnapshotId);
      else if (kind === 'deleteMembers') await this.deleteMembers(groupSnapshotId);
      else await this.failMembers(groupSnapshotId);
    }
  }

  /** One child per member volume that has none yet, each a snapshot machine of its own. */
  private async createMembers(groupSnapshotId: string) {
    const parent = await this.store.findGroupSnapshot(groupSnapshotId);
    if (!parent || parent.phase !== 'creating') return;
    const have = new Set((await this.store.groupSnapshotChildren(groupSnapshotId)).map((c) => c.volumeId));
    for (const volume of await this.store.groupMembers(parent.groupId)) {
      if (have.has(volume.id)) continue;
      const outcome = await this.engine.start(
        {
          id: randomUUID(),
          volumeId: volume.id,
          projectId: parent.projectId,
          userId: parent.userId,
          name: parent.name,
          description: parent.description,
          volumeSize: volume.size,
          groupSnapshotId,
          metadata: {},
        },
        { type: 'snapshot.create', assisted: this.driver.supportsAssistedSnapshots && volume.attachStatus === 'attached' },
        'api',
        { volumeId: volume.id, status: volume.status },
      );
      // A volume that changed status meanwhile gets no child: the create has failed for it.
      if (outcome.kind !== 'accepted') {
        const failed = await this.engine.parents.deliverGroupSnapshot(groupSnapshotId, { type: 'children.changed', children: { total: 0, available: 0, failed: 1 } }, 'driver');
        if (failed.kind === 'accepted') await this.effects(groupSnapshotId, failed.effects as GroupSnapshotEffectKind[]);
        return;
      }
    }
  }

  private async deleteMembers(groupSnapshotId: string) {
    for (const child of await this.store.groupSnapshotChildren(groupSnapshotId)) {
      const volume = await this.engine.store.findVolume(child.volumeId);
      const event = { type: 'snapshot.delete' as const, assisted: !!volume && this.driver.supportsAssistedSnapshots && volume.attachStatus === 'attached' };
      // A child already on its way (deleting) refuses it, as it should.
      await this.engine.deliver({ snapshotId: child.id, event, source: 'api' });
    }
  }

  /** Cinder fails every member of a failed group snapshot; children still working are failed when they finish. */
  private async failMembers(groupSnapshotId: string) {
    for (const child of await this.store.groupSnapshotChildren(groupSnapshotId)) {
      if (child.status !== 'available') continue;
      await this.engine.deliver({ snapshotId: child.id, event: { type: 'admin.reset_status', status: 'error' }, source: 'admin', expectedVersion: child.version });
    }
  }

  /** A group delete's member volumes, each deleted by its own machine. */
  async deleteMemberVolumes(groupId: string) {
    let refused = 0;
    for (const volume of await this.store.groupMembers(groupId)) {
      const outcome = await this.engine.volumes.deliver({ volumeId: volume.id, event: { type: 'volume.delete' }, source: 'api' });
      if (outcome.kind !== 'accepted' && outcome.kind !== 'not_found') refused++;
    }
    await this.offerMembers(groupId, refused);
  }

  /**
   * Delivers the group snapshots' expired deadlines, and offers every waiting parent its
   * children's state again (what a crash between two commits may have left unsaid).
   */
  async sweep(limit = 100): Promise<void> {
    const now = this.engine.clock();
    for (const gs of await this.store.dueGroupSnapshots(now, limit)) {
      await this.serial(`gs:${gs.id}`, async () => {
        const outcome = await this.engine.parents.deliverGroupSnapshot(gs.id, { type: 'timer.expired', phase: gs.phase }, 'timer', gs.version);
        if (outcome.kind === 'accepted') await this.effects(gs.id, outcome.effects as GroupSnapshotEffectKind[]);
      });
    }
    for (const gs of await this.store.waitingGroupSnapshots(limit)) {
      if (gs.phase === 'creating') await this.runEffects(gs.id, ['createMembers']);
      else await this.offerChildren(gs.id);
    }
    for (const g of await this.store.waitingGroups(GROUP_WAITING_PHASES, limit)) await this.offerMembers(g.id);
  }
}
