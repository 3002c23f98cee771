// The project's root directory (the one holding package.json): where node_modules/ and prisma/
// are. Found by walking up from this module, because this module runs from two depths: from
// src/lib/ under tsx (`npm run dev`, the tests) and from dist/src/lib/ compiled (`npm start`).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

export function projectRoot(): string {
  if (found) return found;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return (found = dir);
}
