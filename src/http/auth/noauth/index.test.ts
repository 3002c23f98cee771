import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  assertAuthAllowed,
  authConfigFromEnv,
  authMiddleware,
  defaultAuthStrategy,
  isLoopbackHost,
} from '../../src/api/auth/index.js';
import { onApiError } from '../../src/api/faults.js';

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.use('/v3/*', authMiddleware({ strategy: 'noauth' }));
  a.get('/v3/whoami', (c) => c.json(c.var.auth));
  return a;
}

describe('noauth (Cinder NoAuthMiddleware)', () => {
  it('user:project token gives that user and project, as admin', async () => {
    const res = await app().request('/v3/whoami', { headers: { 'X-Auth-Token': 'alice:demo' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: 'alice', projectId: 'demo', roles: ['admin'], isAdmin: true });
  });

  it('a token without a colon names both user and project', async () => {
    const res = await app().request('/v3/whoami', { headers: { 'X-Auth-Token': 'bob' } });
    expect(await res.json()).toMatchObject({ userId: 'bob', projectId: 'bob' });
  });

  it('an empty project part falls back to the user, extra colons stay in the project', async () => {
    expect(await (await app().request('/v3/whoami', { headers: { 'X-Auth-Token': 'carol:' } })).json()).toMatchObject({
      userId: 'carol',
      projectId: 'carol',
    });
    expect(await (await app().request('/v3/whoami', { headers: { 'X-Auth-Token': 'd:p:q' } })).json()).toMatchObject({
      userId: 'd',
      projectId: 'p:q',
    });
  });

  it('without a token answers the legacy handshake: 204 with a token to use', async () => {
    const res = await app().request('http://127.0.0.1:8776/v3/whoami/');
    expect(res.status).toBe(204);
    expect(res.headers.get('x-auth-token')).toBe('admin:admin');
    expect(res.headers.get('x-server-management-url')).toBe('http://127.0.0.1:8776/v3/whoami');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('');
  });

  it('the handshake honours X-Auth-User and X-Auth-Project-Id', async () => {
    const res = await app().request('/v3/whoami', { headers: { 'X-Auth-User': 'eve', 'X-Auth-Project-Id': 'proj' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-auth-token')).toBe('eve:proj');
  });
});

describe('where noauth may run', () => {
  it.each(['127.0.0.1', '127.1.2.3', '127.255.255.254', 'localhost', 'LOCALHOST', 'api.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(true);
      expect(() => assertAuthAllowed('noauth', host)).not.toThrow();
      expect(defaultAuthStrategy(host)).toBe('noauth');
    },
  );

  it.each(['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', '128.0.0.1', '127.0.0.1.example.com', 'example.com', '::2', '::ffff:10.0.0.1', ''])(
    '%j is not loopback: noauth refused with a clear message',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
      expect(() => assertAuthAllowed('noauth', host)).toThrow(/AUTH_STRATEGY=noauth is only allowed when HOST is a loopback address/);
      expect(() => assertAuthAllowed('keystone', host)).not.toThrow();
      expect(defaultAuthStrategy(host)).toBe('keystone');
    },
  );

  it('authConfigFromEnv picks defaults and names missing settings', () => {
    expect(authConfigFromEnv({}, '127.0.0.1')).toEqual({ strategy: 'noauth' });
    expect(() => authConfigFromEnv({ AUTH_STRATEGY: 'noauth' }, '0.0.0.0')).toThrow(/loopback/);
    expect(() => authConfigFromEnv({}, '0.0.0.0')).toThrow('KEYSTONE_URL is required when AUTH_STRATEGY is keystone');
    expect(() => authConfigFromEnv({ AUTH_STRATEGY: 'ldap' }, '127.0.0.1')).toThrow(/must be "noauth" or "keystone"/);
    expect(() =>
      authConfigFromEnv({ AUTH_STRATEGY: 'keystone', KEYSTONE_URL: 'http://127.0.0.1:15000', KEYSTONE_SERVICE_USER: 'svc' }, '127.0.0.1'),
    ).toThrow('KEYSTONE_SERVICE_PASSWORD is required');
    expect(
      authConfigFromEnv(
        { KEYSTONE_URL: 'http://k:5000/v3', KEYSTONE_SERVICE_USER: 'svc', KEYSTONE_SERVICE_PASSWORD: 'pw' },
        '10.1.1.1',
      ),
    ).toEqual({
      strategy: 'keystone',
      keystone: {
        keystoneUrl: 'http://k:5000/v3',
        service: { username: 'svc', password: 'pw', projectName: 'service', userDomainId: 'default', projectDomainId: 'default' },
      },
    });
  });
});
