// Adversarial requests against the two write endpoints that matter most, POST /snapshots and
// POST /snapshots/{id}/action: fast-check generates bodies (valid-looking, hostile and random),
// headers and paths, and every answer must be
//
//   - never a 5xx;
//   - a 4xx in the OpenStack fault format ({"<name>": {"code": <status>, "message": ...}}), or a 2xx;
//   - for every 4xx: the database exactly as before (all tables, every column), with ONE precisely
//     defined exception, the machine-rejected compute callback.
//
// The exception. A callback (os-update_snapshot_status) that passes the schema reaches the
// snapshot's machine; when the machine refuses it, the refusal is history: the engine appends one
// snapshot_transitions row, rejected = true, and changes nothing else. So a 400 answer is allowed
// to have added exactly one row when, and only when, all of this holds:
//   - the action was os-update_snapshot_status and the answer is 400 with one of the three
//     refusal messages (Cinder's two from its status table, or the machine's phase refusal);
//   - the new row is for the addressed snapshot, rejected, event compute.status, source compute,
//     at the snapshot's version, from = to = the snapshot's phase and status before the request;
//   - every other table, and every other transition row, is unchanged.
// Requests answered 2xx may change the database (that is what they are for); the snapshots they
// move on simply become further targets.
import fc from 'fast-check';
import { runVolumeJobs } from '../../support/harness.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/client.js';
import { providers } from '../../support/databases.js';
import { apiFixture, INSTANCE, send, type ApiFixture, type Reply } from '../helpers.js';

const RUNS = 200;
const MISSING = '0f0f0f0f-0000-4000-8000-000000000000';
const CALLBACK_REFUSAL = [
  /^Snapshot status \S+ not allowed for update_snapshot_status$/,
  /^Provided snapshot status [\s\S]* not allowed for snapshot with status \S+$/,
  /^Invalid snapshot: compute callback \(status [\s\S]*\) not accepted in phase \S+\.$/,
];

/** Every table, every column, in a stable order. */
async function dump(db: Db) {
  const p = db.prisma;
  return {
    volumes: await p.volume.findMany({ orderBy: { id: 'asc' } }),
    volume_attachment: await p.volumeAttachment.findMany({ orderBy: { id: 'asc' } }),
    volume_admin_metadata: await p.volumeAdminMetadata.findMany({ orderBy: { id: 'asc' } }),
    snapshots: await p.snapshot.findMany({ orderBy: { id: 'asc' } }),
    snapshot_metadata: await p.snapshotMetadata.findMany({ orderBy: { id: 'asc' } }),
    snapshot_admin_metadata: await p.snapshotAdminMetadata.findMany({ orderBy: { id: 'asc' } }),
    snapshot_transitions: await p.snapshotTransition.findMany({ orderBy: { id: 'asc' } }),
    outbox: await p.outboxJob.findMany({ orderBy: { id: 'asc' } }),
  };
}
type Dump = Awaited<ReturnType<typeof dump>>;

// --- generators -------------------------------------------------------------------------------

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), maxLength: 40 });
const nasty = fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff x', '\u202e', '💥', ' ', '', 'null', '%', '../', '\n', 'x'.repeat(300));
const anyText = fc.oneof(printable, nasty, fc.string({ unit: 'binary', maxLength: 20 }));
const junk = fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText);

const progress = fc.oneof(
  fc.constantFrom('0%', '50%', '90%', '100%', ' 50%', '+5%', '050%', '', '101%', '50', '-1%', '٥٠%'),
  fc.nat(120).map((n) => `${n}%`),
  fc.constantFrom(0, 50, null, true, {}, []),
  anyText,
);
const status = fc.oneof(
  fc.constantFrom('creating', 'available', 'error', 'deleting', 'error_deleting', 'deleted', 'in-use', 'CREATING'),
  anyText,
  junk,
);
const callbackBody = fc.record(
  {
    status,
    progress,
    compute_snapshot_status: fc.oneof(fc.constantFrom('in-progress', 'complete', 'error', 'done', 'COMPLETE'), junk),
    compute_progress: progress,
    extra: junk,
  },
  { requiredKeys: [] },
);
/** Callbacks the schema accepts, so the machine decides (and often refuses). */
const validCallback = fc.record(
  {
    status: fc.constantFrom('creating', 'available', 'error', 'deleting', 'error_deleting', 'deleted', 'bogus'),
    progress: fc.oneof(fc.constantFrom('90%', '100%', '0%'), fc.nat(100).map((n) => `${n}%`)),
    compute_snapshot_status: fc.constantFrom('in-progress', 'complete', 'error'),
    compute_progress: fc.nat(100).map((n) => `${n}%`),
  },
  { requiredKeys: ['status'] },
);
const actionBody = fc.oneof(
  { weight: 4, arbitrary: callbackBody.map((b) => ({ 'os-update_snapshot_status': b })) },
  { weight: 4, arbitrary: validCallback.map((b) => ({ 'os-update_snapshot_status': b })) },
  { weight: 2, arbitrary: fc.record({ status: fc.oneof(status, fc.constantFrom('available', 'error', 'error_deleting')) }, { requiredKeys: [] }).map((b) => ({ 'os-reset_status': b })) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.constant({}), junk).map((b) => ({ 'os-force_delete': b })) },
  { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom('os-update_snapshot_status', 'os-reset_status', 'os-unknown', 'os-force_delete '), printable), junk).map(([k, v]) => ({ [k]: v })) },
  { weight: 1, arbitrary: fc.tuple(callbackBody, junk).map(([b, v]) => ({ 'os-update_snapshot_status': b, 'os-force_delete': v })) },
  { weight: 1, arbitrary: junk },
);

