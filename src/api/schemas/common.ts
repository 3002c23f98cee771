/**
 * Field types shared by the request schemas, each mirroring a Cinder `parameter_types` entry
 * (cinder/api/validation/parameter_types.py, Zed) unless its comment says otherwise.
 */
import * as z from 'zod';

// The UUID type every HTTP surface shares (the compute agent's routes too) lives with validation.
export { uuidSchema } from '../../http/validation/index.js';

const TRUE_VALUES = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't'] as const;
const FALSE_VALUES = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f'] as const;
/** Every string Cinder's boolean enum takes, true ones first. */
export const CINDER_BOOLEAN_STRINGS = [...TRUE_VALUES, ...FALSE_VALUES] as const;
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

const BOOLEAN_MESSAGE = `must be a boolean: true, false or one of ${CINDER_BOOLEAN_STRINGS.map((v) => `"${v}"`).join(', ')}`;

/** parameter_types.boolean: the same enum, so the OpenAPI document lists the accepted strings. */
export const cinderBooleanSchema = z
  .union([z.boolean(), z.enum(CINDER_BOOLEAN_STRINGS)], { error: BOOLEAN_MESSAGE })
  .transform((v) => parseCinderBoolean(v) as boolean);

/**
 * A string of at most `max` characters. zod (4.6 on) and JSON Schema's maxLength both count code
 * points, as Cinder's Python does; the document-driven tests hold them to it.
 */
export function textUpTo(max: number, messages: { tooLong?: string; notString?: string } = {}) {
  return z.string({ error: messages.notString ?? 'must be a string' }).max(max, { error: messages.tooLong ?? `must be at most ${max} characters` });
}

const NULLABLE_TEXT = { notString: 'must be a string or null' } as const;

/** parameter_types.name_allow_zero_min_length */
export const nameSchema = textUpTo(255, NULLABLE_TEXT).nullable();

/**
 * parameter_types.description: printable characters only (no control characters and no line or
 * paragraph separators; ordinary spaces allowed), at most 255.
 */
export const descriptionSchema = textUpTo(255, NULLABLE_TEXT)
  .regex(/^[^\p{C}\p{Zl}\p{Zp}]*$/u, { error: 'must contain printable characters only' })
  .nullable();

export const METADATA_KEY_PATTERN = /^[a-zA-Z0-9_:. /-]{1,255}$/;

/** parameter_types.extra_specs / metadata: keys 1..255 of [a-zA-Z0-9-_:. /], string values ≤255. */
export const metadataSchema = z.record(
  z.string().regex(METADATA_KEY_PATTERN, {
    error: 'metadata keys must be 1 to 255 characters from a-z A-Z 0-9 - _ : . / and space',
  }),
  textUpTo(255, { notString: 'metadata values must be strings', tooLong: 'metadata values must be at most 255 characters' }),
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

/** A pattern matching exactly `words`, ASCII letters in either case (`[aA][vV]...`). */
function caseInsensitiveWords(words: readonly string[]): string {
  const word = (w: string) =>
    [...w].map((ch) => (ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))).join('');
  return words.map(word).join('|');
}

const statusMessage = (values: readonly string[], what: string) => `${what} status is invalid, valid statuses are: ${values.join(', ')}`;

/** Case-insensitive like Cinder's status format checkers; the output is the canonical spelling. */
export function statusSchema<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const message = statusMessage(values, what);
  return z
    .string({ error: message })
    .regex(new RegExp(`^(?:${caseInsensitiveWords(values)})$`), { error: message })
    .transform((s) => s.toLowerCase() as T[number]);
}

/**
 * A status the volume reset may leave out: null or "" (Cinder's checkers skip both, `if
 * param_value and ...`), both read as null; the body's own rule then asks for one real status.
 */
export function optionalStatusSchema<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  const message = statusMessage(values, what);
  return z
    .string({ error: message })
    .regex(new RegExp(`^(?:|${caseInsensitiveWords(values)})$`), { error: message })
    .transform((s) => (s === '' ? null : (s.toLowerCase() as T[number])))
    .nullable();
}

/**
 * Body of actions that take no arguments. cinderclient sends `{"os-reserve": null}`; other
 * clients send `{}`. Both are accepted, anything else is refused.
 */
export const noArgsSchema = z.union([z.null(), z.strictObject({})], {
  error: 'must be null or an empty object',
});

/**
 * An object that needs at least one of `keys`, as Cinder's `anyOf: [{required: [k]}, ...]`: the
 * refinement enforces it and the same list is the OpenAPI document's `anyOf`. `nonEmpty`: the key
 * must hold a non-empty string (the volume reset's "Must specify ..." rule).
 */
export function atLeastOneOf<S extends z.ZodObject>(schema: S, keys: readonly string[], message: string, opts: { nonEmpty?: boolean } = {}) {
  const present = (value: unknown) => (opts.nonEmpty ? typeof value === 'string' && value !== '' : value !== undefined);
  return schema
    .refine((o) => keys.some((k) => present((o as Record<string, unknown>)[k])), { error: message })
    .meta({
      anyOf: keys.map((k) => (opts.nonEmpty ? { required: [k], properties: { [k]: { type: 'string', minLength: 1 } } } : { required: [k] })),
    });
}
