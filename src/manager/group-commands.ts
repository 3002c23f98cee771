// Group types, groups and group snapshots (Cinder's generic volume groups, cinder/group/api.py).
// Each group or group snapshot request becomes an event of its machine (machines/group.ts,
// machines/group-snapshot.ts) handed to the engine; what those machines cannot see (the member
// volumes, the member snapshots) is checked here against the rows and handed in as counts.
// The group snapshot's effects, and the counts its children's steps change, are
// group-reactor.ts's.
import { randomUUID } from 'node:crypto';
import { groupSnapshotStatusesAccepting, groupStatusesAccepting } from '../../machines/group-derive.js';
import { resettableGroupSnapshotStatuses } from '../../machines/group-snapshot.js';
import { resettableGroupStatuses } from '../../machines/group.js';
import type { Engine, ParentOutcome } from '../engine/engine.js';
import type { GroupRow, GroupSnapshotRow, GroupTypeRow } from '../engine/store/index.js';
import { Conflict, InvalidRequest, NotFound } from './errors.js';
import { volumeTypeIdsOf } from './group-volume-types.js';
import type { GroupReactor } from './group-reactor.js';
import type { VolumeCommands } from './volume-commands.js';

/** Cinder's group type that every deployment has (cinder/volume/group_types.py DEFAULT_CGSNAPSHOT_TYPE). */
export const DEFAULT_GROUP_TYPE_NAME = 'default_group_type';

export interface CreateGroupInput {
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  groupTypeId: string;
  volumeTypeIds: string[];
  availabilityZone?: string | null;
}

export interface CreateGroupFromSourceInput {
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  groupSnapshotId: string | null;
  sourceGroupId: string | null;
  /** Whether the caller may read a source owned by that project (not found otherwise). */
  canSee: (projectId: string) => boolean;
}

export interface GroupUpdateInput {
  name?: string | null;
  description?: string | null;
  addVolumes: string[];
  removeVolumes: string[];
}

/** The statuses a member volume may have to join or leave a group (cinder/group/api.py). */
const ADD_VOLUME_STATUSES = ['available', 'in-use'];
const REMOVE_VOLUME_STATUSES = ['available', 'in-use', 'error', 'error_deleting'];

export class GroupCommands {
  constructor(
    private readonly engine: Engine,
    private readonly reactor: GroupReactor,
    private readonly volumes: VolumeCommands,
  ) {}

  private get store() {
    return this.engine.store.groups;
  }

  // Group types.
  async groupType(id: string): Promise<GroupTypeRow> {
    const row = await this.store.findGroupType(id);
    if (!row) throw new NotFound(`Group type ${id} could not be found.`);
    return row;
  }

  /** The default group type, if the deployment has one (404 otherwise, as Cinder). */
  async defaultGroupType(): Promise<GroupTypeRow> {
    const row = await this.store.findGroupTypeByName(DEFAULT_GROUP_TYPE_NAME);
    if (!row) throw new NotFound('Default group type could not be found.');
    return row;
  }

  listGroupTypes(isPublic: boolean | null) {
    return this.store.listGroupTypes(isPublic === null ? {} : { isPublic });
  }

  async createGroupType(input: { name: string; description: string | null; isPublic: boolean; specs: Record<string, string> }) {
    if (await this.store.findGroupTypeByName(input.name)) throw new Conflict(`Group Type ${input.name} already exists.`);
    return this.store.insertGroupType({ id: randomUUID(), ...input }, this.engine.clock());
  }

  async updateGroupType(id: string, fields: { name?: string; description?: string | null; isPublic?: boolean }) {
    await this.groupType(id);
    if (fields.name !== undefined) {
      const other = await this.store.findGroupTypeByName(fields.name);
      if (other && other.id !== id) throw new Conflict(`Group Type ${fields.name} already exists.`);
    }
    return this.store.updateGroupType(id, fields);
  }

  async deleteGroupType(id: string) {
    await this.groupType(id);
    if (!(await this.store.deleteGroupType(id, this.engine.clock()))) {
      throw new InvalidRequest(`Group Type ${id} deletion is not allowed with groups present with the type.`);
    }
  }

  async setGroupSpecs(id: string, specs: Record<string, string>) {
    await this.groupType(id);
    await this.store.setGroupSpecs(id, specs, this.engine.clock());
    return specs;
  }

