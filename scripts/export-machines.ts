// `npm run export-machines`: regenerates docs/machines/{snapshot,volume}.{mmd,json} and the
// diagrams in README.md from machines/snapshot.ts and machines/volume.ts. Run it after changing the machine; a test compares the
// committed files with a fresh export. The work is in src/observability/export.ts, where the
// type checker and the tests see it.
import { writeMachineExports } from '../src/observability/export.js';

for (const file of writeMachineExports()) console.log(`wrote ${file}`);
