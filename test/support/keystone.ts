// The real Keystone that .ci/keystone.sh runs (127.0.0.1:15000 unless KS_PORT says otherwise),
// and how tests get tokens from it. The passwords are the script's test-only defaults.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const KEYSTONE_URL = `http://127.0.0.1:${process.env.KS_PORT ?? '15000'}`;
const ADMIN_PASSWORD = process.env.KS_ADMIN_PASSWORD ?? 'local-admin-pw';
const USER_PASSWORD = process.env.KS_USER_PASSWORD ?? 'local-user-pw';

/** Each provisioned user and the project its tokens are scoped to. */
export const KEYSTONE_USERS = {
  admin: { project: 'admin', password: ADMIN_PASSWORD },
  svc: { project: 'service', password: USER_PASSWORD },
  member1: { project: 'demo', password: USER_PASSWORD },
  reader1: { project: 'demo', password: USER_PASSWORD },
  othermember: { project: 'other', password: USER_PASSWORD },
} as const;
export type KeystoneUser = keyof typeof KEYSTONE_USERS;

/** The service's own credentials, as authConfigFromEnv would build them. */
export const SERVICE_CREDENTIALS = { username: 'svc', password: USER_PASSWORD, projectName: 'service' };

export interface IssuedToken {
  token: string;
  expiresAt: string;
  userId: string;
  projectId: string;
  roles: string[];
}

/** POST /v3/auth/tokens, password method, scoped to `project` (default: the user's own). */
export async function issueToken(user: KeystoneUser, project: string = KEYSTONE_USERS[user].project): Promise<IssuedToken> {
  const res = await fetch(`${KEYSTONE_URL}/v3/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { id: 'default' }, password: KEYSTONE_USERS[user].password } },
        },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`keystone refused a token for ${user}@${project}: HTTP ${res.status}`);
  const body = (await res.json()) as {
    token: { expires_at: string; user: { id: string }; project: { id: string }; roles: { name: string }[] };
  };
  return {
    token,
    expiresAt: body.token.expires_at,
    userId: body.token.user.id,
    projectId: body.token.project.id,
    roles: body.token.roles.map((r) => r.name),
  };
}

/** DELETE /v3/auth/tokens: revokes `token` using an admin token. */
export async function revokeToken(token: string): Promise<void> {
  const admin = await issueToken('admin');
  const res = await fetch(`${KEYSTONE_URL}/v3/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': token },
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 204) throw new Error(`keystone did not revoke the token: HTTP ${res.status}`);
}

async function provisioned(): Promise<boolean> {
  try {
    await issueToken('othermember');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts and provisions Keystone with .ci/keystone.sh unless it already answers with the test
 * users. On a fresh machine that includes apt installs, so give the calling hook minutes.
 */
export async function ensureKeystone(): Promise<void> {
  if (await provisioned()) return;
  const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.ci/keystone.sh');
  try {
    await promisify(execFile)('bash', [script], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`.ci/keystone.sh failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  if (!(await provisioned())) throw new Error('.ci/keystone.sh finished but the test users cannot log in');
}
