// Runs against a real Keystone (started by .ci/keystone.sh when it is not answering): tokens,
// roles and projects come from Keystone itself; only the fetch used by the middleware is wrapped,
// to count and observe what it sends.
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { authMiddleware } from '../index.js';
import { onApiError, onNotFound } from '../../faults/index.js';
import {
  assertProjectInPath,
  assertVisible,
  authorize,
  grantedByRole,
  isAllowed,
  loadDefaultPolicy,
  policyMiddleware,
} from '../../policy/index.js';
import {
  ensureKeystone,
  issueToken,
  KEYSTONE_URL,
  type KeystoneUser,
  revokeToken,
  SERVICE_CREDENTIALS,
} from '../../../../test/support/keystone.js';
import { createKeystoneAuth, keystoneMiddleware, KeystoneServiceIdentity, KeystoneTokenValidator, type KeystoneAuthOptions } from './index.js';

interface Call {
  method: string;
  path: string;
  status: number;
  subjectToken?: string;
  expiresAt?: string;
}

/** A fetch that records each call to Keystone; the requests themselves are untouched. */
function countingFetch() {
  const calls: Call[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const call: Call = { method: init?.method ?? 'GET', path: url.pathname, status: res.status };
    if (call.method === 'POST' && res.status === 201) {
      call.subjectToken = res.headers.get('x-subject-token') ?? undefined;
      call.expiresAt = ((await res.clone().json()) as { token: { expires_at: string } }).token.expires_at;
    }
    calls.push(call);
    return res;
  };
  const count = (method: string) => calls.filter((c) => c.method === method && c.path === '/v3/auth/tokens').length;
  return { calls, fetch: wrapped, validations: () => count('GET'), serviceLogins: () => count('POST') };
}

const policy = loadDefaultPolicy();
/** Project id of "demo", the owner of the pretend snapshot below. */
let demoProjectId = '';

function app(auth: ReturnType<typeof authMiddleware>) {
  const a = new Hono();
  a.onError(onApiError());
  a.notFound(onNotFound);
  a.use('/v3/*', auth);
  a.use('/v3/*', policyMiddleware(policy));
  a.get('/v3/:project/whoami', (c) => {
    assertProjectInPath(c.var.auth, c.req.param('project'));
    return c.json({
      auth: c.var.auth,
      may: {
        create: isAllowed(c, 'snapshot:create'),
        callback: isAllowed(c, 'snapshot:update_snapshot_status'),
        reset: isAllowed(c, 'snapshot:reset_status'),
        allTenants: isAllowed(c, 'snapshot:all_tenants'),
      },
    });
  });
  // A snapshot owned by project demo, with the checks a real action route makes.
  a.post('/v3/:project/snapshots/:id/action', async (c) => {
    assertProjectInPath(c.var.auth, c.req.param('project'));
    const action = Object.keys(await c.req.json())[0];
    const rule = action === 'os-reset_status' ? 'snapshot:reset_status' : 'snapshot:update_snapshot_status';
    if (!grantedByRole(c, rule)) assertVisible(c.var.auth, demoProjectId, `Snapshot ${c.req.param('id')} could not be found.`);
    authorize(c, rule);
    return c.body(null, 202);
  });
  return a;
}

function options(extra: Partial<KeystoneAuthOptions> = {}): KeystoneAuthOptions {
  return { keystoneUrl: KEYSTONE_URL, service: SERVICE_CREDENTIALS, ...extra };
}

beforeAll(async () => {
  await ensureKeystone();
  demoProjectId = (await issueToken('member1')).projectId;
}, 15 * 60_000);

