/**
 * Keystone v3 token validation, the job keystonemiddleware's auth_token does in front of Cinder:
 *
 *   GET {KEYSTONE_URL}/v3/auth/tokens?nocatalog
 *       X-Auth-Token: <this service's token>   X-Subject-Token: <caller's token>
 *
 * 200 -> the caller's user, project and roles; 404 -> the caller's token is invalid or expired;
 * 401 -> *our* token was refused (expired early, revoked, Keystone restarted with new keys), so
 * the service identity logs in again and the validation is retried once.
 *
 * Valid caller tokens are cached (keyed by SHA-256, so the cache holds no usable tokens) until
 * their own `expires_at`, or `maxCacheMs` if set: like keystonemiddleware's token_cache_time,
 * that bounds how long a revoked token keeps working. Invalid tokens are not cached. Concurrent
 * validations of one token share one request.
 *
 * Missing/invalid caller token -> 401 unauthorized fault with
 * `WWW-Authenticate: Keystone uri="<KEYSTONE_URL>"`; Keystone unreachable or refusing our own
 * credentials -> 503 serviceUnavailable (as keystonemiddleware answers).
 */
import { createHash } from 'node:crypto';
import { ApiFault, serviceUnavailable, unauthorized } from '../../faults/index.js';
import { ExpiringLru } from '../../../lib/expiring-lru.js';
import { type AuthContext, makeAuthContext } from '../types.js';
import { KeystoneClient, type KeystoneConnectionOptions, tokenBodySchema, UNAVAILABLE_MESSAGE } from './client.js';
import type { KeystoneServiceIdentity } from './service-identity.js';

export interface KeystoneTokenValidatorOptions extends KeystoneConnectionOptions {
  /** Upper bound on cached caller tokens; default 10 000. */
  cacheSize?: number;
  /** Optional cap on how long one validation is trusted, in ms; default: until expires_at. */
  maxCacheMs?: number;
  /** What WWW-Authenticate names; default keystoneUrl as given. */
  wwwAuthenticateUri?: string;
}

export const AUTH_REQUIRED_MESSAGE = 'The request you have made requires authentication.';

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class KeystoneTokenValidator {
  readonly #client: KeystoneClient;
  readonly #identity: KeystoneServiceIdentity;
  readonly #opts: KeystoneTokenValidatorOptions;
  readonly #cache: ExpiringLru<string, AuthContext>;
  readonly #inflight = new Map<string, Promise<AuthContext>>();

  constructor(identity: KeystoneServiceIdentity, options: KeystoneTokenValidatorOptions) {
    this.#identity = identity;
    this.#opts = options;
    this.#client = new KeystoneClient(options);
    this.#cache = new ExpiringLru(options.cacheSize ?? 10_000, this.#client.now);
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

  async #validateRemote(userToken: string): Promise<AuthContext> {
    for (let attempt = 0; ; attempt++) {
      const serviceToken = attempt === 0 ? await this.#identity.token() : await this.#identity.renew();
      const res = await this.#client.request('/v3/auth/tokens?nocatalog', {
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
        this.#client.logger?.warn({ status: res.status }, 'keystone token validation failed');
        throw serviceUnavailable(UNAVAILABLE_MESSAGE);
      }
      const parsed = tokenBodySchema.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) throw serviceUnavailable(UNAVAILABLE_MESSAGE);
      const t = parsed.data.token;
      const expiresAt = Date.parse(t.expires_at);
      // Our API is project-scoped throughout; a domain-scoped or unscoped token cannot name a project.
      if (!t.project || !(expiresAt > this.#client.now())) throw this.#unauthorized();
      const auth = makeAuthContext({
        userId: t.user.id,
        userName: t.user.name,
        projectId: t.project.id,
        projectName: t.project.name,
        roles: t.roles.map((r) => r.name),
        ...(t.is_admin_project === undefined ? {} : { isAdminProject: t.is_admin_project }),
      });
      const until = this.#opts.maxCacheMs === undefined ? expiresAt : Math.min(expiresAt, this.#client.now() + this.#opts.maxCacheMs);
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