type Pool = { snapshots: string[]; volumes: string[] };
const createBody = (pool: Pool) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record(
          {
            volume_id: fc.oneof(fc.constantFrom(...pool.volumes), fc.constantFrom(...pool.volumes).map((v) => v.toUpperCase()), fc.constant(MISSING), junk),
            name: fc.oneof(anyText, fc.constant(null), junk),
            display_name: fc.oneof(anyText, fc.constant(null)),
            description: fc.oneof(anyText, fc.constant(null), junk),
            force: fc.oneof(fc.boolean(), fc.constantFrom('true', 'False', 'yes', 'n', 1, 0, null, 'maybe'), junk),
            metadata: fc.oneof(fc.dictionary(anyText, anyText, { maxKeys: 3 }), fc.constant(null), junk),
            extra: junk,
          },
          { requiredKeys: [] },
        )
        .map((snapshot) => ({ snapshot })),
    },
    {
      // Bodies the schema accepts, so the volume's state and owner decide.
      weight: 3,
      arbitrary: fc
        .record(
          {
            volume_id: fc.constantFrom(...pool.volumes),
            name: fc.oneof(printable, nasty),
            force: fc.boolean(),
            metadata: fc.dictionary(fc.constantFrom('a', 'b:c', 'd e'), fc.oneof(printable, nasty), { maxKeys: 2 }),
          },
          { requiredKeys: ['volume_id'] },
        )
        .map((snapshot) => ({ snapshot })),
    },
    { weight: 1, arbitrary: fc.tuple(junk, junk).map(([a, b]) => ({ snapshot: a, extra: b })) },
    { weight: 1, arbitrary: junk },
  );

/** A raw body: mostly the JSON of a generated value, sometimes broken or not JSON at all. */
const rawBody = (value: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { weight: 8, arbitrary: value.map((v) => JSON.stringify(v) ?? 'undefined') },
    { weight: 1, arbitrary: value.chain((v) => fc.nat().map((n) => { const t = JSON.stringify(v) ?? ''; return t.slice(0, n % (t.length + 1)); })) },
    { weight: 1, arbitrary: anyText },
  );

/** Mostly the headers a real client sends, so most requests get past the front door. */
const headerValue = (usual: string | undefined, usualWeight: number, others: fc.Arbitrary<string | undefined>) =>
  fc.oneof({ weight: usualWeight, arbitrary: fc.constant(usual) }, { weight: 2, arbitrary: others });
const headers = fc
  .record({
    'Content-Type': headerValue(
      'application/json',
      14,
      fc.oneof(
        fc.constantFrom(undefined, 'application/vnd.openstack.volume+json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', 'multipart/form-data', ';', 'application/json, text/plain'),
        printable,
      ),
    ),
    'OpenStack-API-Version': headerValue(
      undefined,
      10,
      fc.oneof(fc.constantFrom('volume 3.0', 'volume 3.66', 'volume latest', 'volume 3.99', 'volume 2.0', 'volume 3.x', 'volume', 'compute 2.1', 'volume 3.66, volume 3.0'), printable),
    ),
    'X-Auth-Token': headerValue('alice:proj', 14, fc.oneof(fc.constantFrom(undefined, 'bob:proj', 'alice:other', 'alice', ':proj', 'proj:', ':'), printable)),
    'Content-Length': headerValue(undefined, 14, fc.constantFrom('0', '1', '99999999', '-1', 'abc')),
  })
  .map((h) => Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => e[1] !== undefined)));

