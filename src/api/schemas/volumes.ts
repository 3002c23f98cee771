/**
 * Volume request bodies (cinder/api/schemas/volumes.py at microversion ≥3.53, where the body is
 * closed, volume_actions.py and the volume part of admin_actions.py).
 *
 * Volume create lists every key Cinder knows even where this service builds only blank volumes:
 * cinderclient sends `snapshot_id`, `source_volid`, `imageRef`, `volume_type`, ... as null on
 * every create, so refusing the keys would refuse the real client. Routes answer 400 when one
 * of the unsupported sources is non-null.
 */
import * as z from 'zod';
import {
  cinderBooleanSchema,
  metadataSchema,
  nameSchema,
  noArgsSchema,
  statusSchema,
  uuidSchema,
  VOLUME_STATUSES,
} from './common.js';

const DB_MAX_INT = 0x7fffffff;

/** parameter_types.volume_size: an integer or a string of digits, 1..2^31-1 GiB. */
export const volumeSizeSchema = z
  .union([z.int(), z.string().regex(/^[0-9]+$/)], { error: 'size must be an integer number of GiB' })
  .transform((v) => (typeof v === 'string' ? Number(v) : v))
  .refine((n) => Number.isSafeInteger(n) && n >= 1 && n <= DB_MAX_INT, {
    error: `size must be an integer between 1 and ${DB_MAX_INT}`,
  });

/** Cinder's `*_non_mandatory_remove_white_spaces` formats: ≤255 once trimmed. */
const trimmedText = (what: string) =>
  z
    .string({ error: 'must be a string or null' })
    .refine((s) => s.trim().length <= 255, { error: `${what} must be at most 255 characters once trimmed` })
    .nullable();

const optionalUuid = uuidSchema.nullable();
const shortText = z.string().max(255).nullable();

export const volumeCreateSchema = z
  .strictObject({
    volume: z.strictObject({
      size: volumeSizeSchema,
      name: trimmedText('name').optional(),
      description: trimmedText('description').optional(),
      display_name: trimmedText('name').optional(),
      display_description: trimmedText('description').optional(),
      volume_type: nameSchema.optional(),
      metadata: metadataSchema.nullable().optional(),
      snapshot_id: optionalUuid.optional(),
      source_volid: optionalUuid.optional(),
      consistencygroup_id: optionalUuid.optional(),
      backup_id: optionalUuid.optional(),
      group_id: shortText.optional(),
      availability_zone: z.string().min(1).max(255).nullable().optional(),
      multiattach: cinderBooleanSchema.nullable().optional(),
      image_id: shortText.optional(),
      imageRef: shortText.optional(),
    }),
    'OS-SCH-HNT:scheduler_hints': z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .transform(({ volume: v }) => ({
    volume: {
      ...v,
      name: v.name !== undefined ? v.name : v.display_name,
      description: v.description !== undefined ? v.description : v.display_description,
    },
  }));
export type VolumeCreateBody = z.output<typeof volumeCreateSchema>;

export const volumeUpdateSchema = z
  .strictObject({
    volume: z
      .strictObject({
        name: trimmedText('name').optional(),
        description: trimmedText('description').optional(),
        display_name: trimmedText('name').optional(),
        display_description: trimmedText('description').optional(),
        metadata: metadataSchema.optional(),
      })
      .refine((v) => Object.values(v).some((x) => x !== undefined), {
        error: "at least one of 'name', 'description', 'display_name', 'display_description', 'metadata' is required",
      }),
  })
  .transform(({ volume: v }) => ({
    volume: {
      name: v.name !== undefined ? v.name : v.display_name,
      description: v.description !== undefined ? v.description : v.display_description,
      metadata: v.metadata,
    },
  }));
export type VolumeUpdateBody = z.output<typeof volumeUpdateSchema>;

export const reserveSchema = z.strictObject({ 'os-reserve': noArgsSchema });
export const unreserveSchema = z.strictObject({ 'os-unreserve': noArgsSchema });
export const beginDetachingSchema = z.strictObject({ 'os-begin_detaching': noArgsSchema });
export const rollDetachingSchema = z.strictObject({ 'os-roll_detaching': noArgsSchema });

/** A connector is an opaque dict from os-brick; Cinder also lets a string through. */
const connectorSchema = z.union([z.record(z.string(), z.unknown()), z.string()], {
  error: 'connector must be an object',
});

export const initializeConnectionSchema = z.strictObject({
  'os-initialize_connection': z.strictObject({ connector: connectorSchema }),
});

export const terminateConnectionSchema = z.strictObject({
  'os-terminate_connection': z.strictObject({ connector: connectorSchema.nullable() }),
});

export const attachSchema = z.strictObject({
  'os-attach': z
    .strictObject({
      instance_uuid: uuidSchema.optional(),
      mountpoint: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(255, { error: 'must be at most 255 characters' }),
      host_name: z.string().max(255).optional(),
      mode: z.enum(['rw', 'ro'], { error: "mode must be 'rw' or 'ro'" }).optional(),
    })
    .refine((a) => a.instance_uuid !== undefined || a.host_name !== undefined, {
      error: "one of 'instance_uuid' or 'host_name' is required",
    }),
});

/** `{"os-detach": null}` and `{"attachment_id": null}` are both legal for old clients. */
export const detachSchema = z.strictObject({
  'os-detach': z.strictObject({ attachment_id: uuidSchema.nullable().optional() }).nullable(),
});

const ATTACH_STATUSES = ['attached', 'detached'] as const;
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting'] as const;

export const volumeResetStatusSchema = z.strictObject({
  'os-reset_status': z
    .strictObject({
      status: statusSchema(VOLUME_STATUSES, 'Volume').nullable().optional(),
      attach_status: statusSchema(ATTACH_STATUSES, 'Volume attach').nullable().optional(),
      migration_status: statusSchema(MIGRATION_STATUSES, 'Volume migration').nullable().optional(),
    })
    .refine((r) => Boolean(r.status || r.attach_status || r.migration_status), {
      error: "Must specify 'status', 'attach_status' or 'migration_status' for update.",
    }),
});

export const volumeForceDeleteSchema = z.strictObject({ 'os-force_delete': noArgsSchema });

/** Schema per action name for POST /volumes/{id}/action; see `peekAction` in src/http/body. */
export const volumeActionSchemas = {
  'os-reserve': reserveSchema,
  'os-unreserve': unreserveSchema,
  'os-initialize_connection': initializeConnectionSchema,
  'os-terminate_connection': terminateConnectionSchema,
  'os-attach': attachSchema,
  'os-begin_detaching': beginDetachingSchema,
  'os-roll_detaching': rollDetachingSchema,
  'os-detach': detachSchema,
  'os-reset_status': volumeResetStatusSchema,
  'os-force_delete': volumeForceDeleteSchema,
} as const;
export type VolumeActionName = keyof typeof volumeActionSchemas;

export type AttachBody = z.output<typeof attachSchema>;
export type DetachBody = z.output<typeof detachSchema>;
export type InitializeConnectionBody = z.output<typeof initializeConnectionSchema>;
export type TerminateConnectionBody = z.output<typeof terminateConnectionSchema>;
export type VolumeResetStatusBody = z.output<typeof volumeResetStatusSchema>;
