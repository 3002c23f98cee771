// A compute agent in a process of its own, for SIGKILL tests: QEMU mode, and at the step between
// `stop` and `cont` named on the command line it says "paused <step>" on stdout and waits there
// for ever, so the parent kills it with the guest certainly paused. Prints "url <agent url>" first.
// An optional fourth argument is the freeze/thaw hooks, as JSON.
import pino from 'pino';
import { startComputeAgent } from '../../src/compute/agent/server.js';

const [storageUrl, shareDir, holdAt, hooks] = process.argv.slice(2);
const agent = await startComputeAgent({
  port: 0,
  storageUrl: storageUrl!,
  tokenProvider: async () => 'nova:service',
  shareDir: shareDir!,
  mode: 'qemu',
  logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
  callbackRetry: { sleep: async () => {} },
  ...(hooks ? { hooks: JSON.parse(hooks) } : {}),
  faults: {
    whilePaused: async (step) => {
      if (step !== holdAt) return;
      process.stdout.write(`paused ${step}\n`);
      await new Promise(() => {});
    },
  },
});
process.stdout.write(`url ${agent.url}\n`);
