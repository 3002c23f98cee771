// Volume types and what hangs off them (extra specs, the projects a private type is shared with,
// the encryption spec): plain rows outside any machine, written through the Prisma client in
// short transactions. Soft delete as everywhere; a type's name is unique among live types through
// the unique `live_name` column, so two creates of one name cannot both win.
import type { PrismaClient, TransactionClient, VolumeType, VolumeTypeEncryption } from '../../db/client.js';
import { isUniqueViolation } from '../../db/client.js';

/** Cinder's default type, created by the migration that made the table (as Cinder's does). */
export const DEFAULT_VOLUME_TYPE_ID = '1ea29a9f-6a34-4f14-a8a2-6b0d4b2c0001';
export const DEFAULT_VOLUME_TYPE_NAME = '__DEFAULT__';

export type VolumeTypeRow = VolumeType & { extraSpecs: Record<string, string> };

const withSpecs = { extraSpecs: { where: { deleted: false }, orderBy: { key: 'asc' as const } } };

function toRow(t: VolumeType & { extraSpecs: { key: string; value: string }[] }): VolumeTypeRow {
  const { extraSpecs, ...type } = t;
  return { ...type, extraSpecs: Object.fromEntries(extraSpecs.map((s) => [s.key, s.value])) };
}

/** Who may see a type: admins every one, others the public ones and those shared with them. */
export interface TypeViewer {
  projectId: string;
  isAdmin: boolean;
}

const visibleTo = (viewer: TypeViewer) =>
  viewer.isAdmin ? {} : { OR: [{ isPublic: true }, { projects: { some: { projectId: viewer.projectId, deleted: false } } }] };

export async function findVolumeType(prisma: PrismaClient, id: string, viewer?: TypeViewer): Promise<VolumeTypeRow | null> {
  const t = await prisma.volumeType.findFirst({ where: { id, deleted: false, ...(viewer ? visibleTo(viewer) : {}) }, include: withSpecs });
  return t ? toRow(t) : null;
}

export async function findVolumeTypeByName(prisma: PrismaClient, name: string, viewer?: TypeViewer): Promise<VolumeTypeRow | null> {
  const t = await prisma.volumeType.findFirst({ where: { liveName: name, ...(viewer ? visibleTo(viewer) : {}) }, include: withSpecs });
  return t ? toRow(t) : null;
}

export interface VolumeTypeListQuery {
  viewer: TypeViewer;
  /** null: public and private alike (an admin's `is_public=None`). */
  isPublic: boolean | null;
}

