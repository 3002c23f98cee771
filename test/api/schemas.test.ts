import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { ApiFault } from '../../src/http/faults/index.js';
import {
  attachSchema,
  detachSchema,
  initializeConnectionSchema,
  reserveSchema,
  snapshotCreateSchema,
  snapshotForceDeleteSchema,
  snapshotListQuerySchema,
  snapshotResetStatusSchema,
  snapshotUpdateSchema,
  terminateConnectionSchema,
  updateSnapshotStatusSchema,
  volumeCreateSchema,
  volumeForceDeleteSchema,
  volumeResetStatusSchema,
  volumeUpdateSchema,
  beginDetachingSchema,
  unreserveSchema,
} from '../../src/api/schemas/index.js';
import { parseOrFault } from '../../src/http/validation/index.js';

const VID = '2b9d9d5e-6f43-4c1a-9b8e-0a4a7a3c1f00';
const IID = 'AB5CA8F1-0E35-4F2A-8B3C-7D1E2F3A4B5C';

function ok<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseOrFault(schema, body);
}

/** The 400 message for a refused body (fails the test if the body is accepted or something else is thrown). */
function refused(schema: z.ZodType, body: unknown): string {
  try {
    parseOrFault(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiFault);
    expect((err as ApiFault).code).toBe(400);
    return (err as ApiFault).message;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}

describe('snapshot create', () => {
  it('accepts the minimal and the full body, normalising aliases and booleans', () => {
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID } })).toEqual({
      snapshot: { volume_id: VID, name: undefined, description: undefined, force: undefined, metadata: undefined },
    });
    expect(
      ok(snapshotCreateSchema, {
        snapshot: { volume_id: VID.toUpperCase(), name: 'n', description: 'd', force: 'True', metadata: { 'a:b/c d': 'v' } },
      }).snapshot,
    ).toEqual({ volume_id: VID, name: 'n', description: 'd', force: true, metadata: { 'a:b/c d': 'v' } });
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID, display_name: 'old' } }).snapshot.name).toBe('old');
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID, display_name: 'old', name: 'new' } }).snapshot.name).toBe('new');
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID, name: '', description: null, metadata: null } }).snapshot).toMatchObject({
      name: '',
      description: null,
      metadata: null,
    });
  });

  it.each([true, 'true', 'True', 'TRUE', '1', 'on', 'ON', 'On', 'yes', 'YES', 'Yes', 'y', 't'])('force %j is true', (v) => {
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID, force: v } }).snapshot.force).toBe(true);
  });
  it.each([false, 'false', 'False', 'FALSE', '0', 'off', 'OFF', 'Off', 'no', 'NO', 'No', 'n', 'f'])('force %j is false', (v) => {
    expect(ok(snapshotCreateSchema, { snapshot: { volume_id: VID, force: v } }).snapshot.force).toBe(false);
  });
  it.each([1, 0, null, '', 'tRuE', 'yep', 'T', 'F', ' true', {}])('force %j is refused', (v) => {
    expect(refused(snapshotCreateSchema, { snapshot: { volume_id: VID, force: v } })).toMatch(/snapshot\.force/);
  });

  it.each([
    [{}, "'snapshot' is a required property"],
    [{ snapshot: {} }, "'volume_id' is a required property in snapshot"],
    [{ snapshot: { volume_id: 'abc' } }, 'snapshot.volume_id'],
    [{ snapshot: { volume_id: VID, display_description: 'x' } }, "'display_description' was unexpected"],
    [{ snapshot: { volume_id: VID }, extra: 1 }, "'extra' was unexpected"],
    [{ snapshot: { volume_id: VID, name: 'x'.repeat(256) } }, 'snapshot.name'],
    [{ snapshot: { volume_id: VID, description: 'line\nbreak' } }, 'snapshot.description'],
    [{ snapshot: { volume_id: VID, metadata: { '': 'v' } } }, 'snapshot.metadata'],
    [{ snapshot: { volume_id: VID, metadata: { ['k'.repeat(256)]: 'v' } } }, 'snapshot.metadata'],
    [{ snapshot: { volume_id: VID, metadata: { 'bad*key': 'v' } } }, 'snapshot.metadata'],
    [{ snapshot: { volume_id: VID, metadata: { k: 1 } } }, 'snapshot.metadata.k'],
    [{ snapshot: { volume_id: VID, metadata: { k: 'v'.repeat(256) } } }, 'snapshot.metadata.k'],
  ])('refuses %j', (body, fragment) => {
    expect(refused(snapshotCreateSchema, body)).toContain(fragment);
  });
});

