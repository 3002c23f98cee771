import { describe, expect, it } from 'vitest';
import { ExpiringLru } from '../../src/lib/expiring-lru.js';

describe('ExpiringLru', () => {
  it('evicts the least recently used entry past its bound', () => {
    const lru = new ExpiringLru<string, number>(2, () => 0);
    lru.set('a', 1, 100);
    lru.set('b', 2, 100);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3, 100);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('forgets entries at their expiry and never stores expired ones', () => {
    let now = 0;
    const lru = new ExpiringLru<string, string>(10, () => now);
    lru.set('k', 'v', 50);
    lru.set('old', 'v', 0);
    expect(lru.size).toBe(1);
    now = 49;
    expect(lru.get('k')).toBe('v');
    now = 50;
    expect(lru.get('k')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('stays within its bound under many inserts', () => {
    const lru = new ExpiringLru<number, number>(10_000, () => 0);
    for (let i = 0; i < 25_000; i++) lru.set(i, i, 1);
    expect(lru.size).toBe(10_000);
    expect(lru.get(14_999)).toBeUndefined();
    expect(lru.get(15_000)).toBe(15_000);
  });

  it('refuses a non-positive bound', () => {
    expect(() => new ExpiringLru(0)).toThrow(RangeError);
  });
});
