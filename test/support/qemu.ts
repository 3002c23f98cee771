// qemu-io / qemu-img helpers for tests on real image files, plus the compute side of an assisted
// snapshot done with qemu-img the way libvirt would do it live. Kept free of the driver's own code
// so a test checks the driver against qemu's view, not against itself.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(binary: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function must(binary: string, args: string[]): Promise<string> {
  const r = await run(binary, args);
  if (r.code !== 0) throw new Error(`${binary} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const hex = (pattern: number) => `0x${pattern.toString(16).padStart(2, '0')}`;

/** Writes `length` bytes of `pattern` at `offset` through the image's chain (into its top file). */
export async function qemuIoWrite(file: string, pattern: number, offset: number, length: number): Promise<void> {
  const out = await must('qemu-io', ['-c', `write -P ${hex(pattern)} ${offset} ${length}`, file]);
  if (!out.includes('wrote')) throw new Error(`qemu-io wrote nothing to ${file}: ${out}`);
}

/** Whether `length` bytes at `offset`, read through the chain of `file`, all equal `pattern`. */
export async function qemuIoReads(file: string, pattern: number, offset: number, length: number): Promise<boolean> {
  const r = await run('qemu-io', ['-r', '-c', `read -P ${hex(pattern)} ${offset} ${length}`, file]);
  if ((r.stdout + r.stderr).includes('Pattern verification failed')) return false;
  if (r.code !== 0 || !r.stdout.includes('read ')) throw new Error(`qemu-io read of ${file} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
  return true;
}

export interface PatternRead {
  pattern: number;
  offset: number;
  length: number;
}

/**
 * Reads every range in one qemu-io run (one process per image instead of one per range) and
 * returns the offsets whose bytes did not match their pattern.
 */
export async function qemuIoMismatches(file: string, reads: readonly PatternRead[]): Promise<number[]> {
  const args = ['-r'];
  for (const r of reads) args.push('-c', `read -P ${hex(r.pattern)} ${r.offset} ${r.length}`);
  args.push(file);
  const r = await run('qemu-io', args);
  const text = r.stdout + r.stderr;
  const failed = [...text.matchAll(/Pattern verification failed at offset (\d+)/g)].map((m) => Number(m[1]));
  const done = (r.stdout.match(/^read \d+\/\d+ bytes/gm) ?? []).length;
  if (done !== reads.length) throw new Error(`qemu-io read of ${file} failed (exit ${r.code}): ${text}`);
  return reads.filter((x) => failed.some((f) => f >= x.offset && f < x.offset + x.length)).map((x) => x.offset);
}

export interface ChainEntry {
  filename: string;
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
}

export async function qemuImgChain(file: string): Promise<ChainEntry[]> {
  const raw = JSON.parse(await must('qemu-img', ['info', '-U', '--backing-chain', '--output=json', file])) as unknown;
  return (Array.isArray(raw) ? raw : [raw]) as ChainEntry[];
}

export async function qemuImgBacking(file: string): Promise<string | null> {
  const [top] = await qemuImgChain(file);
  return top['backing-filename'] ?? null;
}

export interface CheckResult {
  'check-errors': number;
  corruptions?: number;
  leaks?: number;
}

/** `qemu-img check`'s JSON; rejects on any error, corruption or leak with its full report. */
export async function qemuImgCheckClean(file: string): Promise<CheckResult> {
  const r = await run('qemu-img', ['check', '--output=json', file]);
  const report = JSON.parse(r.stdout || '{}') as CheckResult;
  if (r.code !== 0 || report['check-errors'] || report.corruptions || report.leaks) {
    throw new Error(`qemu-img check ${file} is not clean (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return report;
}

/** Nova's delete_info. */
export interface NovaDeleteInfo {
  type: string;
  volume_id: string;
  file_to_merge: string | null;
  merge_target_file: string | null;
}

/**
 * Nova's libvirt volume_snapshot_delete against `activeFile` (the file the VM runs on), done with
 * qemu-img: merge_target_file null is blockRebase (pull everything above file_to_merge into the
 * active file, then point it at file_to_merge, relative; null base flattens); otherwise
 * blockCommit of file_to_merge into merge_target_file (adjacent, as Nova requires), after which
 * libvirt repoints the file above, relative.
 */
export async function novaVolumeSnapshotDelete(activeFile: string, info: NovaDeleteInfo): Promise<void> {
  if (info.type !== 'qcow2') throw new Error(`Unknown delete_info type ${info.type}`);
  const dir = path.dirname(activeFile);
  const chain = await qemuImgChain(activeFile);
  const names = chain.map((c, i) => (i === 0 ? path.basename(activeFile) : path.basename(c.filename)));
  if (info.merge_target_file === null) {
    if (info.file_to_merge === null) {
      await must('qemu-img', ['rebase', '-b', '', activeFile]);
    } else {
      const at = names.indexOf(info.file_to_merge);
      if (at < 1) throw new Error(`no match found for ${info.file_to_merge}`);
      await must('qemu-img', ['rebase', '-b', info.file_to_merge, '-F', chain[at].format, activeFile]);
    }
    return;
  }
  const top = names.indexOf(info.file_to_merge ?? '');
  if (top < 1) throw new Error(`file_to_merge ${info.file_to_merge} is not a backing file of ${activeFile}`);
  if (names[top + 1] !== info.merge_target_file) throw new Error(`${info.merge_target_file} is not directly below ${info.file_to_merge}`);
  await must('qemu-img', ['commit', '-d', path.join(dir, names[top])]);
  await must('qemu-img', ['rebase', '-u', '-b', info.merge_target_file, '-F', chain[top + 1].format, path.join(dir, names[top - 1])]);
}

/**
 * Name -> inode and content hash of the files in `dir` that `include` admits: equal digests mean
 * nothing was touched (a file rewritten with the same bytes still gets a new inode).
 */
export async function dirDigest(dir: string, include: (name: string) => boolean = () => true): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).filter(include).sort()) {
    const file = path.join(dir, name);
    const st = await fs.stat(file);
    out[name] = `${st.ino}:${createHash('sha256').update(await fs.readFile(file)).digest('hex')}`;
  }
  return out;
}

export interface OpenImage {
  close(): Promise<void>;
}

/**
 * Holds `file` open read-write with qemu's image locks, as a running VM holds its disk, until
 * close(). Resolves once the image is open: qemu-io has read through it.
 */
export function holdOpenLikeVm(file: string): Promise<OpenImage> {
  return new Promise((resolve, reject) => {
    // stdbuf: qemu-io block-buffers stdout into a pipe, which would hide "read" until it exits.
    const child = spawn('stdbuf', ['-oL', 'qemu-io', '-c', 'read 0 512', '-c', 'sleep 3600000', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('read 512/512 bytes')) {
        child.stdout.off('data', onData);
        resolve({
          close: async () => {
            child.kill();
            await exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`qemu-io on ${file} exited (${code}) before opening it: ${output}`)));
  });
}
