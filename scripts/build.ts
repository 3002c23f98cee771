// `npm run build` (also the last step of `npm install`): compiles the service to dist/ with tsc
// (tsconfig.build.json), which is what `npm start`, `npm run migrate` and `npm run
// compute-agent` run. tsc rather than a bundler: the compiler is the type checker, so a build
// that succeeds has type-checked what ships, and dist/ mirrors src/ file for file, so a module
// finds its files next to it (import.meta.url) exactly as it does under tsx.
//
// dist/ is removed first, so nothing of a deleted source file survives, and then the files the
// service reads at run time beside its modules are copied: everything under src/ and machines/
// that is not TypeScript (the default policy, the web UI's page, script and style sheet).
//
// What starts the compiled service to test or measure it (test/service/start-stop.test.ts, the
// benchmarks) calls ensureBuilt(), so that it never runs a dist/ older than the sources.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const SOURCES = ['src', 'machines'];
/** Written by every build (tsc emits every file anew into the emptied dist/). */
const STAMP = path.join(dist, 'src', 'main.js');

function walk(dir: string, visit: (file: string) => void) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file, visit);
    else if (entry.isFile()) visit(file);
  }
}

export function build(): void {
  rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`build: tsc exited with ${tsc.status ?? tsc.signal}\n${tsc.stdout}${tsc.stderr}`);
  let copied = 0;
  for (const top of SOURCES) {
    walk(path.join(root, top), (file) => {
      if (file.endsWith('.ts')) return;
      cpSync(file, path.join(dist, path.relative(root, file)));
      copied++;
    });
  }
  console.log(`build: compiled to ${path.relative(root, dist)}/ and copied ${copied} run-time file(s)`);
}

/** True when dist/ was built after the last change to anything it is built from (tests aside). */
export function isBuildCurrent(): boolean {
  let built: number;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  let newest = Math.max(statSync(path.join(root, 'tsconfig.build.json')).mtimeMs, statSync(path.join(root, 'tsconfig.json')).mtimeMs);
  for (const top of SOURCES) walk(path.join(root, top), (file) => {
    if (!file.endsWith('.test.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  });
  return built > newest;
}

/** Builds unless dist/ is current. */
export function ensureBuilt(): void {
  if (!isBuildCurrent()) build();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
