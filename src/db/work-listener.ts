// Cross-instance wakeups on PostgreSQL: every instance LISTENs on one channel, and every commit
// that makes jobs runnable NOTIFYs it (store/dialect.ts `notifyWork`), so a job queued by one
// instance is claimed by an idle one at once instead of at its next poll.
//
// LISTEN belongs to a session: it needs a connection of its own that stays open, which is why
// this is a plain `pg` Client and not a connection of the Prisma pool (a pooled connection is
// handed to other queries and its LISTEN would go with it). For the same reason it must reach
// PostgreSQL directly or through a pooler in session mode: PgBouncer's transaction mode hands the
// server connection to someone else after each transaction, so notifications never arrive.
//
// Notifications are a shortcut, never the record: the runner still polls (WORKER_POLL_MS), and a
// listener that loses its connection (server restart, failover, pg_terminate_backend) reconnects
// with backoff and then asks for one round of polling at once (`onReconnect`), since whatever was
// notified while it was away is gone.
import pg from 'pg';
import { WORK_CHANNEL } from './work-channel.js';

/** How the listener's session shows in pg_stat_activity.application_name. */
export const LISTENER_APPLICATION_NAME = 'assisted-snapshots-listener';

export interface WorkListenerOptions {
  /** A notification arrived: work may be runnable. */
  onNotify: () => void;
  /** Listening again after a lost connection: look for work, notifications may have been missed. */
  onReconnect?: () => void;
  /** The connection was lost, or a reconnect failed (it is retried). */
  onLost?: (err: unknown) => void;
  /** First wait before reconnecting; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  connectTimeoutMs?: number;
}

export class WorkListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private everListened = false;

  constructor(
    private readonly url: string,
    private readonly options: WorkListenerOptions,
  ) {}

  /** Resolves once LISTEN is in place, or once a first failure has been reported and a retry planned. */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      // Polling covers the gap; the first successful connect then counts as a reconnect.
      this.everListened = true;
      this.options.onLost?.(err);
      this.scheduleReconnect();
    }
  }

  /** Whether a LISTEN session is open now. */
  get listening(): boolean {
    return this.client !== null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
      // A connection that dies without a FIN (a host or network gone) is noticed by TCP keepalive
      // instead of never: a listener has nothing to send, so it would not notice otherwise.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let lost = false;
    const onGone = (err: unknown) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      if (this.stopped) return;
      this.options.onLost?.(err);
      this.scheduleReconnect();
    };
    client.on('error', onGone);
    client.on('end', () => onGone(new Error('listener connection ended')));
    client.on('notification', (n) => {
      if (n.channel === WORK_CHANNEL) this.options.onNotify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (err) {
      lost = true;
      client.end().catch(() => {});
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
    if (this.everListened) this.options.onReconnect?.();
    this.everListened = true;
  }

  private scheduleReconnect() {
    const base = this.options.retryMs ?? 100;
    const delay = Math.min(base * 2 ** this.attempt, this.options.maxRetryMs ?? 5000);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.connect().catch((err) => {
        if (this.stopped) return;
        this.options.onLost?.(err);
        this.scheduleReconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }
}
