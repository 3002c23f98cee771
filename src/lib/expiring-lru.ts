/**
 * A bounded LRU with per-entry expiry, on Map's insertion order: re-inserting on read moves an
 * entry to the young end, and the oldest key is the first one iterated. Small enough that a
 * dependency would cost more than it saves.
 */
export class ExpiringLru<K, V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #map = new Map<K, { value: V; expiresAt: number }>();

  constructor(maxEntries: number, now: () => number = Date.now) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
    this.#now = now;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    this.#map.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    this.#map.set(key, entry);
    return entry.value;
  }

  /** `expiresAt` in the clock's milliseconds; entries already expired are not stored. */
  set(key: K, value: V, expiresAt: number): void {
    this.#map.delete(key);
    if (expiresAt <= this.#now()) return;
    this.#map.set(key, { value, expiresAt });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K;
      this.#map.delete(oldest);
    }
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
