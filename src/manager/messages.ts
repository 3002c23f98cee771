// User messages (Cinder's API 3.3): when something the user asked for fails out of their sight
// (a volume the driver could not create, a snapshot that went to error), a message says so in
// Cinder's words, under the user's project. Recorded from the engine's committed transitions
// (src/engine/events.ts) of the volume and snapshot machines.
import { randomUUID } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { MessageRow } from '../engine/store/index.js';
import type { CommittedTransition, VolumeTransitionCommitted } from '../engine/types.js';
import { NotFound } from './errors.js';

/** Cinder's message_ttl default: 30 days. */
export const MESSAGE_TTL_SECONDS = 2_592_000;

/** Cinder's message_field: actions and details, by id. */
export const ACTIONS = {
  SCHEDULE_ALLOCATE_VOLUME: ['001', 'schedule allocate volume'],
  CREATE_VOLUME_FROM_BACKEND: ['008', 'create volume from backend storage'],
  SNAPSHOT_CREATE: ['009', 'create snapshot'],
  SNAPSHOT_DELETE: ['010', 'delete snapshot'],
} as const;
export const DETAILS = {
  UNKNOWN_ERROR: ['001', 'An unknown error occurred.'],
  NO_BACKEND_AVAILABLE: ['003', 'Could not find any available weighted backend.'],
  DRIVER_FAILED_CREATE: ['012', 'Driver failed to create the volume.'],
  SNAPSHOT_CREATE_ERROR: ['013', 'Snapshot failed to create.'],
  SNAPSHOT_DELETE_ERROR: ['016', 'Snapshot failed to delete.'],
} as const;
type Action = (typeof ACTIONS)[keyof typeof ACTIONS];
type Detail = (typeof DETAILS)[keyof typeof DETAILS];
const ACTION_TEXT = new Map<string, string>(Object.values(ACTIONS).map(([id, text]) => [id, text]));
const DETAIL_TEXT = new Map<string, string>(Object.values(DETAILS).map(([id, text]) => [id, text]));

export type ResourceType = 'VOLUME' | 'VOLUME_SNAPSHOT';

export interface NewMessage {
  projectId: string;
  resourceType: ResourceType;
  resourceUuid: string;
  action: Action;
  detail: Detail;
}

/** Cinder's user_message: "<action>:<detail>". */
export function userMessageOf(m: Pick<MessageRow, 'actionId' | 'detailId'>): string {
  const action = ACTION_TEXT.get(m.actionId ?? '') ?? 'unknown action';
  const detail = DETAIL_TEXT.get(m.detailId ?? '') ?? DETAILS.UNKNOWN_ERROR[1];
  return `${action}:${detail}`;
}

export class UserMessages {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly engine: Engine,
    /** The id of the request being served, when there is one (the message's request_id). */
    private readonly requestId: () => string | undefined = () => undefined,
  ) {}

  async record(m: NewMessage): Promise<MessageRow> {
    const now = this.engine.clock();
    const row: MessageRow = {
      id: randomUUID(),
      projectId: m.projectId,
      requestId: this.requestId() ?? `req-${randomUUID()}`,
      resourceType: m.resourceType,
      resourceUuid: m.resourceUuid,
      eventId: `VOLUME_${m.resourceType}_${m.action[0]}_${m.detail[0]}`,
      messageLevel: 'ERROR',
      actionId: m.action[0],
      detailId: m.detail[0],
      createdAt: now,
      expiresAt: new Date(now.getTime() + MESSAGE_TTL_SECONDS * 1000),
    };
    await this.engine.store.insertMessage(row);
    return row;
  }

  list(projectId: string | null): Promise<MessageRow[]> {
    return this.engine.store.listMessages(projectId, this.engine.clock());
  }

  async get(id: string): Promise<MessageRow> {
    const row = await this.engine.store.findMessage(id, this.engine.clock());
    if (!row) throw new NotFound(`Message ${id} could not be found.`);
    return row;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.engine.store.deleteMessage(id, this.engine.clock()))) throw new NotFound(`Message ${id} could not be found.`);
  }

  /**
   * Records a message for every failure the user did not ask for: a volume or snapshot that the
   * driver (or compute) put in error. Admin resets are an operator's choice, not a failure.
   * Returns the unsubscribe.
   */
  follow(onError: (err: unknown) => void): () => void {
    const onVolume = (t: VolumeTransitionCommitted) => {
      if (t.source === 'admin' || t.toStatus !== 'error' || t.fromPhase === null) return;
      this.track(this.forVolume(t.volumeId).catch(onError));
    };
    const onSnapshot = (t: CommittedTransition) => {
      if (t.source === 'admin' || (t.toStatus !== 'error' && t.toStatus !== 'error_deleting')) return;
      const deleting = t.toStatus === 'error_deleting';
      this.track(this.forSnapshot(t.snapshotId, deleting).catch(onError));
    };
    this.engine.events.on('volumeTransition', onVolume);
    this.engine.events.on('transition', onSnapshot);
    return () => {
      this.engine.events.off('volumeTransition', onVolume);
      this.engine.events.off('transition', onSnapshot);
    };
  }

  /** Resolves once every message recorded for a transition so far is written (or failed). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private track(p: Promise<void>) {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async forVolume(volumeId: string) {
    const v = await this.engine.store.findVolume(volumeId);
    if (!v) return;
    await this.record({ projectId: v.projectId, resourceType: 'VOLUME', resourceUuid: v.id, action: ACTIONS.CREATE_VOLUME_FROM_BACKEND, detail: DETAILS.DRIVER_FAILED_CREATE });
  }

  private async forSnapshot(snapshotId: string, deleting: boolean) {
    const s = await this.engine.store.findSnapshot(snapshotId);
    if (!s) return;
    await this.record({
      projectId: s.projectId,
      resourceType: 'VOLUME_SNAPSHOT',
      resourceUuid: s.id,
      action: deleting ? ACTIONS.SNAPSHOT_DELETE : ACTIONS.SNAPSHOT_CREATE,
      detail: deleting ? DETAILS.SNAPSHOT_DELETE_ERROR : DETAILS.SNAPSHOT_CREATE_ERROR,
    });
  }
}
