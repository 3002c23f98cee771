// Snapshot rows written straight into a test service's database, for views that need more rows,
// or older phases, than a test can produce through the API in its time: the list's paging and a
// snapshot stuck for hours. Each row is a snapshot its machine could be in (the persisted state
// is the machine's own for that phase), so the service treats it like any other.
import { persist, snapshotIn, statusOfPhase } from '../../machines/derive.js';
import type { TestService } from '../observability/helpers.js';

export interface SeedRow {
  id: string;
  volumeId: string;
  phase: string;
  projectId?: string;
  name?: string;
  createdAt: Date;
  phaseEnteredAt?: Date;
  deadlineAt?: Date;
  progress?: string;
  errorReason?: string;
}

export async function seedSnapshots(t: TestService, rows: SeedRow[]) {
  await t.service.engine.store.db.prisma.snapshot.createMany({
    data: rows.map((r) => ({
      id: r.id,
      volumeId: r.volumeId,
      projectId: r.projectId ?? 'demo',
      userId: 'tester',
      name: r.name ?? r.id,
      status: statusOfPhase(r.phase),
      progress: r.progress ?? '0%',
      volumeSize: 1,
      machineState: JSON.stringify(persist(snapshotIn(r.phase))),
      phase: r.phase,
      createdAt: r.createdAt,
      phaseEnteredAt: r.phaseEnteredAt ?? r.createdAt,
      deadlineAt: r.deadlineAt ?? null,
      errorReason: r.errorReason ?? null,
    })),
  });
}
