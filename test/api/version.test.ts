// Version discovery and microversion negotiation (src/api/version.ts): on a bare Hono app, then
// through the real createApp over SQLite and PostgreSQL.
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onApiError, onNotFound, badRequest } from '../../src/http/faults/index.js';
import {
  API_VERSION_HEADER,
  apiVersionMiddleware,
  atLeast,
  MAX_API_VERSION,
  MIN_API_VERSION,
  versionsRoot,
  versionsV3,
} from '../../src/api/version.js';
import { providers } from '../support/databases.js';
import { apiFixture, expectFault, type ApiFixture } from './helpers.js';

const P = '/v3/proj';
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';

function app() {
  const a = new Hono();
  a.onError(onApiError());
  a.notFound(onNotFound);
  a.use('*', apiVersionMiddleware());
  a.get('/', versionsRoot());
  a.get('/v3', versionsV3());
  a.get('/v3/', versionsV3());
  a.get('/v3/p/echo', (c) => c.json({ version: c.var.apiVersion, sinceInUse: atLeast(c, '3.66') }));
  a.get('/v3/p/fails', () => {
    throw badRequest('nope');
  });
  return a;
}

const get = (path: string, version?: string) =>
  app().request(`http://cinder.test:8776${path}`, { headers: version === undefined ? {} : { [API_VERSION_HEADER]: version } });

