// The services table (Cinder's): each instance's heartbeat on its own rows, and the operator's
// flags (disabled, frozen). Heartbeats and flags never write the same columns, so an operator's
// disable is never lost to a heartbeat racing it.
import type { PrismaClient } from '../../db/client.js';

export interface ServiceIdentityRow {
  host: string;
  binary: string;
  topic: string;
  availabilityZone: string;
  clusterName: string | null;
}

export interface ServiceRow extends ServiceIdentityRow {
  disabled: boolean;
  disabledReason: string | null;
  frozen: boolean;
  createdAt: Date;
  updatedAt: Date | null;
  modifiedAt: Date | null;
}

export interface ServiceFlags {
  disabled?: boolean;
  disabledReason?: string | null;
  frozen?: boolean;
}

const SELECT = {
  host: true,
  binary: true,
  topic: true,
  availabilityZone: true,
  clusterName: true,
  disabled: true,
  disabledReason: true,
  frozen: true,
  createdAt: true,
  updatedAt: true,
  modifiedAt: true,
} as const;

/** Creates the row on the first beat; later beats only move updated_at and the count. */
export async function heartbeatService(prisma: PrismaClient, s: ServiceIdentityRow, now: Date): Promise<void> {
  await prisma.service.upsert({
    where: { host_binary: { host: s.host, binary: s.binary } },
    create: { ...s, createdAt: now, updatedAt: now, reportCount: 1 },
    update: { topic: s.topic, availabilityZone: s.availabilityZone, clusterName: s.clusterName, updatedAt: now, reportCount: { increment: 1 } },
  });
}

export function listServices(prisma: PrismaClient): Promise<ServiceRow[]> {
  return prisma.service.findMany({ select: SELECT, orderBy: { id: 'asc' } });
}

/** Sets the flags of the rows matching (null: no such row). */
export async function updateServiceFlags(prisma: PrismaClient, host: string, binary: string, flags: ServiceFlags, now: Date): Promise<ServiceRow | null> {
  const { count } = await prisma.service.updateMany({ where: { host, binary }, data: { ...flags, modifiedAt: now } });
  if (count === 0) return null;
  return prisma.service.findUnique({ where: { host_binary: { host, binary } }, select: SELECT });
}

/** Freezes or thaws every service on `host` of `binary`; how many rows it changed. */
export async function setFrozen(prisma: PrismaClient, host: string, binary: string, frozen: boolean, now: Date): Promise<number> {
  const { count } = await prisma.service.updateMany({ where: { host, binary }, data: { frozen, modifiedAt: now } });
  return count;
}
