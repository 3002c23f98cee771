// What createApp (src/api/app.ts) does before and around the resource routes: the token's project
// must be the URL's, noauth's legacy handshake answers instead of the resource, and unknown routes
// are faults. Real createApp over SQLite and PostgreSQL, noauth, default policy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { apiFixture, createVolume as createVolumeIn, expectFault, MISSING, P, type ApiFixture } from './helpers.js';

describe.each(providers)('REST API on %s: the app around the routes', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  const createVolume = (body?: Record<string, unknown>) => createVolumeIn(f, body);

  it('a URL project other than the token project is 400 "Malformed request url"', async () => {
    const v = await createVolume();
    for (const [method, path] of [
      ['GET', '/v3/other/volumes'],
      ['GET', `/v3/other/volumes/${v.id}`],
      ['GET', '/v3/other/snapshots'],
      ['POST', `/v3/other/snapshots/${MISSING}/action`],
    ] as const) {
      expectFault(await f.call(method, path, { body: method === 'POST' ? { 'os-force_delete': null } : undefined }), 400, 'badRequest', 'Malformed request url');
    }
    // The token alone names the project; `alice` without a colon is alice in project alice.
    expectFault(await f.call('GET', `${P}/volumes`, { token: 'alice' }), 400, 'badRequest', 'Malformed request url');
    expect((await f.call('GET', '/v3/alice/volumes', { token: 'alice' })).status).toBe(200);
  });

  it('without X-Auth-Token noauth answers the legacy handshake (204), not the resource', async () => {
    const r = await f.call('GET', `${P}/volumes`, { token: null, headers: { 'X-Auth-User': 'bob', 'X-Auth-Project-Id': 'proj' } });
    expect([r.status, r.text]).toEqual([204, '']);
    expect(r.headers.get('X-Auth-Token')).toBe('bob:proj');
    expect(r.headers.get('X-Server-Management-Url')).toBe(`http://localhost${P}/volumes`);
  });

  it('unknown routes and methods are itemNotFound', async () => {
    expectFault(await f.call('GET', '/v2/proj/volumes'), 404, 'itemNotFound');
    expectFault(await f.call('GET', `${P}/backups`), 404, 'itemNotFound');
    expectFault(await f.call('PATCH', `${P}/volumes/${MISSING}`, { body: {} }), 404, 'itemNotFound');
  });
});
