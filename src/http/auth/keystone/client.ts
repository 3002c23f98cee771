/**
 * What the service identity and the token validator share about talking to Keystone v3: the
 * endpoint (given with or without the trailing /v3), a timeout on every request, the token body
 * both read, and the rule that a Keystone we cannot reach is a 503 serviceUnavailable (as
 * keystonemiddleware answers), never the caller's fault.
 */
import * as z from 'zod';
import { serviceUnavailable } from '../../faults/index.js';

export interface KeystoneConnectionOptions {
  /** Keystone's public endpoint, with or without the trailing /v3. */
  keystoneUrl: string;
  /** Per-request timeout to Keystone, ms; default 10 000. */
  timeoutMs?: number;
  /** Injected for tests (e.g. to count requests) and for custom agents. */
  fetch?: typeof fetch;
  now?: () => number;
  logger?: { warn(obj: object, msg?: string): void };
}

export const UNAVAILABLE_MESSAGE = 'The Keystone service is temporarily unavailable.';

/** The part of a Keystone token body (POST and GET /v3/auth/tokens) this service reads. */
export const tokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    user: z.object({ id: z.string(), name: z.string().optional() }),
    project: z.object({ id: z.string(), name: z.string().optional() }).optional(),
    roles: z.array(z.object({ name: z.string() })).default([]),
    is_admin_project: z.boolean().optional(),
  }),
});

export class KeystoneClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly now: () => number;
  readonly logger: KeystoneConnectionOptions['logger'];

  constructor(options: KeystoneConnectionOptions) {
    this.#base = options.keystoneUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  /** `path` from the root (`/v3/...`); throws a 503 ApiFault when Keystone cannot be reached. */
  async request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(`${this.#base}${path}`, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      this.logger?.warn({ err, path }, 'keystone unreachable');
      throw serviceUnavailable(UNAVAILABLE_MESSAGE);
    }
  }
}
