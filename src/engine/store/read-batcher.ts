// Folds the single-key reads that arrive in one turn of the event loop (concurrent HTTP requests
// parsed together) into one query for all their keys. Each caller still gets only its own value.
export class ReadBatcher<K, V> {
  private pending: Array<{ key: K; resolve: (v: V | undefined) => void; reject: (e: unknown) => void }> = [];

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxKeys = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ key, resolve, reject });
    });
  }

  private flush() {
    const waiting = this.pending;
    this.pending = [];
    for (let i = 0; i < waiting.length; i += this.maxKeys) {
      const chunk = waiting.slice(i, i + this.maxKeys);
      this.loadMany([...new Set(chunk.map((w) => w.key))]).then(
        (values) => chunk.forEach((w) => w.resolve(values.get(w.key))),
        (err) => chunk.forEach((w) => w.reject(err)),
      );
    }
  }
}
