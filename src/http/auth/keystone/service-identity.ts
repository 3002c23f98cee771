/**
 * The service's own Keystone identity: password auth scoped to the service's project,
 *
 *     POST {KEYSTONE_URL}/v3/auth/tokens?nocatalog   -> 201, X-Subject-Token: <service token>
 *
 * cached and renewed shortly before its `expires_at`. The token validator sends it with every
 * validation, and compute receives it as this service's token. One instance per process, so the
 * service logs in once however many parts use the token; concurrent callers share one login.
 *
 * Our own credentials being refused is an operator problem, not the caller's: 503, and a log line.
 */
import { serviceUnavailable } from '../../faults/index.js';
import { KeystoneClient, type KeystoneConnectionOptions, tokenBodySchema, UNAVAILABLE_MESSAGE } from './client.js';

export interface KeystoneServiceCredentials {
  username: string;
  password: string;
  projectName: string;
  /** Domain ids, "default" unless set. */
  userDomainId?: string;
  projectDomainId?: string;
}

export interface KeystoneServiceIdentityOptions extends KeystoneConnectionOptions {
  service: KeystoneServiceCredentials;
}

interface ServiceToken {
  token: string;
  renewAt: number;
}

export class KeystoneServiceIdentity {
  readonly #client: KeystoneClient;
  readonly #credentials: KeystoneServiceCredentials;
  #current: ServiceToken | undefined;
  #inflight: Promise<string> | undefined;

  constructor(options: KeystoneServiceIdentityOptions) {
    this.#client = new KeystoneClient(options);
    this.#credentials = options.service;
  }

  /** The service's token (cached, renewed before expiry): what it sends to Keystone and compute. */
  token(): Promise<string> {
    if (this.#current && this.#client.now() < this.#current.renewAt) return Promise.resolve(this.#current.token);
    return this.#login();
  }

  /** A fresh token, for when Keystone refused the cached one (expired early, revoked, new keys). */
  renew(): Promise<string> {
    this.#current = undefined;
    return this.#login();
  }

  #login(): Promise<string> {
    this.#inflight ??= this.#fetchToken().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchToken(): Promise<string> {
    const s = this.#credentials;
    const res = await this.#client.request('/v3/auth/tokens?nocatalog', {
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
      this.#client.logger?.warn({ status: res.status, user: s.username }, 'keystone refused the service credentials');
      throw serviceUnavailable(UNAVAILABLE_MESSAGE);
    }
    const now = this.#client.now();
    const expiresAt = Date.parse(parsed.data.token.expires_at);
    // Renew early so a token never expires between our check and Keystone's.
    const margin = Math.min(60_000, Math.max(0, (expiresAt - now) / 4));
    this.#current = { token, renewAt: expiresAt - margin };
    return token;
  }
}
