// within(): a bounded wait that tells whether the work finished, and leaves it running if not.
import { describe, expect, it } from 'vitest';
import { within } from '../../src/lib/within.js';

describe('within', () => {
  it('is true once the promise settles, fulfilled or rejected', async () => {
    expect(await within(Promise.resolve(1), 1000)).toBe(true);
    expect(await within(Promise.reject(new Error('no')), 1000)).toBe(true);
  });

  it('is false when the time runs out first, and the work goes on', async () => {
    let finish: () => void = () => {};
    let finished = false;
    const work = new Promise<void>((r) => (finish = r)).then(() => (finished = true));
    expect(await within(work, 0)).toBe(false);
    finish();
    await work;
    expect(finished).toBe(true);
  });
});
