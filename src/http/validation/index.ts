/**
 * Turns zod validation failures into one 400 fault whose message names the offending field, in
 * the spirit of Cinder's "Invalid input for field/attribute X. Value: Y. <reason>". Only the first
 * issue is reported, as Cinder (jsonschema's best match) does; the path is given in full
 * (`snapshot.metadata.key`) because a bare leaf name is ambiguous in nested bodies.
 */
import type { Context } from 'hono';
import * as z from 'zod';
import { badRequest, notFound } from '../faults/index.js';

type Issue = z.core.$ZodIssue;

/**
 * Any 8-4-4-4-12 hex string, either case. Cinder's `is_uuid_like` does not check the version or
 * variant nibbles either, so zod's RFC-strict `z.uuid()` would refuse ids Cinder accepts.
 * Output is lower-cased: ids are stored that way. Both cases are spelled out rather than given as
 * the `i` flag, which a JSON Schema `pattern` (the OpenAPI document's) cannot carry.
 */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const uuidSchema = z
  .string({ error: 'must be a UUID string' })
  .regex(UUID_PATTERN, { error: 'must be a UUID' })
  .transform((s) => s.toLowerCase());

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  // Keeps a hostile 64 KiB body from being echoed back whole.
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/**
 * Marks a refinement whose message is Cinder's whole answer (e.g. "Request body contains too
 * many items"), to be given as is rather than wrapped in "Invalid input for field/attribute ...":
 * `.refine(check, { error: '...', params: VERBATIM })`.
 */
export const VERBATIM = { verbatim: true } as const;

/** One human-readable sentence for a zod issue, naming the field. */
export function formatIssue(issue: Issue, root = 'body'): string {
  const path = issue.path;
  if (issue.code === 'custom' && issue.params?.verbatim === true) return issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    const where = path.length ? ` in ${pathText(path)}` : ` in the ${root}`;
    return `Additional properties are not allowed (${keys} ${issue.keys.length > 1 ? 'were' : 'was'} unexpected)${where}.`;
  }
  // JSON cannot carry undefined, so an undefined input at a path is always a missing key.
  if (issue.input === undefined && path.length > 0 && issue.code !== 'invalid_key') {
    const parent = path.slice(0, -1);
    const where = parent.length ? ` in ${pathText(parent)}` : ` in the ${root}`;
    return `'${String(path[path.length - 1])}' is a required property${where}.`;
  }
  if (issue.code === 'invalid_key') {
    return `Invalid input for field/attribute ${pathText(path)}: invalid key ${describeValue(path[path.length - 1])}. ${issue.issues[0]?.message ?? issue.message}`;
  }
  const field = path.length ? pathText(path) : root;
  return `Invalid input for field/attribute ${field}. Value: ${describeValue(issue.input)}. ${issue.message}`;
}

/** Parses `data` or throws a 400 ApiFault; `root` names the whole input in messages. */
export function parseOrFault<S extends z.ZodType>(schema: S, data: unknown, root = 'body'): z.output<S> {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw badRequest(first ? formatIssue(first, root) : `Invalid ${root}.`);
}

/**
 * Query-string validation. Repeated parameters are given to the schema as their last value,
 * which is what webob's `GET[...]` (and so Cinder) returns.
 */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const url = new URL(c.req.url);
  const params: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    // Values end up in WHERE clauses; PostgreSQL refuses text with NUL (a 500 otherwise).
    if (key.includes('\u0000') || value.includes('\u0000')) {
      throw badRequest(`Invalid input for field/attribute ${describeValue(key)}. Value: ${describeValue(value)}. Query parameters must not contain NUL characters.`);
    }
    params[key] = value;
  }
  return parseOrFault(schema, params, 'query string');
}

/**
 * A path id that is not a UUID cannot name anything, so it answers 404 the way Cinder does
 * (its lookup fails: "Snapshot X could not be found.") rather than 400. Returns the id
 * lower-cased, the form ids are stored in.
 */
export function parseUuidParam(c: Context, name: string, resource: string): string {
  const value = c.req.param(name);
  const parsed = uuidSchema.safeParse(value);
  if (!parsed.success) throw notFound(`${resource} ${value ?? ''} could not be found.`);
  return parsed.data;
}
