// Request schemas of the snapshot resource (src/api/schemas/snapshots.ts): create, update and the
// admin actions. The compute callback's schema is part of its contract: ../snapshot-callback.test.ts.
import { describe, expect, it } from 'vitest';
import { snapshotCreateSchema, snapshotForceDeleteSchema, snapshotResetStatusSchema, snapshotUpdateSchema } from '../../../src/api/schemas/index.js';
import { ok, refused, VID } from './parse.js';

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