  async groupSpecs(id: string): Promise<Record<string, string>> {
    return Object.fromEntries((await this.groupType(id)).specs.map((s) => [s.key, s.value]));
  }

  async groupSpec(id: string, key: string): Promise<string> {
    const value = (await this.groupSpecs(id))[key];
    if (value === undefined) throw new NotFound(`Group Type ${id} has no specs with key ${key}.`);
    return value;
  }

  async deleteGroupSpec(id: string, key: string) {
    await this.groupType(id);
    if (!(await this.store.deleteGroupSpec(id, key))) throw new NotFound(`Group Type ${id} has no specs with key ${key}.`);
  }

  // Groups.
  async group(id: string): Promise<GroupRow> {
    const row = await this.store.findGroup(id);
    if (!row || row.deleted) throw new NotFound(`Group ${id} could not be found.`);
    return row;
  }

  listGroups(projectId: string | null) {
    return this.store.listGroups(projectId);
  }

  async createGroup(input: CreateGroupInput): Promise<GroupRow> {
    await this.groupType(input.groupTypeId);
    const volumeTypeIds = await volumeTypeIdsOf(this.engine.store, input.volumeTypeIds);
    return this.engine.parents.startGroup(
      {
        id: randomUUID(),
        projectId: input.projectId,
        userId: input.userId,
        name: input.name,
        description: input.description,
        groupTypeId: input.groupTypeId,
        availabilityZone: input.availabilityZone ?? 'nova',
        groupSnapshotId: null,
        sourceGroupId: null,
      },
      [...new Set(volumeTypeIds)],
      { type: 'group.create' },
      'api',
    );
  }

  /**
   * A group from a group snapshot or from another group (cinder/group/api.py create_from_src):
   * the source's group type and volume types, and one volume per member snapshot (or per
   * source volume), each made by the ordinary volume create (quota, the copy from the outbox, the
   * volume machine). The group waits in `creating` until its machine counts that many available
   * members (group-reactor.ts); a member the create refuses fails the group.
   */
  async createGroupFromSource(input: CreateGroupFromSourceInput): Promise<GroupRow> {
    const plan = input.groupSnapshotId ? await this.planFromGroupSnapshot(input.groupSnapshotId, input.canSee) : await this.planFromGroup(input.sourceGroupId!, input.canSee);
    const source = await this.group(plan.groupId);
    const group = await this.engine.parents.startGroup(
      {
        id: randomUUID(),
        projectId: input.projectId,
        userId: input.userId,
        name: input.name,
        description: input.description,
        groupTypeId: source.groupTypeId,
        availabilityZone: source.availabilityZone,
        groupSnapshotId: input.groupSnapshotId,
        sourceGroupId: input.sourceGroupId,
      },
      source.volumeTypes.map((t) => t.volumeTypeId),
      { type: 'group.create_from_source', members: plan.members.length },
      'api',
    );
    for (const member of plan.members) {
      try {
        await this.volumes.create({
          projectId: input.projectId,
          userId: input.userId,
          groupId: group.id,
          joinCreatingGroup: true,
          canSee: input.canSee,
          ...member,
        });
      } catch (err) {
        // The group can never count all its members now: it fails, and the caller hears why.
        await this.reactor.offerMembers(group.id, 1);
        throw err;
      }
    }
    return (await this.store.findGroup(group.id)) ?? group;
  }

  private async planFromGroupSnapshot(id: string, canSee: (projectId: string) => boolean) {
    const gs = await this.store.findGroupSnapshot(id);
    if (!gs || gs.deleted || !canSee(gs.projectId)) throw new NotFound(`GroupSnapshot ${id} could not be found.`);
    if (gs.status !== 'available') throw new InvalidRequest(`Invalid GroupSnapshot: Group snapshot ${id} status must be available, but current status is: ${gs.status}.`);
    const children = await this.store.groupSnapshotChildren(id);
    return { groupId: gs.groupId, members: children.map((c) => ({ snapshotId: c.id })) };
  }

  private async planFromGroup(id: string, canSee: (projectId: string) => boolean) {
    const group = await this.store.findGroup(id);
    if (!group || group.deleted || !canSee(group.projectId)) throw new NotFound(`Group ${id} could not be found.`);
    if (group.status !== 'available') throw new InvalidRequest(`Invalid Group: Source group ${id} status must be available, but current status is: ${group.status}.`);
    const members = await this.store.groupMembers(id);
    return { groupId: id, members: members.map((v) => ({ sourceVolid: v.id })) };
  }