describe('snapshot update', () => {
  it('accepts any one field and maps aliases', () => {
    expect(ok(snapshotUpdateSchema, { snapshot: { name: 'a' } }).snapshot).toEqual({ name: 'a', description: undefined });
    expect(ok(snapshotUpdateSchema, { snapshot: { display_description: 'd' } }).snapshot).toEqual({ name: undefined, description: 'd' });
    expect(ok(snapshotUpdateSchema, { snapshot: { description: null } }).snapshot.description).toBeNull();
  });
  it.each([{ snapshot: {} }, { snapshot: { size: 3 } }, { snapshot: { name: 3 } }, {}])('refuses %j', (body) => {
    refused(snapshotUpdateSchema, body);
  });
});

describe('os-update_snapshot_status', () => {
  const body = (fields: Record<string, unknown>) => ({ 'os-update_snapshot_status': fields });

  const goodProgress = ['0%', '5%', '9%', '10%', '50%', '90%', '99%', '100%'];
  const badProgress: unknown[] = [' 50%', '50% ', '+5%', '-5%', '050%', '00%', '101%', '1000%', '50', '%', '', '5.0%', '5 %', 'fifty%', 0, 50, null, true, ['50%'], {}];

  it.each(goodProgress)('progress %j is accepted (also as compute_progress)', (p) => {
    expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', progress: p }))['os-update_snapshot_status'].progress).toBe(p);
    expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', compute_progress: p }))['os-update_snapshot_status'].compute_progress).toBe(p);
  });

  it.each(badProgress)('progress %j is refused with a clear message (also as compute_progress)', (p) => {
    const msg = refused(updateSnapshotStatusSchema, body({ status: 'creating', progress: p }));
    expect(msg).toContain('os-update_snapshot_status.progress');
    expect(msg).toContain('integer percentage');
    expect(refused(updateSnapshotStatusSchema, body({ status: 'creating', compute_progress: p }))).toContain(
      'os-update_snapshot_status.compute_progress',
    );
  });

  it('accepts every valid compute_snapshot_status and the legacy shape', () => {
    for (const s of ['in-progress', 'complete', 'error']) {
      expect(ok(updateSnapshotStatusSchema, body({ status: 'creating', compute_snapshot_status: s }))).toEqual(
        body({ status: 'creating', compute_snapshot_status: s }),
      );
    }
    expect(ok(updateSnapshotStatusSchema, body({ status: 'deleting', progress: '90%' }))).toEqual(body({ status: 'deleting', progress: '90%' }));
  });

  it.each([
    [body({}), "'status' is a required property in os-update_snapshot_status"],
    [body({ status: 5 }), 'os-update_snapshot_status.status'],
    [body({ status: null }), 'os-update_snapshot_status.status'],
    [body({ status: 'creating', compute_snapshot_status: 'done' }), 'os-update_snapshot_status.compute_snapshot_status'],
    [body({ status: 'creating', compute_snapshot_status: 'COMPLETE' }), 'os-update_snapshot_status.compute_snapshot_status'],
    [body({ status: 'creating', progress: '90%', extra: 1 }), "'extra' was unexpected"],
    [{ 'os-update_snapshot_status': { status: 'creating' }, other: {} }, "'other' was unexpected"],
    [{ 'os-update_snapshot_status': null }, 'os-update_snapshot_status'],
    [{ 'os-update_snapshot_status': 'creating' }, 'os-update_snapshot_status'],
  ])('refuses %j', (b, fragment) => {
    expect(refused(updateSnapshotStatusSchema, b)).toContain(fragment);
  });

  it('never throws anything but a 400 ApiFault for arbitrary JSON', () => {
    const field = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom('creating', 'deleting', '90%', '100%', ' 50%', '050%', 'in-progress', 'complete', 'error'),
    );
    const inner = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { status: field, progress: field, compute_snapshot_status: field, compute_progress: field, other: field },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string(), field),
    );
    const bodyArb = fc.oneof(
      fc.jsonValue(),
      inner.map((v) => ({ 'os-update_snapshot_status': v })),
      fc.tuple(fc.string(), inner).map(([k, v]) => ({ 'os-update_snapshot_status': v, [k]: v })),
    );
    fc.assert(
      fc.property(bodyArb, (b) => {
        try {
          const parsed = parseOrFault(updateSnapshotStatusSchema, b);
          const fields = parsed['os-update_snapshot_status'];
          // Whatever got through has exactly the promised shape.
          expect(typeof fields.status).toBe('string');
          for (const p of [fields.progress, fields.compute_progress]) {
            if (p !== undefined) expect(p).toMatch(/^(100|[1-9]?[0-9])%$/);
          }
        } catch (err) {
          if (!(err instanceof ApiFault) || err.code !== 400) throw err;
          expect(err.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('snapshot admin actions', () => {
  it('os-reset_status takes a known status, case-insensitively', () => {
    expect(ok(snapshotResetStatusSchema, { 'os-reset_status': { status: 'ERROR' } })).toEqual({ 'os-reset_status': { status: 'error' } });
    expect(refused(snapshotResetStatusSchema, { 'os-reset_status': { status: 'bogus' } })).toContain('valid statuses are');
    refused(snapshotResetStatusSchema, { 'os-reset_status': {} });
    refused(snapshotResetStatusSchema, { 'os-reset_status': { status: 'error', progress: '1%' } });
  });
  it('os-force_delete takes {} or null only', () => {
    expect(ok(snapshotForceDeleteSchema, { 'os-force_delete': {} })).toEqual({ 'os-force_delete': {} });
    expect(ok(snapshotForceDeleteSchema, { 'os-force_delete': null })).toEqual({ 'os-force_delete': null });
    refused(snapshotForceDeleteSchema, { 'os-force_delete': { force: true } });
    refused(snapshotForceDeleteSchema, { 'os-force_delete': [] });
  });
});

describe('volume create / update', () => {
  it('accepts what cinderclient sends (unused sources as null)', () => {
    const body = {
      volume: {
        size: 1,
        consistencygroup_id: null,
        snapshot_id: null,
        name: 'v',
        description: null,
        volume_type: null,
        availability_zone: null,
        metadata: {},
        imageRef: null,
        source_volid: null,
        backup_id: null,
      },
    };
    expect(ok(volumeCreateSchema, body).volume).toMatchObject({ size: 1, name: 'v', description: null, metadata: {} });
  });
  it('takes size as integer or digit string', () => {
    expect(ok(volumeCreateSchema, { volume: { size: '10' } }).volume.size).toBe(10);
    expect(ok(volumeCreateSchema, { volume: { size: 2147483647 } }).volume.size).toBe(2147483647);
  });
  it.each([0, -1, 1.5, '1.5', '', 'ten', null, 2147483648, '99999999999999999999'])('size %j is refused', (size) => {
    expect(refused(volumeCreateSchema, { volume: { size } })).toContain('volume.size');
  });
  it.each([
    [{ volume: {} }, "'size' is a required property in volume"],
    [{ volume: { size: 1, colour: 'red' } }, "'colour' was unexpected"],
    [{ volume: { size: 1, snapshot_id: 'nope' } }, 'volume.snapshot_id'],
    [{ volume: { size: 1, multiattach: 'maybe' } }, 'volume.multiattach'],
    [{ volume: { size: 1, name: 'n'.repeat(256) } }, 'volume.name'],
  ])('refuses %j', (body, fragment) => {
    expect(refused(volumeCreateSchema, body)).toContain(fragment);
  });
  it('volume update needs one field and stays closed', () => {
    expect(ok(volumeUpdateSchema, { volume: { display_name: 'x' } }).volume.name).toBe('x');
    expect(ok(volumeUpdateSchema, { volume: { metadata: { a: 'b' } } }).volume.metadata).toEqual({ a: 'b' });
    refused(volumeUpdateSchema, { volume: {} });
    refused(volumeUpdateSchema, { volume: { size: 2 } });
  });
});

describe('volume actions', () => {
  it.each([
    [reserveSchema, 'os-reserve'],
    [unreserveSchema, 'os-unreserve'],
    [beginDetachingSchema, 'os-begin_detaching'],
    [volumeForceDeleteSchema, 'os-force_delete'],
  ] as const)('%# no-argument action accepts null and {}', (schema, key) => {
    ok(schema, { [key]: null });
    ok(schema, { [key]: {} });
    refused(schema, { [key]: { x: 1 } });
    refused(schema, {});
  });

  it('os-initialize_connection / os-terminate_connection need a connector', () => {
    const connector = { initiator: 'iqn.1993-08.org.debian:01:abc', host: 'compute1', ip: '127.0.0.1', multipath: false };
    expect(ok(initializeConnectionSchema, { 'os-initialize_connection': { connector } })).toEqual({ 'os-initialize_connection': { connector } });
    refused(initializeConnectionSchema, { 'os-initialize_connection': {} });
    refused(initializeConnectionSchema, { 'os-initialize_connection': { connector: null } });
    refused(initializeConnectionSchema, { 'os-initialize_connection': { connector, extra: 1 } });
    ok(terminateConnectionSchema, { 'os-terminate_connection': { connector: null } });
    refused(terminateConnectionSchema, { 'os-terminate_connection': {} });
  });

  it('os-attach needs mountpoint and instance_uuid or host_name', () => {
    expect(ok(attachSchema, { 'os-attach': { instance_uuid: IID, mountpoint: '/dev/vdb' } })['os-attach'].instance_uuid).toBe(IID.toLowerCase());
    ok(attachSchema, { 'os-attach': { host_name: 'h', mountpoint: '/dev/vdb', mode: 'ro' } });
    expect(refused(attachSchema, { 'os-attach': { instance_uuid: IID } })).toContain("'mountpoint' is a required property");
    refused(attachSchema, { 'os-attach': { mountpoint: '/dev/vdb' } });
    refused(attachSchema, { 'os-attach': { instance_uuid: 'i-1', mountpoint: '/dev/vdb' } });
    expect(refused(attachSchema, { 'os-attach': { instance_uuid: IID, mountpoint: '/dev/vdb', mode: 'rwx' } })).toContain('os-attach.mode');
    refused(attachSchema, { 'os-attach': { instance_uuid: IID, mountpoint: '' } });
  });

  it('os-detach takes null, {} or an attachment_id', () => {
    ok(detachSchema, { 'os-detach': null });
    ok(detachSchema, { 'os-detach': {} });
    ok(detachSchema, { 'os-detach': { attachment_id: null } });
    expect(ok(detachSchema, { 'os-detach': { attachment_id: VID } })['os-detach']?.attachment_id).toBe(VID);
    refused(detachSchema, { 'os-detach': { attachment_id: 'x' } });
    refused(detachSchema, { 'os-detach': { instance_uuid: VID } });
  });

  it('volume os-reset_status needs one of the three statuses', () => {
    expect(ok(volumeResetStatusSchema, { 'os-reset_status': { status: 'In-Use' } })['os-reset_status'].status).toBe('in-use');
    ok(volumeResetStatusSchema, { 'os-reset_status': { attach_status: 'detached' } });
    expect(refused(volumeResetStatusSchema, { 'os-reset_status': {} })).toContain("Must specify 'status'");
    refused(volumeResetStatusSchema, { 'os-reset_status': { status: 'sleeping' } });
  });
});

describe('list query parameters', () => {
  const q = (params: Record<string, string>) => parseOrFault(snapshotListQuerySchema, params, 'query string');
  const bad = (params: Record<string, string>) => refused(snapshotListQuerySchema, params);

  it('defaults and parses', () => {
    expect(q({})).toEqual({ limit: undefined, offset: 0, marker: undefined, sort: [{ key: 'created_at', dir: 'desc' }], allTenants: false, filters: {} });
    expect(q({ limit: '0', offset: '5', marker: VID, sort: 'name:asc,id', all_tenants: '1', status: 'available' })).toEqual({
      limit: 0,
      offset: 5,
      marker: VID,
      sort: [
        { key: 'name', dir: 'asc' },
        { key: 'id', dir: 'desc' },
      ],
      allTenants: true,
      filters: { status: 'available' },
    });
    expect(q({ sort_key: 'size', sort_dir: 'asc' }).sort).toEqual([{ key: 'size', dir: 'asc' }]);
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