export async function listVolumeTypes(prisma: PrismaClient, q: VolumeTypeListQuery): Promise<VolumeTypeRow[]> {
  // As Cinder's DB API: asking for public types also lists the private ones shared with the caller.
  const scope =
    q.isPublic === null
      ? visibleTo(q.viewer)
      : q.isPublic
        ? { OR: [{ isPublic: true }, { projects: { some: { projectId: q.viewer.projectId, deleted: false } } }] }
        : { isPublic: false, ...visibleTo(q.viewer) };
  const rows = await prisma.volumeType.findMany({ where: { deleted: false, ...scope }, include: withSpecs, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return rows.map(toRow);
}

export interface NewVolumeType {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
}

export async function createVolumeType(prisma: PrismaClient, t: NewVolumeType): Promise<VolumeTypeRow | 'exists'> {
  try {
    return await prisma.$transaction(async (tx) => {
      await tx.volumeType.create({ data: { id: t.id, name: t.name, liveName: t.name, description: t.description, isPublic: t.isPublic } });
      await upsertSpecs(tx, t.id, t.extraSpecs);
      return toRow(await tx.volumeType.findUniqueOrThrow({ where: { id: t.id }, include: withSpecs }));
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'exists';
    throw err;
  }
}

export async function updateVolumeType(
  prisma: PrismaClient,
  id: string,
  fields: { name?: string; description?: string | null; isPublic?: boolean },
): Promise<VolumeTypeRow | 'not_found' | 'exists'> {
  try {
    return await prisma.$transaction(async (tx) => {
      const updated = await tx.volumeType.updateMany({
        where: { id, deleted: false },
        data: {
          ...(fields.name !== undefined ? { name: fields.name, liveName: fields.name } : {}),
          ...(fields.description !== undefined ? { description: fields.description } : {}),
          ...(fields.isPublic !== undefined ? { isPublic: fields.isPublic } : {}),
        },
      });
      if (updated.count === 0) return 'not_found' as const;
      return toRow(await tx.volumeType.findUniqueOrThrow({ where: { id }, include: withSpecs }));
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'exists';
    throw err;
  }
}

/** Live volumes of the type (Cinder refuses changes to a type in use). */
export async function volumeTypeInUse(prisma: PrismaClient | TransactionClient, id: string): Promise<boolean> {
  return (await prisma.volume.count({ where: { volumeTypeId: id, deleted: false }, take: 1 })) > 0;
}

export async function deleteVolumeType(prisma: PrismaClient, id: string, now: Date): Promise<'deleted' | 'not_found' | 'in_use' | 'default'> {
  if (id === DEFAULT_VOLUME_TYPE_ID) return (await findVolumeType(prisma, id)) ? 'default' : 'not_found';
  return prisma.$transaction(async (tx) => {
    const type = await tx.volumeType.findFirst({ where: { id, deleted: false }, select: { id: true } });
    if (!type) return 'not_found' as const;
    if (await volumeTypeInUse(tx, id)) return 'in_use' as const;
    await tx.volumeType.update({ where: { id }, data: { deleted: true, deletedAt: now, liveName: null, qosSpecsId: null } });
    await tx.volumeTypeExtraSpec.updateMany({ where: { volumeTypeId: id, deleted: false }, data: { deleted: true, deletedAt: now } });
    await tx.volumeTypeProject.updateMany({ where: { volumeTypeId: id, deleted: false }, data: { deleted: true, deletedAt: now } });
    await tx.volumeTypeEncryption.updateMany({ where: { volumeTypeId: id, deleted: false }, data: { deleted: true, deletedAt: now } });
    return 'deleted' as const;
  });
}

async function upsertSpecs(tx: TransactionClient, volumeTypeId: string, specs: Record<string, string>) {
  for (const [key, value] of Object.entries(specs)) {
    await tx.volumeTypeExtraSpec.upsert({
      where: { volumeTypeId_key: { volumeTypeId, key } },
      create: { volumeTypeId, key, value },
      update: { value, deleted: false, deletedAt: null },
    });
  }
}

/** Sets keys (a removed key is revived); false: no such live type. */
export async function setExtraSpecs(prisma: PrismaClient, volumeTypeId: string, specs: Record<string, string>): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    if (!(await tx.volumeType.findFirst({ where: { id: volumeTypeId, deleted: false }, select: { id: true } }))) return false;
    await upsertSpecs(tx, volumeTypeId, specs);
    return true;
  });
}

/** Removes one key; false: the type has no such live key. */
export async function deleteExtraSpec(prisma: PrismaClient, volumeTypeId: string, key: string, now: Date): Promise<boolean> {
  const r = await prisma.volumeTypeExtraSpec.updateMany({ where: { volumeTypeId, key, deleted: false }, data: { deleted: true, deletedAt: now } });
  return r.count === 1;
}

/** The projects a type is shared with. */
export async function listTypeProjects(prisma: PrismaClient, volumeTypeId: string): Promise<string[]> {
  const rows = await prisma.volumeTypeProject.findMany({ where: { volumeTypeId, deleted: false }, orderBy: { id: 'asc' }, select: { projectId: true } });
  return rows.map((r) => r.projectId);
}

/** Shares a type with a project; 'exists': it already is. */
export async function addTypeProject(prisma: PrismaClient, volumeTypeId: string, projectId: string): Promise<'added' | 'exists'> {
  return prisma.$transaction(async (tx) => {
    const row = await tx.volumeTypeProject.findUnique({ where: { volumeTypeId_projectId: { volumeTypeId, projectId } } });
    if (row && !row.deleted) return 'exists' as const;
    await tx.volumeTypeProject.upsert({
      where: { volumeTypeId_projectId: { volumeTypeId, projectId } },
      create: { volumeTypeId, projectId },
      update: { deleted: false, deletedAt: null },
    });
    return 'added' as const;
  });
}

/** false: the type was not shared with the project. */
export async function removeTypeProject(prisma: PrismaClient, volumeTypeId: string, projectId: string, now: Date): Promise<boolean> {
  const r = await prisma.volumeTypeProject.updateMany({ where: { volumeTypeId, projectId, deleted: false }, data: { deleted: true, deletedAt: now } });
  return r.count === 1;
}

export type EncryptionFields = Partial<Pick<VolumeTypeEncryption, 'provider' | 'cipher' | 'keySize' | 'controlLocation'>>;

export function findEncryption(prisma: PrismaClient | TransactionClient, volumeTypeId: string): Promise<VolumeTypeEncryption | null> {
  return prisma.volumeTypeEncryption.findFirst({ where: { volumeTypeId, deleted: false } });
}

/** A type's encryption spec; a deleted one's row is revived under a new encryption id. */
export async function createEncryption(
  prisma: PrismaClient,
  volumeTypeId: string,
  encryptionId: string,
  fields: Required<EncryptionFields>,
): Promise<VolumeTypeEncryption | 'exists'> {
  return prisma.$transaction(async (tx) => {
    if (await findEncryption(tx, volumeTypeId)) return 'exists' as const;
    return tx.volumeTypeEncryption.upsert({
      where: { volumeTypeId },
      create: { encryptionId, volumeTypeId, ...fields },
      update: { encryptionId, ...fields, deleted: false, deletedAt: null, createdAt: new Date() },
    });
  });
}

/** false: the type has no encryption spec. */
export async function updateEncryption(prisma: PrismaClient, volumeTypeId: string, fields: EncryptionFields): Promise<boolean> {
  const r = await prisma.volumeTypeEncryption.updateMany({ where: { volumeTypeId, deleted: false }, data: fields });
  return r.count === 1;
}

export async function deleteEncryption(prisma: PrismaClient, volumeTypeId: string, now: Date): Promise<boolean> {
  const r = await prisma.volumeTypeEncryption.updateMany({ where: { volumeTypeId, deleted: false }, data: { deleted: true, deletedAt: now } });
  return r.count === 1;
}
