// checkQemuTools, which the service runs at start when the RemoteFS driver is configured.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { checkQemuTools } from '../../../src/drivers/remotefs/index.js';
import { it } from '../../support/remotefs-world.js';

describe('checkQemuTools', () => {
  it('passes when qemu-img is installed', async ({ share }) => {
    await expect(checkQemuTools()).resolves.toBeUndefined();
    await expect(checkQemuTools({ binaries: ['qemu-img', 'qemu-io'] })).resolves.toBeUndefined();
  });

  it('names the missing binary and the package to install', async ({ share }) => {
    await expect(checkQemuTools({ env: { PATH: share } })).rejects.toThrow(/qemu-img not found on PATH.*apt-get install qemu-utils/);
    // Only qemu-img reachable: the message names qemu-io.
    const which = await new Promise<string>((resolve, reject) =>
      execFile('sh', ['-c', 'command -v qemu-img'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
    );
    await fs.symlink(which, path.join(share, 'qemu-img'));
    await expect(checkQemuTools({ binaries: ['qemu-img', 'qemu-io'], env: { PATH: share } })).rejects.toThrow(
      /^qemu-io not found on PATH; install it with: apt-get install qemu-utils$/,
    );
  });
});
