/**
 * Cinder's NoAuthMiddleware (cinder/api/middleware/auth.py, Zed), for development on loopback:
 *
 *   - `X-Auth-Token: user:project` -> user "user", project "project", admin.
 *     A token without a colon names both: `X-Auth-Token: alice` is alice in project alice.
 *   - no X-Auth-Token -> the legacy auth handshake: 204 with
 *     `X-Auth-Token: <X-Auth-User or "admin">:<X-Auth-Project-Id or "admin">` and
 *     `X-Server-Management-Url: <request URL without trailing slash>`; the request goes no further.
 *   - every caller is admin (Cinder builds the context with is_admin=True, which adds the admin
 *     role). Which is why assertAuthAllowed() keeps this strategy to loopback hosts.
 *
 * One deliberate difference: an empty X-Auth-Token is treated as absent, where Cinder would make
 * a context with an empty user and project.
 */
import type { MiddlewareHandler } from 'hono';
import { ADMIN_ROLE, makeAuthContext } from '../types.js';

export function noauthMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    const token = c.req.header('x-auth-token');
    if (!token) {
      const user = c.req.header('x-auth-user') ?? 'admin';
      const project = c.req.header('x-auth-project-id') ?? 'admin';
      return c.body(null, 204, {
        'X-Auth-Token': `${user}:${project}`,
        'X-Server-Management-Url': c.req.url.replace(/\/+$/, ''),
        'Content-Type': 'text/plain; charset=UTF-8',
      });
    }
    const sep = token.indexOf(':');
    const userId = sep === -1 ? token : token.slice(0, sep);
    const projectId = (sep === -1 ? '' : token.slice(sep + 1)) || userId;
    c.set('auth', makeAuthContext({ userId, projectId, roles: [ADMIN_ROLE] }));
    await next();
  };
}
