// The microversion table (src/api/microversions.ts) and the views that follow it: every gated
// field of the volume and snapshot views is absent one minor version before its gate and present
// from it on (for the callers it is meant for), as Cinder's views have them.
import { describe, expect, it } from 'vitest';
import { COLLECTION_FIELD_GATES, MV, shows, SNAPSHOT_FIELD_GATES, supports, VOLUME_FIELD_GATES } from '../../src/api/microversions.js';
import { parseApiVersion, type ApiVersion } from '../../src/api/version.js';
import { snapshotView, volumeSummaryTotalsView, volumeView } from '../../src/api/views.js';
import type { Snapshot } from '../../src/db/client.js';
import type { VolumeWithAttachments } from '../../src/engine/store/index.js';
import { responseSchemas } from '../../src/api/schemas/responses.js';

const at = (v: string) => parseApiVersion(v);
const before = (v: string): ApiVersion => {
  const p = parseApiVersion(v);
  return { major: p.major, minor: p.minor - 1 };
};

const now = new Date('2026-11-29T12:00:00Z');
const volume: VolumeWithAttachments & { encryptionKeyId?: string | null } = {
  id: '11111111-1111-4111-8111-111111111111',
  projectId: 'p',
  userId: 'u',
  name: 'v',
  description: null,
  size: 1,
  status: 'available',
  attachStatus: 'detached',
  providerLocation: null,
  createdAt: now,
  updatedAt: now,
  volumeTypeId: '22222222-2222-4222-8222-222222222222',
  volumeType: { name: '__DEFAULT__' },
  groupId: null,
  snapshotId: null,
  sourceVolid: null,
  deletedAt: null,
  deleted: false,
  machineState: '{}',
  phase: 'available',
  version: 2,
  phaseEnteredAt: now,
  errorReason: null,
  bootable: true,
  attachments: [],
  metadata: [{ id: 1, volumeId: 'x', key: 'k', value: 'v', createdAt: now, updatedAt: now, deletedAt: null, deleted: false }],
  adminMetadata: [
    { id: 1, volumeId: 'x', key: 'readonly', value: 'True', createdAt: now, updatedAt: now, deletedAt: null, deleted: false },
    { id: 2, volumeId: 'x', key: 'format', value: 'qcow2', createdAt: now, updatedAt: now, deletedAt: null, deleted: false },
  ],
};
const snapshot = {
  id: '22222222-2222-4222-8222-222222222222',
  volumeId: volume.id,
  projectId: 'p',
  userId: 'u',
  name: 's',
  description: null,
  status: 'available',
  progress: '100%',
  volumeSize: 1,
  createdAt: now,
  updatedAt: now,
} as Snapshot;

const volumeAt = (version: ApiVersion, admin: boolean, extra: Partial<typeof volume> = {}) =>
  volumeView({ ...volume, ...extra }, 'http://x/v', { version, admin, extensions: false, host: 'h@remotefs#remotefs' }) as Record<string, unknown>;
const snapshotAt = (version: ApiVersion, detail = true) =>
  snapshotView(snapshot, {}, { version, admin: false, detail, extended: false }) as Record<string, unknown>;

describe('the microversion table', () => {
  it("holds Cinder's numbers for the gates the views use", () => {
    expect(MV).toMatchObject({
      VOLUME_SUMMARY: '3.12',
      GROUP_VOLUME: '3.13',
      GROUP_SNAPSHOTS: '3.14',
      VOLUME_DETAIL_PROVIDER_ID: '3.21',
      VOLUME_SUMMARY_METADATA: '3.36',
      SNAPSHOT_LIST_USER_ID: '3.41',
      SUPPORT_COUNT_INFO: '3.45',
      VOLUME_SHARED_TARGETS_AND_SERVICE_FIELDS: '3.48',
      VOLUME_CLUSTER_NAME: '3.61',
      VOLUME_TYPE_ID_IN_VOLUME_DETAIL: '3.63',
      ENCRYPTION_KEY_ID_IN_DETAILS: '3.64',
      USE_QUOTA: '3.65',
      SNAPSHOT_IN_USE: '3.66',
    });
    expect(supports(at('3.40'), MV.SNAPSHOT_LIST_USER_ID)).toBe(false);
    expect(supports(at('3.41'), MV.SNAPSHOT_LIST_USER_ID)).toBe(true);
    expect(supports(at('3.70'), MV.SNAPSHOT_LIST_USER_ID)).toBe(true);
    expect(shows(COLLECTION_FIELD_GATES, 'count', at('3.44'), true)).toBe(false);
    expect(shows(COLLECTION_FIELD_GATES, 'count', at('3.45'), false)).toBe(true);
  });
});

