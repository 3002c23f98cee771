// Child process for test/db/sqlite-concurrency.test.ts: runs `count` read-then-write interactive
// transactions on the counter volume of the SQLite database at argv[2], printing a JSON summary.
import { openDatabase } from '../../src/db/client.js';

async function main(): Promise<void> {
  const [url, countArg] = process.argv.slice(2);
  if (!url || !countArg) throw new Error('usage: sqlite-contender <url> <count>');
  const db = await openDatabase(url);
  let ok = 0;
  const errors: string[] = [];
  for (let i = 0; i < Number(countArg); i++) {
    try {
      await db.prisma.$transaction(async (tx) => {
        const v = await tx.volume.findUniqueOrThrow({ where: { id: 'counter' } });
        await tx.volume.update({ where: { id: 'counter' }, data: { size: v.size + 1 } });
      });
      ok++;
    } catch (err) {
      errors.push(String(err instanceof Error ? err.message : err).split('\n').slice(-2).join(' '));
    }
  }
  await db.close();
  console.log(JSON.stringify({ ok, errors: errors.slice(0, 3) }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
