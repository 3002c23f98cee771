// A parent process for the child-process tests: runs `sh -c <script>` through ChildProcesses,
// says "spawned" on stdout, and exits 0 when a line arrives on stdin or stdin closes (so it never
// outlives a test that failed). The test decides how it ends: that exit, or a SIGKILL.
import { createInterface } from 'node:readline';
import { ChildProcesses } from '../../src/qemu/child-processes.js';

const [script] = process.argv.slice(2);
new ChildProcesses().run('/bin/sh', ['-c', script!]).catch(() => undefined);
process.stdout.write('spawned\n');
const lines = createInterface({ input: process.stdin });
const leave = () => process.exit(0);
lines.once('line', leave);
lines.once('close', leave);
