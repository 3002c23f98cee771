// Volume transfers (cinder/transfer/api.py): a project offers a volume, another accepts it with
// the auth key. Each step is an event of the volume's machine, with the transfer's row written in
// the same commit: create parks the volume in `awaiting-transfer`, accept moves it (and, unless
// no_snapshots, its snapshots) to the accepting project and back to `available`, delete withdraws
// the offer. A transfer has no phase of its own to wait in, so it has no machine: its rows record
// the offer and its outcome, the volume's machine the lifecycle.
//
// The auth key is shown once, in the create's answer; only Cinder's salt and HMAC-SHA1 of the key
// under it are stored, so a database read does not give away a volume.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Engine } from '../engine/engine.js';
import type { TransferRow } from '../engine/store/index.js';
import { InvalidRequest, NotFound } from './errors.js';
import type { Reads } from './reads.js';
import { expectAccepted } from './volume-commands.js';

/** Cinder's volume_transfer_salt_length and volume_transfer_key_length defaults. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

/** transfer/api.py _get_random_string: hex digits, which anyone can type. */
function randomHex(length: number): string {
  let out = '';
  while (out.length < length) out += createHash('sha224').update(randomBytes(255)).digest('hex');
  return out.slice(0, length);
}

/** transfer/api.py _get_crypt_hash. */
export const cryptHash = (salt: string, authKey: string) => createHmac('sha1', salt).update(authKey).digest('hex');

export interface CreateTransferInput {
  volumeId: string;
  name?: string | null;
  noSnapshots?: boolean;
}

export type CreatedTransfer = TransferRow & { authKey: string };

export class TransferCommands {
  constructor(
    private readonly engine: Engine,
    private readonly reads: Reads,
  ) {}

  async create(input: CreateTransferInput): Promise<CreatedTransfer> {
    const volume = await this.reads.liveVolume(input.volumeId);
    if (volume.status !== 'available') throw new InvalidRequest('Invalid volume: status must be available');
    const noSnapshots = input.noSnapshots ?? false;
    if (!noSnapshots) {
      const busy = (await this.engine.store.liveSnapshotsOf(volume.id)).find((s) => s.status !== 'available');
      if (busy) throw new InvalidRequest(`Invalid snapshot: snapshot: ${busy.id} status must be available`);
    }
    const id = randomUUID();
    const salt = randomHex(SALT_LENGTH);
    const authKey = randomHex(KEY_LENGTH);
    const outcome = await this.engine.volumes.deliver({
      volumeId: volume.id,
      event: { type: 'transfer.create' },
      source: 'api',
      expectedVersion: volume.version,
      transfer: {
        kind: 'create',
        transfer: { id, displayName: input.name ?? null, salt, cryptHash: cryptHash(salt, authKey), noSnapshots, sourceProjectId: volume.projectId },
      },
    });
    if (outcome.kind === 'conflict') throw new InvalidRequest(`Invalid volume: Volume ${volume.id} changed while the transfer was requested; try again.`);
    expectAccepted(outcome, () => 'Invalid volume: status must be available', 'transfer');
    const row = await this.engine.store.readTransfer(id);
    if (!row) throw new Error(`transfer ${id} not found after its commit`);
    return { ...row, authKey };
  }

  /** A live transfer; not found also when `canSee` says the caller may not see its project's. */
  async get(transferId: string, canSee: (projectId: string) => boolean = () => true): Promise<TransferRow> {
    const row = await this.engine.store.readTransfer(transferId);
    if (!row || !canSee(row.sourceProjectId)) throw new NotFound(`Transfer ${transferId} could not be found.`);
    return row;
  }

  list(projectId: string | null): Promise<TransferRow[]> {
    return this.engine.store.listTransfers(projectId);
  }

  /** The accepting project takes the volume; a wrong key is Cinder's InvalidAuthKey (400). */
  async accept(transferId: string, authKey: string, to: { projectId: string; userId: string }): Promise<TransferRow> {
    const transfer = await this.get(transferId);
    const expected = Buffer.from(transfer.cryptHash);
    const given = Buffer.from(cryptHash(transfer.salt, authKey));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new InvalidRequest(`Invalid auth key: Attempt to transfer ${transferId} with invalid auth key.`);
    }
    const outcome = await this.engine.volumes.deliver({
      volumeId: transfer.volumeId,
      event: { type: 'transfer.accept' },
      source: 'api',
      transfer: { kind: 'accept', transferId, projectId: to.projectId, userId: to.userId, noSnapshots: transfer.noSnapshots },
    });
    expectAccepted(outcome, (o) => `Invalid volume: Volume ${transfer.volumeId} status must be awaiting-transfer to accept a transfer, but is ${o.status}.`, 'accept the transfer of');
    return transfer;
  }

  /**
   * Withdraws the offer; the volume goes back to `available`. Cinder destroys the transfer
   * whatever the volume's status (it only logs one other than awaiting-transfer): a volume an
   * admin has reset elsewhere keeps its status, and the offer still goes.
   */
  async delete(transferId: string, canSee: (projectId: string) => boolean = () => true): Promise<void> {
    const transfer = await this.get(transferId, canSee);
    const outcome = await this.engine.volumes.deliver({
      volumeId: transfer.volumeId,
      event: { type: 'transfer.delete' },
      source: 'api',
      transfer: { kind: 'delete', transferId },
    });
    if (outcome.kind === 'rejected') await this.engine.store.withdrawTransfer(transferId, this.engine.clock());
    else expectAccepted(outcome, () => 'Invalid volume', 'withdraw the transfer of');
  }
}
