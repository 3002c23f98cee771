// One operation at a time per volume: two live parts on the same backing chain (a create racing a
// delete, or a retried request racing the original) would each validate a chain the other is
// changing. Different volumes proceed in parallel.
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

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
      // Forget the key once nobody queued behind us, so the map does not grow with every volume seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
