// Files in the backend that no volume or snapshot owns (the driver decides what "owns" means for
// its files). Scanned at start and whenever an admin lists them; the last count is what the
// metric shows. Nothing here removes a file: an operator decides what an orphan is.
import type { OrphanFile, VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';

export interface OrphanScan {
  scannedAt: Date;
  files: OrphanFile[];
}

export class OrphanFiles {
  private last: OrphanScan | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
  ) {}

  /** Whether the driver can tell (the bookkeeping driver keeps no files). */
  get supported(): boolean {
    return typeof this.driver.findOrphans === 'function';
  }

  async scan(): Promise<OrphanScan> {
    const files = this.driver.findOrphans ? await this.driver.findOrphans(() => this.engine.store.ownedIds()) : [];
    this.last = { scannedAt: this.engine.clock(), files };
    return this.last;
  }

  /** The last scan's count, or null before the first. */
  lastCount(): number | null {
    return this.last?.files.length ?? null;
  }
}
