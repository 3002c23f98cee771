// A second process for lock tests: takes the volume lock in `shareDir` the way the driver does,
// says "locked" on stdout, and holds it until a line arrives on stdin or stdin closes (so it
// never outlives a test that failed before releasing it).
import path from 'node:path';
import { createInterface } from 'node:readline';
import { lockFile } from '../../src/drivers/remotefs/layout.js';
import { FileVolumeLocks } from '../../src/share-fs/index.js';

const [shareDir, volumeId] = process.argv.slice(2);
const locks = new FileVolumeLocks((id) => path.join(shareDir, lockFile(id)));
const lines = createInterface({ input: process.stdin });
await locks.withLock(volumeId, async () => {
  process.stdout.write('locked\n');
  await new Promise<void>((resolve) => {
    lines.once('line', () => resolve());
    lines.once('close', () => resolve());
  });
});
lines.close();
process.stdout.write('released\n');
