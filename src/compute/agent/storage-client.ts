/**
 * The agent's calls to the storage service's Cinder API: the legacy attach/detach actions Nova
 * uses, and the os-update_snapshot_status callback. One attempt per call here; retry policy lives
 * with the caller (callbacks.ts), because attach steps must not be blindly repeated.
 */
import { faultMessage } from '../nova-client.js';

export const VOLUME_API_VERSION = 'volume 3.0';

export interface StorageClientOptions {
  /** Cinder's project-scoped endpoint, e.g. `http://127.0.0.1:8776/v3/<project_id>`. */
  storageUrl: string;
  tokenProvider: () => Promise<string>;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

/** A non-2xx answer; `status` lets callers tell final refusals from retryable ones. */
export class StorageHttpError extends Error {
  constructor(
    readonly status: number,
    readonly faultText: string,
    what: string,
  ) {
    super(`storage service answered ${status} to ${what}: ${faultText}`);
    this.name = 'StorageHttpError';
  }
}

/**
 * `{project_id}` (or oslo's `%(project_id)s`) in the configured URL is filled from the project id,
 * the way Nova builds Cinder's endpoint from its catalog template.
 */
export function resolveStorageUrl(storageUrl: string, projectId?: string): string {
  const templated = /\{project_id\}|%\(project_id\)s/;
  if (templated.test(storageUrl)) {
    if (!projectId) throw new Error(`storage URL ${storageUrl} needs a project id`);
    return storageUrl.replace(templated, encodeURIComponent(projectId)).replace(/\/+$/, '');
  }
  return storageUrl.replace(/\/+$/, '');
}

export class StorageClient {
  private readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;

  constructor(private readonly options: StorageClientOptions) {
    this.base = options.storageUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** `POST /volumes/{id}/action`; returns the parsed JSON answer, or undefined for an empty 202. */
  async volumeAction(volumeId: string, action: string, args: unknown): Promise<unknown> {
    return this.post(`/volumes/${encodeURIComponent(volumeId)}/action`, { [action]: args }, `${action} on volume ${volumeId}`);
  }

  async updateSnapshotStatus(snapshotId: string, update: object): Promise<void> {
    await this.post(
      `/snapshots/${encodeURIComponent(snapshotId)}/action`,
      { 'os-update_snapshot_status': update },
      `os-update_snapshot_status of snapshot ${snapshotId}`,
    );
  }

  private async post(path: string, body: unknown, what: string): Promise<unknown> {
    const response = await this.fetchImpl(`${this.base}${path}`, {
      method: 'POST',
      headers: {
        'X-Auth-Token': await this.options.tokenProvider(),
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'OpenStack-API-Version': VOLUME_API_VERSION,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new StorageHttpError(response.status, faultMessage(text), what);
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`storage service answered ${what} with a body that is not JSON`);
    }
  }
}
