// writeDurably: the target is the old file or the new one, whatever fails, and no temporary
// outlives the call.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMP_MARKER, writeDurably } from '../../src/share-fs/index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'share-fs-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeDurably', () => {
  it('creates and replaces the target with the given mode, leaving nothing else', async () => {
    const target = path.join(dir, 'state.json');
    await writeDurably(target, 'one\n');
    expect(await fs.readFile(target, 'utf8')).toBe('one\n');
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600 & ~process.umask());
    await writeDurably(target, Buffer.from('two\n'), { mode: 0o660 });
    expect(await fs.readFile(target, 'utf8')).toBe('two\n');
    expect((await fs.stat(target)).mode & 0o777).toBe(0o660 & ~process.umask());
    expect(await fs.readdir(dir)).toEqual(['state.json']);
  });

  it('publishes what a function built under a temporary name beside the target', async () => {
    const target = path.join(dir, 'image');
    let seen = '';
    await writeDurably(target, async (temp) => {
      seen = temp;
      await fs.writeFile(temp, 'built');
      // Until the rename, the target does not exist: nobody sees a half-built file under its name.
      await expect(fs.access(target)).rejects.toThrow();
    });
    expect(path.dirname(seen)).toBe(dir);
    expect(path.basename(seen).startsWith(`image${TEMP_MARKER}`)).toBe(true);
    expect(await fs.readFile(target, 'utf8')).toBe('built');
    expect(await fs.readdir(dir)).toEqual(['image']);
  });

  it('keeps the old file and removes the temporary when building fails', async () => {
    const target = path.join(dir, 'image');
    await writeDurably(target, 'old');
    await expect(
      writeDurably(target, async (temp) => {
        await fs.writeFile(temp, 'half');
        throw new Error('qemu-img failed');
      }),
    ).rejects.toThrow('qemu-img failed');
    expect(await fs.readFile(target, 'utf8')).toBe('old');
    expect(await fs.readdir(dir)).toEqual(['image']);
  });

  it('reports a failed rename and removes the temporary', async () => {
    // A non-empty directory cannot be renamed over.
    const target = path.join(dir, 'taken');
    await fs.mkdir(target);
    await fs.writeFile(path.join(target, 'inside'), '');
    await expect(writeDurably(target, 'new')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await fs.readdir(dir)).toEqual(['taken']);
  });

  it('fails when the directory is missing, creating nothing', async () => {
    await expect(writeDurably(path.join(dir, 'missing', 'file'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
