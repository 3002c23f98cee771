/** Who is calling, as every auth strategy reports it to the handlers (`c.var.auth`). */
export interface AuthContext {
  readonly userId: string;
  readonly projectId: string;
  /** Role names, lower-cased (Keystone compares role names case-insensitively). */
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  /** Keystone's is_admin_project (policy's is_admin_project); absent means true, as keystonemiddleware reads it. */
  readonly isAdminProject?: boolean;
  readonly userName?: string;
  readonly projectName?: string;
}

declare module 'hono' {
  interface ContextVariableMap {
    auth: AuthContext;
  }
}

export const ADMIN_ROLE = 'admin';

export function makeAuthContext(fields: Omit<AuthContext, 'isAdmin' | 'roles'> & { roles: readonly string[] }): AuthContext {
  const roles = [...new Set(fields.roles.map((r) => r.toLowerCase()))];
  return Object.freeze({ ...fields, roles: Object.freeze(roles), isAdmin: roles.includes(ADMIN_ROLE) });
}
