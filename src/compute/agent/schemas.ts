/**
 * Nova's request schemas for the routes the agent serves, at microversion 2.1
 * (nova/api/openstack/compute/schemas/assisted_volume_snapshots.py and volumes.py, Zed):
 * strict objects everywhere, as Nova's additionalProperties: false.
 */
import * as z from 'zod';
import type { AssistedSnapshotCreateRequest, DeleteInfo, VolumeAttachmentCreateRequest } from '../../contracts/nova.js';
import { uuidSchema } from '../../http/validation/index.js';

const nonEmpty = z.string({ error: 'must be a string' }).min(1, { error: 'is too short' });

export const snapshotCreateSchema = z.strictObject({
  snapshot: z.strictObject({
    volume_id: nonEmpty,
    create_info: z.strictObject({
      snapshot_id: nonEmpty,
      type: z.enum(['qcow2'], { error: "is not one of ['qcow2']" }),
      new_file: nonEmpty,
      id: nonEmpty.optional(),
      // The agent's one extension to Nova's schema (src/contracts/nova.ts): pause around the switch.
      pause_guest: z.boolean({ error: 'must be a boolean' }).optional(),
    }),
  }),
}) satisfies z.ZodType<AssistedSnapshotCreateRequest>;
export type SnapshotCreateBody = z.output<typeof snapshotCreateSchema>;

/**
 * What the live part needs from delete_info. Nova's API itself only reads volume_id and lets the
 * driver fail on the rest; checking the shape up front answers 400 instead of an error callback
 * for input that could never work.
 */
export const deleteInfoSchema = z.looseObject({
  type: z.string({ error: 'must be a string' }),
  volume_id: nonEmpty,
  file_to_merge: z.string({ error: 'must be a string or null' }).nullable().optional(),
  merge_target_file: z.string({ error: 'must be a string or null' }).nullable().optional(),
}) satisfies z.ZodType<DeleteInfo>;

/** match_device() in nova/block_device.py, the pattern Nova's schema uses for `device`. */
const DEVICE_PATTERN = /(^\/dev\/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$/;

export const volumeAttachmentCreateSchema = z.strictObject({
  volumeAttachment: z.strictObject({
    volumeId: uuidSchema,
    device: z
      .string({ error: 'must be a string or null' })
      .regex(DEVICE_PATTERN, { error: `does not match '${DEVICE_PATTERN.source}'` })
      .nullable()
      .optional(),
  }),
}) satisfies z.ZodType<VolumeAttachmentCreateRequest>;

/** The guest pause extension's resume body (src/contracts/nova.ts GuestResumeRequest). */
export const guestResumeSchema = z.strictObject({
  resume: z.strictObject({ snapshot_id: nonEmpty.optional() }),
});
