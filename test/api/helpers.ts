// Shared by the HTTP-level tests of the REST API: the real app (createApp) over a real database,
// with the harness' engine/manager/worker and test doubles behind it, and small request helpers.
import { expect } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { authMiddleware, type AuthConfig } from '../../src/http/auth/index.js';
import { loadDefaultPolicy } from '../../src/http/policy/index.js';
import type { Provider } from '../../src/db/client.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { TestDriver } from '../support/doubles.js';
import { harness, runVolumeJobs, type Harness } from '../support/harness.js';
import type { Limits } from '../../src/manager/volume-manager.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body, or undefined when the body is empty or not JSON. */
  json: any;
}

export interface CallOptions {
  /** A value to send as JSON (Content-Type application/json), or a raw string/bytes. */
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  /** X-Auth-Token; default the fixture's token. `null` sends none. */
  token?: string | null;
}

export interface ApiFixture {
  h: Harness;
  app: ReturnType<typeof createApp>;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  close(): Promise<void>;
}

export async function send(app: { request: ReturnType<typeof createApp>['request'] }, method: string, path: string, o: CallOptions = {}, defaultToken: string | null = null): Promise<Reply> {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? defaultToken : o.token;
  if (token !== null) headers['X-Auth-Token'] = token;
  let body: string | Uint8Array | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] = 'application/json';
  }
  Object.assign(headers, o.headers ?? {});
  const res = await app.request(path, { method, headers, ...(body !== undefined ? { body: body as BodyInit } : {}) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * An app over a fresh database of `provider`, noauth (every caller admin, as Cinder's noauth),
 * the default policy, and an assisted TestDriver unless told otherwise.
 */
export async function apiFixture(
  provider: Provider,
  opts: { driver?: TestDriver; auth?: AuthConfig; token?: string; maxBodyBytes?: number; limits?: Partial<Limits> } = {},
): Promise<ApiFixture> {
  const h = await harness(await freshDatabaseUrl(provider), { driver: opts.driver ?? new TestDriver(true), ...(opts.limits ? { limits: opts.limits } : {}) });
  const app = createApp({
    manager: h.manager,
    authenticate: authMiddleware(opts.auth ?? { strategy: 'noauth' }),
    policy: loadDefaultPolicy(),
    ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
  });
  const token = opts.token ?? 'alice:proj';
  return { h, app, call: (method, path, o) => send(app, method, path, o, token), close: () => h.close() };
}

/** The OpenStack fault format: exactly one key naming the fault, with the code and a message. */
export function expectFault(r: Reply, code: number, name: string, message?: string | RegExp) {
  expect({ status: r.status, body: r.json }).toMatchObject({ status: code, body: { [name]: { code } } });
  expect(Object.keys(r.json)).toEqual([name]);
  expect(typeof r.json[name].message).toBe('string');
  if (message instanceof RegExp) expect(r.json[name].message).toMatch(message);
  else if (message !== undefined) expect(r.json[name].message).toBe(message);
}

/** A 4xx answered in the fault format (the status decides the fault name). */
export function expectClientFault(r: Reply) {
  expect(r.status, r.text).toBeGreaterThanOrEqual(400);
  expect(r.status, r.text).toBeLessThan(500);
  const keys = Object.keys(r.json ?? {});
  expect(keys, r.text).toHaveLength(1);
  expect(r.json[keys[0]!]).toMatchObject({ code: r.status, message: expect.any(String) });
}

export const INSTANCE = '11111111-2222-3333-4444-555555555555';

/** The project the API tests work in, and an id no row has. */
export const P = '/v3/proj';
export const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

/**
 * POST /volumes, expecting 202 and `creating`; runs the volume's create job, as the service's
 * runner would, and answers the volume's view once the driver has answered.
 */
export async function createVolume(f: ApiFixture, body: Record<string, unknown> = { size: 1, name: 'vol' }, token?: string) {
  const project = token ? `/v3/${token.split(':')[1]}` : P;
  const r = await f.call('POST', `${project}/volumes`, { body: { volume: body }, ...(token ? { token } : {}) });
  expect(r.status, r.text).toBe(202);
  expect(r.json.volume.status).toBe('creating');
  await runVolumeJobs(f.h, r.json.volume.id);
  const shown = await f.call('GET', `${project}/volumes/${r.json.volume.id}`, token ? { token } : {});
  return shown.json.volume as { id: string; status: string; [k: string]: unknown };
}
