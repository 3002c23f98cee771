/**
 * ComputeClient over Nova's os-assisted-volume-snapshots API (what Cinder's RemoteFS drivers call
 * through novaclient). Only transport failures are retried: a 4xx/5xx is Nova's decision and is
 * reported at once, so the snapshot goes to error with Nova's own explanation.
 */
import {
  ASSISTED_SNAPSHOTS_PATH,
  formatMicroversion,
  NOVA_API_VERSION_HEADER,
  NOVA_MIN_MICROVERSION,
  type AssistedSnapshotCreateRequest,
} from '../contracts/nova.js';
import type { ComputeClient, GuestControl } from './compute-client.js';

/**
 * Nova's base microversion, as Cinder's nova client pins it. Anything from 2.75 on refuses unknown
 * query parameters on the delete; we only send delete_info, but staying on 2.1 keeps this client
 * usable against every Nova that has the API and against proxies that add parameters.
 */
export const NOVA_MICROVERSION = formatMicroversion(NOVA_MIN_MICROVERSION);

export interface NovaClientOptions {
  /** Nova's endpoint including the version prefix, e.g. `http://nova:8774/v2.1`. */
  computeUrl: string;
  /** Called once per attempt, so a token that expired during backoff is not reused. */
  tokenProvider: () => Promise<string>;
  /** Per-attempt timeout (AbortSignal.timeout); default 30 s. */
  timeoutMs?: number;
  /** Attempts in total for transport failures (first try included); default 4. */
  attempts?: number;
  /** First backoff delay; doubled each retry up to maxBackoffMs. Default 250 ms / 5 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Injected so tests control time instead of waiting it out. */
  sleep?: (ms: number) => Promise<void>;
  /** The compute agent's guest pause extension; only when compute is the agent (see ComputeClient.guest). */
  guest?: GuestControl;
}

type Operation = 'create' | 'delete';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** True for failures where the request may not have reached Nova or its answer was lost. */
export function isTransportError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  // undici reports socket-level failures as TypeError('fetch failed') with the system error as cause;
  // a TypeError without a cause is a programming error (bad URL, bad header) and retrying won't help.
  return err.name === 'TypeError' && (err as { cause?: unknown }).cause !== undefined;
}

function describeTransportError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}

/** Nova's fault message (`{"badRequest": {"code": 400, "message": "..."}}`), else the raw text. */
export function faultMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      for (const value of Object.values(body)) {
        if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
          return (value as { message: string }).message;
        }
      }
    }
  } catch {
    // not JSON: fall through to the text itself
  }
  const trimmed = text.trim();
  return trimmed.length > 300 ? `${trimmed.slice(0, 297)}...` : trimmed;
}

export class NovaComputeClient implements ComputeClient {
  private readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  readonly guest?: GuestControl;

  constructor(private readonly options: NovaClientOptions) {
    if (options.guest) this.guest = options.guest;
    this.base = options.computeUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.attempts = Math.max(1, options.attempts ?? 4);
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  async requestCreate(volumeId: string, createInfo: Record<string, unknown>): Promise<void> {
    const body: AssistedSnapshotCreateRequest<Record<string, unknown>> = { snapshot: { volume_id: volumeId, create_info: createInfo } };
    await this.send('create', 'POST', `${this.base}${ASSISTED_SNAPSHOTS_PATH}`, body);
  }

  async requestDelete(snapshotId: string, deleteInfo: Record<string, unknown>): Promise<void> {
    const query = `delete_info=${encodeURIComponent(JSON.stringify(deleteInfo))}`;
    const url = `${this.base}${ASSISTED_SNAPSHOTS_PATH}/${encodeURIComponent(snapshotId)}?${query}`;
    await this.send('delete', 'DELETE', url);
  }

  private async send(op: Operation, method: string, url: string, body?: unknown): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await this.sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 2)));
      // Outside the retry net: a token provider failure is its own error, not Nova's.
      const headers: Record<string, string> = {
        [NOVA_API_VERSION_HEADER]: NOVA_MICROVERSION,
        'X-Auth-Token': await this.options.tokenProvider(),
        Accept: 'application/json',
      };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      let response: Response;
      let text: string;
      try {
        // One signal covers headers and body: a server that stalls mid-body is as dead as a silent one.
        const signal = AbortSignal.timeout(this.timeoutMs);
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        });
        text = await response.text();
      } catch (err) {
        if (!isTransportError(err)) throw err;
        lastError = err;
        continue;
      }
      if (response.ok) return;
      throw new Error(`compute refused the ${op} request: ${response.status} ${faultMessage(text)}`.trimEnd());
    }
    throw new Error(
      `compute unreachable for the ${op} request after ${this.attempts} attempt(s): ${describeTransportError(lastError)}`,
      { cause: lastError },
    );
  }
}
