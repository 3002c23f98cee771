// /openapi.json (src/api/openapi.ts), served by the real createApp over SQLite and PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providers } from '../support/databases.js';
import { apiFixture, type ApiFixture } from './helpers.js';

describe.each(providers)('REST API on %s: OpenAPI document', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  it('serves /openapi.json, a parseable OpenAPI 3.1 document covering every route', async () => {
    const r = await f.call('GET', '/openapi.json', { token: null });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json).toMatchObject({ openapi: '3.1.0', info: { title: expect.any(String) } });
    const paths = Object.keys(r.json.paths);
    for (const p of [
      '/v3/{project_id}/volumes',
      '/v3/{project_id}/volumes/{id}/action',
      '/v3/{project_id}/snapshots',
      '/v3/{project_id}/snapshots/detail',
      '/v3/{project_id}/snapshots/{id}',
      '/v3/{project_id}/snapshots/{id}/action',
      '/v3/{project_id}/snapshots/{id}/metadata/{key}',
      '/v3/{project_id}/snapshots/{id}/admin_metadata',
      '/v3/{project_id}/snapshots/{id}/transitions',
    ]) {
      expect(paths).toContain(p);
    }
    // The action body schema names the compute callback and its new fields.
    const action = JSON.stringify(r.json.paths['/v3/{project_id}/snapshots/{id}/action'].post.requestBody);
    expect(action).toContain('os-update_snapshot_status');
    expect(action).toContain('compute_snapshot_status');
  });
});