  /**
   * Name, description and membership (cinder/group/api.py update). The membership changes commit
   * with the group's step, so a group never lists a volume it refused.
   */
  async updateGroup(id: string, input: GroupUpdateInput): Promise<GroupRow> {
    const group = await this.group(id);
    const members = new Map((await this.store.groupMembers(id)).map((v) => [v.id, v]));
    for (const volumeId of input.removeVolumes) {
      const member = members.get(volumeId);
      if (!member) throw new InvalidRequest(`Invalid volume: Cannot remove volume ${volumeId} from group ${id} because it is not in the group.`);
      if (!REMOVE_VOLUME_STATUSES.includes(member.status)) {
        throw new InvalidRequest(
          `Invalid volume: Cannot remove volume ${volumeId} from group ${id} because volume is in an invalid state: ${member.status}. Valid states are: ${REMOVE_VOLUME_STATUSES.join(', ')}.`,
        );
      }
    }
    for (const volumeId of input.addVolumes) {
      const volume = await this.engine.store.findVolume(volumeId);
      if (!volume || volume.deleted || volume.projectId !== group.projectId) {
        throw new InvalidRequest(`Invalid volume: Cannot add volume ${volumeId} to group ${id} because volume cannot be found.`);
      }
      if (volume.groupId === id) continue;
      if (volume.groupId) throw new InvalidRequest(`Invalid volume: Cannot add volume ${volumeId} to group ${id} because it is already in group ${volume.groupId}.`);
      if (!ADD_VOLUME_STATUSES.includes(volume.status)) {
        throw new InvalidRequest(
          `Invalid volume: Cannot add volume ${volumeId} to group ${id} because volume is in an invalid state: ${volume.status}. Valid states are: ${ADD_VOLUME_STATUSES.join(', ')}.`,
        );
      }
    }
    const outcome = await this.engine.parents.deliverGroup(id, { type: 'group.update' }, 'api', {
      membership: { add: input.addVolumes.filter((v) => !members.has(v)), remove: input.removeVolumes },
      fields: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
    });
    return groupAccepted(outcome, (o) => `Invalid Group: Group status must be available, but current status is: ${o.status}.`);
  }

  /**
   * Delete, with the member volumes when asked (cinder/group/api.py delete): the group goes to
   * `deleting` and each member volume is offered a delete on its own machine; the group's
   * machine is told as they go (group-reactor.ts).
   */
  async deleteGroup(id: string, deleteVolumes: boolean): Promise<void> {
    await this.group(id);
    const members = await this.store.groupMembers(id);
    if (!deleteVolumes && members.length > 0) {
      throw new InvalidRequest(`Invalid Group: Group ${id} still contains volumes. The delete-volumes flag is required to delete it.`);
    }
    if ((await this.store.liveGroupSnapshotsOf(id)) > 0) throw new InvalidRequest('Invalid Group: Group has existing snapshots.');
    for (const v of members) {
      if (v.attachStatus === 'attached') throw new InvalidRequest(`Invalid Group: Volume in group ${id} is attached. Need to detach first.`);
      if ((await this.store.liveSnapshotsOf(v.id)) > 0) throw new InvalidRequest('Invalid Group: Volume in group still has dependent snapshots.');
    }
    const outcome = await this.engine.parents.deliverGroup(id, { type: 'group.delete', members: members.length }, 'api');
    groupAccepted(outcome, (o) => `Invalid Group: Group status must be available or error, but current status is: ${o.status}.`);
    await this.reactor.deleteMemberVolumes(id);
  }

  async resetGroupStatus(id: string, status: string) {
    await this.group(id);
    if (!(resettableGroupStatuses as readonly string[]).includes(status)) {
      throw new InvalidRequest(`Invalid Group Status: Group status ${status} is not one of ${resettableGroupStatuses.join(', ')}.`);
    }
    const outcome = await this.engine.parents.deliverGroup(id, { type: 'reset_status', status }, 'admin');
    groupAccepted(outcome, (o) => `Invalid Group Status: cannot reset a group that is ${o.status}.`);
  }

