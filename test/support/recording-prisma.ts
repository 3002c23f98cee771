// A Prisma client over a test database whose driver adapter records every SQL statement the
// client sends, and can run one of them again under EXPLAIN: the way a test checks which index
// the statement Prisma actually generates uses, instead of EXPLAINing a hand-written copy.
import type { PrismaClient } from '../../src/db/client.js';
import { providerOf } from '../../src/db/provider.js';

interface AdapterQuery {
  sql: string;
  args: unknown[];
  argTypes: unknown[];
}
interface Adapter {
  queryRaw(q: AdapterQuery): Promise<{ columnNames: string[]; rows: unknown[][] }>;
}

export interface RecordingPrisma {
  prisma: PrismaClient;
  /** Every statement so far, oldest first. */
  statements: AdapterQuery[];
  /** The plan of `q` as text lines (SQLite: EXPLAIN QUERY PLAN details; PostgreSQL: EXPLAIN). */
  explain(q: AdapterQuery): Promise<string[]>;
  close(): Promise<void>;
}

export async function recordingPrisma(url: string): Promise<RecordingPrisma> {
  const provider = providerOf(url);
  const statements: AdapterQuery[] = [];
  let instance: Adapter | undefined;
  let factory: { provider: string; adapterName: string; connect(): Promise<unknown>; connectToShadowDb?: () => Promise<unknown> };
  let Client: new (o: { adapter: unknown }) => unknown;
  if (provider === 'sqlite') {
    const [{ PrismaClient: C }, { PrismaBetterSQLite3 }] = await Promise.all([import('../../src/generated/sqlite/client.js'), import('@prisma/adapter-better-sqlite3')]);
    Client = C as never;
    factory = new PrismaBetterSQLite3({ url }) as never;
  } else {
    const [{ PrismaClient: C }, { PrismaPg }] = await Promise.all([import('../../src/generated/postgresql/client.js'), import('@prisma/adapter-pg')]);
    Client = C as never;
    factory = new PrismaPg({ connectionString: url }) as never;
  }
  const adapter = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connected = (await factory.connect()) as Adapter;
      const queryRaw = connected.queryRaw.bind(connected);
      instance = { queryRaw };
      connected.queryRaw = (q) => {
        statements.push(q);
        return queryRaw(q);
      };
      return connected;
    },
  };
  const prisma = new Client({ adapter }) as PrismaClient;
  await prisma.$connect();
  return {
    prisma,
    statements,
    async explain(q) {
      if (!instance) throw new Error('not connected');
      const prefix = provider === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
      const plan = await instance.queryRaw({ ...q, sql: prefix + q.sql });
      const column = provider === 'sqlite' ? plan.columnNames.indexOf('detail') : 0;
      return plan.rows.map((r) => String(r[column]));
    },
    close: () => prisma.$disconnect(),
  };
}
