// The storage side's reader of the compute agent's status extension (`GET
// {agent}/agent/v1/volumes/{id}/active`, see src/contracts/nova.ts): which file the instance holding
// a volume has open. Nova has no such API, so this is only configured for the agent
// (COMPUTE_AGENT_STATUS_URL, by default the embedded agent). It is evidence for reconciling, so it
// fails loudly rather than guessing: any answer but 200 with the documented shape is an error.
import { AGENT_STATUS_PREFIX, type ActiveFileView, type GuestResumeRequest, type GuestResumeView } from '../contracts/nova.js';
import type { GuestControl, GuestResumeResult } from './compute-client.js';

export interface AgentStatusClientOptions {
  /** The agent's base URL, e.g. `http://127.0.0.1:8774` (no `/v2.1`). */
  baseUrl: string;
  tokenProvider: () => Promise<string>;
  /** Default 5 s: a reconcile waits for this under the volume lock. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}

export class AgentStatusClient implements GuestControl {
  private readonly base: string;
  private readonly fetchImpl: typeof globalThis.fetch;

  constructor(private readonly options: AgentStatusClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '').replace(/\/v2\.1$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  async activeFile(volumeId: string): Promise<{ activeFile: string | null; instanceId: string | null }> {
    const url = `${this.base}${AGENT_STATUS_PREFIX}/volumes/${encodeURIComponent(volumeId)}/active`;
    const response = await this.fetchImpl(url, {
      headers: { 'X-Auth-Token': await this.options.tokenProvider(), Accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`compute agent status ${url} answered ${response.status} ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as Partial<ActiveFileView>;
    const active = body.active;
    const ok = (v: unknown) => v === null || typeof v === 'string';
    if (!active || active.volume_id !== volumeId || !ok(active.active_file) || !ok(active.instance_id)) {
      throw new Error(`compute agent status ${url} answered an unexpected body: ${text.slice(0, 200)}`);
    }
    return { activeFile: active.active_file, instanceId: active.instance_id };
  }

  /** The guest pause extension's resume (src/contracts/nova.ts): any answer but 200 throws, so the job retries. */
  async resume(volumeId: string, snapshotId: string): Promise<GuestResumeResult> {
    const url = `${this.base}${AGENT_STATUS_PREFIX}/volumes/${encodeURIComponent(volumeId)}/resume`;
    const body: GuestResumeRequest = { resume: { snapshot_id: snapshotId } };
    const response = await this.fetchImpl(url, {
      method: 'POST',
      headers: { 'X-Auth-Token': await this.options.tokenProvider(), Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`compute agent resume ${url} answered ${response.status} ${text.slice(0, 200)}`);
    const view = (JSON.parse(text) as Partial<GuestResumeView>).resume;
    if (!view || view.volume_id !== volumeId || typeof view.resumed !== 'boolean') {
      throw new Error(`compute agent resume ${url} answered an unexpected body: ${text.slice(0, 200)}`);
    }
    return { resumed: view.resumed, instanceId: view.instance_id ?? null };
  }
}
