// Opens the database named by a URL, on SQLite (file:) or PostgreSQL (postgres[ql]://), through
// the Prisma client generated for that provider (src/generated/<provider>, `npm run generate`).
//
// Both generated clients come from the same models (prisma/models.prisma), so they have the same
// API; engine code is written once against the `PrismaClient` type exported here (the SQLite
// client's type) and runs unchanged on either provider.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sqlDb, type DriverAdapter, type SqlDb } from './sql.js';
import type {
  Prisma as SqlitePrisma,
  PrismaClient as SqlitePrismaClient,
} from '../generated/sqlite/client.js';

export { type Provider, providerOf } from './provider.js';
import { type Provider, providerOf } from './provider.js';

/** The client type engine code is written against; both providers' clients satisfy it. */
export type PrismaClient = SqlitePrismaClient;
/** What `prisma.$transaction(async (tx) => ...)` hands its callback. */
export type TransactionClient = SqlitePrisma.TransactionClient;
export type { Prisma } from '../generated/sqlite/client.js';
export type {
  Volume,
  VolumeAttachment,
  VolumeAdminMetadata,
  VolumeMetadata,
  Snapshot,
  SnapshotMetadata,
  SnapshotAdminMetadata,
  SnapshotTransition,
  VolumeTransition,
  OutboxJob,
  VolumeType,
  VolumeTypeEncryption,
  QosSpecs,
  GroupType,
  GroupTypeSpec,
  Group,
  GroupVolumeType,
  GroupSnapshot,
  GroupTransition,
} from '../generated/sqlite/client.js';

export interface Db {
  prisma: PrismaClient;
  /** Hot-path statements through Prisma's driver adapter (see sql.ts). */
  sql: SqlDb;
  provider: Provider;
  /** The URL opened; for SQLite, normalised to an absolute `file:` URL. */
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_DATABASE_URL = 'file:./data/snapshots.db';

/** How long a SQLite write waits for another connection's (or process's) write lock. */
export const SQLITE_BUSY_TIMEOUT_MS = 30_000;

/** How long opening a PostgreSQL connection may take before the request fails (and is retried). */
export const PG_CONNECT_TIMEOUT_MS = 5_000;

/** Interactive transaction defaults (Prisma's own are maxWait 2 s, timeout 5 s). */
export const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 30_000 } as const;


/**
 * The absolute path of a SQLite `file:` URL (relative paths resolve against process.cwd();
 * a query string is ignored), or ':memory:'.
 */
export function sqliteFilePath(url: string): string {
  if (!url.startsWith('file:')) throw new Error(`Not a SQLite file: URL: ${url}`);
  const raw = decodeURIComponent(url.slice('file:'.length).replace(/[?#].*$/, ''));
  if (raw === ':memory:') return raw;
  if (raw === '') throw new Error(`SQLite URL has no file path: ${url}`);
  // file:///abs/path and file:/abs/path are both absolute; file:./x and file:x are relative.
  return path.resolve(process.cwd(), raw.startsWith('//') ? raw.replace(/^\/\/[^/]*/, '') : raw);
}

/** Normalises a database URL (absolute path for SQLite), so child processes see the same db. */
export function normalizeDatabaseUrl(url: string): string {
  return providerOf(url) === 'sqlite' ? `file:${sqliteFilePath(url)}` : url;
}

export async function openDatabase(url: string): Promise<Db> {
  const provider = providerOf(url);
  if (provider === 'sqlite') return openSqlite(url);
  return openPostgres(url);
}

async function openSqlite(url: string): Promise<Db> {
  const file = sqliteFilePath(url);
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const [{ PrismaClient: Client }, { PrismaBetterSQLite3 }] = await Promise.all([
    import('../generated/sqlite/client.js'),
    import('@prisma/adapter-better-sqlite3'),
  ]);
  // `timeout` is better-sqlite3's busy timeout: a write blocked by another connection's lock
  // waits up to this long instead of failing at once with SQLITE_BUSY.
  const factory = new PrismaBetterSQLite3({ url: `file:${file}`, timeout: SQLITE_BUSY_TIMEOUT_MS });
  const { adapter, connected } = capturing(factory);
  const prisma = new Client({ adapter, transactionOptions: TRANSACTION_OPTIONS });
  try {
    // The adapter opens one better-sqlite3 connection per client; these apply to it. WAL lets
    // readers run alongside the one writer and is remembered in the file itself.
    await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await prisma.$queryRawUnsafe(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    await prisma.$queryRawUnsafe('PRAGMA foreign_keys = ON');
    // A commit is on disk (the WAL fsynced) before the API answers 202, power loss included.
    // NORMAL would only survive a crash of this process; with group commit one fsync covers a
    // whole batch of events, so FULL costs little.
    await prisma.$queryRawUnsafe('PRAGMA synchronous = FULL');
  } catch (err) {
    await prisma.$disconnect().catch(() => {});
    throw err;
  }
  const normalized = `file:${file}`;
  return { prisma, sql: sqlDb('sqlite', connected(prisma)), provider: 'sqlite', url: normalized, close: () => prisma.$disconnect() };
}

async function openPostgres(url: string): Promise<Db> {
  const [{ PrismaClient: Client }, { PrismaPg }, { default: pg }] = await Promise.all([
    import('../generated/postgresql/client.js'),
    import('@prisma/adapter-pg'),
    import('pg'),
  ]);
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  // A connection the server drops (restart, failover, pg_terminate_backend) emits 'error' on its
  // client; Prisma's adapter listens only while a transaction holds it, and an unheard 'error'
  // would end the process. Each query on it fails and is retried or answered 503 instead; the
  // pool discards the broken client when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('error', () => {});
  const { adapter, connected } = capturing(new PrismaPg(pool, { disposeExternalPool: true }));
  const client = new Client({ adapter, transactionOptions: TRANSACTION_OPTIONS });
  // Same models, same API; only the generated types are nominally distinct.
  const prisma = client as unknown as PrismaClient;
  return { prisma, sql: sqlDb('postgresql', connected(prisma)), provider: 'postgresql', url, close: () => prisma.$disconnect() };
}

/** True for Prisma's unique-constraint violation (P2002), on either provider. */
export function isUniqueViolation(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { code?: unknown }).code === 'P2002'
  );
}

interface AdapterFactory {
  readonly provider: string;
  readonly adapterName: string;
  connect(): Promise<unknown>;
  connectToShadowDb(): Promise<unknown>;
}

/**
 * Hands Prisma a factory that remembers the adapter it connects, so hot-path statements run on
 * the very same connection (sql.ts). The client connects lazily; asking for the adapter first
 * connects it.
 */
function capturing<F extends AdapterFactory>(factory: F) {
  let instance: DriverAdapter | undefined;
  const adapter = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connected = await factory.connect();
      instance = connected as DriverAdapter;
      return connected;
    },
    connectToShadowDb: () => factory.connectToShadowDb(),
  } as unknown as F;
  const connected = (prisma: { $connect(): Promise<void> }) => async (): Promise<DriverAdapter> => {
    if (!instance) await prisma.$connect();
    if (!instance) throw new Error('the database adapter did not connect');
    return instance;
  };
  return { adapter, connected };
}
