import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { onApiError } from '../../faults/index.js';
import { noauthMiddleware } from './index.js';

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.use('/v3/*', noauthMiddleware());
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
