import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isUniqueViolation, openDatabase, type Db, type PrismaClient, type Provider } from '../../src/db/client.js';
import { migrateDeploy, migrationsApplied, openMigrated, runPrismaCli } from '../../src/db/migrate.js';
import { dropTestDatabases, emptyDatabaseUrl, freshDatabaseUrl, providers } from '../support/databases.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const migrationsDir = (provider: Provider) => path.join(root, 'prisma', provider, 'migrations');

/** The committed migrations of a provider, oldest first (their names start with a timestamp). */
function committedMigrations(provider: Provider): string[] {
  return readdirSync(migrationsDir(provider), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/**
 * Brings an empty database to where `migrate deploy` left it when `last` was the newest
 * migration: the CLI runs on a copy of the migrations up to `last`, with a config that is the
 * provider's own but for that path.
 */
async function deployUpTo(url: string, provider: Provider, last: string): Promise<void> {
  const dir = mkdtempSync(path.join(inject('testDatabases').runDir, 'migrations-'));
  const copy = path.join(dir, 'migrations');
  for (const m of committedMigrations(provider).filter((name) => name <= last)) {
    cpSync(path.join(migrationsDir(provider), m), path.join(copy, m), { recursive: true });
  }
  copyFileSync(path.join(migrationsDir(provider), 'migration_lock.toml'), path.join(copy, 'migration_lock.toml'));
  const config = path.join(dir, `${provider}.config.ts`);
  const base = path.join(root, 'prisma', `${provider}.config.ts`);
  writeFileSync(
    config,
    `import base from ${JSON.stringify(base)};
` +
      `export default { ...base, migrations: { ...base.migrations, path: ${JSON.stringify(copy)} } };
`,
  );
  const result = await runPrismaCli(['migrate', 'deploy', '--config', config], { DATABASE_URL: url });
  expect(result.output).toContain(last);
  expect(result.code).toBe(0);
}

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(url);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A volume row as the migrations before the volume machine knew it (raw SQL: the client knows only the newest columns). */
async function seedOldVolume(prisma: PrismaClient, id: string, status: string, attachStatus = 'detached'): Promise<void> {
  // Literals, not parameters: the two providers spell placeholders differently, and these are ours.
  await prisma.$executeRawUnsafe(
    `INSERT INTO volumes (id, project_id, user_id, size, status, attach_status, updated_at, deleted)
     VALUES ('${id}', 'proj', 'user', 10, '${status}', '${attachStatus}', CURRENT_TIMESTAMP, ${status === 'deleted'})`,
  );
}

async function seedSnapshot(prisma: PrismaClient, id: string, oldVolume = false): Promise<void> {
  if (oldVolume) await seedOldVolume(prisma, `vol-${id}`, 'available');
  else {
    await prisma.volume.create({
      data: { id: `vol-${id}`, projectId: 'proj', userId: 'user', size: 10, status: 'available', machineState: JSON.stringify({ value: 'available', context: { attachStatus: 'detached', reason: null } }), phase: 'available' },
      select: { id: true },
    });
  }
  await prisma.snapshot.create({
    data: {
      id,
      volumeId: `vol-${id}`,
      projectId: 'proj',
      userId: 'user',
      status: 'creating',
      volumeSize: 10,
      machineState: JSON.stringify({ value: { creating: 'computeAssisted' }, context: {} }),
      phase: 'creating.computeAssisted',
      deadlineAt: new Date('2030-01-02T03:04:05.678Z'),
    },
    // Only the id back: on a database of an older migration, columns added since do not exist yet.
    select: { id: true },
  });
}

afterAll(async () => {
  await dropTestDatabases();
});

describe.each(providers)('database on %s', (provider) => {
  it('round-trips volume, snapshot, admin metadata, transition and outbox job', async () => {
    const url = await freshDatabaseUrl(provider);
    await withDb(url, async (db) => {
      expect(db.provider).toBe(provider);
      const { prisma } = db;
      await seedSnapshot(prisma, 'snap-1');
      await prisma.snapshotAdminMetadata.create({ data: { snapshotId: 'snap-1', key: 'k', value: 'v1' } });
      await prisma.snapshotTransition.create({
        data: {
          snapshotId: 'snap-1',
          version: 1,
          fromPhase: null,
          toPhase: 'creating.computeAssisted',
          toStatus: 'creating',
          eventType: 'CREATE',
          source: 'api',
          payload: '{"force":false}',
        },
      });
      await prisma.outboxJob.create({
        data: { snapshotId: 'snap-1', kind: 'createSnapshotAssistedBegin', phase: 'creating.computeAssisted', version: 1 },
      });

      const snap = await prisma.snapshot.findUniqueOrThrow({
        where: { id: 'snap-1' },
        include: { volume: true, adminMetadata: true, transitions: true, outbox: true },
      });
      expect(snap.volume.size).toBe(10);
      expect(snap.progress).toBe('0%');
      expect(snap.version).toBe(0);
      expect(snap.deleted).toBe(false);
      expect(snap.deadlineAt?.toISOString()).toBe('2030-01-02T03:04:05.678Z');
      expect(snap.createdAt).toBeInstanceOf(Date);
      expect(JSON.parse(snap.machineState)).toEqual({ value: { creating: 'computeAssisted' }, context: {} });
      expect(snap.adminMetadata.map((m) => [m.key, m.value])).toEqual([['k', 'v1']]);
      expect(snap.transitions).toHaveLength(1);
      expect(snap.transitions[0]).toMatchObject({ version: 1, fromPhase: null, rejected: false, source: 'api' });
      expect(snap.outbox).toHaveLength(1);
      expect(snap.outbox[0]).toMatchObject({ status: 'pending', attempts: 0, lockedBy: null });

      // Optimistic concurrency write: lands only at the expected version.
      const hit = await prisma.snapshot.updateMany({ where: { id: 'snap-1', version: 0 }, data: { version: 1 } });
      const miss = await prisma.snapshot.updateMany({ where: { id: 'snap-1', version: 0 }, data: { version: 2 } });
      expect([hit.count, miss.count]).toEqual([1, 0]);

      // One admin metadata row per (snapshot, key).
      const dup = await prisma.snapshotAdminMetadata
        .create({ data: { snapshotId: 'snap-1', key: 'k', value: 'v2' } })
        .then(() => null, (err: unknown) => err);
      expect(dup).not.toBeNull();
      expect(isUniqueViolation(dup)).toBe(true);
      await prisma.snapshotAdminMetadata.create({ data: { snapshotId: 'snap-1', key: 'other', value: 'v' } });
      expect(await prisma.snapshotAdminMetadata.count({ where: { snapshotId: 'snap-1' } })).toBe(2);
    });
  });

  it('commits an interactive transaction, and rolls back one that throws', async () => {
    const url = await freshDatabaseUrl(provider);
    await withDb(url, async ({ prisma }) => {
      await seedSnapshot(prisma, 'snap-tx');
      await prisma.$transaction(async (tx) => {
        const s = await tx.snapshot.findUniqueOrThrow({ where: { id: 'snap-tx' } });
        await tx.snapshot.update({ where: { id: 'snap-tx' }, data: { version: s.version + 1, status: 'available' } });
        await tx.outboxJob.create({ data: { snapshotId: 'snap-tx', kind: 'k', phase: 'p', version: 1 } });
      });
      await expect(
        prisma.$transaction(async (tx) => {
          await tx.snapshot.update({ where: { id: 'snap-tx' }, data: { version: 2, status: 'error' } });
          await tx.snapshotTransition.create({
            data: { snapshotId: 'snap-tx', version: 2, toPhase: 'error', toStatus: 'error', eventType: 'X', source: 'api' },
          });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const after = await prisma.snapshot.findUniqueOrThrow({ where: { id: 'snap-tx' } });
      expect([after.version, after.status]).toEqual([1, 'available']);
      expect(await prisma.snapshotTransition.count()).toBe(0);
      expect(await prisma.outboxJob.count()).toBe(1);
    });
  });

  it('migrateDeploy on an already-migrated database is a no-op', async () => {
    const url = await freshDatabaseUrl(provider);
    await withDb(url, async ({ prisma }) => {
      await seedSnapshot(prisma, 'snap-keep');
    });
    await migrateDeploy(url);
    await withDb(url, async ({ prisma }) => {
      const applied = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      const names = applied.map((m) => m.migration_name).sort();
      expect(names).toEqual(committedMigrations(provider));
      expect(names[0]).toMatch(/^\d{14}_init$/);
      expect(await prisma.snapshot.count()).toBe(1);
    });
  });

  it('history rows keep their phases through the from_state/to_state -> from_phase/to_phase rename', async () => {
    const committed = committedMigrations(provider);
    const rename = committed.findIndex((m) => m.endsWith('_history_phase_columns'));
    expect(rename).toBeGreaterThan(0);
    const url = await emptyDatabaseUrl(provider);
    await deployUpTo(url, provider, committed[rename - 1]!);
    await withDb(url, async ({ prisma }) => {
      await seedSnapshot(prisma, 'snap-old', true);
      // Raw SQL: the generated client knows the new column names only.
      await prisma.$executeRawUnsafe(`
        INSERT INTO snapshot_transitions (snapshot_id, version, from_state, to_state, from_status, to_status, event_type, source)
        VALUES ('snap-old', 1, NULL, 'creating.computeAssisted', NULL, 'creating', 'snapshot.create', 'api'),
               ('snap-old', 2, 'creating.computeAssisted', 'creating.storageComplete', 'creating', 'creating', 'compute.status', 'compute')`);
    });
    await migrateDeploy(url);
    await withDb(url, async ({ prisma }) => {
      const rows = await prisma.snapshotTransition.findMany({ where: { snapshotId: 'snap-old' }, orderBy: { id: 'asc' } });
      expect(rows.map((r) => [r.version, r.fromPhase, r.toPhase, r.toStatus, r.eventType])).toEqual([
        [1, null, 'creating.computeAssisted', 'creating', 'snapshot.create'],
        [2, 'creating.computeAssisted', 'creating.storageComplete', 'creating', 'compute.status'],
      ]);
    });
  });

  it('volumes get the machine state their status stands for through the volume machine migration', async () => {
    const committed = committedMigrations(provider);
    const volumeMachine = committed.findIndex((m) => m.endsWith('_volume_machine'));
    expect(volumeMachine).toBeGreaterThan(0);
    const url = await emptyDatabaseUrl(provider);
    await deployUpTo(url, provider, committed[volumeMachine - 1]!);
    const before: Array<[string, string, string]> = [
      ['v-available', 'available', 'detached'],
      ['v-in-use', 'in-use', 'attached'],
      ['v-attaching', 'attaching', 'detached'],
      ['v-creating', 'creating', 'detached'],
      ['v-deleting', 'deleting', 'detached'],
      ['v-maintenance', 'maintenance', 'attached'],
      ['v-deleted', 'deleted', 'detached'],
    ];
    await withDb(url, async ({ prisma }) => {
      for (const [id, status, attach] of before) await seedOldVolume(prisma, id, status, attach);
      // A job of the old outbox keeps its snapshot.
      await seedSnapshot(prisma, 'snap-kept', true);
      await prisma.$executeRawUnsafe(
        `INSERT INTO outbox (snapshot_id, kind, phase, version, status, attempts, run_after, created_at, updated_at) VALUES ('snap-kept', 'createSnapshot', 'creating.driverCreate', 1, 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
      );
    });
    await migrateDeploy(url);
    await withDb(url, async ({ prisma }) => {
      const rows = await prisma.volume.findMany({ where: { id: { startsWith: 'v-' } }, orderBy: { id: 'asc' } });
      const got = Object.fromEntries(rows.map((r) => [r.id, [r.phase, r.status, r.attachStatus, r.version, r.errorReason, JSON.parse(r.machineState)]]));
      const state = (value: string, attachStatus: string, reason: string | null) => ({ value, context: { attachStatus, reason } });
      expect(got).toEqual({
        'v-available': ['available', 'available', 'detached', 0, null, state('available', 'detached', null)],
        'v-in-use': ['in-use', 'in-use', 'attached', 0, null, state('in-use', 'attached', null)],
        'v-attaching': ['attaching', 'attaching', 'detached', 0, null, state('attaching', 'detached', null)],
        'v-creating': ['error', 'error', 'detached', 0, 'migrated: status creating before the volume machine', state('error', 'detached', 'migrated: status creating before the volume machine')],
        'v-deleting': ['error_deleting', 'error_deleting', 'detached', 0, 'migrated: status deleting before the volume machine', state('error_deleting', 'detached', 'migrated: status deleting before the volume machine')],
        'v-maintenance': ['error', 'error', 'attached', 0, 'migrated: status maintenance before the volume machine', state('error', 'attached', 'migrated: status maintenance before the volume machine')],
        'v-deleted': ['deleted', 'deleted', 'detached', 0, null, state('deleted', 'detached', null)],
      });
      const job = await prisma.outboxJob.findFirstOrThrow();
      expect([job.snapshotId, job.volumeId, job.kind]).toEqual(['snap-kept', null, 'createSnapshot']);
    });
  });

  it("existing volumes get Cinder's default type, __DEFAULT__, which the volume types migration creates", async () => {
    const committed = committedMigrations(provider);
    const types = committed.findIndex((m) => m.endsWith('_volume_types'));
    expect(types).toBeGreaterThan(0);
    const url = await emptyDatabaseUrl(provider);
    await deployUpTo(url, provider, committed[types - 1]!);
    await withDb(url, async ({ prisma }) => {
      await prisma.$executeRawUnsafe(
        `INSERT INTO volumes (id, project_id, user_id, size, status, attach_status, updated_at, deleted, machine_state, phase)
         VALUES ('v-old', 'proj', 'user', 10, 'available', 'detached', CURRENT_TIMESTAMP, false, '{"value":"available","context":{"attachStatus":"detached","reason":null}}', 'available')`,
      );
    });
    await migrateDeploy(url);
    await withDb(url, async ({ prisma }) => {
      const type = await prisma.volumeType.findFirstOrThrow({ where: { name: '__DEFAULT__' } });
      expect(type).toMatchObject({ description: 'Default Volume Type', isPublic: true, deleted: false, liveName: '__DEFAULT__' });
      expect(type.createdAt).toBeInstanceOf(Date);
      const volume = await prisma.volume.findUniqueOrThrow({ where: { id: 'v-old' }, include: { volumeType: true } });
      expect(volume.volumeType?.name).toBe('__DEFAULT__');
    });
  });

  it('the committed migrations produce exactly the schema (no drift)', async () => {
    // `db push` on a freshly migrated copy changes nothing iff migrations == schema.prisma.
    const url = await freshDatabaseUrl(provider);
    const config = path.join(root, 'prisma', `${provider}.config.ts`);
    const result = await runPrismaCli(['db', 'push', '--skip-generate', '--config', config], { DATABASE_URL: url });
    expect(result.output).toContain('already in sync');
    expect(result.code).toBe(0);
  });
});

describe.each(providers)('several instances starting at once on a new %s database', (provider) => {
  it('each opens it migrated, and every migration is applied exactly once, by one of them', async () => {
    const url = await emptyDatabaseUrl(provider);
    const opened = await Promise.all([openMigrated(url), openMigrated(url), openMigrated(url)]);
    try {
      // One took the lock and migrated; the others waited for it and found nothing to do.
      expect(opened.map((o) => o.applied).filter((a) => a.length > 0)).toEqual([committedMigrations(provider)]);
      for (const o of opened) expect(await migrationsApplied(o.db)).toBe(true);
      const rows = await opened[0]!.db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
      );
      expect(rows.map((r) => r.migration_name)).toEqual(committedMigrations(provider));
    } finally {
      await Promise.all(opened.map((o) => o.db.close()));
    }
  }, 120_000);
});

describe('migrateDeploy', () => {
  it('creates the SQLite parent directory and migrates a brand-new file', async () => {
    const base = await freshDatabaseUrl('sqlite');
    const url = `file:${path.join(base.slice('file:'.length).replace(/\.db$/, ''), 'nested', 'new.db')}`;
    await migrateDeploy(url);
    await withDb(url, async ({ prisma }) => {
      await seedSnapshot(prisma, 'snap-new');
      expect(await prisma.snapshot.count()).toBe(1);
    });
  });

  it('throws with the CLI output when the database is unreachable', async () => {
    const url = await freshDatabaseUrl('postgresql');
    const missing = url.replace(/\/([^/?]+)(\?|$)/, '/$1_missing$2');
    await expect(migrateDeploy(missing)).rejects.toThrow(/prisma migrate deploy failed[\s\S]*_missing/);
  });
});

describe('schema files', () => {
  it('prisma/generate.ts --check passes (schema files in sync with models.prisma)', () => {
    const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const result = spawnSync(process.execPath, [tsx, 'prisma/generate.ts', '--check'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr + result.stdout).toContain('in sync');
    expect(result.status).toBe(0);
  });
});
