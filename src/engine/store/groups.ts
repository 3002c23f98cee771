// Group types, groups and group snapshots: their rows, their machines' steps and the counts of
// their children. These are not on a hot path (a handful per VM), so they go through Prisma's
// model queries; every write runs in a transaction, which on SQLite is what serialises it with
// the group commit sharing the one connection. A machine step is guarded by the version it was
// computed from, as a snapshot's or a volume's is.
import type { GroupSnapshot, GroupTransition, GroupType, Group, PrismaClient, TransactionClient } from '../../db/client.js';

export type GroupRow = Group & { volumeTypes: Array<{ volumeTypeId: string }> };
export type GroupSnapshotRow = GroupSnapshot;
export type GroupTypeRow = GroupType & { specs: Array<{ key: string; value: string }> };
export type ParentSubject = 'group' | 'group_snapshot';
export type ParentHistoryRow = Omit<GroupTransition, 'id'>;

/** The columns that follow from a parent machine's state. */
export interface ParentStateColumns {
  machineState: string;
  phase: string;
  status: string;
  errorReason: string | null;
  phaseEnteredAt: Date;
  deleted: boolean;
  deletedAt: Date | null;
  /** Group snapshots only: when the current wait for the children runs out. */
  deadlineAt?: Date | null;
}

export interface ParentStepWrite {
  subject: ParentSubject;
  id: string;
  fromVersion: number;
  /** Absent for a refused event: only its history row is written. */
  update?: { version: number; updatedAt: Date; columns: ParentStateColumns };
  history: ParentHistoryRow;
  /** Groups: volumes that join or leave the group in the same commit as the step. */
  membership?: { add: string[]; remove: string[] };
  /** Name and description changed with the step. */
  fields?: { name?: string | null; description?: string | null };
}

const volumeTypesInclude = { volumeTypes: { select: { volumeTypeId: true }, orderBy: { position: 'asc' as const } } };

// Group types.
export const findGroupType = (prisma: PrismaClient, id: string): Promise<GroupTypeRow | null> =>
  prisma.groupType.findFirst({ where: { id, deleted: false }, include: { specs: true } });
export const findGroupTypeByName = (prisma: PrismaClient, name: string): Promise<GroupTypeRow | null> =>
  prisma.groupType.findFirst({ where: { name, deleted: false }, include: { specs: true } });
export const listGroupTypes = (prisma: PrismaClient, where: { isPublic?: boolean }): Promise<GroupTypeRow[]> =>
  prisma.groupType.findMany({ where: { deleted: false, ...where }, include: { specs: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

export function insertGroupType(prisma: PrismaClient, row: { id: string; name: string; description: string | null; isPublic: boolean; specs: Record<string, string> }, now: Date) {
  return prisma.$transaction(async (tx) => {
    await tx.groupType.create({ data: { id: row.id, name: row.name, description: row.description, isPublic: row.isPublic, createdAt: now, updatedAt: now } });
    for (const [key, value] of Object.entries(row.specs)) await tx.groupTypeSpec.create({ data: { groupTypeId: row.id, key, value, createdAt: now, updatedAt: now } });
    return tx.groupType.findUniqueOrThrow({ where: { id: row.id }, include: { specs: true } });
  });
}

export function updateGroupType(prisma: PrismaClient, id: string, fields: { name?: string; description?: string | null; isPublic?: boolean }) {
  return prisma.$transaction((tx) => tx.groupType.update({ where: { id }, data: fields, include: { specs: true } }));
}

/** Soft-deletes a group type unless a live group or group snapshot uses it (false then). */
export function deleteGroupType(prisma: PrismaClient, id: string, now: Date): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const inUse = (await tx.group.count({ where: { groupTypeId: id, deleted: false } })) + (await tx.groupSnapshot.count({ where: { groupTypeId: id, deleted: false } }));
    if (inUse > 0) return false;
    await tx.groupType.update({ where: { id }, data: { deleted: true, deletedAt: now } });
    return true;
  });
}

export function setGroupSpecs(prisma: PrismaClient, groupTypeId: string, specs: Record<string, string>, now: Date) {
  return prisma.$transaction(async (tx) => {
    for (const [key, value] of Object.entries(specs)) {
      await tx.groupTypeSpec.upsert({
        where: { groupTypeId_key: { groupTypeId, key } },
        create: { groupTypeId, key, value, createdAt: now, updatedAt: now },
        update: { value, updatedAt: now },
      });
    }
  });
}

/** Removes one group spec; false when the type has no such key. */
export function deleteGroupSpec(prisma: PrismaClient, groupTypeId: string, key: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => (await tx.groupTypeSpec.deleteMany({ where: { groupTypeId, key } })).count > 0);
}

// Groups.
export const findGroup = (prisma: PrismaClient, id: string): Promise<GroupRow | null> => prisma.group.findUnique({ where: { id }, include: volumeTypesInclude });
export const listGroups = (prisma: PrismaClient, projectId: string | null): Promise<GroupRow[]> =>
  prisma.group.findMany({ where: { deleted: false, ...(projectId ? { projectId } : {}) }, include: volumeTypesInclude, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });

