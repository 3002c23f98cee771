// `npm run policy-sample [-- --output-file PATH]`: writes the default policy as a commented
// policy.yaml (default docs/policy.yaml.sample), as oslopolicy-sample-generator does for Cinder.
// src/http/policy/index.test.ts fails while the committed sample differs from a fresh one.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { policySample } from '../src/http/policy/sample.js';

export const SAMPLE = path.resolve(import.meta.dirname, '../docs/policy.yaml.sample');

const { values } = parseArgs({ options: { 'output-file': { type: 'string' } } });
const out = values['output-file'] ?? SAMPLE;
writeFileSync(out, policySample());
console.log(`policy-sample: wrote ${path.relative(process.cwd(), out)}`);
