// The scheduler's capability check (src/manager/extra-specs.ts), case by case from Cinder's
// extra_specs_ops and CapabilitiesFilter tests, and against this backend's own pool capabilities.
import { describe, expect, it } from 'vitest';
import { matchSpec, unmetSpec } from '../../src/manager/extra-specs.js';

describe("extra_specs_ops.match, as Cinder's tests have it", () => {
  it.each([
    ['1', '1', true],
    ['a', 'b', false],
    ['123', '= 123', true],
    ['124', '= 123', true],
    ['122', '= 123', false],
    ['12311321', '<in> 11', true],
    ['12311321', '<in> 12311321', true],
    ['12310321', '<in> 11', false],
    ['true', '<is> True', true],
    ['false', '<is> True', false],
    ['123', '== 123', true],
    ['124', '== 123', false],
    ['124', '!= 123', true],
    ['124', '>= 123', true],
    ['122', '<= 123', true],
    ['nfs', 's== nfs', true],
    ['12', 's< 2', true],
    ['12', '<or> 11 <or> 12', true],
    ['13', '<or> 11 <or> 12', false],
    ['abc', '>= 1', false],
  ] as const)('%s against %s: %s', (value, req, expected) => {
    expect(matchSpec(value, req)).toBe(expected);
  });
  it('a missing requirement matches a missing value only', () => {
    expect(matchSpec(null, null)).toBe(true);
    expect(matchSpec('x', null)).toBe(false);
    expect(matchSpec(null, '<is> True')).toBe(false);
  });
});

describe('unmetSpec against a RemoteFS pool', () => {
  const caps = { vendor_name: 'Open Source', storage_protocol: 'nfs', volume_backend_name: 'remotefs', thin_provisioning_support: true, total_capacity_gb: 100 };
  it('accepts what the backend reports, protocol variants and other scopes included', () => {
    expect(unmetSpec({}, caps)).toBeNull();
    expect(unmetSpec({ vendor_name: 'Open Source', storage_protocol: 'NFS', volume_backend_name: 'remotefs' }, caps)).toBeNull();
    expect(unmetSpec({ 'capabilities:thin_provisioning_support': '<is> True', 'qos:maxIOPS': '100', 'capabilities:total_capacity_gb': '>= 50' }, caps)).toBeNull();
  });
  it("refuses Tempest's bogus type, an unknown capability and a failed comparison", () => {
    expect(unmetSpec({ storage_protocol: 'tempest-storage_protocol-1', vendor_name: 'tempest-vendor_name-2' }, caps)).toBe('storage_protocol');
    expect(unmetSpec({ replication_enabled: '<is> True' }, caps)).toBe('replication_enabled');
    expect(unmetSpec({ 'capabilities:total_capacity_gb': '>= 500' }, caps)).toBe('capabilities:total_capacity_gb');
  });
});
