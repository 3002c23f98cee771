// The command `npm start` runs, read from package.json's "start" script (`[NAME=value …] node
// [--flag …] dist/src/main.js`), for whatever must start the service exactly as `npm start` does
// but without npm's own process in between (signals reach the service itself, its pid is the
// service's): the service test, the benchmarks and the demo.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface StartCommand {
  /** This very node binary. */
  command: string;
  /** Node's flags, then the compiled entry point (absolute). */
  args: string[];
  /** The compiled entry point, absolute. */
  entry: string;
  /** The environment the script sets before node (to merge over the caller's). */
  env: Record<string, string>;
}

export function startCommand(root = path.resolve(import.meta.dirname, '..')): StartCommand {
  const script: unknown = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts?.start;
  const words = typeof script === 'string' ? script.trim().split(/\s+/) : [];
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=[^'"$`\\]*$/.test(words[0]!)) {
    const [name, value] = words.shift()!.split(/=(.*)/s);
    env[name!] = value!;
  }
  const entryAt = words.findIndex((w) => w.endsWith('.js'));
  // Anything else (an npm wrapper, tsx, shell syntax) would need a shell and would not be what
  // this helper promises.
  if (words[0] !== 'node' || entryAt !== words.length - 1 || words.slice(1, entryAt).some((w) => !w.startsWith('--'))) {
    throw new Error(`package.json "start" is not of the form \`[NAME=value …] node [--flag …] <file>.js\`: ${JSON.stringify(script)}`);
  }
  const entry = path.resolve(root, words[entryAt]!);
  return { command: process.execPath, args: [...words.slice(1, entryAt), entry], entry, env };
}
