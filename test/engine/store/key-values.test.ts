// The one key/value helper (src/engine/store/key-values.ts) on each of the three metadata tables:
// later writes of a key win, a removed key is soft-deleted and revived by the next set, and only
// live keys count as removed.
import { afterEach, describe, expect, it } from 'vitest';
import { removeOtherKeys, writeKeyValues, type KeyValueTable } from '../../../src/engine/store/key-values.js';
import { loadMetadata } from '../../../src/engine/store/load-metadata.js';
import { freshDatabaseUrl, providers } from '../../support/databases.js';
import { harness, volumeFor, type Harness } from '../../support/harness.js';

const tables: KeyValueTable[] = ['snapshot_metadata', 'snapshot_admin_metadata', 'volume_admin_metadata'];

describe.each(providers)('key/value tables on %s', (provider) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  /** Two owners for the table: two snapshots, or two volumes. */
  const owners = async (table: KeyValueTable): Promise<[string, string]> => {
    const [v1, v2] = [await volumeFor(h, false), await volumeFor(h, false)];
    if (table === 'volume_admin_metadata') return [v1.id, v2.id];
    const s = (volumeId: string) => h.manager.createSnapshot({ volumeId, projectId: 'project-a', userId: 'user-a' });
    return [(await s(v1.id)).id, (await s(v2.id)).id];
  };
  const write = (table: KeyValueTable, writes: Parameters<typeof writeKeyValues>[3]) =>
    h.db.sql.transaction((tx) => writeKeyValues(tx, h.engine.store.dialect, table, writes, h.clock.now()));
  const read = (table: KeyValueTable, ids: string[]) => loadMetadata(h.db.sql, h.engine.store.dialect, table, ids);

  it.each(tables)('sets, overwrites, removes and revives keys of %s', async (table) => {
    h = await harness(await freshDatabaseUrl(provider));
    const [a, b] = await owners(table);
    await write(table, [
      { ownerId: a, key: 'x', value: '1' },
      { ownerId: a, key: 'y', value: '2' },
      { ownerId: b, key: 'x', value: 'b1' },
      // Later writes of a key win, within one call too.
      { ownerId: a, key: 'x', value: '3' },
    ]);
    expect(await read(table, [a, b])).toEqual(new Map([[a, { x: '3', y: '2' }], [b, { x: 'b1' }]]));

    h.clock.advance(5);
    expect(await write(table, [{ ownerId: a, key: 'x', value: null }, { ownerId: a, key: 'gone', value: null }])).toBe(1);
    expect(await write(table, [{ ownerId: a, key: 'x', value: null }])).toBe(0);
    expect(await read(table, [a, b])).toEqual(new Map([[a, { y: '2' }], [b, { x: 'b1' }]]));

    await write(table, [{ ownerId: a, key: 'x', value: 'back' }]);
    expect((await read(table, [a])).get(a)).toEqual({ x: 'back', y: '2' });
  });

  it.each(tables)('removes every other live key of one owner from %s', async (table) => {
    h = await harness(await freshDatabaseUrl(provider));
    const [a, b] = await owners(table);
    await write(table, [{ ownerId: a, key: 'keep', value: '1' }, { ownerId: a, key: 'drop', value: '2' }, { ownerId: b, key: 'drop', value: '3' }]);
    await h.db.sql.transaction((tx) => removeOtherKeys(tx, h.engine.store.dialect, table, a, ['keep'], h.clock.now()));
    expect(await read(table, [a, b])).toEqual(new Map([[a, { keep: '1' }], [b, { drop: '3' }]]));
    await h.db.sql.transaction((tx) => removeOtherKeys(tx, h.engine.store.dialect, table, a, [], h.clock.now()));
    expect(await read(table, [a, b])).toEqual(new Map([[a, {}], [b, { drop: '3' }]]));
  });
});