/** The live volumes of a group, with what the group's machines and checks need. */
export const groupMembers = (prisma: PrismaClient, groupId: string) =>
  prisma.volume.findMany({ where: { groupId, deleted: false }, select: { id: true, status: true, attachStatus: true, size: true, projectId: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

/** The live snapshots of a group snapshot (its machine's children). */
export const groupSnapshotChildren = (prisma: PrismaClient, groupSnapshotId: string) =>
  prisma.snapshot.findMany({ where: { groupSnapshotId, deleted: false }, select: { id: true, volumeId: true, status: true, version: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });

/** Live snapshots of a volume (a group delete refuses volumes that have some). */
export const liveSnapshotsOf = (prisma: PrismaClient, volumeId: string) => prisma.snapshot.count({ where: { volumeId, deleted: false } });

// Group snapshots.
export const findGroupSnapshot = (prisma: PrismaClient, id: string): Promise<GroupSnapshotRow | null> => prisma.groupSnapshot.findUnique({ where: { id } });
export const listGroupSnapshots = (prisma: PrismaClient, projectId: string | null): Promise<GroupSnapshotRow[]> =>
  prisma.groupSnapshot.findMany({ where: { deleted: false, ...(projectId ? { projectId } : {}) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
export const liveGroupSnapshotsOf = (prisma: PrismaClient, groupId: string) => prisma.groupSnapshot.count({ where: { groupId, deleted: false } });

/** Group snapshots whose wait ran out, and those still waiting (the sweep offers both an event). */
export const dueGroupSnapshots = (prisma: PrismaClient, now: Date, limit: number) =>
  prisma.groupSnapshot.findMany({ where: { deadlineAt: { lte: now }, deleted: false }, orderBy: { deadlineAt: 'asc' }, take: limit });
export const waitingGroupSnapshots = (prisma: PrismaClient, limit: number) =>
  prisma.groupSnapshot.findMany({ where: { deadlineAt: { not: null }, deleted: false }, orderBy: { deadlineAt: 'asc' }, take: limit });
export const waitingGroups = (prisma: PrismaClient, phases: readonly string[], limit: number) =>
  prisma.group.findMany({ where: { phase: { in: [...phases] }, deleted: false }, take: limit, include: volumeTypesInclude });

export const readParentHistory = (prisma: PrismaClient, subject: ParentSubject, subjectId: string) =>
  prisma.groupTransition.findMany({ where: { subject, subjectId }, orderBy: { id: 'asc' } });

/** The first step of a group: its row, its volume types and its history row. */
export function insertGroup(
  prisma: PrismaClient,
  row: Omit<Group, 'updatedAt' | 'deletedAt' | 'deleted' | 'machineState' | 'phase' | 'version' | 'phaseEnteredAt' | 'errorReason' | 'status'>,
  volumeTypeIds: readonly string[],
  step: { version: number; columns: ParentStateColumns },
  history: ParentHistoryRow,
): Promise<GroupRow> {
  return prisma.$transaction(async (tx) => {
    const { deadlineAt: _unused, ...c } = step.columns;
    await tx.group.create({ data: { ...row, ...c, version: step.version, updatedAt: row.createdAt } });
    for (const [position, volumeTypeId] of volumeTypeIds.entries()) await tx.groupVolumeType.create({ data: { groupId: row.id, volumeTypeId, position } });
    await tx.groupTransition.create({ data: history });
    return tx.group.findUniqueOrThrow({ where: { id: row.id }, include: volumeTypesInclude });
  });
}

export function insertGroupSnapshot(
  prisma: PrismaClient,
  row: Omit<GroupSnapshot, 'updatedAt' | 'deletedAt' | 'deleted' | 'machineState' | 'phase' | 'version' | 'phaseEnteredAt' | 'errorReason' | 'status' | 'deadlineAt'>,
  step: { version: number; columns: ParentStateColumns },
  history: ParentHistoryRow,
): Promise<GroupSnapshotRow> {
  return prisma.$transaction(async (tx) => {
    await tx.groupSnapshot.create({ data: { ...row, ...step.columns, version: step.version, updatedAt: row.createdAt } });
    await tx.groupTransition.create({ data: history });
    return tx.groupSnapshot.findUniqueOrThrow({ where: { id: row.id } });
  });
}

/** One step of a group's or group snapshot's machine; `conflict` when the row moved on. */
export function commitParentStep(prisma: PrismaClient, w: ParentStepWrite): Promise<'committed' | 'conflict'> {
  return prisma.$transaction(async (tx) => {
    const data = w.update ? { version: w.update.version, updatedAt: w.update.updatedAt, ...stateData(w), ...(w.fields ?? {}) } : { version: w.fromVersion };
    const moved = await update(tx, w, data);
    if (moved === 0) return 'conflict';
    if (w.update && w.membership) {
      const now = w.update.updatedAt;
      if (w.membership.add.length > 0) await tx.volume.updateMany({ where: { id: { in: w.membership.add }, deleted: false }, data: { groupId: w.id, updatedAt: now } });
      if (w.membership.remove.length > 0) await tx.volume.updateMany({ where: { id: { in: w.membership.remove }, groupId: w.id }, data: { groupId: null, updatedAt: now } });
    }
    await tx.groupTransition.create({ data: w.history });
    return 'committed';
  });
}

function stateData(w: ParentStepWrite) {
  const c = w.update!.columns;
  if (w.subject === 'group') {
    const { deadlineAt: _unused, ...rest } = c;
    return rest;
  }
  return { ...c, deadlineAt: c.deadlineAt ?? null };
}

async function update(tx: TransactionClient, w: ParentStepWrite, data: Record<string, unknown>): Promise<number> {
  const where = { id: w.id, version: w.fromVersion };
  return w.subject === 'group' ? (await tx.group.updateMany({ where, data })).count : (await tx.groupSnapshot.updateMany({ where, data })).count;
}
