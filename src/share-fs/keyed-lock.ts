// One operation at a time per key (a volume, for the storage driver and the compute agent alike):
// two operations on the same backing chain would each validate a chain the other is changing.
// Different keys proceed in parallel; waiters run in arrival order, without polling.
export class KeyedLock {
  /**
   * `tails` may be handed in so that several instances share one queue per key (see file-lock.ts);
   * by default each instance has its own.
   */
  constructor(private readonly tails: Map<string, Promise<void>> = new Map()) {}

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow with every key seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
