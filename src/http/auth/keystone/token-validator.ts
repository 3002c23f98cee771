/**
 * Keystone v3 token validation, the job keystonemiddleware's auth_token does in front of Cinder:
 *
 *   GET {KEYSTONE_URL}/v3/auth/tokens?nocatalog
 *       X-Auth-Token: <this service's token>   X-Subject-Token: <caller's token>
 *
 * 200 -> the caller's user, project and roles; 404 -> the caller's token is invalid or expired;
 * 401 -> *our* token was refused (expired early, revoked, Keystone restarted with new keys), so
 * it is fetched again and the validation retried once.
 *
 * The service token comes from password auth scoped to the service's project, and is renewed
 * shortly before its `expires_at`. Valid caller tokens are cached (keyed by SHA-256, so the
 * cache holds no usable tokens) until their own `expires_at`, or `maxCacheMs` if set: like
 * keystonemiddleware's token_cache_time, that bounds how long a revoked token keeps working.
 * Invalid tokens are not cached. Concurrent validations of one token share one request.
 *
 * Missing/invalid caller token -> 401 unauthorized fault with
 * `WWW-Authenticate: Keystone uri="<KEYSTONE_URL>"`; Keystone unreachable or refusing our own
 * credentials -> 503 serviceUnavailable (as keystonemiddleware answers).
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import * as z from 'zod';
import { ApiFault, serviceUnavailable, unauthorized } from '../faults.js';
import { ExpiringLru } from '../../lib/expiring-lru.js';
import { type AuthContext, makeAuthContext } from './types.js';

export interface KeystoneServiceCredentials {
  username: string;
  password: string;
  projectName: string;
  /** Domain ids, "default" unless set. */
  userDomainId?: string;
  projectDomainId?: string;
}

export interface KeystoneAuthOptions {
  /** Keystone's public endpoint, with or without the trailing /v3. */
  keystoneUrl: string;
  service: KeystoneServiceCredentials;
  /** Upper bound on cached caller tokens; default 10 000. */
  cacheSize?: number;
  /** Optional cap on how long one validation is trusted, in ms; default: until expires_at. */
  maxCacheMs?: number;
  /** Per-request timeout to Keystone, ms; default 10 000. */
  timeoutMs?: number;
  /** What WWW-Authenticate names; default keystoneUrl as given. */
  wwwAuthenticateUri?: string;
  /** Injected for tests (e.g. to count requests) and for custom agents. */
  fetch?: typeof fetch;
  now?: () => number;
  logger?: { warn(obj: object, msg?: string): void };
}

export const AUTH_REQUIRED_MESSAGE = 'The request you have made requires authentication.';
const UNAVAILABLE_MESSAGE = 'The Keystone service is temporarily unavailable.';

const tokenBodySchema = z.object({
  token: z.object({
    expires_at: z.string(),
    user: z.object({ id: z.string(), name: z.string().optional() }),
    project: z.object({ id: z.string(), name: z.string().optional() }).optional(),
    roles: z.array(z.object({ name: z.string() })).default([]),
  }),
});

interface ServiceToken {
  token: string;
  renewAt: number;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class KeystoneTokenValidator {
  readonly #base: string;
  readonly #opts: KeystoneAuthOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #cache: ExpiringLru<string, AuthContext>;
  readonly #inflight = new Map<string, Promise<AuthContext>>();
  #service: ServiceToken | undefined;
  #serviceInflight: Promise<string> | undefined;

  constructor(options: KeystoneAuthOptions) {
    this.#opts = options;
    this.#base = options.keystoneUrl.replace(/\/+$/, '').replace(/\/v3$/, '');
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#cache = new ExpiringLru(options.cacheSize ?? 10_000, this.#now);
  }

  get wwwAuthenticate(): string {
    return `Keystone uri="${(this.#opts.wwwAuthenticateUri ?? this.#opts.keystoneUrl).replace(/\/+$/, '')}"`;
  }

  get cachedTokens(): number {
    return this.#cache.size;
  }

  #unauthorized(): ApiFault {
    return unauthorized(AUTH_REQUIRED_MESSAGE, { 'WWW-Authenticate': this.wwwAuthenticate });
  }

