// The columns of a snapshot row that follow from its machine state. They are computed here and
// only here, so the status a user sees can never disagree with the machine.
import { computeWaitOfPhase, persist, phaseOf, statusOfPhase, type MachineSnapshot } from '../../machines/derive.js';
import type { ComputeWaitSeconds } from '../../machines/derive.js';
import type { StateColumns } from './store/rows.js';

export interface PreviousState {
  phase: string;
  deadlineAt: Date | null;
  phaseEnteredAt: Date;
}

export function stateColumns(next: MachineSnapshot, now: Date, waits: ComputeWaitSeconds, previous?: PreviousState): StateColumns {
  const phase = phaseOf(next);
  const status = statusOfPhase(phase);
  const entered = !previous || previous.phase !== phase;
  const wait = computeWaitOfPhase(phase);
  // A deadline is set when a waiting phase is entered and kept while the machine stays in it
  // (in-progress callbacks do not extend it, as Cinder's polling did not either).
  const deadlineAt = wait ? (entered ? new Date(now.getTime() + waits[wait] * 1000) : previous!.deadlineAt) : null;
  return {
    machineState: JSON.stringify(persist(next)),
    phase,
    status,
    progress: next.context.progress,
    errorReason: next.context.reason,
    deadlineAt,
    phaseEnteredAt: entered ? now : previous!.phaseEnteredAt,
    deleted: status === 'deleted',
    deletedAt: status === 'deleted' ? now : null,
  };
}
