/**
 * Request bodies, with Cinder's answers for each way they go wrong (checked against
 * cinder/api/openstack/wsgi.py Resource and oslo.middleware's sizelimit, Zed):
 *
 *   - larger than the limit                         -> 413 overLimit "Request is too large."
 *   - Content-Type other than application/json or
 *     application/vnd.openstack.volume+json          -> 415 badMediaType "Unsupported Content-Type"
 *   - not valid JSON (or not UTF-8)                  -> 400 badRequest "Malformed request body"
 *   - no Content-Type header                         -> the body is ignored, as Cinder ignores it;
 *                                                       a handler that needs one gets the 400 below
 *   - empty body where one is required               -> 400 "Malformed request body"
 *   - arrays/objects nested deeper than 32 levels   -> 400 badRequest "Malformed request body: JSON nested
 *                                                       more than 32 levels deep." (a request of this API
 *                                                       nests a handful; Cinder has no limit of its own, and
 *                                                       its json.loads fails on a deep body with a 500)
 *   - a string (key or value) with U+0000 or a lone
 *     surrogate (JSON escapes allow both)            -> 400 badRequest naming the problem: neither can
 *                                                       be stored as UTF-8 text (PostgreSQL refuses
 *                                                       NUL outright), so they must not reach the database
 *   - an object key "__proto__"                     -> 400 badRequest naming it: zod drops such a key
 *                                                       while validating (it would replace the parsed
 *                                                       object's prototype), so it would be accepted and
 *                                                       then silently lost; refused before any schema
 *   - valid JSON that fails the schema               -> 400 naming the field (http/validation)
 *
 * Parameters after the media type (`; charset=utf-8`) are ignored, as webob does.
 */
import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type * as z from 'zod';
import { badRequest, requestEntityTooLarge, unsupportedMediaType } from '../faults/index.js';
import { parseOrFault } from '../validation/index.js';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const MALFORMED_BODY = 'Malformed request body';
export const TOO_LARGE = 'Request is too large.';
export const UNSUPPORTED_CONTENT_TYPE = 'Unsupported Content-Type';

const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/vnd.openstack.volume+json']);

export interface JsonBodyOptions {
  /** Largest accepted body in bytes; default 64 KiB. */
  maxBytes?: number;
  /** Deepest accepted nesting of arrays and objects; default 32. */
  maxDepth?: number;
}

/** What the request carried: `present: false` for no body (or one Cinder would ignore). */
export type ParsedBody = { present: false } | { present: true; value: unknown };

declare module 'hono' {
  interface ContextVariableMap {
    parsedBody: ParsedBody;
  }
}

async function readIncoming(incoming: IncomingMessage, declared: string | undefined, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (declared !== undefined && Number(declared) > maxBytes) throw requestEntityTooLarge(TOO_LARGE);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      incoming.resume();
      throw requestEntityTooLarge(TOO_LARGE);
    }
    chunks.push(chunk);
  }
  return concat(chunks, size);
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

async function readLimited(req: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = req.headers.get('content-length');
  // Refuse before reading when the client says up front; the count below catches liars and chunked bodies.
  if (declared !== null && Number(declared) > maxBytes) throw requestEntityTooLarge(TOO_LARGE);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw requestEntityTooLarge(TOO_LARGE);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

/** U+0000, or a surrogate code unit not part of a pair (the `u` flag matches only lone ones). */
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;
export const UNSTORABLE_TEXT = 'Invalid input: strings must not contain NUL characters (\\u0000) or unpaired surrogates.';
/** The one object key JavaScript cannot hold as plain data. */
const RESERVED_KEY = '__proto__';
const RESERVED_KEY_TEXT = 'Invalid input: the object key "__proto__" is not accepted.';

export const DEFAULT_MAX_JSON_DEPTH = 32;
export const tooDeepMessage = (maxDepth: number) => `${MALFORMED_BODY}: JSON nested more than ${maxDepth} levels deep.`;

/** Why a parsed JSON value may go no further, or null when it may. */
export type JsonValueProblem = 'too_deep' | 'unstorable_text' | 'reserved_key';

/**
 * Walks a parsed JSON value once, with an explicit stack rather than recursion: a 64 KiB body can
 * nest 32,000 levels deep, far more than the call stack holds. `maxDepth` counts arrays and
 * objects (`{"a":{"b":1}}` is 2 deep); every string, object keys included, is checked for text
 * that cannot be stored.
 */
export function jsonValueProblem(value: unknown, maxDepth = DEFAULT_MAX_JSON_DEPTH): JsonValueProblem | null {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) return 'unstorable_text';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return 'too_deep';
      if (Array.isArray(v)) {
        for (const item of v) {
          values.push(item);
          depths.push(depth + 1);
        }
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (UNSTORABLE.test(k)) return 'unstorable_text';
          if (k === RESERVED_KEY) return 'reserved_key';
          values.push(item);
          depths.push(depth + 1);
        }
      }
    }
  }
  return null;
}

