// KeyedLock: one operation at a time per key, in arrival order; other keys do not wait.
import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../../src/share-fs/index.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedLock', () => {
  it('runs one operation per key at a time, in arrival order, and other keys alongside', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const gate = deferred();
    const first = lock.run('v1', async () => {
      log.push('v1 first start');
      await gate.promise;
      log.push('v1 first end');
    });
    const second = lock.run('v1', async () => {
      log.push('v1 second');
    });
    // A different key is not queued behind v1.
    await lock.run('v2', async () => {
      log.push('v2');
    });
    expect(log).toEqual(['v1 first start', 'v2']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['v1 first start', 'v2', 'v1 first end', 'v1 second']);
  });

  it('passes results and errors through, and a failure does not block the next in line', async () => {
    const lock = new KeyedLock();
    await expect(lock.run('v', async () => 42)).resolves.toBe(42);
    const failing = lock.run('v', async () => {
      throw new Error('boom');
    });
    const next = lock.run('v', async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
  });

  it('forgets a key once nobody waits on it, and instances given one map share its queues', async () => {
    const tails = new Map<string, Promise<void>>();
    const a = new KeyedLock(tails);
    const b = new KeyedLock(tails);
    const gate = deferred();
    const log: string[] = [];
    const held = a.run('v', async () => {
      await gate.promise;
      log.push('a');
    });
    const queued = b.run('v', async () => {
      log.push('b');
    });
    expect(tails.size).toBe(1);
    gate.resolve();
    await Promise.all([held, queued]);
    expect(log).toEqual(['a', 'b']);
    expect(tails.size).toBe(0);
  });
});
