// Which failures are worth retrying: the ones that say nothing about the snapshot. A database that
// dropped a connection or timed out on a lock, a file system that answered EIO or EAGAIN, a peer
// that reset the connection: the same call may well succeed a moment later. Anything else (a
// driver that refused, a constraint that does not hold) is a definite answer.
const transientCodes = new Set([
  // Node.js / libuv system errors
  'EIO', 'EAGAIN', 'EBUSY', 'EINTR', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'ESTALE', 'ENOLCK',
  // SQLite
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_PROTOCOL',
  // Prisma: cannot reach / connection closed / timed out / transaction conflict / pool timeout
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034',
]);
// PostgreSQL SQLSTATE classes and codes: connection exceptions, serialization failures,
// deadlocks, lock timeouts, admin shutdown / crash, too many connections.
const transientSqlState = /^(08...|40001|40P01|55P03|57P0[1-3]|53300|53400)$/;
const transientMessage =
  /terminating connection|Connection terminated|connection is closed|ECONNRESET|ECONNREFUSED|socket hang up|database is locked|server closed the connection|Client has encountered a connection error|Timed out fetching a new connection|Transaction already closed|Transaction API error/i;

/** Thrown by a driver or compute client to say "try again", whatever the cause. */
export class TransientError extends Error {
  readonly transient = true;
}

/**
 * How Prisma's driver adapters describe a failure (DriverAdapterError's `cause`): the kinds that
 * mean the database could not be reached or talked to, or asked for the transaction again.
 */
const transientKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TransactionAlreadyClosed', 'TooManyConnections', 'TransactionWriteConflict']);

/** A Node errno, a PostgreSQL SQLSTATE or an SQLite result code that means "try again". */
function isTransientCode(code: unknown): boolean {
  return typeof code === 'string' && (transientCodes.has(code) || transientSqlState.test(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_IOERR'));
}

/**
 * Looks at the error, at the adapter's description of it, and down its chain of causes. The
 * adapter's description comes two ways: under `meta.driverAdapterError` when the Prisma client
 * threw, as the error's own `cause` when the adapter did (src/db/sql.ts calls it directly).
 */
export function isTransient(err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  const e = err as { transient?: unknown; code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (e.transient === true) return true;
  if (isTransientCode(e.code) || isTransientCode(e.originalCode)) return true;
  if (typeof e.kind === 'string' && transientKinds.has(e.kind)) return true;
  if (typeof e.message === 'string' && transientMessage.test(e.message)) return true;
  return isTransient(e.meta?.driverAdapterError, depth + 1) || isTransient(e.cause, depth + 1);
}

/**
 * An effect cut short rather than answered: a child process (qemu-img) killed by a signal, or one
 * the service did not start because it is stopping. Like a passing fault it says nothing about the
 * snapshot; the phase runs again (src/drivers/remotefs/recovery.ts clears what a killed child
 * left half-written). Recognised by shape, since the engine sits above the tools that run
 * children: an `interrupted: true` flag (src/qemu's errors), or the `signal` that
 * node:child_process sets on the error of a child a signal killed.
 */
export function isInterrupted(err: unknown, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  const e = err as { interrupted?: unknown; signal?: unknown; cause?: unknown };
  if (e.interrupted === true || (typeof e.signal === 'string' && e.signal.startsWith('SIG'))) return true;
  return isInterrupted(e.cause, depth + 1);
}

/** The delay before retry number `attempt` (1-based): doubling from `baseMs`, capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
