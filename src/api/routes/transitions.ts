// GET …/{id}/transitions, for a volume's machine and a snapshot's alike.
import type { Context } from 'hono';
import { notFound } from '../../http/faults/index.js';
import { assertVisible, authorize, grantedByRole, type PolicyRule } from '../../http/policy/index.js';
import { transitionView } from '../views.js';

export interface HistoryReads {
  /** Who owns the row, deleted or not (null: it never existed). */
  owner: (id: string) => Promise<{ projectId: string; userId: string } | null>;
  history: (id: string) => Promise<Parameters<typeof transitionView>[0][]>;
}

/**
 * The history outlives its row: a deleted one's path to `deleted` stays readable, so the owner
 * kept on the deleted row decides who may read it. A grant whatever the target (an admin's role)
 * reads any project's; anyone else only a visible row their owner check admits.
 */
export async function transitionsResponse(c: Context, id: string, rule: PolicyRule, notFoundMessage: string, read: HistoryReads) {
  const owner = await read.owner(id);
  const rows = owner ? await read.history(id) : [];
  if (!owner || rows.length === 0) throw notFound(notFoundMessage);
  if (!grantedByRole(c, rule)) {
    assertVisible(c.var.auth, owner.projectId, notFoundMessage);
    authorize(c, rule, { id, ...owner });
  }
  return c.json({ transitions: rows.map(transitionView) });
}