/** Percent-encoded; a lone surrogate (not encodable) becomes the invalid UTF-8 bytes %ED%A0%80. */
const encodeSegment = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/gu, '\u0001')).replaceAll('%01', '%ED%A0%80');
const segment = fc.oneof(printable, nasty, fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '..')).map((s) => (s.startsWith('%') || s === '..' ? s : encodeSegment(s)));
const project = fc.oneof({ weight: 10, arbitrary: fc.constant('proj') }, { weight: 1, arbitrary: fc.constant('other') }, { weight: 1, arbitrary: segment });
const snapshotId = (pool: Pool) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(...pool.snapshots) },
    { weight: 1, arbitrary: fc.constantFrom(...pool.snapshots).map((s) => s.toUpperCase()) },
    { weight: 1, arbitrary: fc.oneof(fc.constant(MISSING), fc.uuid()) },
    { weight: 1, arbitrary: segment },
  );

// --- checks -----------------------------------------------------------------------------------

function isFault(r: Reply) {
  const keys = Object.keys(r.json ?? {});
  return keys.length === 1 && r.json[keys[0]!].code === r.status && typeof r.json[keys[0]!].message === 'string';
}

/** Which snapshot a rejected callback was about, when the allowed exception applies. */
function callbackRefusalTarget(r: Reply, body: unknown, path: string): string | null {
  if (r.status !== 400 || typeof body !== 'object' || body === null || !('os-update_snapshot_status' in body)) return null;
  const message = r.json?.badRequest?.message;
  if (typeof message !== 'string' || !CALLBACK_REFUSAL.some((re) => re.test(message))) return null;
  return /\/snapshots\/([^/]+)\/action$/.exec(path)?.[1]?.toLowerCase() ?? null;
}

function expectUnchanged(before: Dump, after: Dump, r: Reply, body: unknown, path: string) {
  const target = callbackRefusalTarget(r, body, path);
  const { snapshot_transitions: tBefore, ...restBefore } = before;
  const { snapshot_transitions: tAfter, ...restAfter } = after;
  expect(restAfter, `${r.status} ${r.text}`).toEqual(restBefore);
  if (target === null) {
    expect(tAfter, `${r.status} ${r.text}`).toEqual(tBefore);
    return 0;
  }
  // The one allowed change: one rejected history row for the addressed snapshot, as it was.
  expect(tAfter.slice(0, tBefore.length)).toEqual(tBefore);
  expect(tAfter).toHaveLength(tBefore.length + 1);
  const snap = before.snapshots.find((s) => s.id === target)!;
  expect(snap, `refused callback for ${target}`).toBeDefined();
  expect(tAfter.at(-1)).toMatchObject({
    snapshotId: target,
    rejected: true,
    eventType: 'compute.status',
    source: 'compute',
    version: snap.version,
    fromPhase: snap.phase,
    toPhase: snap.phase,
    fromStatus: snap.status,
    toStatus: snap.status,
    reason: expect.any(String),
  });
  return 1;
}

