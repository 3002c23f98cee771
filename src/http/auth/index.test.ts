import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  assertAuthAllowed,
  authConfigFrom,
  authMiddleware,
  createAuthentication,
  defaultAuthStrategy,
  isLoopbackHost,
  KeystoneServiceIdentity,
} from './index.js';
import { loadConfig } from '../../config.js';

/** As the service does: the environment through src/config.ts, then auth's own checks. */
const fromEnv = (env: Record<string, string>, host: string) => authConfigFrom(loadConfig({ ...env, HOST: host }));

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

  it('authConfigFrom picks defaults and names missing settings', () => {
    expect(fromEnv({}, '127.0.0.1')).toEqual({ strategy: 'noauth' });
    expect(() => fromEnv({ AUTH_STRATEGY: 'noauth' }, '0.0.0.0')).toThrow(/loopback/);
    expect(() => fromEnv({}, '0.0.0.0')).toThrow('KEYSTONE_URL is required when AUTH_STRATEGY is keystone');
    expect(() => fromEnv({ AUTH_STRATEGY: 'ldap' }, '127.0.0.1')).toThrow(/must be "noauth" or "keystone"/);
    expect(() =>
      fromEnv({ AUTH_STRATEGY: 'keystone', KEYSTONE_URL: 'http://127.0.0.1:15000', KEYSTONE_SERVICE_USER: 'svc' }, '127.0.0.1'),
    ).toThrow('KEYSTONE_SERVICE_PASSWORD is required');
    expect(
      fromEnv(
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

describe('one authentication per config', () => {
  it('noauth: the noauth middleware and no service identity', async () => {
    const noauth = createAuthentication({ strategy: 'noauth' });
    expect(noauth.identity).toBeNull();
    for (const middleware of [noauth.middleware, authMiddleware({ strategy: 'noauth' })]) {
      const app = new Hono();
      app.use('*', middleware);
      app.get('/whoami', (c) => c.json(c.var.auth));
      const res = await app.request('/whoami', { headers: { 'X-Auth-Token': 'alice:demo' } });
      expect(await res.json()).toEqual({ userId: 'alice', projectId: 'demo', roles: ['admin'], isAdmin: true });
    }
  });

  it('keystone: one service identity, the one the middleware validates with', () => {
    const keystone = createAuthentication({
      strategy: 'keystone',
      keystone: { keystoneUrl: 'http://127.0.0.1:1', service: { username: 'svc', password: 'pw', projectName: 'service' } },
    });
    expect(keystone.identity).toBeInstanceOf(KeystoneServiceIdentity);
  });
});
