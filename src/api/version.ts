/**
 * Version discovery and microversion negotiation, as Cinder (Zed) does them:
 *
 *   GET /      -> 300 Multiple Choices, {"versions": [v3.0 document]}
 *   GET /v3/   -> 200 OK, the same document
 *
 *   OpenStack-API-Version: volume 3.27   -> runs at 3.27; the reply carries
 *                                           "OpenStack-API-Version: volume 3.27" and
 *                                           "Vary: OpenStack-API-Version"
 *   header absent                        -> runs at 3.0 (the minimum), echoed the same way
 *   volume latest                        -> runs at MAX_API_VERSION
 *   volume 3.99 / volume 2.0             -> 406 "Version 3.99 is not supported by the API.
 *                                           Minimum is 3.0 and maximum is 3.70." (a
 *                                           "computeFault": 406 is not in Cinder's fault table)
 *   volume 3.x.y / volume 03.1 / volume  -> 400 "API Version String ... is of invalid format.
 *                                           Must be of format MajorNum.MinorNum."
 *   header without a volume entry        -> 400 (Cinder does not fall back to the minimum; its
 *                                           message there is webob's generic one, ours says why)
 */
import type { Context, MiddlewareHandler } from 'hono';
import { badRequest, notAcceptable, notFound } from '../http/faults/index.js';
import type { VersionsDocument } from './schemas/responses.js';

export const API_VERSION_HEADER = 'OpenStack-API-Version';
export const VOLUME_SERVICE = 'volume';
export const MIN_API_VERSION = '3.0';
/** Zed's maximum; the service implements the parts of 3.0–3.70 its routes cover. */
export const MAX_API_VERSION = '3.70';
const UPDATED = '2022-08-31T00:00:00Z';

export interface ApiVersion {
  readonly major: number;
  readonly minor: number;
}

declare module 'hono' {
  interface ContextVariableMap {
    apiVersion: ApiVersion;
  }
}

const VERSION_RE = /^([1-9]\d*)\.([1-9]\d*|0)$/;

/** Parses "3.27"; throws the 400 Cinder gives for anything else. */
export function parseApiVersion(text: string): ApiVersion {
  const m = VERSION_RE.exec(text);
  if (!m) {
    throw badRequest(`API Version String ${text} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

export function formatApiVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

const MIN = parseApiVersion(MIN_API_VERSION);
const MAX = parseApiVersion(MAX_API_VERSION);

/**
 * The version a header value asks for. Like Cinder, the first comma-separated entry mentioning
 * "volume" is taken; unlike Cinder, an entry that is not exactly "volume <version>" is a 400
 * rather than an unhandled 500.
 */
export function negotiateApiVersion(header: string | undefined): ApiVersion {
  if (header === undefined) return MIN;
  const entry = header.split(',').find((part) => part.toLowerCase().includes(VOLUME_SERVICE));
  if (entry === undefined) throw badRequest(`${API_VERSION_HEADER} has no '${VOLUME_SERVICE}' entry: ${header}`);
  const words = entry.trim().split(/\s+/);
  if (words.length !== 2 || words[0]!.toLowerCase() !== VOLUME_SERVICE) {
    throw badRequest(`API Version String ${entry.trim()} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  const requested = words[1]!;
  if (requested === 'latest') return MAX;
  const version = parseApiVersion(requested);
  if (compareVersions(version, MIN) < 0 || compareVersions(version, MAX) > 0) {
    throw notAcceptable(
      `Version ${formatApiVersion(version)} is not supported by the API. Minimum is ${MIN_API_VERSION} and maximum is ${MAX_API_VERSION}.`,
    );
  }
  return version;
}

/**
 * Sets `c.var.apiVersion` and echoes it on every reply that gets that far, faults included
 * (Cinder echoes on faults too). Refused versions are answered without the echo, as in Cinder.
 */
export function apiVersionMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    const version = negotiateApiVersion(c.req.header(API_VERSION_HEADER));
    c.set('apiVersion', version);
    await next();
    c.header(API_VERSION_HEADER, `${VOLUME_SERVICE} ${formatApiVersion(version)}`);
    c.header('Vary', API_VERSION_HEADER);
  };
}

/** True when the request runs at `version` or later, e.g. `atLeast(c, '3.66')`. */
export function atLeast(c: Context, version: string): boolean {
  const current = c.get('apiVersion') ?? MIN;
  return compareVersions(current, parseApiVersion(version)) >= 0;
}

/**
 * Refuses a request below the microversion a method came in with, as Cinder's
 * VersionNotFoundForAPIMethod does (404).
 */
export function requireVersion(c: Context, version: string): void {
  if (!atLeast(c, version)) throw notFound(`API version ${formatApiVersion(c.get('apiVersion') ?? MIN)} is not supported on this method.`);
}

/**
 * The discovery document. `baseUrl` is the service root as clients reach it (Cinder uses
 * `public_endpoint` or the request's host URL), e.g. "http://127.0.0.1:8776".
 */
export function versionsDocument(baseUrl: string): VersionsDocument {
  const root = baseUrl.replace(/\/+$/, '');
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: MAX_API_VERSION,
        min_version: MIN_API_VERSION,
        updated: UPDATED,
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${root}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}

/** The service root from the request, unless a public endpoint is configured. */
export function baseUrlOf(c: Context, publicEndpoint?: string): string {
  if (publicEndpoint) return publicEndpoint;
  return new URL(c.req.url).origin;
}

/**
 * Handlers for `app.get('/', versionsRoot())` and `app.get('/v3', ...)` / `app.get('/v3/', ...)`
 * (`versionsV3()`).
 */
export function versionsRoot(publicEndpoint?: string) {
  return (c: Context) => c.json(versionsDocument(baseUrlOf(c, publicEndpoint)), 300);
}

export function versionsV3(publicEndpoint?: string) {
  return (c: Context) => c.json(versionsDocument(baseUrlOf(c, publicEndpoint)), 200);
}
