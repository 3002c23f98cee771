// What a failed qemu-img run says (src/qemu/qemu-img.ts): a refusal carries qemu-img's own words
// and is not interrupted; a run the stopping service cut short says `interrupted`, which is what
// the engine looks for to run the phase again instead of failing the snapshot. (A qemu-img killed
// by a signal mid-run: test/service/graceful-stop.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { children } from '../../src/qemu/child-processes.js';
import { imageInfo, QemuImgError } from '../../src/qemu/qemu-img.js';

const dir = mkdtempSync(path.join(tmpdir(), 'qemu-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (p: Promise<unknown>) => p.then(() => expect.unreachable('qemu-img succeeded'), (err: unknown) => err as QemuImgError);

describe('qemu-img errors', () => {
  it('a refusal: exit code and stderr, not interrupted', async () => {
    const err = await failure(imageInfo(path.join(dir, 'missing.qcow2')));
    expect(err).toBeInstanceOf(QemuImgError);
    expect([err.exitCode, err.signal, err.interrupted]).toEqual([1, null, false]);
    expect(err.message).toMatch(/^qemu-img info -U --output=json .*missing\.qcow2 failed \(exit 1\): qemu-img: Could not open/);
  });

  // Last: the process's children stay interrupted.
  it('once the service interrupts its children: no run starts, and the error says interrupted', async () => {
    await children.interrupt();
    const err = await failure(imageInfo(path.join(dir, 'missing.qcow2')));
    expect(err).toBeInstanceOf(QemuImgError);
    expect([err.exitCode, err.signal, err.interrupted]).toEqual([null, null, true]);
    expect(err.message).toMatch(/^qemu-img info .* interrupted \(not started: the service is stopping\): no output$/);
  });
});
