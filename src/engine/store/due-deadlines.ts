// Snapshots whose compute wait has run out, oldest first, with the version that set the deadline:
// the timeout is only meaningful for that version.
import type { PrismaClient } from '../../db/client.js';

export async function dueDeadlines(prisma: PrismaClient, now: Date, limit: number) {
  return prisma.snapshot.findMany({
    where: { deadlineAt: { lte: now }, deleted: false },
    orderBy: { deadlineAt: 'asc' },
    take: limit,
    select: { id: true, phase: true, version: true },
  });
}

export async function nextDeadline(prisma: PrismaClient): Promise<Date | null> {
  const row = await prisma.snapshot.findFirst({
    where: { deadlineAt: { not: null }, deleted: false },
    orderBy: { deadlineAt: 'asc' },
    select: { deadlineAt: true },
  });
  return row?.deadlineAt ?? null;
}
