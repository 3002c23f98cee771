/**
 * Delivering os-update_snapshot_status until the storage service acknowledges it. Nova sends it
 * once and only logs a failure, which leaves Cinder polling until its timeout; here a lost or
 * refused-for-now callback is retried with exponential backoff. A 400 is final: the storage side
 * says the snapshot's state has moved on, so repeating the same news cannot help.
 */
import type { Logger } from 'pino';
import { StorageHttpError, type StorageClient } from './storage-client.js';
import type { SnapshotStatusUpdate } from './status-report.js';
import type { CallbackRetryOptions } from './types.js';

export type CallbackResult = 'acknowledged' | 'rejected' | 'gave-up';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface CallbackSenderOptions {
  client: StorageClient;
  retry?: CallbackRetryOptions;
  logger: Logger;
  /** Consulted before each attempt; true means this attempt is lost (fault injection). */
  dropAttempt?: () => boolean;
}

export class CallbackSender {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CallbackSenderOptions) {
    const retry = options.retry ?? {};
    this.attempts = Math.max(1, retry.attempts ?? 8);
    this.baseDelayMs = retry.baseDelayMs ?? 500;
    this.maxDelayMs = retry.maxDelayMs ?? 30_000;
    this.sleep = retry.sleep ?? defaultSleep;
  }

  async send(snapshotId: string, update: SnapshotStatusUpdate): Promise<CallbackResult> {
    const log = this.options.logger.child({ snapshotId, update });
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await this.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2)));
      if (this.options.dropAttempt?.()) {
        log.warn({ attempt }, 'snapshot status callback lost (fault injection)');
        continue;
      }
      try {
        await this.options.client.updateSnapshotStatus(snapshotId, update);
        log.info({ attempt }, 'snapshot status callback acknowledged');
        return 'acknowledged';
      } catch (err) {
        if (err instanceof StorageHttpError && err.status === 400) {
          log.error({ err: err.message }, 'storage service rejected the snapshot status callback; not retrying');
          return 'rejected';
        }
        log.warn({ attempt, err: err instanceof Error ? err.message : String(err) }, 'snapshot status callback failed');
      }
    }
    log.error({ attempts: this.attempts }, 'gave up delivering the snapshot status callback');
    return 'gave-up';
  }
}