describe('keystone middleware with a real Keystone', () => {
  const expected: Record<KeystoneUser, { project: string; roles: string[]; isAdmin: boolean; may: Record<string, boolean> }> = {
    admin: { project: 'admin', roles: ['admin'], isAdmin: true, may: { create: true, callback: true, reset: true, allTenants: true } },
    svc: { project: 'service', roles: ['service'], isAdmin: false, may: { create: true, callback: true, reset: false, allTenants: false } },
    member1: { project: 'demo', roles: ['member'], isAdmin: false, may: { create: true, callback: false, reset: false, allTenants: false } },
    reader1: { project: 'demo', roles: ['reader'], isAdmin: false, may: { create: true, callback: false, reset: false, allTenants: false } },
    othermember: { project: 'other', roles: ['member'], isAdmin: false, may: { create: true, callback: false, reset: false, allTenants: false } },
  };

  it.each(Object.keys(expected) as KeystoneUser[])('%s: project, roles and policy decisions come from the token', async (user) => {
    const issued = await issueToken(user);
    const a = app(authMiddleware({ strategy: 'keystone', keystone: options() }));
    const res = await a.request(`/v3/${issued.projectId}/whoami`, { headers: { 'X-Auth-Token': issued.token } });
    expect(res.status).toBe(200);
    const body = await res.json();
    const want = expected[user];
    expect(body.auth).toMatchObject({ userId: issued.userId, userName: user, projectId: issued.projectId, projectName: want.project, isAdmin: want.isAdmin });
    // Keystone adds implied roles (admin -> member -> reader), so check inclusion and exclusion.
    expect(body.auth.roles).toEqual(expect.arrayContaining(want.roles));
    if (!want.isAdmin) expect(body.auth.roles).not.toContain('admin');
    if (user === 'reader1') expect(body.auth.roles).not.toContain('member');
    expect(body.may).toEqual(want.may);
  });

  it('applies the policy table to a real action route', async () => {
    const a = app(authMiddleware({ strategy: 'keystone', keystone: options() }));
    const call = async (user: KeystoneUser, action: string) => {
      const t = await issueToken(user);
      const res = await a.request(`/v3/${t.projectId}/snapshots/s1/action`, {
        method: 'POST',
        headers: { 'X-Auth-Token': t.token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ [action]: {} }),
      });
      return res.status;
    };
    expect(await call('admin', 'os-reset_status')).toBe(202);
    expect(await call('member1', 'os-reset_status')).toBe(403);
    expect(await call('reader1', 'os-reset_status')).toBe(403);
    expect(await call('othermember', 'os-reset_status')).toBe(404);
    expect(await call('svc', 'os-update_snapshot_status')).toBe(202);
    expect(await call('member1', 'os-update_snapshot_status')).toBe(403);
    expect(await call('othermember', 'os-update_snapshot_status')).toBe(404);
  });

  it('missing, garbage and revoked tokens get 401 with WWW-Authenticate in fault format', async () => {
    const a = app(authMiddleware({ strategy: 'keystone', keystone: options() }));
    const revoked = await issueToken('member1');
    await revokeToken(revoked.token);
    for (const headers of [{}, { 'X-Auth-Token': 'garbage' }, { 'X-Auth-Token': revoked.token }] as Record<string, string>[]) {
      const res = await a.request(`/v3/${demoProjectId}/whoami`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Keystone uri="${KEYSTONE_URL}"`);
      expect(await res.json()).toEqual({
        unauthorized: { code: 401, message: 'The request you have made requires authentication.' },
      });
    }
  });

  it('a token for another project than the URL is refused as Cinder does', async () => {
    const t = await issueToken('othermember');
    const res = await app(authMiddleware({ strategy: 'keystone', keystone: options() })).request(`/v3/${demoProjectId}/whoami`, {
      headers: { 'X-Auth-Token': t.token },
    });
    expect(res.status).toBe(400);
  });

  it('serves a second request from the cache without asking Keystone', async () => {
    const counter = countingFetch();
    const a = app(authMiddleware({ strategy: 'keystone', keystone: options({ fetch: counter.fetch }) }));
    const t = await issueToken('member1');
    const get = () => a.request(`/v3/${t.projectId}/whoami`, { headers: { 'X-Auth-Token': t.token } });
    expect((await get()).status).toBe(200);
    expect(counter.validations()).toBe(1);
    expect(counter.serviceLogins()).toBe(1);
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    expect(counter.validations()).toBe(1);
    expect(counter.serviceLogins()).toBe(1);
    // Concurrent first requests for one token share one validation.
    const t2 = await issueToken('reader1');
    const all = await Promise.all(
      Array.from({ length: 5 }, () => a.request(`/v3/${t2.projectId}/whoami`, { headers: { 'X-Auth-Token': t2.token } })),
    );
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(counter.validations()).toBe(2);
  });

  it('does not cache invalid tokens', async () => {
    const counter = countingFetch();
    const a = app(authMiddleware({ strategy: 'keystone', keystone: options({ fetch: counter.fetch }) }));
    for (let i = 0; i < 2; i++) {
      expect((await a.request(`/v3/${demoProjectId}/whoami`, { headers: { 'X-Auth-Token': 'not-a-token' } })).status).toBe(401);
    }
    expect(counter.validations()).toBe(2);
  });

  it('logs in again when Keystone answers 401 for the service token', async () => {
    const counter = countingFetch();
    const o = options({ fetch: counter.fetch });
    const validator = new KeystoneTokenValidator(new KeystoneServiceIdentity(o), o);
    const a = app(keystoneMiddleware(validator));
    const first = await issueToken('member1');
    expect((await a.request(`/v3/${first.projectId}/whoami`, { headers: { 'X-Auth-Token': first.token } })).status).toBe(200);
    const serviceToken = counter.calls.find((c) => c.method === 'POST')?.subjectToken;
    expect(serviceToken).toBeTruthy();
    await revokeToken(serviceToken!);

    const second = await issueToken('reader1');
    expect((await a.request(`/v3/${second.projectId}/whoami`, { headers: { 'X-Auth-Token': second.token } })).status).toBe(200);
    expect(counter.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['POST 201', 'GET 200', 'GET 401', 'POST 201', 'GET 200']);
  });

  it('renews the service token before it expires and drops cached tokens at their expires_at', async () => {
    const counter = countingFetch();
    let now = Date.now();
    const o = options({ fetch: counter.fetch, now: () => now });
    const validator = new KeystoneTokenValidator(new KeystoneServiceIdentity(o), o);
    const a = app(keystoneMiddleware(validator));
    const t = await issueToken('member1');
    const get = () => a.request(`/v3/${t.projectId}/whoami`, { headers: { 'X-Auth-Token': t.token } });
    expect((await get()).status).toBe(200);
    expect(counter.serviceLogins()).toBe(1);

    // 30 s before the service token expires: inside the renewal margin, still before the user token's expiry.
    const serviceExpiry = Date.parse(counter.calls.find((c) => c.method === 'POST')!.expiresAt!);
    now = serviceExpiry - 30_000;
    const t2 = await issueToken('reader1');
    expect((await a.request(`/v3/${t2.projectId}/whoami`, { headers: { 'X-Auth-Token': t2.token } })).status).toBe(200);
    expect(counter.serviceLogins()).toBe(2);

    // Past the user token's own expires_at the cache no longer vouches for it.
    now = Date.parse(t.expiresAt) + 1_000;
    const validationsBefore = counter.validations();
    expect((await get()).status).toBe(401);
    expect(counter.validations()).toBe(validationsBefore + 1);
  });

  it('one login serves both the validations and the token the service sends to compute', async () => {
    const counter = countingFetch();
    const keystone = createKeystoneAuth(options({ fetch: counter.fetch }));
    const a = app(keystone.middleware);
    const t = await issueToken('member1');
    // Concurrent first uses share the one login.
    const [res, own] = await Promise.all([
      a.request(`/v3/${t.projectId}/whoami`, { headers: { 'X-Auth-Token': t.token } }),
      keystone.identity.token(),
    ]);
    expect(res.status).toBe(200);
    expect(await keystone.identity.token()).toBe(own);
    expect(counter.serviceLogins()).toBe(1);
    expect(counter.calls.find((c) => c.method === 'POST')?.subjectToken).toBe(own);
    // The service's own token is one Keystone accepts for it.
    expect((await keystone.validator.validate(own)).userName).toBe('svc');
    expect(counter.serviceLogins()).toBe(1);
  });
});
