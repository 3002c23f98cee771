/**
 * Volume request bodies (cinder/api/schemas/volumes.py at microversion ≥3.53, where the body is
 * closed, volume_actions.py and the volume part of admin_actions.py).
 *
 * Volume create lists every key Cinder knows even where this service builds only blank volumes
 * or copies of a snapshot or volume (`snapshot_id`, `source_volid`): cinderclient sends
 * `imageRef`, `volume_type`, ... as null on every create, so refusing the keys would refuse the
 * real client. Those take null only (and metadata nothing), so the documented schema is what is
 * accepted.
 */
import toRegexRange from 'to-regex-range';
import * as z from 'zod';
import {
  atLeastOneOf,
  cinderBooleanSchema,
  metadataSchema,
  nameSchema,
  noArgsSchema,
  optionalStatusSchema,
  textUpTo,
  uuidSchema,
  VOLUME_STATUSES,
} from './common.js';
import { retypeSchema } from './volume-types.js';

/** Cinder's constants.DB_MAX_INT, the largest size its database column holds. */
export const DB_MAX_INT = 0x7fffffff;

/**
 * parameter_types.volume_size: an integer, or a string of digits, from 1 to `max` GiB. The
 * string's bound is a pattern (leading zeros allowed, as Cinder's int() allows them) so that the
 * OpenAPI document states it too; Cinder's own schema lets "0" through to a later 400.
 */
export function volumeSizeSchema(max = DB_MAX_INT) {
  const between = `size must be an integer between 1 and ${max}`;
  return z
    .union(
      [
        z.int().min(1, { error: between }).max(max, { error: between }),
        z.string().regex(new RegExp(`^0*${toRegexRange(1, max)}$`), { error: between }),
      ],
      { error: 'size must be an integer number of GiB' },
    )
    .transform((v) => (typeof v === 'string' ? Number(v) : v));
}

/**
 * Cinder's `*_non_mandatory_remove_white_spaces` formats: ≤255 characters once trimmed (JS trim
 * and the pattern's \s are one set of characters). Written so no two parts can match the same
 * whitespace, which keeps the match linear on a long run of spaces.
 */
const TRIMMED_255 = /^\s*(?:\S(?:[\s\S]{0,253}\S)?\s*)?$/u;
const trimmedText = (what: string) =>
  z
    .string({ error: 'must be a string or null' })
    .regex(TRIMMED_255, { error: `${what} must be at most 255 characters once trimmed` })
    .nullable();

/**
 * A key that would make the volume something other than a blank one (a copy, an image, a group
 * member): cinderclient sends it as null on every create, which is all this service takes.
 */
const blankOnly = (key: string) => z.null({ error: `creating a volume with ${key} is not supported by this service; only blank volumes are.` });