describe.each(providers)('adversarial requests on %s', (provider) => {
  let f: ApiFixture;
  const pool: Pool = { snapshots: [], volumes: [] };
  const stats = { requests: 0, statuses: new Map<number, number>(), refusedCallbacks: 0 };

  beforeAll(async () => {
    f = await apiFixture(provider);
    const call = (method: string, path: string, body?: unknown, token = 'alice:proj') => f.call(method, path, { body, token });
    const volume = async (projectId: string, attached: boolean) => {
      const id = (await call('POST', `/v3/${projectId}/volumes`, { volume: { size: 1 } }, `alice:${projectId}`)).json.volume.id as string;
      await runVolumeJobs(f.h, id);
      if (attached) {
        await call('POST', `/v3/${projectId}/volumes/${id}/action`, { 'os-reserve': null }, `alice:${projectId}`);
        await call('POST', `/v3/${projectId}/volumes/${id}/action`, { 'os-attach': { instance_uuid: INSTANCE, mountpoint: '/dev/vdb' } }, `alice:${projectId}`);
      }
      pool.volumes.push(id);
      return id;
    };
    const snapshot = async (volumeId: string, projectId = 'proj') => {
      const r = await call('POST', `/v3/${projectId}/snapshots`, { snapshot: { volume_id: volumeId, force: true } }, `alice:${projectId}`);
      pool.snapshots.push(r.json.snapshot.id);
      return r.json.snapshot.id as string;
    };
    const cb = (id: string, update: object) => call('POST', `/v3/proj/snapshots/${id}/action`, { 'os-update_snapshot_status': update });
    // Snapshots in every resting state a callback or an admin action can meet.
    const attached = await volume('proj', true);
    const detached = await volume('proj', false);
    const elsewhere = await volume('other', false);
    const reserved = await volume('proj', false);
    await call('POST', `/v3/proj/volumes/${reserved}/action`, { 'os-reserve': null });
    const waitingCreate = await snapshot(attached);
    const available = await snapshot(attached);
    const waitingDelete = await snapshot(attached);
    const failed = await snapshot(attached);
    const deleted = await snapshot(detached);
    await snapshot(elsewhere, 'other');
    await f.h.worker.drain();
    for (const id of [available, waitingDelete]) await cb(id, { status: 'creating', progress: '90%' });
    await cb(failed, { status: 'error' });
    await f.h.worker.drain();
    await call('DELETE', `/v3/proj/snapshots/${waitingDelete}`);
    await call('DELETE', `/v3/proj/snapshots/${deleted}`);
    await f.h.worker.drain();
    const rows = await f.h.db.prisma.snapshot.findMany({ select: { id: true, phase: true } });
    const phase = Object.fromEntries(rows.map((r) => [r.id, r.phase]));
    expect([waitingCreate, available, waitingDelete, failed, deleted].map((id) => phase[id])).toEqual([
      'creating.computeAssisted',
      'available',
      'deleting.computeAssisted',
      'error',
      'deleted',
    ]);
    // One more still in its first phase (nobody drains the worker from here on).
    await snapshot(detached);
  });
  afterAll(async () => {
    await f?.close();
  });

  const run = async (method: string, path: string, raw: string, hdrs: Record<string, string>, parsed: unknown) => {
    const before = await dump(f.h.db);
    const r = await send(f.app, method, path, { raw, headers: hdrs, token: null });
    stats.requests++;
    stats.statuses.set(r.status, (stats.statuses.get(r.status) ?? 0) + 1);
    expect(r.status, `${method} ${path} ${JSON.stringify(hdrs)} ${raw.slice(0, 300)} -> ${r.text}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(isFault(r), r.text).toBe(true);
      stats.refusedCallbacks += expectUnchanged(before, await dump(f.h.db), r, parsed, path);
    }
  };
  const parse = (raw: string) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  };

  it('POST /snapshots/{id}/action: never 5xx; a refused request changes nothing but the allowed history row', async () => {
    await fc.assert(
      fc.asyncProperty(project, snapshotId(pool), rawBody(actionBody), headers, async (p, id, raw, hdrs) => {
        await run('POST', `/v3/${p}/snapshots/${id}/action`, raw, hdrs, parse(raw));
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /snapshots: never 5xx; a refused request changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(project, fc.oneof({ weight: 8, arbitrary: fc.constant('snapshots') }, { weight: 1, arbitrary: fc.constantFrom('snapshots/', 'snapshots/detail', 'snapshots%2F') }), rawBody(createBody(pool)), headers, async (p, collection, raw, hdrs) => {
        await run('POST', `/v3/${p}/${collection}`, raw, hdrs, parse(raw));
      }),
      { numRuns: RUNS },
    );
  });

  it('GET list queries (paging, sorting, filters, all_tenants): never 5xx, and reading changes nothing', async () => {
    const value = fc.oneof(
      fc.constantFrom('0', '1', '2', '-1', '-0', '01', '2147483647', '2147483648', '1e3', '', 'true', 'False', 'maybe', 'asc', 'desc', 'created_at:asc,id', 'name:', ':asc', 'size:desc,status'),
      fc.constantFrom(...pool.snapshots, ...pool.volumes, MISSING),
      fc.constantFrom('\u0000', 'a\u0000b', '%00', '\u00e9', '💥'),
      anyText,
    );
    const key = fc.oneof(fc.constantFrom('limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'all_tenants', 'name', 'status', 'volume_id', 'project_id'), printable);
    const collection = fc.constantFrom('snapshots', 'snapshots/detail', 'volumes', 'volumes/detail');
    await fc.assert(
      fc.asyncProperty(collection, fc.array(fc.tuple(key, value), { maxLength: 4 }), async (c, params) => {
        const query = new URLSearchParams();
        for (const [k, v] of params) query.append(k.replace(/[\uD800-\uDFFF]/gu, '?'), v.replace(/[\uD800-\uDFFF]/gu, '?'));
        const before = await dump(f.h.db);
        const r = await f.call('GET', `/v3/proj/${c}?${query}`);
        expect(r.status, `${c}?${query} -> ${r.text}`).toBeLessThan(500);
        if (r.status >= 400) expect(isFault(r), r.text).toBe(true);
        else expect(Array.isArray(r.json[c.split('/')[0]!])).toBe(true);
        expect(await dump(f.h.db)).toEqual(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('exercised every kind of answer (the generators reach past the front door)', () => {
    // Not a property of the service but of the test: without these the properties above would
    // pass vacuously.
    const seen = [...stats.statuses.keys()];
    expect(stats.requests).toBe(2 * RUNS);
    expect(seen).toEqual(expect.arrayContaining([202, 400]));
    expect(seen.some((s) => s === 404)).toBe(true);
    expect(stats.refusedCallbacks).toBeGreaterThan(0);
  });
});
