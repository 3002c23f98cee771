// QoS specs: a named set of keys for a consumer, associated with volume types through
// volume_types.qos_specs_id. Rows outside any machine, written through the Prisma client; soft
// delete, names unique among live specs through `live_name` (see volume-types.ts).
import type { PrismaClient, QosSpecs, TransactionClient } from '../../db/client.js';
import { isUniqueViolation } from '../../db/client.js';

export type QosSpecsRow = QosSpecs & { specs: Record<string, string> };

const withKeys = { specs: { where: { deleted: false }, orderBy: { key: 'asc' as const } } };

function toRow(q: QosSpecs & { specs: { key: string; value: string }[] }): QosSpecsRow {
  return { ...q, specs: Object.fromEntries(q.specs.map((s) => [s.key, s.value])) };
}

const live = (tx: PrismaClient | TransactionClient, id: string) => tx.qosSpecs.findFirst({ where: { id, deleted: false }, select: { id: true } });

export async function findQosSpecs(prisma: PrismaClient, id: string): Promise<QosSpecsRow | null> {
  const q = await prisma.qosSpecs.findFirst({ where: { id, deleted: false }, include: withKeys });
  return q ? toRow(q) : null;
}

export async function listQosSpecs(prisma: PrismaClient): Promise<QosSpecsRow[]> {
  const rows = await prisma.qosSpecs.findMany({ where: { deleted: false }, include: withKeys, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return rows.map(toRow);
}

async function upsertKeys(tx: TransactionClient, qosSpecsId: string, specs: Record<string, string>) {
  for (const [key, value] of Object.entries(specs)) {
    await tx.qosSpecsKey.upsert({
      where: { qosSpecsId_key: { qosSpecsId, key } },
      create: { qosSpecsId, key, value },
      update: { value, deleted: false, deletedAt: null },
    });
  }
}

export async function createQosSpecs(
  prisma: PrismaClient,
  q: { id: string; name: string; consumer: string; specs: Record<string, string> },
): Promise<QosSpecsRow | 'exists'> {
  try {
    return await prisma.$transaction(async (tx) => {
      await tx.qosSpecs.create({ data: { id: q.id, name: q.name, liveName: q.name, consumer: q.consumer } });
      await upsertKeys(tx, q.id, q.specs);
      return toRow(await tx.qosSpecs.findUniqueOrThrow({ where: { id: q.id }, include: withKeys }));
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'exists';
    throw err;
  }
}

/** Sets keys; `consumer` is a column, not a key (as in Cinder). false: no such live specs. */
export async function setQosKeys(prisma: PrismaClient, id: string, specs: Record<string, string>, consumer: string | undefined): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    if (!(await live(tx, id))) return false;
    if (consumer !== undefined) await tx.qosSpecs.update({ where: { id }, data: { consumer } });
    await upsertKeys(tx, id, specs);
    return true;
  });
}

/**
 * Removes keys in order and stops at the first one the specs do not have, keeping the ones
 * removed before it, as Cinder does. Returns that missing key, or null.
 */
export async function deleteQosKeys(prisma: PrismaClient, id: string, keys: readonly string[], now: Date): Promise<string | null> {
  return prisma.$transaction(async (tx) => {
    for (const key of keys) {
      const r = await tx.qosSpecsKey.updateMany({ where: { qosSpecsId: id, key, deleted: false }, data: { deleted: true, deletedAt: now } });
      if (r.count === 0) return key;
    }
    return null;
  });
}

/** The live types associated with the specs. */
export function qosAssociations(prisma: PrismaClient, id: string) {
  return prisma.volumeType.findMany({ where: { qosSpecsId: id, deleted: false }, select: { id: true, name: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** Associates a type; 'other': it already has other specs (their id). */
export async function associateQos(
  prisma: PrismaClient,
  id: string,
  volumeTypeId: string,
): Promise<{ kind: 'associated' } | { kind: 'type_not_found' } | { kind: 'other'; qosSpecsId: string }> {
  return prisma.$transaction(async (tx) => {
    const type = await tx.volumeType.findFirst({ where: { id: volumeTypeId, deleted: false }, select: { qosSpecsId: true } });
    if (!type) return { kind: 'type_not_found' as const };
    if (type.qosSpecsId && type.qosSpecsId !== id) return { kind: 'other' as const, qosSpecsId: type.qosSpecsId };
    await tx.volumeType.update({ where: { id: volumeTypeId }, data: { qosSpecsId: id } });
    return { kind: 'associated' as const };
  });
}

/** false: no such live type (a type not associated with these specs is left as it is). */
export async function disassociateQos(prisma: PrismaClient, id: string, volumeTypeId: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    if (!(await tx.volumeType.findFirst({ where: { id: volumeTypeId, deleted: false }, select: { id: true } }))) return false;
    await tx.volumeType.updateMany({ where: { id: volumeTypeId, qosSpecsId: id }, data: { qosSpecsId: null } });
    return true;
  });
}

export async function disassociateAllQos(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.volumeType.updateMany({ where: { qosSpecsId: id }, data: { qosSpecsId: null } });
}

/** 'in_use': associated with a live type and not forced; forced, the associations go first. */
export async function deleteQosSpecs(prisma: PrismaClient, id: string, force: boolean, now: Date): Promise<'deleted' | 'not_found' | 'in_use'> {
  return prisma.$transaction(async (tx) => {
    if (!(await live(tx, id))) return 'not_found' as const;
    const inUse = (await tx.volumeType.count({ where: { qosSpecsId: id, deleted: false } })) > 0;
    if (inUse && !force) return 'in_use' as const;
    await tx.volumeType.updateMany({ where: { qosSpecsId: id }, data: { qosSpecsId: null } });
    await tx.qosSpecsKey.updateMany({ where: { qosSpecsId: id, deleted: false }, data: { deleted: true, deletedAt: now } });
    await tx.qosSpecs.update({ where: { id }, data: { deleted: true, deletedAt: now, liveName: null } });
    return 'deleted' as const;
  });
}
