// The UI's snapshot list over 100,000 rows on both providers: keyset pages newest first cover
// every row exactly once in order (created_at ties included), each filter narrows it, a page deep
// down is a range seek on the index that filter leads (EXPLAIN of the very statement Prisma
// sends), and the needs-attention read picks the right rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/db/client.js';
import { SnapshotStore } from '../../../src/engine/store/index.js';
import { readAttention } from '../../../src/engine/store/read-attention.js';
import { readSnapshotWindow, type SnapshotWindowQuery } from '../../../src/engine/store/read-snapshot-window.js';
import { freshDatabaseUrl, providers } from '../../support/databases.js';
import { recordingPrisma, type RecordingPrisma } from '../../support/recording-prisma.js';

const ROWS = 100_000;
const BASE = Date.parse('2026-11-01T00:00:00Z');
const PHASES = ['available', 'available', 'available', 'error', 'creating.computeAssisted', 'deleting.storageBegin'] as const;
const statusOf = (phase: string) => (phase.startsWith('creating') ? 'creating' : phase.startsWith('deleting') ? 'deleting' : phase);

interface Seeded {
  id: string;
  createdAt: number;
  status: string;
  phase: string;
  projectId: string;
  volumeId: string;
}

function seedRows(): Seeded[] {
  return Array.from({ length: ROWS }, (_, i) => {
    const phase = PHASES[i % PHASES.length]!;
    // Three rows a millisecond: pages must break created_at ties by id.
    return { id: `s-${String((i * 7919) % ROWS).padStart(6, '0')}`, createdAt: BASE + Math.floor(i / 3), status: statusOf(phase), phase, projectId: `p${i % 10}`, volumeId: `v${i % 2}` };
  });
}

const newestFirst = (a: Seeded, b: Seeded) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe.each(providers)('the UI snapshot list over %s', (provider) => {
  let db: Db;
  let store: SnapshotStore;
  let rec: RecordingPrisma;
  const seeded = seedRows();

  beforeAll(async () => {
    const url = await freshDatabaseUrl(provider);
    db = await openDatabase(url);
    store = new SnapshotStore(db);
    for (const v of ['v0', 'v1']) {
      await db.prisma.volume.create({ data: { id: v, projectId: 'p0', userId: 'u', size: 1, status: 'available', machineState: '{}', phase: 'available' } });
    }
    for (let i = 0; i < ROWS; i += 5000) {
      await db.prisma.snapshot.createMany({
        data: seeded.slice(i, i + 5000).map((s) => ({ ...s, createdAt: new Date(s.createdAt), userId: 'u', volumeSize: 1, machineState: '{}' })),
      });
    }
    // PostgreSQL's autovacuum analyzes a table that grew like this; the service never runs
    // SQLite's ANALYZE, so its planner goes without statistics, as here.
    if (provider === 'postgresql') await db.prisma.$executeRawUnsafe('ANALYZE snapshots');
    rec = await recordingPrisma(url);
  }, 300_000);

  afterAll(async () => {
    await rec?.close();
    await db?.close();
  });

  /** Every page of a query, in order. */
  async function walk(q: Omit<SnapshotWindowQuery, 'after'>) {
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.readSnapshotWindow({ ...q, ...(after ? { after } : {}) });
      if (!page) throw new Error('cursor lost');
      ids.push(...page.rows.map((r) => r.snapshot.id));
      if (!page.next) return ids;
      after = page.next;
    }
  }

  it('pages through all 100,000 rows newest first, each exactly once', async () => {
    const ids = await walk({ scope: null, filters: {}, take: 200 });
    expect(ids).toEqual([...seeded].sort(newestFirst).map((s) => s.id));
  }, 120_000);

  it.each([
    ['status', { status: 'error' }, (s: Seeded) => s.status === 'error'],
    ['phase', { phase: 'creating.computeAssisted' }, (s: Seeded) => s.phase === 'creating.computeAssisted'],
    ['project', { projectId: 'p3' }, (s: Seeded) => s.projectId === 'p3'],
    ['volume', { volumeId: 'v1' }, (s: Seeded) => s.volumeId === 'v1'],
    ['status and project', { status: 'available', projectId: 'p4' }, (s: Seeded) => s.status === 'available' && s.projectId === 'p4'],
  ] as const)('filters by %s', async (_name, filters, keep) => {
    const ids = await walk({ scope: null, filters, take: 200 });
    expect(ids).toEqual(seeded.filter(keep).sort(newestFirst).map((s) => s.id));
  }, 120_000);

  it("keeps to the caller's project scope, and a filter for another project finds nothing", async () => {
    const page = await store.readSnapshotWindow({ scope: 'p2', filters: {}, take: 20 });
    expect(page!.rows.map((r) => r.snapshot.id)).toEqual(seeded.filter((s) => s.projectId === 'p2').sort(newestFirst).slice(0, 20).map((s) => s.id));
    expect(await store.readSnapshotWindow({ scope: 'p2', filters: { projectId: 'p3' }, take: 20 })).toEqual({ rows: [], next: null });
    expect(await store.readSnapshotWindow({ scope: null, filters: {}, take: 20, after: 'no-such-snapshot' })).toBeNull();
  });

  it.each([
    ['no filter', {}, 'snapshots_created_at_id_idx'],
    ['status', { status: 'error' }, 'snapshots_status_created_at_id_idx'],
    ['phase', { phase: 'deleting.storageBegin' }, 'snapshots_phase_created_at_id_idx'],
    ['project', { projectId: 'p7' }, 'snapshots_project_id_created_at_id_idx'],
    ['volume', { volumeId: 'v0' }, 'snapshots_volume_id_created_at_id_idx'],
  ] as const)('a page deep down with %s is a range seek on its index, with no sort', async (_name, filters, index) => {
    const deep = [...seeded].sort(newestFirst)[ROWS / 2]!.id;
    rec.statements.length = 0;
    const started = performance.now();
    const page = await readSnapshotWindow(rec.prisma, { scope: null, filters, take: 50, after: deep });
    const ms = performance.now() - started;
    expect(page!.rows.length).toBeGreaterThan(0);
    const select = rec.statements.find((s) => /ORDER BY \S*created_at\S* DESC/.test(s.sql) && !s.sql.includes('snapshot_transitions'));
    expect(select, rec.statements.map((s) => s.sql).join('\n---\n')).toBeDefined();
    const plan = (await rec.explain(select!)).join('\n');
    if (provider === 'sqlite') {
      // SQLite takes the index the filter leads, seeks to the cursor and reads in index order.
      expect(plan).toMatch(new RegExp(`SEARCH (main\\.)?snapshots USING INDEX ${index} \\(.*created_at<`));
      expect(plan).not.toContain('TEMP B-TREE');
    } else {
      // PostgreSQL weighs the filter's selectivity (against ANALYZE's statistics) and may pick
      // the plain (created_at, id) index for a filter half the rows match; either way it seeks
      // to the cursor through an index, never scans the table.
      expect(plan).toMatch(new RegExp(`Index Scan Backward using (${index}|snapshots_created_at_id_idx)`));
      expect(plan).toMatch(/Index Cond: .*created_at <=/);
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toMatch(/->\s+Sort/);
    }
    console.info(`${provider} ${_name}: page of 50 after row ${ROWS / 2} in ${ms.toFixed(1)} ms; plan: ${plan.replace(/\n/g, ' | ')}`);
  });

  it('reads what needs attention through indexes, never a scan of the table', async () => {
    rec.statements.length = 0;
    const now = BASE + ROWS;
    // As in a real database, few rows match: none is in error_deleting or reconciling, and
    // none has a deadline set.
    const rows = await readAttention(rec.prisma, {
      scope: null,
      errorStatuses: ['error_deleting'],
      activePhases: ['creating.reconciling', 'deleting.reconciling'],
      deadlineBefore: new Date(now + 60_000),
      enteredBefore: new Date(now - 300_000),
      take: 200,
    });
    expect(rows).toEqual([]);
    const select = rec.statements.find((s) => /ORDER BY \S*phase_entered_at/.test(s.sql));
    const plan = (await rec.explain(select!)).join('\n');
    console.info(`${provider} attention plan: ${plan.replace(/\n/g, ' | ')}`);
    if (provider === 'sqlite') {
      expect(plan).toContain('MULTI-INDEX OR');
      expect(plan).not.toMatch(/SCAN (main\.)?snapshots/);
    } else {
      expect(plan).not.toContain('Seq Scan');
    }
  });
});

