// volume-<id>.info: which file is active and which file each snapshot id maps to. It is the
// storage side's only record of the chain, so a torn or lost write would orphan data: every write
// is a durable one (share-fs).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeDurably } from '../../share-fs/index.js';
import { infoFile } from './layout.js';

/** `{"active": <file>, "<snapshot id>": <file>, ...}`, Cinder's format. */
export type SnapInfo = Record<string, string> & { active: string };

export class InfoStore {
  constructor(private readonly dir: string) {}

  pathOf(volumeId: string): string {
    return path.join(this.dir, infoFile(volumeId));
  }

  /** null when the volume has never had a snapshot (its own file is then the active one). */
  async read(volumeId: string): Promise<SnapInfo | null> {
    const file = this.pathOf(volumeId);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} is not a JSON object`);
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new Error(`${file}: value of ${JSON.stringify(key)} is not a file name`);
    }
    if (typeof (parsed as Record<string, unknown>).active !== 'string') throw new Error(`${file} has no "active" entry`);
    return parsed as SnapInfo;
  }

  async write(volumeId: string, info: SnapInfo): Promise<void> {
    if (!info.active) throw new Error(`refusing to write ${infoFile(volumeId)} without "active"`);
    const target = this.pathOf(volumeId);
    // Cinder writes json.dump(indent=1, sort_keys=True); the same bytes keep diffs and tools happy.
    const sorted = Object.fromEntries(Object.keys(info).sort().map((k) => [k, info[k]]));
    await writeDurably(target, `${JSON.stringify(sorted, null, 1)}\n`, { mode: 0o660 });
  }
}

/** The snapshot ids that map to `file` ("active" is not a snapshot id). */
export function idsOf(info: SnapInfo, file: string): string[] {
  return Object.keys(info).filter((k) => k !== 'active' && info[k] === file);
}

/** Whether .info still needs `file`, as the active file or as some snapshot's file. */
export function isReferenced(info: SnapInfo | null, file: string): boolean {
  return info !== null && Object.values(info).includes(file);
}
