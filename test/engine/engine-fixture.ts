// Shared by the engine's behaviour tests (claims, conflicts, deadlines, ...): a harness on a fresh
// database of one provider per test, closed after it, and a snapshot's history as one line per
// transition so a test can compare it whole.
import { afterEach } from 'vitest';
import type { Provider } from '../../src/db/client.js';
import { freshDatabaseUrl } from '../support/databases.js';
import { harness, type Harness } from '../support/harness.js';

export type HarnessOptions = Parameters<typeof harness>[1];

/** Call inside a describe: `setup()` opens the current test's harness, afterEach closes it. */
export function engineFixture(provider: Provider) {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  return {
    async setup(opts: HarnessOptions = {}): Promise<Harness> {
      h = await harness(await freshDatabaseUrl(provider), opts);
      return h;
    },
    /** "<version> <from> -> <to> [<event>/<source>]", plus " REJECTED" for a refused event. */
    async history(id: string): Promise<string[]> {
      return (await h!.manager.transitions(id)).map(
        (t) => `${t.version} ${t.fromPhase ?? '-'} -> ${t.toPhase} [${t.eventType}/${t.source}]${t.rejected ? ' REJECTED' : ''}`,
      );
    },
  };
}
