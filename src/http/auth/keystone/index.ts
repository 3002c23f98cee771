// Keystone authentication in three parts, each with one job: the service identity (logs in and
// keeps the service's own token), the token validator (checks callers' tokens, with its cache)
// and the middleware (puts the caller on the request). createKeystoneAuth() wires one of each;
// a process builds it once and shares it, so it logs in to Keystone once and keeps one cache.
import type { MiddlewareHandler } from 'hono';
import { keystoneMiddleware } from './middleware.js';
import { KeystoneServiceIdentity, type KeystoneServiceIdentityOptions } from './service-identity.js';
import { KeystoneTokenValidator, type KeystoneTokenValidatorOptions } from './token-validator.js';

export type { KeystoneConnectionOptions } from './client.js';
export { keystoneMiddleware } from './middleware.js';
export { KeystoneServiceIdentity, type KeystoneServiceCredentials, type KeystoneServiceIdentityOptions } from './service-identity.js';
export { AUTH_REQUIRED_MESSAGE, KeystoneTokenValidator, type KeystoneTokenValidatorOptions } from './token-validator.js';

export interface KeystoneAuthOptions extends KeystoneServiceIdentityOptions, KeystoneTokenValidatorOptions {}

export interface KeystoneAuth {
  identity: KeystoneServiceIdentity;
  validator: KeystoneTokenValidator;
  middleware: MiddlewareHandler;
}

export function createKeystoneAuth(options: KeystoneAuthOptions): KeystoneAuth {
  const identity = new KeystoneServiceIdentity(options);
  const validator = new KeystoneTokenValidator(identity, options);
  return { identity, validator, middleware: keystoneMiddleware(validator) };
}
