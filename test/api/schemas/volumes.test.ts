// Request schemas of the volume resource (src/api/schemas/volumes.ts): create, update and actions.
import { describe, expect, it } from 'vitest';
import {
  attachSchema,
  beginDetachingSchema,
  detachSchema,
  initializeConnectionSchema,
  reserveSchema,
  terminateConnectionSchema,
  unreserveSchema,
  volumeCreateSchema,
  volumeForceDeleteSchema,
  volumeResetStatusSchema,
  volumeUpdateSchema,
} from '../../../src/api/schemas/index.js';
import { IID, ok, refused, VID } from './parse.js';

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
  // volume_size_allows_null: null (or no size) is the schema's to take; the manager refuses it unless the volume has a source.
  it.each([0, -1, 1.5, '1.5', '', 'ten', 2147483648, '99999999999999999999'])('size %j is refused', (size) => {
    expect(refused(volumeCreateSchema, { volume: { size } })).toContain('volume.size');
  });
  it.each([
    [{}, 'volume'],
    [{ volume: { size: 1, colour: 'red' } }, "'colour' was unexpected"],
    [{ volume: { size: 1, snapshot_id: 'nope' } }, 'volume.snapshot_id'],
    [{ volume: { size: 1, source_volid: 'nope' } }, 'volume.source_volid'],
    [{ volume: { size: 1, backup_id: VID } }, 'creating a volume with backup_id is not supported by this service; only blank volumes are.'],
    [{ volume: { size: 1, imageRef: 'cirros' } }, 'volume.imageRef'],
    [{ volume: { size: 1, metadata: { a: 1 } } }, 'metadata values must be strings'],
    [{ volume: { size: 1, metadata: { '': 'b' } } }, 'metadata keys must be 1 to 255 characters'],
    [{ volume: { size: 1, multiattach: 'maybe' } }, 'volume.multiattach'],
    [{ volume: { size: 1, name: 'n'.repeat(256) } }, 'volume.name'],
  ])('refuses %j', (body, fragment) => {
    expect(refused(volumeCreateSchema, body)).toContain(fragment);
  });
  it('volume update needs one field and stays closed', () => {
    expect(ok(volumeUpdateSchema, { volume: { display_name: 'x' } }).volume.name).toBe('x');
    expect(ok(volumeUpdateSchema, { volume: { metadata: {} } }).volume.metadata).toEqual({});
    expect(ok(volumeUpdateSchema, { volume: { metadata: { a: 'b' } } }).volume.metadata).toEqual({ a: 'b' });
    expect(refused(volumeUpdateSchema, { volume: { metadata: { a: 'v'.repeat(256) } } })).toContain('metadata values must be at most 255 characters');
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
    // Cinder's checkers skip null and "", and then want one real status.
    expect(refused(volumeResetStatusSchema, { 'os-reset_status': { status: '' } })).toContain("Must specify 'status'");
    expect(refused(volumeResetStatusSchema, { 'os-reset_status': { status: null, attach_status: '' } })).toContain("Must specify 'status'");
    expect(ok(volumeResetStatusSchema, { 'os-reset_status': { status: '', attach_status: 'Detached' } })['os-reset_status']).toEqual({ status: null, attach_status: 'detached' });
  });
});
