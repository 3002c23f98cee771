// Which failures are passing (src/engine/transient.ts): the worker retries them, the API answers
// them 503. Each shape below is one the database stack really throws; the PostgreSQL ones were
// read off a service whose database was cut off (test/service/database-outage.test.ts).
import { describe, expect, it } from 'vitest';
import { isTransient, TransientError } from '../../src/engine/transient.js';

/** What @prisma/adapter-pg throws when it is called directly (src/db/sql.ts does). */
const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error(String(cause.kind)), { name: 'DriverAdapterError', cause });
/** What the Prisma client throws around the adapter's description. */
const clientError = (code: string, cause: Record<string, unknown>) => Object.assign(new Error('Invalid invocation'), { code, meta: { driverAdapterError: adapterError(cause) } });

describe('isTransient', () => {
  it.each([
    ['a refused connection, from the adapter', adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 5432 })],
    ['a dropped connection, from the adapter', adapterError({ kind: 'ConnectionClosed' })],
    ['a socket timeout, from the adapter', adapterError({ kind: 'SocketTimeout' })],
    ['too many connections, from the adapter', adapterError({ kind: 'TooManyConnections', cause: 'sorry, too many clients already' })],
    ['a serialization failure, from the adapter', adapterError({ kind: 'TransactionWriteConflict' })],
    ['an admin shutdown (57P01), from the adapter', adapterError({ kind: 'postgres', code: '57P01', originalCode: '57P01' })],
    ['a refused connection, through the client', clientError('P1001', { kind: 'DatabaseNotReachable' })],
    ['an unreachable database, described only by the adapter', clientError('P2010', { kind: 'DatabaseNotReachable' })],
    ['pg on its own', new Error('Connection terminated unexpectedly')],
    ['SQLite busy', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
    ['a driver that says so', new TransientError('try again')],
    ['deep in a chain of causes', new Error('outer', { cause: new Error('middle', { cause: adapterError({ kind: 'DatabaseNotReachable' }) }) })],
  ])('%s: transient', (_, err) => {
    expect(isTransient(err)).toBe(true);
  });

  it.each([
    ['a unique constraint', adapterError({ kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } })],
    ['a missing database', adapterError({ kind: 'DatabaseDoesNotExist', db: 'x' })],
    ['bad credentials', clientError('P1000', { kind: 'AuthenticationFailed', user: 'x' })],
    ['a driver refusal', new Error('qemu-img create failed (exit 1): The image size is too large')],
    ['not an error', 'DatabaseNotReachable'],
  ])('%s: definite', (_, err) => {
    expect(isTransient(err)).toBe(false);
  });
});