  groupHistory(id: string) {
    return this.store.history('group', id);
  }

  // Group snapshots.
  async groupSnapshot(id: string): Promise<GroupSnapshotRow> {
    const row = await this.store.findGroupSnapshot(id);
    if (!row || row.deleted) throw new NotFound(`GroupSnapshot ${id} could not be found.`);
    return row;
  }

  listGroupSnapshots(projectId: string | null) {
    return this.store.listGroupSnapshots(projectId);
  }

  /**
   * One snapshot of every volume of the group, each on its own snapshot machine; the group
   * snapshot is the parent that waits for them (cinder/group/api.py create_group_snapshot).
   */
  async createGroupSnapshot(input: { groupId: string; projectId: string; userId: string; name: string | null; description: string | null }) {
    const group = await this.group(input.groupId);
    if (!groupStatusesAccepting({ type: 'group.update' }).includes(group.status)) {
      throw new InvalidRequest(`Invalid Group: Group ${group.id} status must be available, but current status is: ${group.status}.`);
    }
    const members = await this.store.groupMembers(group.id);
    for (const v of members) {
      if (!ADD_VOLUME_STATUSES.includes(v.status)) {
        throw new InvalidRequest(`Invalid Group: Volume ${v.id} in group ${group.id} must be available or in-use, but is ${v.status}.`);
      }
    }
    const outcome = await this.engine.parents.startGroupSnapshot(
      { id: randomUUID(), groupId: group.id, projectId: input.projectId, userId: input.userId, name: input.name, description: input.description, groupTypeId: group.groupTypeId },
      { type: 'group_snapshot.create', members: members.length },
      'api',
    );
    await this.reactor.runEffects(outcome.row.id, outcome.effects);
    return outcome.row;
  }

  async deleteGroupSnapshot(id: string) {
    await this.groupSnapshot(id);
    const children = await this.store.groupSnapshotChildren(id);
    const outcome = await this.engine.parents.deliverGroupSnapshot(id, { type: 'group_snapshot.delete', children: children.length }, 'api');
    const accepted = groupSnapshotAccepted(outcome, (o) => {
      const allowed = groupSnapshotStatusesAccepting({ type: 'group_snapshot.delete', children: 1 });
      return `Invalid GroupSnapshot: Group snapshot status must be ${allowed.join(' or ')}, but current status is: ${o.status}.`;
    });
    await this.reactor.runEffects(id, accepted.effects);
  }

  async resetGroupSnapshotStatus(id: string, status: string) {
    await this.groupSnapshot(id);
    if (!(resettableGroupSnapshotStatuses as readonly string[]).includes(status)) {
      throw new InvalidRequest(`Invalid GroupSnapshot Status: Group snapshot status ${status} is not one of ${resettableGroupSnapshotStatuses.join(', ')}.`);
    }
    const outcome = await this.engine.parents.deliverGroupSnapshot(id, { type: 'reset_status', status }, 'admin');
    groupSnapshotAccepted(outcome, (o) => `Invalid GroupSnapshot Status: cannot reset a group snapshot that is ${o.status}.`);
  }

  groupSnapshotHistory(id: string) {
    return this.store.history('group_snapshot', id);
  }
}

function groupAccepted(outcome: ParentOutcome<GroupRow>, message: (o: Extract<ParentOutcome<GroupRow>, { kind: 'rejected' }>) => string): GroupRow {
  if (outcome.kind === 'accepted') return outcome.row;
  if (outcome.kind === 'not_found') throw new NotFound(`Group ${outcome.id} could not be found.`);
  throw new InvalidRequest(message(outcome));
}

function groupSnapshotAccepted(
  outcome: ParentOutcome<GroupSnapshotRow> | { kind: 'moot' },
  message: (o: Extract<ParentOutcome<GroupSnapshotRow>, { kind: 'rejected' }>) => string,
): Extract<ParentOutcome<GroupSnapshotRow>, { kind: 'accepted' }> {
  if (outcome.kind === 'accepted') return outcome;
  if (outcome.kind === 'not_found') throw new NotFound(`GroupSnapshot ${outcome.id} could not be found.`);
  if (outcome.kind === 'rejected') throw new InvalidRequest(message(outcome));
  throw new Error(`unexpected ${outcome.kind} outcome`);
}
