// Choosing the auth strategy from the settings (AUTH_STRATEGY, HOST, KEYSTONE_*: parsed and
// documented in src/config.ts) and building it once per process.
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { Config } from '../../config.js';
import { createKeystoneAuth, type KeystoneAuthOptions, type KeystoneServiceIdentity } from './keystone/index.js';
import { noauthMiddleware } from './noauth/index.js';

export { type AuthContext, makeAuthContext } from './types.js';
export {
  createKeystoneAuth,
  keystoneMiddleware,
  KeystoneServiceIdentity,
  KeystoneTokenValidator,
  type KeystoneAuth,
  type KeystoneAuthOptions,
} from './keystone/index.js';
export { noauthMiddleware } from './noauth/index.js';

export type AuthStrategy = 'noauth' | 'keystone';

export type AuthConfig = { strategy: 'noauth' } | { strategy: 'keystone'; keystone: KeystoneAuthOptions };

/** 127.0.0.0/8, ::1 (any spelling, bracketed or not, or IPv4-mapped) and "localhost". */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    // The URL parser canonicalises IPv6 spellings (0:0:0:0:0:0:0:1, ::ffff:127.0.0.1, ...).
    const canonical = new URL(`http://[${h}]/`).hostname.slice(1, -1);
    if (canonical === '::1') return true;
    const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(canonical);
    return mapped !== null && parseInt(mapped[1]!, 16) >> 8 === 127;
  }
  return false;
}

export function defaultAuthStrategy(host: string): AuthStrategy {
  return isLoopbackHost(host) ? 'noauth' : 'keystone';
}

/**
 * Startup check: noauth makes every caller an admin of any project it names, so it may only
 * listen where nothing but this machine can reach it.
 */
export function assertAuthAllowed(strategy: AuthStrategy, host: string): void {
  if (strategy === 'noauth' && !isLoopbackHost(host)) {
    throw new Error(
      `AUTH_STRATEGY=noauth is only allowed when HOST is a loopback address (127.0.0.0/8, ::1, localhost), ` +
        `but HOST is "${host}": noauth trusts any X-Auth-Token and makes every caller admin. ` +
        `Use AUTH_STRATEGY=keystone with KEYSTONE_URL and service credentials, or listen on 127.0.0.1.`,
    );
  }
}

/** The settings auth is built from (src/config.ts parses and documents them). */
export type AuthSettings = Pick<
  Config,
  | 'HOST'
  | 'AUTH_STRATEGY'
  | 'KEYSTONE_URL'
  | 'KEYSTONE_SERVICE_USER'
  | 'KEYSTONE_SERVICE_PASSWORD'
  | 'KEYSTONE_SERVICE_PROJECT'
  | 'KEYSTONE_SERVICE_USER_DOMAIN_ID'
  | 'KEYSTONE_SERVICE_PROJECT_DOMAIN_ID'
>;

/**
 * The AuthConfig for the settings, checked as a whole (noauth only on loopback, keystone with
 * its credentials); throws an Error naming the missing setting. HOST is where the server listens.
 */
export function authConfigFrom(settings: AuthSettings): AuthConfig {
  const strategy: AuthStrategy = settings.AUTH_STRATEGY ?? defaultAuthStrategy(settings.HOST);
  assertAuthAllowed(strategy, settings.HOST);
  if (strategy === 'noauth') return { strategy };
  const need = (name: 'KEYSTONE_URL' | 'KEYSTONE_SERVICE_USER' | 'KEYSTONE_SERVICE_PASSWORD'): string => {
    const v = settings[name];
    if (!v) throw new Error(`${name} is required when AUTH_STRATEGY is keystone`);
    return v;
  };
  return {
    strategy,
    keystone: {
      keystoneUrl: need('KEYSTONE_URL'),
      service: {
        username: need('KEYSTONE_SERVICE_USER'),
        password: need('KEYSTONE_SERVICE_PASSWORD'),
        projectName: settings.KEYSTONE_SERVICE_PROJECT,
        userDomainId: settings.KEYSTONE_SERVICE_USER_DOMAIN_ID,
        projectDomainId: settings.KEYSTONE_SERVICE_PROJECT_DOMAIN_ID,
      },
    },
  };
}

export interface Authentication {
  /** Sets `c.var.auth` or answers (401 / noauth's 204). */
  middleware: MiddlewareHandler;
  /** The service's own Keystone identity (its token goes to compute); null under noauth. */
  identity: KeystoneServiceIdentity | null;
}

/**
 * Everything authentication needs for a config. A process builds this once and shares it
 * (/v3, /ui, the compute token), so there is one Keystone login and one token cache.
 */
export function createAuthentication(config: AuthConfig): Authentication {
  if (config.strategy === 'noauth') return { middleware: noauthMiddleware(), identity: null };
  const keystone = createKeystoneAuth(config.keystone);
  return { middleware: keystone.middleware, identity: keystone.identity };
}

/** Just the middleware for a config, for an app that needs nothing else of it. */
export function authMiddleware(config: AuthConfig): MiddlewareHandler {
  return createAuthentication(config).middleware;
}
