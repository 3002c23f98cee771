// Collection pages with Cinder's paging (src/manager/listing.ts): sort keys translated to columns
// with the id as the last tie-break, filters Cinder knows (others ignored), project scope, and
// `marker` / `offset` / `limit`.
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidRequest, NotFound } from '../../src/manager/errors.js';
import { parseMetadataFilter, type ListOptions } from '../../src/manager/listing.js';
import { freshDatabaseUrl, providers } from '../support/databases.js';
import { harness, type Harness, createdVolume } from '../support/harness.js';

const list = (o: Partial<ListOptions> = {}): ListOptions => ({ projectId: 'project-a', filters: {}, sort: [], ...o });

describe.each(providers)('listing on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** Three volumes of project-a a second apart (v1 oldest), one of project-b; a snapshot each. */
  const seed = async () => {
    h = await harness(await freshDatabaseUrl(provider));
    const volumes = [];
    for (const [name, projectId, size] of [['v1', 'project-a', 3], ['v2', 'project-a', 1], ['v3', 'project-a', 2], ['other', 'project-b', 1]] as const) {
      volumes.push(await createdVolume(h, { projectId, userId: 'user', size, name }));
      h.clock.advance(1);
    }
    const snapshots = [];
    for (const v of volumes) {
      snapshots.push(await h.manager.createSnapshot({ volumeId: v.id, projectId: v.projectId, userId: 'user', name: `s-${v.name}`, metadata: { of: v.name! } }));
      h.clock.advance(1);
    }
    return { volumes, snapshots };
  };
  const names = (rows: Array<{ name: string | null }>) => rows.map((r) => r.name);

  it('lists the caller project newest first, and every project when unscoped', async () => {
    await seed();
    expect(names(await h.manager.listVolumes(list()))).toEqual(['v3', 'v2', 'v1']);
    expect(names(await h.manager.listVolumes(list({ projectId: null })))).toEqual(['other', 'v3', 'v2', 'v1']);
    const snapshots = await h.manager.listSnapshots(list());
    expect(names(snapshots)).toEqual(['s-v3', 's-v2', 's-v1']);
    // Snapshots come with their live user metadata, volumes with their live attachments.
    expect(snapshots.map((s) => s.metadata.map((m) => [m.key, m.value]))).toEqual([[['of', 'v3']], [['of', 'v2']], [['of', 'v1']]]);
    expect((await h.manager.listVolumes(list())).map((v) => v.attachments)).toEqual([[], [], []]);
  });

  it("sorts by Cinder's keys, ties broken by the id in the last key's direction", async () => {
    await seed();
    expect(names(await h.manager.listVolumes(list({ sort: [{ key: 'size', dir: 'asc' }, { key: 'display_name', dir: 'desc' }] })))).toEqual(['v2', 'v3', 'v1']);
    expect(names(await h.manager.listSnapshots(list({ sort: [{ key: 'name', dir: 'asc' }] })))).toEqual(['s-v1', 's-v2', 's-v3']);
    const all = await h.manager.listVolumes(list({ projectId: null, sort: [{ key: 'project_id', dir: 'desc' }] }));
    expect(all[0].name).toBe('other');
    const sameProject = all.slice(1).map((v) => v.id);
    expect(sameProject).toEqual([...sameProject].sort().reverse());
    await expect(h.manager.listVolumes(list({ sort: [{ key: 'attach_status', dir: 'asc' }] }))).rejects.toThrow(
      new InvalidRequest('Invalid input received: sort key attach_status is not supported.'),
    );
  });

  it('filters on the keys Cinder knows, ignores the others, and never widens the project scope', async () => {
    const { volumes } = await seed();
    expect(names(await h.manager.listVolumes(list({ filters: { name: 'v2' } })))).toEqual(['v2']);
    expect(names(await h.manager.listVolumes(list({ filters: { display_name: 'v1', unknown: 'x' } })))).toEqual(['v1']);
    expect(names(await h.manager.listSnapshots(list({ filters: { volume_id: volumes[2].id } })))).toEqual(['s-v3']);
    expect(names(await h.manager.listSnapshots(list({ filters: { status: 'available' } })))).toEqual([]);
    expect(names(await h.manager.listVolumes(list({ filters: { project_id: 'project-b' } })))).toEqual(['v3', 'v2', 'v1']);
    expect(names(await h.manager.listVolumes(list({ projectId: null, filters: { project_id: 'project-b' } })))).toEqual(['other']);
    // Names of Object.prototype's members are unknown keys like any other, not columns.
    expect(names(await h.manager.listVolumes(list({ filters: Object.fromEntries([['constructor', 'x'], ['toString', 'y'], ['__proto__', 'z']]) })))).toEqual(['v3', 'v2', 'v1']);
    await expect(h.manager.listSnapshots(list({ sort: [{ key: 'constructor', dir: 'asc' }] }))).rejects.toThrow(
      new InvalidRequest('Invalid input received: sort key constructor is not supported.'),
    );
  });

  it('pages by limit, then by marker or offset; an unknown marker is not found', async () => {
    await seed();
    const first = await h.manager.listVolumes(list({ limit: 2 }));
    expect(names(first)).toEqual(['v3', 'v2']);
    expect(names(await h.manager.listVolumes(list({ limit: 2, marker: first[1].id })))).toEqual(['v1']);
    expect(names(await h.manager.listVolumes(list({ offset: 1 })))).toEqual(['v2', 'v1']);
    // A marker wins over an offset.
    expect(names(await h.manager.listVolumes(list({ offset: 2, marker: first[0].id })))).toEqual(['v2', 'v1']);
    const snapshots = await h.manager.listSnapshots(list({ limit: 1 }));
    expect(names(await h.manager.listSnapshots(list({ marker: snapshots[0].id })))).toEqual(['s-v2', 's-v1']);
    // Another project's row is no marker for this one.
    const other = (await h.manager.listVolumes(list({ projectId: 'project-b' })))[0];
    await expect(h.manager.listVolumes(list({ marker: other.id }))).rejects.toThrow(new NotFound(`Volume ${other.id} could not be found.`));
    await expect(h.manager.listSnapshots(list({ marker: 'nope' }))).rejects.toThrow(new NotFound('Snapshot nope could not be found.'));
  });

  it("filters volumes by metadata, bootable and the one availability zone, and counts what a filter leaves", async () => {
    const { volumes } = await seed();
    await h.manager.setVolumeMetadata(volumes[0]!.id, { Type: 'work', tier: 'gold' }, false);
    await h.manager.setVolumeMetadata(volumes[1]!.id, { Type: 'work' }, false);
    await h.manager.updateVolume(volumes[2]!.id, { bootable: true });
    expect(names(await h.manager.listVolumes(list({ filters: { metadata: "{'Type': 'work'}" } })))).toEqual(['v2', 'v1']);
    expect(names(await h.manager.listVolumes(list({ filters: { metadata: '{"Type": "work", "tier": "gold"}' } })))).toEqual(['v1']);
    // A removed key no longer matches.
    await h.manager.deleteVolumeMetadataKey(volumes[1]!.id, 'Type');
    expect(names(await h.manager.listVolumes(list({ filters: { metadata: "{'Type': 'work'}" } })))).toEqual(['v1']);
    expect(names(await h.manager.listVolumes(list({ filters: { bootable: 'true' } })))).toEqual(['v3']);
    expect(names(await h.manager.listVolumes(list({ filters: { bootable: 'false' } })))).toEqual(['v2', 'v1']);
    expect(names(await h.manager.listVolumes(list({ filters: { availability_zone: 'nova' } })))).toEqual(['v3', 'v2', 'v1']);
    expect(await h.manager.listVolumes(list({ filters: { availability_zone: 'elsewhere' } }))).toEqual([]);
    expect(await h.manager.countVolumes(list({ limit: 1, filters: { bootable: 'false' } }))).toBe(2);
    expect(await h.manager.countVolumes(list({ projectId: null }))).toBe(4);
    expect(await h.manager.countSnapshots(list({ filters: { name: 's-v1' } }))).toBe(1);
    await expect(h.manager.listVolumes(list({ filters: { metadata: 'Type=work' } }))).rejects.toThrow(InvalidRequest);
  });
});

describe('the metadata filter', () => {
  it("reads Python's dict repr and JSON, escapes included, and refuses anything else", () => {
    expect(parseMetadataFilter("{'Type': 'work'}")).toEqual({ Type: 'work' });
    expect(parseMetadataFilter('{"a": "1", \'b\': "it\\\'s"}')).toEqual({ a: '1', b: "it's" });
    expect(parseMetadataFilter(' {} ')).toEqual({});
    for (const bad of ['Type=work', "{'a': 1}", "{'a' 'b'}", "{'a': 'b',, 'c': 'd'}", '[]']) expect(() => parseMetadataFilter(bad)).toThrow(InvalidRequest);
  });
});
