import type { MiddlewareHandler } from 'hono';
import type { KeystoneTokenValidator } from './token-validator.js';

/** Sets `c.var.auth` from a valid X-Auth-Token, else answers 401 (503 when Keystone is down). */
export function keystoneMiddleware(validator: KeystoneTokenValidator): MiddlewareHandler {
  return async (c, next) => {
    c.set('auth', await validator.validate(c.req.header('x-auth-token')));
    await next();
  };
}
