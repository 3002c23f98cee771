// The columns of a volume row that follow from its machine state, computed here and only here,
// so the status and attach_status a user sees can never disagree with the machine.
import { persistVolume, volumePhaseOf, volumeStatusOfPhase, type VolumeMachineSnapshot } from '../../machines/volume-derive.js';
import type { VolumeStateColumns } from './store/rows.js';

export function volumeStateColumns(next: VolumeMachineSnapshot, now: Date, previous?: { phase: string; phaseEnteredAt: Date }): VolumeStateColumns {
  const phase = volumePhaseOf(next);
  const status = volumeStatusOfPhase(phase);
  const entered = !previous || previous.phase !== phase;
  return {
    machineState: JSON.stringify(persistVolume(next)),
    phase,
    status,
    attachStatus: next.context.attachStatus,
    errorReason: next.context.reason,
    phaseEnteredAt: entered ? now : previous.phaseEnteredAt,
    deleted: status === 'deleted',
    deletedAt: status === 'deleted' ? now : null,
  };
}
