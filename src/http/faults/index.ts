/**
 * OpenStack fault responses, shaped as Cinder's `Fault` serialises them:
 *
 *     {"badRequest": {"code": 400, "message": "..."}}
 *
 * The wrapper key comes from the status code with Cinder's table; any status not in it (406 and
 * every 5xx but 501/503) is a "computeFault", as in Cinder. Unexpected exceptions never leak their
 * text: they become a 500 with webob's fixed explanation, like Cinder's FaultWrapper does; a
 * dependency that failed in a passing way (the database) becomes a 503 with Retry-After.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** The fault key Cinder uses for an HTTP status. */
export function faultName(code: number): string {
  return FAULT_NAMES[code] ?? 'computeFault';
}

// webob's default explanations, which is what Cinder answers when a fault carries no message.
const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401: 'The request you have made requires authentication.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  405: 'The method is not allowed for this resource.',
  406: 'The resource could not be generated that was acceptable to your request.',
  409: 'There was a conflict when trying to complete your request.',
  413: 'The body of your request was too large for this server.',
  415: 'The request media type is not supported by this server.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
  501: 'The server has not implemented the requested operation.',
  503: 'The server is currently unavailable. Please try again at a later time.',
};

export const INTERNAL_ERROR_MESSAGE = DEFAULT_MESSAGES[500];

export type FaultBody = Record<string, { code: number; message: string; retryAfter?: string }>;

/** The one exception type handlers throw to answer with an OpenStack fault. */
export class ApiFault extends Error {
  readonly code: ContentfulStatusCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ContentfulStatusCode, message?: string, headers: Record<string, string> = {}) {
    super(message ?? DEFAULT_MESSAGES[code] ?? INTERNAL_ERROR_MESSAGE);
    this.name = 'ApiFault';
    this.code = code;
    this.headers = headers;
  }

  get faultName(): string {
    return faultName(this.code);
  }

  toJSON(): FaultBody {
    // Cinder's Fault repeats a 413's Retry-After in the body (its quota errors carry one).
    const retryAfter = this.code === 413 ? this.headers['Retry-After'] : undefined;
    return { [this.faultName]: { code: this.code, message: this.message, ...(retryAfter !== undefined ? { retryAfter } : {}) } };
  }
}

export const badRequest = (message?: string) => new ApiFault(400, message);
export const unauthorized = (message?: string, headers?: Record<string, string>) =>
  new ApiFault(401, message, headers);
export const forbidden = (message?: string) => new ApiFault(403, message);
export const notFound = (message?: string) => new ApiFault(404, message);
export const methodNotAllowed = (message?: string) => new ApiFault(405, message);
export const notAcceptable = (message?: string) => new ApiFault(406, message);
export const conflict = (message?: string) => new ApiFault(409, message);
export const requestEntityTooLarge = (message?: string, headers?: Record<string, string>) => new ApiFault(413, message, headers);
export const unsupportedMediaType = (message?: string) => new ApiFault(415, message);
export const internalError = () => new ApiFault(500, INTERNAL_ERROR_MESSAGE);
export const notImplemented = (message?: string) => new ApiFault(501, message);
export const serviceUnavailable = (message?: string) => new ApiFault(503, message);

export function isApiFault(err: unknown): err is ApiFault {
  return err instanceof ApiFault;
}

/** Renders a fault; the caller's context keeps headers other middleware already set. */
export function faultResponse(c: Context, fault: ApiFault): Response {
  for (const [name, value] of Object.entries(fault.headers)) c.header(name, value);
  return c.json(fault.toJSON(), fault.code);
}

/** Minimal logger shape (pino's `error(obj, msg)` fits) so this module needs no logger import. */
export interface FaultLogger {
  error(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}

/** What a 503 asks the caller to wait before trying again. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * `app.onError(onApiError({ logger }))`. ApiFault and Hono's HTTPException keep their status;
 * anything else is logged and answered as a generic 500 computeFault.
 */
export function onApiError(options: { logger?: FaultLogger; isUnavailable?: (err: unknown) => boolean } = {}): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiFault) return faultResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      // Hono's own middleware messages (e.g. "Payload Too Large") are safe, but not always set.
      return faultResponse(c, new ApiFault(status, err.message || undefined));
    }
    // A database (or other dependency) that failed in a passing way: nothing of the request was
    // committed, and the same request may well succeed a moment later.
    if (options.isUnavailable?.(err)) {
      options.logger?.warn?.({ err, method: c.req.method, path: c.req.path }, 'dependency unavailable; answered 503');
      return faultResponse(c, new ApiFault(503, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) }));
    }
    options.logger?.error({ err, method: c.req.method, path: c.req.path }, 'unhandled error');
    return faultResponse(c, internalError());
  };
}

/** `app.notFound(onNotFound)`: unknown routes answer itemNotFound, not Hono's text 404. */
export const onNotFound: NotFoundHandler = (c) => faultResponse(c, notFound());
