// src/config.ts is the one place settings are read; the README's settings table documents exactly
// those settings, with the same defaults.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { limitsOf, loadAgentConfig, loadConfig, QCOW2_MAX_SIZE_GIB, settingNames } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### Settings (environment)'), readme.indexOf('\n## ', readme.indexOf('### Settings (environment)')));
const tableRows = section.split('\n').filter((l) => l.startsWith('| `'));

describe('settings', () => {
  it('the README table names every setting src/config.ts reads, and no other', () => {
    const documented = new Set([...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    expect([...documented].sort()).toEqual([...settingNames].sort());
  });

  it('the README gives each setting the default src/config.ts applies', () => {
    const defaults = { ...loadAgentConfig({}), ...loadConfig({}) } as Record<string, unknown>;
    for (const row of tableRows) {
      const [names, given] = row.split('|').slice(1, 3).map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
      names!.forEach((name, i) => {
        const value = defaults[name];
        // A row without a literal default ("unset", "random", prose) documents an optional setting.
        if (given![i] === undefined) expect(value === undefined || typeof value === 'string', `${name}`).toBe(true);
        else expect(String(value), `${name}`).toBe(given![i]);
      });
    }
  });

  it('switches the inspector on by INSPECT=1 or --inspect only', () => {
    expect(loadConfig({}).INSPECT).toBe(false);
    expect(loadConfig({ INSPECT: '1' }).INSPECT).toBe(true);
    expect(loadConfig({ INSPECT: '0' }).INSPECT).toBe(false);
    expect(loadConfig({}, ['--inspect']).INSPECT).toBe(true);
  });

  it('refuses a bad value with the variable named', () => {
    expect(() => loadConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => loadAgentConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('limits volumes to the largest qcow2 image unless told otherwise, and never above it with remotefs', () => {
    const unlimited = { volumes: -1, snapshots: -1, gigabytes: -1, backups: -1, backup_gigabytes: -1, groups: -1 };
    expect(limitsOf(loadConfig({}))).toEqual({ maxVolumeSizeGiB: QCOW2_MAX_SIZE_GIB, maxMetadataItems: 128, quotas: unlimited });
    // Cinder's defaults, when an operator wants them; below -1 is refused.
    expect(limitsOf(loadConfig({ QUOTA_VOLUMES: '10', QUOTA_SNAPSHOTS: '10', QUOTA_GIGABYTES: '1000' })).quotas).toEqual({ ...unlimited, volumes: 10, snapshots: 10, gigabytes: 1000 });
    for (const bad of ['-2', '1.5', '2147483648', 'ten']) expect(() => loadConfig({ QUOTA_GIGABYTES: bad })).toThrow(/QUOTA_GIGABYTES/);
    expect(loadConfig({ VOLUME_MAX_SIZE_GB: '1000' }).VOLUME_MAX_SIZE_GB).toBe(1000);
    expect(() => loadConfig({ VOLUME_MAX_SIZE_GB: String(QCOW2_MAX_SIZE_GIB + 1) })).toThrow(/VOLUME_MAX_SIZE_GB: the remotefs driver keeps volumes as qcow2 images, which hold at most 2097152 GiB/);
    // The bookkeeping driver keeps no data: anything Cinder's size type takes.
    expect(loadConfig({ VOLUME_DRIVER: 'bookkeeping', VOLUME_MAX_SIZE_GB: '2147483647' }).VOLUME_MAX_SIZE_GB).toBe(2147483647);
    for (const bad of ['0', '-1', '1.5', '2147483648', 'big']) expect(() => loadConfig({ VOLUME_DRIVER: 'bookkeeping', VOLUME_MAX_SIZE_GB: bad })).toThrow(/VOLUME_MAX_SIZE_GB/);
    expect(() => loadConfig({ METADATA_MAX_ITEMS: '0' })).toThrow(/METADATA_MAX_ITEMS/);
  });
});