export const volumeCreateSchema = z
  .strictObject({
    volume: z.strictObject({
      // volume_size_allows_null: a copy takes its source's size when none is given.
      size: volumeSizeSchema().nullable().optional(),
      name: trimmedText('name').optional(),
      description: trimmedText('description').optional(),
      display_name: trimmedText('name').optional(),
      display_description: trimmedText('description').optional(),
      volume_type: nameSchema.optional(),
      metadata: metadataSchema.nullable().optional(),
      snapshot_id: uuidSchema.nullable().optional(),
      source_volid: uuidSchema.nullable().optional(),
      consistencygroup_id: blankOnly('consistencygroup_id').optional(),
      backup_id: blankOnly('backup_id').optional(),
      // The generic group the volume joins (microversion 3.13; checked against the group's volume types).
      group_id: uuidSchema.nullable().optional(),
      availability_zone: textUpTo(255).min(1, { error: 'must not be empty' }).nullable().optional(),
      multiattach: cinderBooleanSchema.nullable().optional(),
      image_id: blankOnly('image_id').optional(),
      imageRef: blankOnly('imageRef').optional(),
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

const VOLUME_UPDATE_KEYS = ['name', 'description', 'display_name', 'display_description', 'metadata'] as const;

export const volumeUpdateSchema = z
  .strictObject({
    volume: atLeastOneOf(
      z.strictObject({
        name: trimmedText('name').optional(),
        description: trimmedText('description').optional(),
        display_name: trimmedText('name').optional(),
        display_description: trimmedText('description').optional(),
        metadata: metadataSchema.optional(),
      }),
      VOLUME_UPDATE_KEYS,
      `at least one of ${VOLUME_UPDATE_KEYS.map((k) => `'${k}'`).join(', ')} is required`,
    ),
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

/** Attaching to a host (host_name, no instance) is Cinder's too: os-brick on a bare host. */
export const attachSchema = z.strictObject({
  'os-attach': atLeastOneOf(
    z.strictObject({
      instance_uuid: uuidSchema.optional(),
      mountpoint: textUpTo(255).min(1, { error: 'must not be empty' }),
      host_name: textUpTo(255).optional(),
      mode: z.enum(['rw', 'ro'], { error: "mode must be 'rw' or 'ro'" }).optional(),
    }),
    ['instance_uuid', 'host_name'],
    "one of 'instance_uuid' or 'host_name' is required",
  ),
});

/** `{"os-detach": null}` and `{"attachment_id": null}` are both legal for old clients. */
export const detachSchema = z.strictObject({
  'os-detach': z.strictObject({ attachment_id: uuidSchema.nullable().optional() }).nullable(),
});

const ATTACH_STATUSES = ['attached', 'detached'] as const;
const MIGRATION_STATUSES = ['migrating', 'error', 'success', 'completing', 'none', 'starting'] as const;

/**
 * Each status may be null or "" (Cinder's checkers skip both); at least one must be a real one,
 * with Cinder's message.
 */
export const volumeResetStatusSchema = z.strictObject({
  'os-reset_status': atLeastOneOf(
    z.strictObject({
      status: optionalStatusSchema(VOLUME_STATUSES, 'Volume').optional(),
      attach_status: optionalStatusSchema(ATTACH_STATUSES, 'Volume attach').optional(),
      migration_status: optionalStatusSchema(MIGRATION_STATUSES, 'Volume migration').optional(),
    }),
    ['status', 'attach_status', 'migration_status'],
    "Must specify 'status', 'attach_status' or 'migration_status' for update.",
    { nonEmpty: true },
  ),
});

export const volumeForceDeleteSchema = z.strictObject({ 'os-force_delete': noArgsSchema });

/** cinder/api/schemas/volume_actions.py set_bootable: a Cinder boolean, required. */
export const setBootableSchema = z.strictObject({ 'os-set_bootable': z.strictObject({ bootable: cinderBooleanSchema }) });

/** cinder/api/schemas/volume_actions.py volume_readonly_update. */
export const updateReadonlyFlagSchema = z.strictObject({ 'os-update_readonly_flag': z.strictObject({ readonly: cinderBooleanSchema }) });

/** cinder/api/schemas/volume_actions.py extend: new_size is a volume size. */
export const volumeExtendSchema = z.strictObject({ 'os-extend': z.strictObject({ new_size: volumeSizeSchema() }) });

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
  'os-retype': retypeSchema,
  'os-set_bootable': setBootableSchema,
  'os-update_readonly_flag': updateReadonlyFlagSchema,
  'os-extend': volumeExtendSchema,
} as const;
export type VolumeActionName = keyof typeof volumeActionSchemas;

export type AttachBody = z.output<typeof attachSchema>;
export type DetachBody = z.output<typeof detachSchema>;
export type InitializeConnectionBody = z.output<typeof initializeConnectionSchema>;
export type TerminateConnectionBody = z.output<typeof terminateConnectionSchema>;
export type VolumeResetStatusBody = z.output<typeof volumeResetStatusSchema>;
