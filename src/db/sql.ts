// Set-based statements on the hot path, run by Prisma's driver adapter (the same connection, and
// on SQLite the same transaction lock, as the Prisma client's queries).
//
// Why not `$queryRaw`: Prisma 6's client serialises every query, raw ones included, to JSON and
// compiles it into a plan in WebAssembly, with no plan cache. A 25-row UPDATE with 17 parameters a
// row costs more in that step than in SQLite; measured here, a single-row raw SELECT cost about
// 280 µs through the client against 10-20 µs through the adapter. Models, migrations and every
// other query stay with the Prisma client; the statements that run per event come here.
import type { Provider } from './provider.js';

export interface SqlStatement {
  /** Text with `?` placeholders (SQLite) and `$n` ones (PostgreSQL), as sql-template-tag builds it. */
  sql: string;
  text: string;
  values: unknown[];
}

interface ArgType {
  scalarType: 'string' | 'int' | 'bigint' | 'float' | 'boolean' | 'datetime' | 'unknown';
  arity: 'scalar';
}
interface AdapterQuery {
  sql: string;
  args: unknown[];
  argTypes: ArgType[];
}
interface ResultSet {
  columnNames: string[];
  rows: unknown[][];
}
interface Queryable {
  queryRaw(q: AdapterQuery): Promise<ResultSet>;
  executeRaw(q: AdapterQuery): Promise<number>;
}
interface AdapterTransaction extends Queryable {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}
/** What Prisma's driver adapters (better-sqlite3, pg) are, as far as this module uses them. */
export interface DriverAdapter extends Queryable {
  startTransaction(): Promise<AdapterTransaction>;
}

export interface SqlRunner {
  query<T = Record<string, unknown>>(q: SqlStatement): Promise<T[]>;
  execute(q: SqlStatement): Promise<number>;
}

export interface SqlDb extends SqlRunner {
  /** BEGIN (IMMEDIATE on SQLite) … COMMIT; ROLLBACK when `fn` throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

const argType = (v: unknown): ArgType => ({
  scalarType:
    typeof v === 'string' ? 'string'
    : typeof v === 'boolean' ? 'boolean'
    : typeof v === 'bigint' ? 'bigint'
    : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float')
    : v instanceof Date ? 'datetime'
    : 'unknown',
  arity: 'scalar',
});

function runner(provider: Provider, q: () => Promise<Queryable>): SqlRunner {
  const toAdapter = (s: SqlStatement): AdapterQuery => ({
    sql: provider === 'postgresql' ? s.text : s.sql,
    args: s.values,
    argTypes: s.values.map(argType),
  });
  return {
    async query<T>(s: SqlStatement): Promise<T[]> {
      const { columnNames, rows } = await (await q()).queryRaw(toAdapter(s));
      return rows.map((r) => Object.fromEntries(columnNames.map((c, i) => [c, r[i]])) as T);
    },
    async execute(s: SqlStatement): Promise<number> {
      return (await q()).executeRaw(toAdapter(s));
    },
  };
}

const NO_ARGS = { args: [], argTypes: [] };

export function sqlDb(provider: Provider, adapter: () => Promise<DriverAdapter>): SqlDb {
  return {
    ...runner(provider, adapter),
    async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
      const tx = await (await adapter()).startTransaction();
      let result: T;
      try {
        result = await fn(runner(provider, async () => tx));
      } catch (err) {
        await tx.executeRaw({ sql: 'ROLLBACK', ...NO_ARGS }).catch(() => {});
        await tx.rollback();
        throw err;
      }
      try {
        await tx.executeRaw({ sql: 'COMMIT', ...NO_ARGS });
      } catch (err) {
        await tx.executeRaw({ sql: 'ROLLBACK', ...NO_ARGS }).catch(() => {});
        await tx.rollback();
        throw err;
      }
      await tx.commit();
      return result;
    },
  };
}

// What the adapters hand back differs by provider (SQLite: integers, booleans and timestamps as
// text; PostgreSQL: numbers, booleans, and timestamps as text without a zone, in UTC); these read
// either into the model's types.
export const asNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const asBoolean = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 'true' || v === 't';
export function asDate(v: unknown): Date {
  if (v instanceof Date) return v;
  const text = String(v);
  // PostgreSQL's `timestamp(3)` comes without a zone: it is UTC, as Prisma writes it.
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
export const asDateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : asDate(v));