describe('version discovery', () => {
  it('/ answers 300 with the v3 document', async () => {
    const res = await get('/');
    expect(res.status).toBe(300);
    expect(await res.json()).toEqual({
      versions: [
        {
          id: 'v3.0',
          status: 'CURRENT',
          version: MAX_API_VERSION,
          min_version: '3.0',
          updated: '2022-08-31T00:00:00Z',
          links: [
            { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
            { rel: 'self', href: 'http://cinder.test:8776/v3/' },
          ],
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
        },
      ],
    });
  });

  it('/v3/ and /v3 answer 200 with the same document', async () => {
    const root = await (await get('/')).json();
    for (const path of ['/v3/', '/v3']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(root);
    }
  });

  it('uses a configured public endpoint for links', async () => {
    const a = new Hono();
    a.get('/', versionsRoot('https://volumes.example/'));
    const body = await (await a.request('/')).json();
    expect(body.versions[0].links[1]).toEqual({ rel: 'self', href: 'https://volumes.example/v3/' });
  });
});

describe('microversion negotiation', () => {
  it('defaults to the minimum and echoes it', async () => {
    const res = await get('/v3/p/echo');
    expect(res.status).toBe(200);
    expect(res.headers.get(API_VERSION_HEADER)).toBe(`volume ${MIN_API_VERSION}`);
    expect(res.headers.get('vary')).toBe(API_VERSION_HEADER);
    expect(await res.json()).toEqual({ version: { major: 3, minor: 0 }, sinceInUse: false });
  });

  it.each([
    ['volume 3.27', '3.27'],
    ['volume 3.0', '3.0'],
    [`volume ${MAX_API_VERSION}`, MAX_API_VERSION],
    ['volume latest', MAX_API_VERSION],
    ['compute 2.1, volume 3.66', '3.66'],
    ['volume   3.5 ', '3.5'],
  ])('%j runs at %s and is echoed', async (header, expected) => {
    const res = await get('/v3/p/echo', header);
    expect(res.status).toBe(200);
    expect(res.headers.get(API_VERSION_HEADER)).toBe(`volume ${expected}`);
    expect(res.headers.get('vary')).toBe(API_VERSION_HEADER);
    const [major, minor] = expected.split('.').map(Number);
    expect((await res.json()).version).toEqual({ major, minor });
  });

  it('echoes the version on faults too', async () => {
    const res = await get('/v3/p/fails', 'volume 3.10');
    expect(res.status).toBe(400);
    expect(res.headers.get(API_VERSION_HEADER)).toBe('volume 3.10');
  });

  it.each(['volume 3.71', 'volume 4.0', 'volume 2.0', 'volume 1.0', 'volume 3.999'])(
    '%j is 406 with Cinder message and no echo',
    async (header) => {
      const res = await get('/v3/p/echo', header);
      expect(res.status).toBe(406);
      const v = header.split(' ')[1];
      expect(await res.json()).toEqual({
        computeFault: {
          code: 406,
          message: `Version ${v} is not supported by the API. Minimum is ${MIN_API_VERSION} and maximum is ${MAX_API_VERSION}.`,
        },
      });
      expect(res.headers.get(API_VERSION_HEADER)).toBeNull();
    },
  );

  it.each(['volume 3', 'volume 3.01', 'volume 03.1', 'volume 3.x', 'volume v3.1', 'volume 3.1.2', 'volume', 'volume 3.1 extra', 'volume -3.1'])(
    'malformed %j is 400 as Cinder',
    async (header) => {
      const res = await get('/v3/p/echo', header);
      expect(res.status).toBe(400);
      const body = await res.json();
      expect(body.badRequest.message).toMatch(/is of invalid format\. Must be of format MajorNum\.MinorNum\.$/);
    },
  );

  it('a header without a volume entry is 400, not a silent default', async () => {
    const res = await get('/v3/p/echo', 'compute 2.90');
    expect(res.status).toBe(400);
    expect((await res.json()).badRequest.code).toBe(400);
  });
});

describe.each(providers)('REST API on %s: version discovery and microversions', (provider) => {
  let f: ApiFixture;
  beforeEach(async () => {
    f = await apiFixture(provider);
  });
  afterEach(async () => {
    await f?.close();
  });

  it('GET / answers 300 with the v3 document; /v3 and /v3/ answer 200 with the same', async () => {
    const root = await f.call('GET', '/', { token: null });
    expect(root.status).toBe(300);
    expect(root.json.versions).toHaveLength(1);
    expect(root.json.versions[0]).toMatchObject({
      id: 'v3.0',
      status: 'CURRENT',
      version: '3.70',
      min_version: '3.0',
      links: expect.arrayContaining([{ rel: 'self', href: 'http://localhost/v3/' }]),
    });
    for (const path of ['/v3/', '/v3']) {
      const v3 = await f.call('GET', path, { token: null });
      expect(v3.status).toBe(200);
      expect(v3.json).toEqual(root.json);
    }
  });

  it('echoes the negotiated version with Vary, on successes and on faults', async () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'volume 3.0'],
      ['volume 3.27', 'volume 3.27'],
      ['volume 3.70', 'volume 3.70'],
      ['volume latest', 'volume 3.70'],
      ['compute 2.1, volume 3.66', 'volume 3.66'],
    ];
    for (const [sent, echoed] of cases) {
      const headers: Record<string, string> = sent === undefined ? {} : { 'OpenStack-API-Version': sent };
      for (const [path, status] of [['/', 300], [`${P}/snapshots`, 200], [`${P}/snapshots/${MISSING}`, 404]] as const) {
        const r = await f.call('GET', path, { headers });
        expect([path, sent, r.status]).toEqual([path, sent, status]);
        expect(r.headers.get('OpenStack-API-Version')).toBe(echoed);
        expect(r.headers.get('Vary')).toBe('OpenStack-API-Version');
      }
    }
  });

  it('refuses unsupported versions with 406 and malformed ones with 400', async () => {
    for (const v of ['3.71', '3.99', '2.0', '4.0']) {
      const r = await f.call('GET', `${P}/snapshots`, { headers: { 'OpenStack-API-Version': `volume ${v}` } });
      expectFault(r, 406, 'computeFault', `Version ${v} is not supported by the API. Minimum is 3.0 and maximum is 3.70.`);
      expect(r.headers.get('OpenStack-API-Version')).toBeNull();
    }
    for (const v of ['volume 3.x', 'volume 3.1.1', 'volume 03.1', 'volume', 'compute 2.1']) {
      const r = await f.call('GET', '/', { headers: { 'OpenStack-API-Version': v } });
      expectFault(r, 400, 'badRequest');
    }
  });
});
