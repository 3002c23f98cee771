import type { SnapshotEvent } from '../../machines/snapshot.js';
import type { PhaseResult } from '../drivers/driver.js';
import type { QuotaDemand, QuotaRefusal } from './store/quota.js';
import type { ClosedJobStatus, SnapshotIdentity, SnapshotRow } from './store/rows.js';

export const eventSources = ['api', 'compute', 'driver', 'timer', 'admin'] as const;
export type EventSource = (typeof eventSources)[number];

export type Clock = () => Date;

export interface Delivery {
  snapshotId: string;
  event: SnapshotEvent;
  source: EventSource;
  /** Written in the same commit as the transition, and only if the event is accepted. */
  writes?: PhaseResult;
  /** An outbox job whose result this event is; it is closed in the same commit either way. */
  completesJob?: number;
  /**
   * The version the caller acted on. Given: a moved-on snapshot is not offered the event. A job's
   * result (completesJob) is then refused and recorded as stale; any other caller (a swept
   * deadline) gets `conflict`.
   */
  expectedVersion?: number;
  /**
   * The row as the caller already read it (the API authorised against it): read once. The
   * version guard catches a row that moved on since, and the event is then offered again.
   */
  row?: SnapshotRow;
}

export interface NewSnapshot extends SnapshotIdentity {
  metadata: Record<string, string>;
}

export type CreateEvent = Extract<SnapshotEvent, { type: 'snapshot.create' }>;

/** What the group committer takes: a create, an event for a snapshot, or a job to close. */
export type Submission =
  | { kind: 'create'; snapshot: NewSnapshot; event: CreateEvent; source: EventSource; volumeGuard?: { volumeId: string; status: string }; quota?: QuotaDemand }
  | { kind: 'event'; delivery: Delivery }
  | { kind: 'close'; jobId: number; status: ClosedJobStatus; error?: string };

export interface CommittedTransition {
  snapshotId: string;
  version: number;
  fromPhase: string | null;
  toPhase: string;
  toStatus: string;
  eventType: string;
  source: EventSource;
  effects: string[];
  /** When the transition committed, and when the phase it left had been entered (null: none). */
  at: Date;
  fromPhaseEnteredAt: Date | null;
  /**
   * Set on the transition that leaves the guest pause window (it queued `resumeGuest`): how long
   * the window was open, from the create request's commit to this one. The guest was paused for
   * at most this long (the agent pauses only around the overlay switch, inside the window).
   */
  pausedMs?: number;
}

/** One accepted transition of a volume's machine (volume-committer.ts), once committed. */
export interface VolumeTransitionCommitted {
  volumeId: string;
  version: number;
  fromPhase: string | null;
  toPhase: string;
  toStatus: string;
  eventType: string;
  source: EventSource;
  effects: string[];
  at: Date;
}

export type Outcome =
  | {
      kind: 'accepted';
      snapshotId: string;
      version: number;
      fromPhase: string | null;
      toPhase: string;
      fromStatus: string | null;
      toStatus: string;
      effects: string[];
      attempts: number;
      /** The row as committed (not set for rows the committer did not hold whole). */
      row?: SnapshotRow;
    }
  | { kind: 'rejected'; snapshotId: string; version: number; phase: string; status: string; reason: string }
  | { kind: 'conflict'; snapshotId: string; expectedVersion: number; actualVersion: number }
  | { kind: 'not_found'; snapshotId: string }
  /** A create whose volume no longer allowed it when the row was to be written. */
  | { kind: 'refused'; snapshotId: string; reason: string }
  /** A create its project's quota did not hold when the row was to be written (nothing written). */
  | { kind: 'over_quota'; snapshotId: string; refusal: QuotaRefusal }
  | { kind: 'closed'; jobId: number };

/**
 * Points where tests inject crashes (a child process SIGKILLs itself) or observe the engine; for
 * a volume's events, `snapshotId` carries the volume's id. Production code passes none.
 */
export interface EngineHooks {
  /** Inside the transaction, after every write, before commit (once per event of the batch). */
  beforeCommit?(info: { snapshotId: string; event: string }): void | Promise<void>;
  /** After a transition committed, before any of its effects ran. */
  afterCommit?(info: { snapshotId: string; event: string; effects: string[] }): void | Promise<void>;
  /** After an effect ran, before its result was recorded. */
  afterEffect?(info: { snapshotId: string; kind: string; jobId: number }): void | Promise<void>;
}

/** One accepted step of a group's or group snapshot's machine (parent-committer.ts), once committed. */
export interface ParentTransitionCommitted {
  subject: 'group' | 'group_snapshot';
  id: string;
  version: number;
  fromPhase: string | null;
  toPhase: string;
  toStatus: string;
  eventType: string;
  source: EventSource;
  effects: string[];
  at: Date;
}
