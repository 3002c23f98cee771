// The import-direction check: the layers written down once in .dependency-cruiser.cjs hold for
// the whole source tree. Runs the very CLI a developer runs (`npm run check:layers`).
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

async function cruise(cwd: string, ...targets: string[]): Promise<Violation[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [bin, ...targets, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: { stdout?: string; stderr?: string }) => {
    // depcruise exits non-zero when it finds violations; the JSON report is still on stdout.
    if (err.stdout) return { stdout: err.stdout };
    throw new Error(`dependency-cruiser failed: ${err.stderr ?? String(err)}`);
  });
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layers (.dependency-cruiser.cjs)', () => {
  it('no module imports upward, sideways between surfaces, or in a loop', async () => {
    const violations = await cruise(root, 'src', 'machines');
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  describe('the rules bite', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    };
    cpSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));

    it('reports an upward import, a surface importing another, a loop and a test import', async () => {
      write('machines/m.ts', "export const m = 1;\n");
      write('src/engine/e.ts', "import { a } from '../api/a.js';\nexport const e = a;\n");
      write('src/api/a.ts', "import { m } from '../../machines/m.js';\nexport const a = m;\n");
      write('src/ui/u.ts', "import { a } from '../api/a.js';\nexport const u = a;\n");
      write('src/lib/x.ts', "import { y } from './y.js';\nexport const x = y;\n");
      write('src/lib/y.ts', "import { x } from './x.js';\nexport const y = () => x;\n");
      write('src/lib/z.ts', "import { t } from '../../test/t.js';\nexport const z = t;\n");
      write('test/t.ts', "export const t = 1;\n");
      const found = (await cruise(dir, 'src', 'machines')).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
      expect(found).toEqual(
        expect.arrayContaining([
          'not-in-allowed: src/engine/e.ts -> src/api/a.ts',
          'not-in-allowed: src/ui/u.ts -> src/api/a.ts',
          'production-imports-no-tests: src/lib/z.ts -> test/t.ts',
          expect.stringMatching(/^no-circular: src\/lib\/[xy]\.ts -> src\/lib\/[xy]\.ts$/),
        ]),
      );
      // The allowed direction is not reported.
      expect(found.filter((v) => v.startsWith('not-in-allowed: src/api/a.ts'))).toEqual([]);
    });
  });
});
