// List query parameters (src/api/schemas/params.ts): parsed and refused at unit level, then over
// HTTP on every collection that takes them (real createApp over SQLite and PostgreSQL, noauth).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseOrFault } from '../../../src/http/validation/index.js';
import { snapshotListQuerySchema } from '../../../src/api/schemas/index.js';
import { providers } from '../../support/databases.js';
import { apiFixture, expectFault, type ApiFixture } from '../helpers.js';
import { refused, VID } from './parse.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

describe('list query parameters', () => {
  const q = (params: Record<string, string>) => parseOrFault(snapshotListQuerySchema, params, 'query string');
  const bad = (params: Record<string, string>) => refused(snapshotListQuerySchema, params);

  it('defaults and parses', () => {
    expect(q({})).toEqual({ limit: undefined, offset: 0, marker: undefined, sort: [{ key: 'created_at', dir: 'desc' }], allTenants: false, withCount: false, filters: {} });
    expect(q({ limit: '0', offset: '5', marker: VID, sort: 'name:asc,id', all_tenants: '1', status: 'available' })).toEqual({
      limit: 0,
      offset: 5,
      marker: VID,
      sort: [
        { key: 'name', dir: 'asc' },
        { key: 'id', dir: 'desc' },
      ],
      allTenants: true,
      withCount: false,
      filters: { status: 'available' },
    });
    expect(q({ with_count: 'true' }).withCount).toBe(true);
    expect(q({ sort_key: 'size', sort_dir: 'asc' }).sort).toEqual([{ key: 'size', dir: 'asc' }]);
    // Cinder's column name is a sort key too (Tempest's snapshot list sorts by it).
    expect(q({ sort_key: 'display_name', sort_dir: 'asc' }).sort).toEqual([{ key: 'display_name', dir: 'asc' }]);
  });

  it.each([
    [{ limit: 'ten' }, 'limit param must be an integer'],
    [{ limit: '-1' }, 'limit param must be positive'],
    [{ limit: '1.5' }, 'limit param must be an integer'],
    [{ offset: '-3' }, 'offset param must be positive'],
    [{ marker: 'not-a-uuid' }, 'marker'],
    [{ sort: 'colour:asc' }, 'sort key must be one of'],
    [{ sort: 'name:up' }, "sort direction must be 'asc' or 'desc'"],
    [{ sort: 'name', sort_key: 'id' }, "The 'sort_key' and 'sort_dir' parameters are deprecated"],
    [{ all_tenants: 'maybe' }, "Value for 'all_tenants' is not a boolean."],
    [{ all_tenants: '' }, "Value for 'all_tenants' is not a boolean."],
  ])('refuses %j', (params, fragment) => {
    expect(bad(params)).toContain(fragment);
  });
});

describe.each(providers)('list query parameters over HTTP on %s', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  it('bad paging parameters are 400 (an unknown marker 404), never 5xx', async () => {
    for (const collection of ['volumes', 'volumes/detail', 'snapshots', 'snapshots/detail']) {
      for (const [query, message] of [
        ['limit=-1', /limit param must be positive/],
        ['limit=abc', /limit param must be an integer/],
        ['limit=99999999999', /limit param is too large/],
        ['offset=x', /offset param must be an integer/],
        ['marker=not-a-uuid', /marker/],
        ['sort=name:sideways', /sort direction/],
        ['sort=colour', /sort key must be one of/],
        ['sort_key=colour', /sort key must be one of/],
        ['sort_dir=up', /sort direction/],
        ['sort=name&sort_key=name', /cannot be used with the 'sort' parameter/],
        ['all_tenants=maybe', "Invalid input for field/attribute all_tenants. Value: \"maybe\". Value for 'all_tenants' is not a boolean."],
        ['name=%00', /NUL/],
        ['status=a%00b', /NUL/],
      ] as const) {
        const r = await f.call('GET', `${P}/${collection}?${query}`);
        expect([collection, query, r.status]).toEqual([collection, query, 400]);
        expectFault(r, 400, 'badRequest', message);
      }
      // A marker that names no row of the collection is not found, as Cinder looks it up.
      expectFault(await f.call('GET', `${P}/${collection}?marker=${MISSING}`), 404, 'itemNotFound', `${collection.startsWith('volumes') ? 'Volume' : 'Snapshot'} ${MISSING} could not be found.`);
    }
  });
});
