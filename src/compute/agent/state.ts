/**
 * The agent's memory of which instance has which volume file open, kept in a small JSON file so
 * a restarted agent still knows (Nova keeps the same facts in its block_device_mapping table and
 * the libvirt domain XML). Every change is written durably (share-fs), so a crash leaves either the
 * previous or the next state, never half of one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeDurably } from '../../share-fs/index.js';
import type { OperationKind, OperationOutcome, VolumeAttachmentRecord } from './types.js';

interface StateDocument {
  version: 1;
  /** instance id -> volume id -> attachment */
  instances: Record<string, Record<string, VolumeAttachmentRecord>>;
  /** `${kind}:${snapshotId}` -> outcome, oldest first */
  outcomes: Record<string, OperationOutcome>;
}

/** Enough to answer any retry a storage service could still send, without growing forever. */
const MAX_OUTCOMES = 1000;

export class AgentState {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly doc: StateDocument,
  ) {}

  static async load(file: string): Promise<AgentState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return new AgentState(file, { version: 1, instances: {}, outcomes: {} });
      }
      throw err;
    }
    const doc = JSON.parse(text) as StateDocument;
    if (doc.version !== 1 || typeof doc.instances !== 'object') {
      throw new Error(`compute agent state file ${file} is not a version 1 state document`);
    }
    doc.outcomes ??= {};
    return new AgentState(file, doc);
  }

  /** Every instance that has `volumeId` attached (more than one means multi-attach). */
  findVolume(volumeId: string): { instanceId: string; attachment: VolumeAttachmentRecord }[] {
    const found: { instanceId: string; attachment: VolumeAttachmentRecord }[] = [];
    for (const [instanceId, volumes] of Object.entries(this.doc.instances)) {
      const attachment = volumes[volumeId];
      if (attachment) found.push({ instanceId, attachment: { ...attachment } });
    }
    return found;
  }

  /** Every attachment, for an agent that starts again. */
  all(): { instanceId: string; record: VolumeAttachmentRecord }[] {
    return Object.entries(this.doc.instances).flatMap(([instanceId, volumes]) =>
      Object.values(volumes).map((record) => ({ instanceId, record: { ...record } })),
    );
  }

  get(instanceId: string, volumeId: string): VolumeAttachmentRecord | undefined {
    const record = this.doc.instances[instanceId]?.[volumeId];
    return record ? { ...record } : undefined;
  }

  list(instanceId: string): VolumeAttachmentRecord[] {
    return Object.values(this.doc.instances[instanceId] ?? {}).map((r) => ({ ...r }));
  }

  async attach(instanceId: string, record: VolumeAttachmentRecord): Promise<void> {
    (this.doc.instances[instanceId] ??= {})[record.volumeId] = { ...record };
    await this.persist();
  }

  async detach(instanceId: string, volumeId: string): Promise<void> {
    const volumes = this.doc.instances[instanceId];
    if (!volumes?.[volumeId]) return;
    delete volumes[volumeId];
    if (Object.keys(volumes).length === 0) delete this.doc.instances[instanceId];
    await this.persist();
  }

  async setActiveFile(instanceId: string, volumeId: string, activeFile: string): Promise<void> {
    const record = this.doc.instances[instanceId]?.[volumeId];
    if (!record) throw new Error(`volume ${volumeId} is no longer attached to instance ${instanceId}`);
    record.activeFile = activeFile;
    record.connectionInfo = {
      ...record.connectionInfo,
      data: { ...((record.connectionInfo.data as Record<string, unknown> | undefined) ?? {}), name: activeFile },
    };
    await this.persist();
  }

  outcome(kind: OperationKind, snapshotId: string): OperationOutcome | undefined {
    return this.doc.outcomes[`${kind}:${snapshotId}`];
  }

  async recordOutcome(kind: OperationKind, snapshotId: string, outcome: OperationOutcome): Promise<void> {
    const key = `${kind}:${snapshotId}`;
    delete this.doc.outcomes[key];
    this.doc.outcomes[key] = outcome;
    const keys = Object.keys(this.doc.outcomes);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_OUTCOMES))) delete this.doc.outcomes[old];
    await this.persist();
  }

  /** Serialised so two quick changes cannot rename an older snapshot of the state over a newer one. */
  private persist(): Promise<void> {
    const text = `${JSON.stringify(this.doc, null, 2)}\n`;
    const next = this.writes.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      await writeDurably(this.file, text, { mode: 0o600 });
    });
    this.writes = next.catch(() => undefined);
    return next;
  }
}