  async #request(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(`${this.#base}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      this.#opts.logger?.warn({ err, path }, 'keystone unreachable');
      throw serviceUnavailable(UNAVAILABLE_MESSAGE);
    }
  }

  async #fetchServiceToken(): Promise<string> {
    const s = this.#opts.service;
    const res = await this.#request('/v3/auth/tokens?nocatalog', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: {
              user: { name: s.username, domain: { id: s.userDomainId ?? 'default' }, password: s.password },
            },
          },
          scope: { project: { name: s.projectName, domain: { id: s.projectDomainId ?? 'default' } } },
        },
      }),
    });
    const token = res.headers.get('x-subject-token');
    const body: unknown = await res.json().catch(() => undefined);
    const parsed = tokenBodySchema.safeParse(body);
    if (res.status !== 201 || !token || !parsed.success) {
      // Our own credentials failing is an operator problem, not the caller's: 503, and say so in the log.
      this.#opts.logger?.warn({ status: res.status, user: s.username }, 'keystone refused the service credentials');
      throw serviceUnavailable(UNAVAILABLE_MESSAGE);
    }
    const now = this.#now();
    const expiresAt = Date.parse(parsed.data.token.expires_at);
    // Renew early so a token never expires between our check and Keystone's.
    const margin = Math.min(60_000, Math.max(0, (expiresAt - now) / 4));
    this.#service = { token, renewAt: expiresAt - margin };
    return token;
  }

  /** The service's own token (cached, renewed before expiry): what it sends to compute. */
  serviceToken(): Promise<string> {
    return this.#serviceToken(false);
  }

  async #serviceToken(forceRenew: boolean): Promise<string> {
    if (!forceRenew && this.#service && this.#now() < this.#service.renewAt) return this.#service.token;
    if (forceRenew) this.#service = undefined;
    this.#serviceInflight ??= this.#fetchServiceToken().finally(() => {
      this.#serviceInflight = undefined;
    });
    return this.#serviceInflight;
  }

  async #validateRemote(userToken: string): Promise<AuthContext> {
    for (let attempt = 0; ; attempt++) {
      const serviceToken = await this.#serviceToken(attempt > 0);
      const res = await this.#request('/v3/auth/tokens?nocatalog', {
        method: 'GET',
        headers: { 'X-Auth-Token': serviceToken, 'X-Subject-Token': userToken },
      });
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        continue;
      }
      if (res.status === 404 || res.status === 400) {
        await res.body?.cancel();
        throw this.#unauthorized();
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        this.#opts.logger?.warn({ status: res.status }, 'keystone token validation failed');
        throw serviceUnavailable(UNAVAILABLE_MESSAGE);
      }
      const parsed = tokenBodySchema.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) throw serviceUnavailable(UNAVAILABLE_MESSAGE);
      const t = parsed.data.token;
      const expiresAt = Date.parse(t.expires_at);
      // Our API is project-scoped throughout; a domain-scoped or unscoped token cannot name a project.
      if (!t.project || !(expiresAt > this.#now())) throw this.#unauthorized();
      const auth = makeAuthContext({
        userId: t.user.id,
        userName: t.user.name,
        projectId: t.project.id,
        projectName: t.project.name,
        roles: t.roles.map((r) => r.name),
      });
      const until = this.#opts.maxCacheMs === undefined ? expiresAt : Math.min(expiresAt, this.#now() + this.#opts.maxCacheMs);
      this.#cache.set(hashToken(userToken), auth, until);
      return auth;
    }
  }

  /** The caller behind `userToken`, or throws a 401/503 ApiFault. */
  async validate(userToken: string | undefined): Promise<AuthContext> {
    if (!userToken) throw this.#unauthorized();
    const key = hashToken(userToken);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#validateRemote(userToken).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }
}

/** Middleware: sets `c.var.auth` from a valid X-Auth-Token, else answers 401. */
export function keystoneMiddleware(validator: KeystoneTokenValidator): MiddlewareHandler {
  return async (c, next) => {
    c.set('auth', await validator.validate(c.req.header('x-auth-token')));
    await next();
  };
}