/** The 400 for a parsed JSON value that `jsonValueProblem` refuses, or nothing. */
export function assertJsonValue(value: unknown, maxDepth = DEFAULT_MAX_JSON_DEPTH): void {
  const problem = jsonValueProblem(value, maxDepth);
  if (problem === 'too_deep') throw badRequest(tooDeepMessage(maxDepth));
  if (problem === 'unstorable_text') throw badRequest(UNSTORABLE_TEXT);
  if (problem === 'reserved_key') throw badRequest(RESERVED_KEY_TEXT);
}

function mediaType(header: string): string {
  return header.split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * Reads and parses the body once per request (later calls get the cached result). Throws the
 * ApiFaults listed at the top of this file.
 */
export async function readJsonBody(c: Context, options: JsonBodyOptions = {}): Promise<ParsedBody> {
  const cached = c.get('parsedBody');
  if (cached) return cached;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Under @hono/node-server the Node request is at hand: reading it directly spares building a
  // fetch Request (and its AbortSignal) for every call, a good part of a callback's cost.
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  let bytes: Uint8Array<ArrayBuffer>;
  if (incoming instanceof IncomingMessage) {
    // Spent: later readers take the parsed body from the context (below).
    bytes = await readIncoming(incoming, c.req.header('content-length'), maxBytes);
  } else {
    bytes = await readLimited(c.req.raw, maxBytes);
    // A fetch Request built by the caller (app.request in tests) gets the same bytes back.
    if (c.req.raw.body) c.req.raw = new Request(c.req.raw, { body: bytes });
  }
  let parsed: ParsedBody = { present: false };
  const contentType = c.req.header('content-type');
  if (bytes.byteLength > 0 && contentType !== undefined) {
    if (!JSON_MEDIA_TYPES.has(mediaType(contentType))) throw unsupportedMediaType(UNSUPPORTED_CONTENT_TYPE);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw badRequest(MALFORMED_BODY);
    }
    assertJsonValue(value, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
    parsed = { present: true, value };
  }
  c.set('parsedBody', parsed);
  return parsed;
}

/**
 * Middleware form: reads the body up front so size / media type / JSON errors come before the
 * handler runs. Mount it after authentication, so anonymous callers learn nothing but 401.
 */
export function jsonBody(options: JsonBodyOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') await readJsonBody(c, options);
    await next();
  };
}

/** The body validated against `schema`; 400 "Malformed request body" when there is none. */
export async function parseBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  options: JsonBodyOptions = {},
): Promise<z.output<S>> {
  const body = await readJsonBody(c, options);
  if (!body.present) throw badRequest(MALFORMED_BODY);
  return parseOrFault(schema, body.value);
}

/**
 * The action named by a `POST .../action` body. Like Cinder's action_peek_json the body must be
 * an object with exactly one key, else "Malformed request body"; a key that is not one of
 * `actions` gets Cinder's "There is no such action" message.
 */
export function peekAction<K extends string>(body: unknown, actions: readonly K[] | Readonly<Record<K, unknown>>): K {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(MALFORMED_BODY);
  const keys = Object.keys(body);
  if (keys.length !== 1) throw badRequest(MALFORMED_BODY);
  const name = keys[0]!;
  const known = Array.isArray(actions) ? (actions as readonly string[]) : Object.keys(actions);
  if (!known.includes(name)) {
    throw badRequest(
      `There is no such action: ${name}. Verify the request body and Content-Type header and try again.`,
    );
  }
  return name as K;
}

/**
 * Dispatch helper for action endpoints: finds the action, validates its body with the matching
 * schema and returns both, typed per action.
 */
export async function parseAction<M extends Readonly<Record<string, z.ZodType>>>(
  c: Context,
  schemas: M,
  options: JsonBodyOptions = {},
): Promise<{ [K in keyof M & string]: { action: K; body: z.output<M[K]> } }[keyof M & string]> {
  const body = await readJsonBody(c, options);
  if (!body.present) throw badRequest(MALFORMED_BODY);
  const action = peekAction(body.value, Object.keys(schemas) as (keyof M & string)[]);
  const schema = schemas[action]!;
  return { action, body: parseOrFault(schema, body.value) } as never;
}
