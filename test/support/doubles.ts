// Test doubles for the driver and compute sides of the core. They are honest about effects: each
// driver phase records every invocation, and an "applied" marker only once per (snapshot, phase),
// the way an idempotent real driver behaves. With a directory, both survive the process (crash
// tests read them from the parent after SIGKILLing a child).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComputeClient, GuestControl } from '../../src/compute/compute-client.js';
import type { ReconcileVerdict } from '../../machines/snapshot.js';
import { CREATE_INFO_KEY, DELETE_INFO_KEY, type DriverPhase, type PhaseResult, type SnapshotRef, type VolumeDriver, type VolumeRef } from '../../src/drivers/driver.js';

export interface Invocation {
  op: string;
  id: string;
}

export class ManualClock {
  private t: number;
  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }
  now = () => new Date(this.t);
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

class Journal {
  private readonly memory: Invocation[] = [];
  private readonly applied = new Set<string>();
  constructor(private readonly dir?: string) {
    if (dir) mkdirSync(dir, { recursive: true });
  }
  record(op: string, id: string) {
    if (this.dir) appendFileSync(join(this.dir, 'invocations.log'), `${JSON.stringify({ op, id })}\n`);
    else this.memory.push({ op, id });
  }
  /** True the first time an effect is applied, false for every repeat. */
  apply(op: string, id: string): boolean {
    const key = `${id}.${op}`;
    if (this.dir) {
      const marker = join(this.dir, `${key}.applied`);
      if (existsSync(marker)) return false;
      writeFileSync(marker, '', { flag: 'wx' });
      return true;
    }
    if (this.applied.has(key)) return false;
    this.applied.add(key);
    return true;
  }
  invocations(): Invocation[] {
    if (!this.dir) return [...this.memory];
    const file = join(this.dir, 'invocations.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
  appliedCount(op: string, id: string): number {
    return this.dir ? (existsSync(join(this.dir, `${id}.${op}.applied`)) ? 1 : 0) : this.applied.has(`${id}.${op}`) ? 1 : 0;
  }
}

export class TestDriver implements VolumeDriver {
  readonly name = 'test';
  readonly journal: Journal;
  /** Phases that fail on their next call (each entry is consumed once). */
  readonly failNext: DriverPhase[] = [];
  /** Phases that fail on their next call with a passing fault (EIO), worth retrying. */
  readonly transientNext: DriverPhase[] = [];
  /** Phases cut short on their next call: their child process killed by SIGTERM, as node:child_process reports it. */
  readonly interruptNext: DriverPhase[] = [];
  /** Begin phases that report "nothing for compute to do" on their next call (consumed once). */
  readonly skipComputeNext: DriverPhase[] = [];
  /** Verdicts the next reconcile calls answer, consumed once each; none queued: `unverified`. */
  readonly verdictNext: ReconcileVerdict[] = [];
  /** Awaited inside a reconcile phase, after it looked and before it answers (a test acts there). */
  duringReconcile?: (snapshotId: string) => Promise<void>;
  /** The same, for one snapshot only (tests whose database holds other snapshots' jobs too). */
  readonly verdictFor = new Map<string, ReconcileVerdict[]>();

  constructor(
    readonly supportsAssistedSnapshots = true,
    dir?: string,
  ) {
    this.journal = new Journal(dir);
  }

  async createVolume() {
    return { providerLocation: 'test-share' };
  }
  async deleteVolume() {}
  async createVolumeFromSnapshot(_volume: VolumeRef, _snapshot: SnapshotRef): Promise<{ providerLocation?: string | null }> {
    return { providerLocation: 'test-share' };
  }
  async createClonedVolume(_volume: VolumeRef, _source: VolumeRef): Promise<{ providerLocation?: string | null }> {
    return { providerLocation: 'test-share' };
  }
  async extendVolume(_volume: VolumeRef, _newSizeGiB: number): Promise<void> {}

  private phase(op: DriverPhase, s: SnapshotRef, result: PhaseResult = {}): PhaseResult {
    this.journal.record(op, s.id);
    const i = this.failNext.indexOf(op);
    if (i >= 0) {
      this.failNext.splice(i, 1);
      throw new Error(`injected failure in ${op}`);
    }
    const t = this.transientNext.indexOf(op);
    if (t >= 0) {
      this.transientNext.splice(t, 1);
      throw Object.assign(new Error(`EIO: i/o error, injected in ${op}`), { code: 'EIO' });
    }
    const k = this.interruptNext.indexOf(op);
    if (k >= 0) {
      this.interruptNext.splice(k, 1);
      throw Object.assign(new Error(`qemu-img killed by SIGTERM in ${op}`), { signal: 'SIGTERM', code: null });
    }
    this.journal.apply(op, s.id);
    const skip = this.skipComputeNext.indexOf(op);
    if (skip >= 0) {
      this.skipComputeNext.splice(skip, 1);
      return { ...result, skipCompute: true };
    }
    return result;
  }

  createSnapshot = async (s: SnapshotRef) => this.phase('createSnapshot', s, { snapshot: { providerLocation: `volume-${s.volumeId}.${s.id}` } });
  deleteSnapshot = async (s: SnapshotRef) => this.phase('deleteSnapshot', s);
  createSnapshotAssistedBegin = async (s: SnapshotRef) =>
    this.phase('createSnapshotAssistedBegin', s, {
      adminMetadata: { [CREATE_INFO_KEY]: JSON.stringify({ snapshot_id: s.id, type: 'qcow2', new_file: `volume-${s.volumeId}.${s.id}` }) },
    });
  createSnapshotAssistedComplete = async (s: SnapshotRef) =>
    this.phase('createSnapshotAssistedComplete', s, {
      snapshot: { providerLocation: `volume-${s.volumeId}.${s.id}` },
      volume: { connectionInfo: { driver_volume_type: 'test', data: { name: `volume-${s.volumeId}.${s.id}` } } },
    });
  deleteSnapshotAssistedBegin = async (s: SnapshotRef) =>
    this.phase('deleteSnapshotAssistedBegin', s, {
      adminMetadata: {
        [DELETE_INFO_KEY]: JSON.stringify({ type: 'qcow2', volume_id: s.volumeId, file_to_merge: `volume-${s.volumeId}.${s.id}`, merge_target_file: null }),
      },
    });
  reconcileCreate = async (s: SnapshotRef) => {
    const result = this.phase('reconcileCreate', s, this.verdict(s.id, 'create'));
    await this.duringReconcile?.(s.id);
    return result;
  };
  reconcileDelete = async (s: SnapshotRef) => {
    const result = this.phase('reconcileDelete', s, this.verdict(s.id, 'delete'));
    await this.duringReconcile?.(s.id);
    return result;
  };
  /**
   * A queued verdict is read as what the files show (compute's part done, not done, or unknown)
   * and answered in the phase's own words, as a real driver would: a queued `merged` makes a
   * create reconcile answer `in_use`.
   */
  private verdict(id: string, op: 'create' | 'delete'): PhaseResult {
    const queued = this.verdictFor.get(id)?.shift() ?? this.verdictNext.shift() ?? 'unverified';
    const inWords: Record<ReconcileVerdict, [ReconcileVerdict, ReconcileVerdict]> = {
      in_use: ['in_use', 'merged'],
      merged: ['in_use', 'merged'],
      rolled_back: ['rolled_back', 'not_merged'],
      not_merged: ['rolled_back', 'not_merged'],
      unverified: ['unverified', 'unverified'],
    };
    const verdict = inWords[queued][op === 'create' ? 0 : 1];
    return { reconcile: { verdict, reason: `test driver says ${verdict}`, evidence: { test: true } } };
  }
  deleteSnapshotAssistedComplete = async (s: SnapshotRef) =>
    this.phase('deleteSnapshotAssistedComplete', s, {
      adminMetadata: { [CREATE_INFO_KEY]: null, [DELETE_INFO_KEY]: null },
      volume: { adminMetadata: { format: 'qcow2' } },
    });
}

/** The test driver, journaling a volume's own effects (create, delete) as it journals snapshot phases. */
export class VolumeJournalDriver extends TestDriver {
  override async createVolume(volume?: VolumeRef) {
    this.journal.record('createVolume', volume!.id);
    this.journal.apply('createVolume', volume!.id);
    return super.createVolume();
  }
  override async deleteVolume(volume?: VolumeRef) {
    this.journal.record('deleteVolume', volume!.id);
    this.journal.apply('deleteVolume', volume!.id);
  }
}

export class TestCompute implements ComputeClient {
  readonly journal: Journal;
  /** Requests to refuse, consumed once each. */
  readonly refuseNext: Array<'create' | 'delete'> = [];
  readonly requests: Array<{ op: 'create' | 'delete'; id: string; info: Record<string, unknown> }> = [];
  readonly guest?: GuestControl;

  constructor(dir?: string) {
    this.journal = new Journal(dir);
  }

  private take(op: 'create' | 'delete', id: string, info: Record<string, unknown>) {
    this.journal.record(`compute.${op}`, id);
    const i = this.refuseNext.indexOf(op);
    if (i >= 0) {
      this.refuseNext.splice(i, 1);
      throw new Error(`compute refused the ${op} request (400)`);
    }
    this.requests.push({ op, id, info });
  }
  async requestCreate(volumeId: string, createInfo: Record<string, unknown>) {
    this.take('create', String(createInfo.snapshot_id ?? volumeId), createInfo);
  }
  async requestDelete(snapshotId: string, deleteInfo: Record<string, unknown>) {
    this.take('delete', snapshotId, deleteInfo);
  }
}

/**
 * A compute that is the agent: it has the guest pause extension. Each resume is recorded; the
 * first `failResumes` fail as an unreachable agent would.
 */
export class TestAgentCompute extends TestCompute {
  readonly resumes: Array<{ volumeId: string; snapshotId: string }> = [];
  failResumes = 0;
  override readonly guest: GuestControl = {
    resume: async (volumeId, snapshotId) => {
      this.journal.record('compute.resume', snapshotId);
      if (this.failResumes > 0) {
        this.failResumes--;
        throw Object.assign(new Error('fetch failed'), { transient: true });
      }
      this.resumes.push({ volumeId, snapshotId });
      return { resumed: true, instanceId: null };
    },
  };
}
