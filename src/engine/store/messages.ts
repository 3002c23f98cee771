// User messages (Cinder's messages table): written when something fails for a user, read and
// deleted by the user's project, soft-deleted like every other row.
import type { PrismaClient } from '../../db/client.js';

export interface MessageRow {
  id: string;
  projectId: string;
  requestId: string;
  resourceType: string | null;
  resourceUuid: string | null;
  eventId: string;
  messageLevel: string;
  detailId: string | null;
  actionId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

const SELECT = {
  id: true,
  projectId: true,
  requestId: true,
  resourceType: true,
  resourceUuid: true,
  eventId: true,
  messageLevel: true,
  detailId: true,
  actionId: true,
  createdAt: true,
  expiresAt: true,
} as const;

export async function insertMessage(prisma: PrismaClient, m: MessageRow): Promise<void> {
  await prisma.message.create({ data: m });
}

/** Live messages (not deleted, not expired), oldest first; of one project unless null. */
export function listMessages(prisma: PrismaClient, projectId: string | null, now: Date): Promise<MessageRow[]> {
  return prisma.message.findMany({
    where: { deleted: false, expiresAt: { gt: now }, ...(projectId !== null ? { projectId } : {}) },
    select: SELECT,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
}

export function findMessage(prisma: PrismaClient, id: string, now: Date): Promise<MessageRow | null> {
  return prisma.message.findFirst({ where: { id, deleted: false, expiresAt: { gt: now } }, select: SELECT });
}

/** Soft-deletes one message; false when there was no live one. */
export async function deleteMessage(prisma: PrismaClient, id: string, now: Date): Promise<boolean> {
  const { count } = await prisma.message.updateMany({ where: { id, deleted: false }, data: { deleted: true, deletedAt: now } });
  return count > 0;
}