describe('volume view gates', () => {
  // encryption_key_id needs a key to show; the others show whenever their gate is open.
  const keyed = { encryptionKeyId: '33333333-3333-4333-8333-333333333333' };
  for (const [field, gate] of Object.entries(VOLUME_FIELD_GATES)) {
    it(`${field}: from ${gate.since}${gate.admin ? ', to admins only' : ''}`, () => {
      expect(volumeAt(before(gate.since), true, keyed)).not.toHaveProperty(field);
      expect(volumeAt(at(gate.since), true, keyed)).toHaveProperty(field);
      expect(volumeAt(at('3.70'), true, keyed)).toHaveProperty(field);
      if (gate.admin) expect(volumeAt(at('3.70'), false, keyed)).not.toHaveProperty(field);
      else expect(volumeAt(at(gate.since), false, keyed)).toHaveProperty(field);
    });
  }

  it('has no gated field at 3.0, and every body matches the documented schema', () => {
    const base = volumeAt(at('3.0'), false);
    for (const field of Object.keys(VOLUME_FIELD_GATES)) expect(base).not.toHaveProperty(field);
    for (const version of ['3.0', '3.12', '3.13', '3.21', '3.48', '3.61', '3.63', '3.64', '3.65', '3.70']) {
      for (const admin of [false, true]) responseSchemas.volume.parse({ volume: volumeAt(at(version), admin, keyed) });
    }
  });

  it("shows no encryption key without one, nor Cinder's fixed key", () => {
    expect(volumeAt(at('3.70'), false)).not.toHaveProperty('encryption_key_id');
    expect(volumeAt(at('3.70'), false, { encryptionKeyId: '00000000-0000-0000-0000-000000000000' })).not.toHaveProperty('encryption_key_id');
    expect(volumeAt(at('3.64'), false, keyed)).toMatchObject({ encryption_key_id: keyed.encryptionKeyId, encrypted: true });
  });

  it('shows bootable, the user metadata and the visible admin metadata (readonly), not the rest', () => {
    expect(volumeAt(at('3.0'), false)).toMatchObject({ bootable: 'true', metadata: { k: 'v', readonly: 'True' } });
    expect(volumeAt(at('3.0'), false).metadata).not.toHaveProperty('format');
  });

  it('adds the attribute extensions where asked: host@backend#pool and migration for admins only, the tenant for every reader', () => {
    const show = (admin: boolean) => volumeView(volume, 'http://x/v', { version: at('3.0'), admin, extensions: true, host: 'h@remotefs#remotefs' }) as Record<string, unknown>;
    expect(show(true)).toMatchObject({ 'os-vol-host-attr:host': expect.stringMatching(/^.+@.+#.+$/), 'os-vol-tenant-attr:tenant_id': 'p', 'os-vol-mig-status-attr:migstat': null });
    expect(show(false)).not.toHaveProperty('os-vol-host-attr:host');
    expect(show(false)).not.toHaveProperty('os-vol-mig-status-attr:migstat');
    expect(show(false)).toHaveProperty('os-vol-tenant-attr:tenant_id', 'p');
    expect(volumeAt(at('3.0'), false)).not.toHaveProperty('os-vol-tenant-attr:tenant_id');
    // Create and update answer without them (Cinder's extensions decorate show and detail only).
    expect(volumeAt(at('3.0'), true)).not.toHaveProperty('os-vol-host-attr:host');
    expect(volumeAt(at('3.0'), true)).toHaveProperty('migration_status', null);
  });
});

describe('snapshot view gates', () => {
  for (const [field, gate] of Object.entries(SNAPSHOT_FIELD_GATES)) {
    it(`${field}: from ${gate.since}, in the detailed view only`, () => {
      expect(snapshotAt(before(gate.since))).not.toHaveProperty(field);
      expect(snapshotAt(at(gate.since))).toHaveProperty(field);
      expect(snapshotAt(at('3.70'), false)).not.toHaveProperty(field);
    });
  }

  it('has no user_id at 3.0 (what Tempest checks), and every body matches the documented schema', () => {
    expect(Object.keys(snapshotAt(at('3.0'))).sort()).toEqual(['created_at', 'description', 'id', 'metadata', 'name', 'size', 'status', 'updated_at', 'volume_id']);
    expect(snapshotAt(at('3.41'))).toMatchObject({ user_id: 'u', group_snapshot_id: null });
    for (const version of ['3.0', '3.14', '3.41', '3.65', '3.70']) responseSchemas.snapshot.parse({ snapshot: snapshotAt(at(version)) });
  });
});

describe('volume summary', () => {
  it('has the distinct metadata from 3.36 on', () => {
    const summary = { count: 2, totalSize: 3, metadata: { a: ['1'] } };
    expect(volumeSummaryTotalsView(summary, before(MV.VOLUME_SUMMARY_METADATA))).toEqual({ 'volume-summary': { total_count: 2, total_size: 3 } });
    expect(volumeSummaryTotalsView(summary, at(MV.VOLUME_SUMMARY_METADATA))).toEqual({ 'volume-summary': { total_count: 2, total_size: 3, metadata: { a: ['1'] } } });
  });
});