describe.each(providers)('the needs-attention read on %s', (provider) => {
  it('lists errors, near deadlines and stuck phases, oldest phase first, in scope, live rows only', async () => {
    const db = await openDatabase(await freshDatabaseUrl(provider));
    try {
      const store = new SnapshotStore(db);
      const now = Date.parse('2026-11-29T10:00:00Z');
      await db.prisma.volume.create({ data: { id: 'v', projectId: 'p', userId: 'u', size: 1, status: 'available', machineState: '{}', phase: 'available' } });
      const row = (id: string, phase: string, enteredSecondsAgo: number, extra: Record<string, unknown> = {}) => ({
        id, phase, status: statusOf(phase), volumeId: 'v', projectId: 'p', userId: 'u', volumeSize: 1, machineState: '{}',
        phaseEnteredAt: new Date(now - enteredSecondsAgo * 1000), ...extra,
      });
      await db.prisma.snapshot.createMany({
        data: [
          row('error-new', 'error', 5),
          row('deadline-near', 'creating.computeAssisted', 30, { deadlineAt: new Date(now + 20_000) }),
          row('deadline-far', 'creating.computeAssisted', 30, { deadlineAt: new Date(now + 500_000) }),
          row('stuck', 'deleting.storageBegin', 900),
          row('resting-old', 'available', 90_000),
          row('fresh-busy', 'creating.storageBegin', 10),
          row('error-deleted', 'error', 50, { deleted: true }),
          row('elsewhere', 'error', 70, { projectId: 'q' }),
        ],
      });
      const q = { errorStatuses: ['error', 'error_deleting'], activePhases: ['creating.storageBegin', 'creating.computeAssisted', 'creating.reconciling', 'deleting.storageBegin'], deadlineBefore: new Date(now + 60_000), enteredBefore: new Date(now - 300_000), take: 10 };
      const all = await store.readAttention({ ...q, scope: null });
      expect(all.map((r) => r.snapshot.id)).toEqual(['stuck', 'elsewhere', 'deadline-near', 'error-new']);
      const mine = await store.readAttention({ ...q, scope: 'p' });
      expect(mine.map((r) => r.snapshot.id)).toEqual(['stuck', 'deadline-near', 'error-new']);
    } finally {
      await db.close();
    }
  });
});
