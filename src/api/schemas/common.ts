/**
 * Field types shared by the request schemas, each mirroring a Cinder `parameter_types` entry
 * (cinder/api/validation/parameter_types.py, Zed) unless its comment says otherwise.
 */
import * as z from 'zod';

// The UUID type every HTTP surface shares (the compute agent's routes too) lives with validation.
export { uuidSchema } from '../../http/validation/index.js';

const TRUE_VALUES = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'] as const;
const FALSE_VALUES = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] as const;
const TRUE_SET: ReadonlySet<string> = new Set(TRUE_VALUES);
const FALSE_SET: ReadonlySet<string> = new Set(FALSE_VALUES);

/** `true`/`false` or the exact strings of Cinder's boolean enum; the numbers 1/0 are refused too. */
export function parseCinderBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (TRUE_SET.has(value)) return true;
    if (FALSE_SET.has(value)) return false;
  }
  return undefined;
}

const BOOLEAN_MESSAGE = `must be a boolean: true, false or one of ${[...TRUE_VALUES, ...FALSE_VALUES].map((v) => `"${v}"`).join(', ')}`;

export const cinderBooleanSchema = z
  .custom<boolean | string>((v) => parseCinderBoolean(v) !== undefined, { error: BOOLEAN_MESSAGE })
  .transform((v) => parseCinderBoolean(v) as boolean);

/** parameter_types.name_allow_zero_min_length */
// A check's own message: a schema-level `error` would otherwise also word the length failure
// ("must be a string" for a string that is merely too long).
const MAX_255 = { error: 'must be at most 255 characters' } as const;

export const nameSchema = z.string({ error: 'must be a string or null' }).max(255, MAX_255).nullable();

/**
 * parameter_types.description: printable characters only (no control characters and no line or
 * paragraph separators; ordinary spaces allowed), at most 255.
 */
export const descriptionSchema = z
  .string({ error: 'must be a string or null' })
  .max(255, MAX_255)
  .regex(/^[^\p{C}\p{Zl}\p{Zp}]*$/u, { error: 'must contain printable characters only' })
  .nullable();

export const METADATA_KEY_PATTERN = /^[a-zA-Z0-9_:. /-]{1,255}$/;

/** parameter_types.extra_specs / metadata: keys 1..255 of [a-zA-Z0-9-_:. /], string values ≤255. */
export const metadataSchema = z.record(
  z.string().regex(METADATA_KEY_PATTERN, {
    error: 'metadata keys must be 1 to 255 characters from a-z A-Z 0-9 - _ : . / and space',
  }),
  z.string({ error: 'metadata values must be strings' }).max(255, { error: 'metadata values must be at most 255 characters' }),
);

export const PROGRESS_PATTERN = /^(100|[1-9]?[0-9])%$/;
const PROGRESS_MESSAGE =
  'must be an integer percentage string from "0%" to "100%", without sign, spaces or leading zeros';

/**
 * Stricter than Cinder's `progress` format check (which int()s the text, so " 50%", "+5%" and
 * "050%" pass there, and non-strings are not checked at all): the value feeds the state machine,
 * so it has exactly one spelling per number.
 */
export const progressSchema = z
  .string({ error: PROGRESS_MESSAGE })
  .regex(PROGRESS_PATTERN, { error: PROGRESS_MESSAGE });

/** cinder.objects.fields.VolumeStatus.ALL */
export const VOLUME_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
  'error_managing',
  'managing',
  'attaching',
  'in-use',
  'detaching',
  'maintenance',
  'restoring-backup',
  'error_restoring',
  'reserved',
  'awaiting-transfer',
  'backing-up',
  'error_backing-up',
  'error_extending',
  'downloading',
  'uploading',
  'retyping',
  'extending',
] as const;
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

/** Case-insensitive like Cinder's status format checkers; the output is the canonical spelling. */
export function statusSchema<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const set: ReadonlySet<string> = new Set(values);
  const message = `${what} status is invalid, valid statuses are: ${values.join(', ')}`;
  return z
    .string({ error: message })
    .transform((s) => s.toLowerCase())
    .refine((s) => set.has(s), { error: message })
    .transform((s) => s as T[number]);
}

/**
 * Body of actions that take no arguments. cinderclient sends `{"os-reserve": null}`; other
 * clients send `{}`. Both are accepted, anything else is refused.
 */
export const noArgsSchema = z.union([z.null(), z.strictObject({})], {
  error: 'must be null or an empty object',
});
