// The few places where SQLite and PostgreSQL spell a set-based statement differently. Every
// store operation builds its SQL once with these, so each statement exists in one place for both.
//
// PostgreSQL receives query parameters as text and will not compare or assign them to typed
// columns without a cast; SQLite stores what it is given (Prisma's adapter binds dates as
// ISO-8601 text and booleans as 0/1, the format Prisma's own queries use), so a cast there would
// only convert the value into something else.
import { empty, join, raw, sqltag as sql, type Sql } from '@prisma/client/runtime/client';
import type { Provider } from '../../db/client.js';
import { WORK_CHANNEL } from '../../db/work-channel.js';

export { empty, join, raw, sql, type Sql };

export interface Dialect {
  provider: Provider;
  timestamp(value: Date | null): Sql;
  integer(value: number): Sql;
  boolean(value: boolean): Sql;
  text(value: string | null): Sql;
  /** Row locks that other claimants skip instead of waiting for (PostgreSQL only). */
  skipLocked: Sql;
  /** `VALUES (…), (…)` as a derived table whose columns are named column1, column2, … on both. */
  values(rows: Sql[][]): Sql;
  /**
   * A statement that makes transactions naming the same `key` take turns until they end
   * (PostgreSQL's transaction-scoped advisory lock); null on SQLite, whose write transactions
   * (BEGIN IMMEDIATE) already do.
   */
  transactionLock(key: string): Sql | null;
  /**
   * Tells every instance listening on the work channel that jobs became runnable; delivered at
   * COMMIT, and only then (PostgreSQL's NOTIFY); null on SQLite, which has no such thing.
   */
  notifyWork: Sql | null;
}

export function dialectOf(provider: Provider): Dialect {
  const pg = provider === 'postgresql';
  const cast = (type: string) => (value: unknown) => (pg ? sql`CAST(${value} AS ${raw(type)})` : sql`${value}`);
  return {
    provider,
    timestamp: cast('TIMESTAMP(3)'),
    integer: cast('INTEGER'),
    boolean: cast('BOOLEAN'),
    text: cast('TEXT'),
    skipLocked: pg ? raw('FOR UPDATE SKIP LOCKED') : empty,
    values: (rows) => sql`(VALUES ${join(rows.map((r) => sql`(${join(r)})`))})`,
    transactionLock: (key) => (pg ? sql`SELECT pg_advisory_xact_lock(hashtextextended(CAST(${key} AS TEXT), 0))` : null),
    notifyWork: pg ? raw(`SELECT pg_notify('${WORK_CHANNEL}', '')`) : null,
  };
}
