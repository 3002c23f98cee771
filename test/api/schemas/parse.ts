// Parse a body with a request schema the way the routes do (parseOrFault), for the schema tests.
import { expect } from 'vitest';
import type * as z from 'zod';
import { ApiFault } from '../../../src/http/faults/index.js';
import { parseOrFault } from '../../../src/http/validation/index.js';

export const VID = '2b9d9d5e-6f43-4c1a-9b8e-0a4a7a3c1f00';
export const IID = 'AB5CA8F1-0E35-4F2A-8B3C-7D1E2F3A4B5C';

export function ok<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseOrFault(schema, body);
}

/** The 400 message for a refused body (fails the test if the body is accepted or something else is thrown). */
export function refused(schema: z.ZodType, body: unknown): string {
  try {
    parseOrFault(schema, body);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiFault);
    expect((err as ApiFault).code).toBe(400);
    return (err as ApiFault).message;
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}
