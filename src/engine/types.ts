import type { SnapshotEvent } from '../../machines/snapshot.js';
import type { PhaseResult } from '../drivers/driver.js';
import type { PrismaClient } from '../db/client.js';

export const eventSources = ['api', 'compute', 'driver', 'timer', 'admin'] as const;
export type EventSource = (typeof eventSources)[number];

/** The client handed to code running inside an interactive transaction. */
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

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
   * The version the caller acted on. Given: a moved-on snapshot answers `conflict` instead of
   * re-evaluating the event against the newer state (timers use this: a swept deadline is only
   * meaningful for the version that set it).
   */
  expectedVersion?: number;
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
    }
  | { kind: 'rejected'; snapshotId: string; version: number; phase: string; status: string; reason: string }
  | { kind: 'conflict'; snapshotId: string; expectedVersion: number; actualVersion: number }
  | { kind: 'not_found'; snapshotId: string };

/**
 * Points where tests inject crashes (a child process SIGKILLs itself) or observe the engine.
 * Production code passes none.
 */
export interface EngineHooks {
  /** Inside the transaction, after every write, before commit. */
  beforeCommit?(info: { snapshotId: string; event: string }): void | Promise<void>;
  /** After a transition committed, before any of its effects ran. */
  afterCommit?(info: { snapshotId: string; event: string; effects: string[] }): void | Promise<void>;
  /** After an effect ran, before its result was recorded. */
  afterEffect?(info: { snapshotId: string; kind: string; jobId: number }): void | Promise<void>;
}
