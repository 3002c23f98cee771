// Writes that accompany every state change, inside the caller's transaction: the history row,
// the outbox rows for requested effects, driver/compute results, and the job being closed.
import type { EffectKind, SnapshotEvent } from '../../machines/snapshot.js';
import type { PhaseResult } from '../drivers/driver.js';
import type { EventSource, Tx } from './types.js';

const PAYLOAD_LIMIT = 500;

/** A short, bounded JSON summary of an event for the history (never the whole request). */
export function summarize(event: SnapshotEvent): string | null {
  const { type: _type, ...rest } = event;
  if (Object.keys(rest).length === 0) return null;
  const text = JSON.stringify(rest);
  return text.length > PAYLOAD_LIMIT ? `${text.slice(0, PAYLOAD_LIMIT - 1)}…` : text;
}

export interface HistoryEntry {
  snapshotId: string;
  version: number;
  fromState: string | null;
  toState: string;
  fromStatus: string | null;
  toStatus: string;
  event: SnapshotEvent;
  source: EventSource;
  rejected?: boolean;
  reason?: string | null;
  now: Date;
}

export async function appendHistory(tx: Tx, h: HistoryEntry) {
  await tx.snapshotTransition.create({
    data: {
      snapshotId: h.snapshotId,
      version: h.version,
      fromState: h.fromState,
      toState: h.toState,
      fromStatus: h.fromStatus,
      toStatus: h.toStatus,
      eventType: h.event.type,
      source: h.source,
      payload: summarize(h.event),
      rejected: h.rejected ?? false,
      reason: h.reason ?? null,
      createdAt: h.now,
    },
  });
}

export async function enqueueEffects(tx: Tx, snapshotId: string, phase: string, version: number, effects: EffectKind[], now: Date) {
  for (const kind of effects) {
    await tx.outboxJob.create({ data: { snapshotId, kind, phase, version, runAfter: now, createdAt: now } });
  }
}

export async function applyResult(tx: Tx, snapshotId: string, volumeId: string, result: PhaseResult | undefined, now: Date) {
  if (!result) return;
  if (result.snapshot) {
    const { providerLocation, providerId, ...unknown } = result.snapshot;
    if (Object.keys(unknown).length > 0) {
      throw new Error(`driver result sets snapshot fields it may not set: ${Object.keys(unknown).join(', ')}`);
    }
    await tx.snapshot.update({
      where: { id: snapshotId },
      data: {
        ...(providerLocation !== undefined ? { providerLocation } : {}),
        ...(providerId !== undefined ? { providerId } : {}),
      },
    });
  }
  for (const [key, value] of Object.entries(result.adminMetadata ?? {})) {
    await setSnapshotAdminMetadata(tx, snapshotId, key, value, now);
  }
  if (result.volume) {
    for (const [key, value] of Object.entries(result.volume.adminMetadata ?? {})) {
      await setVolumeAdminMetadata(tx, volumeId, key, value, now);
    }
    if (result.volume.connectionInfo) {
      await tx.volumeAttachment.updateMany({
        where: { volumeId, deleted: false },
        data: { connectionInfo: JSON.stringify(result.volume.connectionInfo) },
      });
    }
  }
}

export async function setVolumeAdminMetadata(tx: Tx, volumeId: string, key: string, value: string | null, now: Date) {
  if (value === null) {
    await tx.volumeAdminMetadata.updateMany({ where: { volumeId, key, deleted: false }, data: { deleted: true, deletedAt: now } });
    return;
  }
  await tx.volumeAdminMetadata.upsert({
    where: { volumeId_key: { volumeId, key } },
    create: { volumeId, key, value, createdAt: now },
    update: { value, deleted: false, deletedAt: null },
  });
}

/** Upsert that revives a soft-deleted key: (snapshot, key) is unique whether deleted or not. */
export async function setSnapshotAdminMetadata(tx: Tx, snapshotId: string, key: string, value: string | null, now: Date) {
  if (value === null) {
    await tx.snapshotAdminMetadata.updateMany({
      where: { snapshotId, key, deleted: false },
      data: { deleted: true, deletedAt: now },
    });
    return;
  }
  await tx.snapshotAdminMetadata.upsert({
    where: { snapshotId_key: { snapshotId, key } },
    create: { snapshotId, key, value, createdAt: now },
    update: { value, deleted: false, deletedAt: null },
  });
}

export async function closeJob(tx: Tx, jobId: number | undefined, now: Date, status: 'done' | 'failed' | 'cancelled', error?: string) {
  if (jobId === undefined) return;
  await tx.outboxJob.update({
    where: { id: jobId },
    data: { status, completedAt: now, lockedUntil: null, ...(error ? { lastError: error.slice(0, 2000) } : {}) },
  });
}
