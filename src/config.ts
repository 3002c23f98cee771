// Every setting in one typed place, read from the environment once at start. A bad value stops
// the service with a message naming the variable, instead of surfacing later as odd behaviour.
import { z } from 'zod';
import { defaultComputeWaitSeconds } from '../machines/snapshot.js';
import { DEFAULT_DATABASE_URL } from './db/client.js';

const seconds = z.coerce.number().int().positive();

/**
 * The largest qcow2 image qemu-img creates at its default 64 KiB clusters: 2 PiB, since the L1
 * table may not exceed 32 MiB (4 Mi entries of 512 MiB each). Found by bisecting `qemu-img
 * create` (7.2), which refuses 2097153G with "The image size is too large for file format
 * 'qcow2'"; test/drivers/remotefs/volumes.test.ts checks both sides of it.
 */
export const QCOW2_MAX_SIZE_GIB = 2 * 1024 * 1024;
/** Cinder's DB_MAX_INT, the largest size its volume_size type (and this service's schema) takes. */
const DB_MAX_INT = 0x7fffffff;
/** Optional text: surrounding blanks dropped, and an empty value means unset. */
const text = z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.string().min(1).optional());
/** A quota limit: -1 (unlimited) up to Cinder's DB_MAX_INT. */
const quota = z.coerce.number().int().min(-1).max(DB_MAX_INT).default(-1);
const textOr = (fallback: string) => z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.string().min(1).default(fallback));

const schema = z.object({
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8776),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `noauth` (loopback only: every caller is admin) or `keystone`; unset: noauth on a loopback HOST, else keystone. */
  AUTH_STRATEGY: z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.enum(['noauth', 'keystone'], { error: 'must be "noauth" or "keystone"' }).optional()),
  /** Keystone's public endpoint and the service's own identity there (required for keystone). */
  KEYSTONE_URL: text.pipe(z.url({ error: 'is not a URL' }).optional()),
  KEYSTONE_SERVICE_USER: text,
  KEYSTONE_SERVICE_PASSWORD: text,
  KEYSTONE_SERVICE_PROJECT: textOr('service'),
  KEYSTONE_SERVICE_USER_DOMAIN_ID: textOr('default'),
  KEYSTONE_SERVICE_PROJECT_DOMAIN_ID: textOr('default'),
  /** Policy overrides (YAML or JSON) over the built-in defaults (docs/policy.md). */
  POLICY_FILE: text,
  /** 1/true/yes/on (or `--inspect`): send every persisted transition to the Stately inspector. */
  INSPECT: z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.stringbool().default(false)),
  INSPECT_URL: textOr('ws://localhost:8080'),
  /** How long compute may take for its part of a create / delete (Cinder: 600 s / 7200 s). */
  COMPUTE_WAIT_CREATE_SECONDS: seconds.default(defaultComputeWaitSeconds.create),
  COMPUTE_WAIT_DELETE_SECONDS: seconds.default(defaultComputeWaitSeconds.delete),
  /** `remotefs`: qcow2 files on REMOTEFS_SHARE (needs qemu-utils); `bookkeeping`: no data at all. */
  VOLUME_DRIVER: z.enum(['remotefs', 'bookkeeping']).default('remotefs'),
  REMOTEFS_SHARE: z.string().min(1).default('./data/share'),
  /**
   * Largest volume a create may ask for, in GiB: the default of Cinder's per_volume_gigabytes
   * quota (its per_volume_size_limit), answered the same way (413 VolumeSizeExceedsLimit); a
   * project's quota or the default quota class may set another. The default is the largest qcow2
   * image, so no size reaches the RemoteFS driver only to fail there.
   */
  VOLUME_MAX_SIZE_GB: z.coerce.number().int().min(1).max(DB_MAX_INT).default(QCOW2_MAX_SIZE_GIB),
  /**
   * The default quotas of every project (Cinder's quota_volumes, quota_snapshots, ...), below the
   * default quota class and a project's own (os-quota-sets). -1 is unlimited, the default here:
   * Cinder's own defaults are 10 volumes, 10 snapshots, 1000 GiB, 10 backups, 1000 backup GiB and
   * 10 groups; set them to have Cinder's.
   */
  QUOTA_VOLUMES: quota,
  QUOTA_SNAPSHOTS: quota,
  QUOTA_GIGABYTES: quota,
  QUOTA_BACKUPS: quota,
  QUOTA_BACKUP_GIGABYTES: quota,
  QUOTA_GROUPS: quota,
  /** Most metadata items a snapshot (or volume) may hold (Nova's metadata_items quota: 403 beyond it). */
  METADATA_MAX_ITEMS: z.coerce.number().int().min(1).max(10_000).default(128),
  /** Nova's endpoint, e.g. http://127.0.0.1:8774/v2.1; unset: the embedded compute agent serves it. */
  COMPUTE_URL: z.url().optional(),
  /** Token sent to compute; unset: the service's own Keystone token, or `<service>:<project>` under noauth. */
  COMPUTE_TOKEN: z.string().min(1).optional(),
  /** Where the embedded compute agent listens when COMPUTE_URL is unset. */
  COMPUTE_AGENT_PORT: z.coerce.number().int().min(1).max(65535).default(8774),
  /** The project the embedded agent calls back under (its noauth token is `nova:<project>`). */
  COMPUTE_AGENT_PROJECT: z.string().min(1).default('service'),
  /**
   * The compute agent's base URL for its status extension (which file an instance has open), read
   * as evidence when a snapshot is reconciled. Unset: the embedded agent's own when COMPUTE_URL is
   * unset, none otherwise (Nova has no such API).
   */
  COMPUTE_AGENT_STATUS_URL: z.url().optional(),
  /** 1: the embedded agent sends an unmodified Nova's callbacks (status + progress "90%"). */
  COMPUTE_AGENT_LEGACY: z.enum(['0', '1']).default('0'),
  /**
   * How the compute agent holds the instances' disks: `qemu` (a real QEMU per instance, the live
   * part over QMP), `file` (no process; offline qemu-img), or `auto`: qemu where
   * qemu-system-x86_64 can be run.
   */
  COMPUTE_AGENT_MODE: z.enum(['auto', 'qemu', 'file']).default('auto'),
  /** 1 (QEMU mode): pause the guest (QMP stop) around each overlay switch and resume it (cont) right after. */
  COMPUTE_AGENT_PAUSE_GUEST: z.enum(['0', '1']).default('0'),
  /**
   * Cinder's `host` option: this instance's name among the services (os-services, os-hosts, the
   * pools); unset: the machine's host name. Instances sharing one share its service rows.
   */
  SERVICE_HOST: z.string().regex(/^[^@#\s]+$/, 'a host name, without @, # or spaces').optional(),
  /**
   * QEMU mode: shell commands run on the compute side around the guest pause (as Velero's pre/post
   * hooks): freeze before `stop`, thaw after `cont`, always thawed when freeze started. Their
   * environment has INSTANCE_ID and VOLUME_ID.
   */
  COMPUTE_AGENT_FREEZE_HOOK: z.string().min(1).optional(),
  COMPUTE_AGENT_THAW_HOOK: z.string().min(1).optional(),
  /** Longest a freeze or thaw hook may run before it is killed and counts as failed. */
  COMPUTE_AGENT_HOOK_TIMEOUT_SECONDS: seconds.default(30),
  /** Stable per host, so a restarted process takes back the work its predecessor held. */
  WORKER_ID: z.string().min(1).optional(),
  /** How often workers look for work committed by other processes. */
  WORKER_POLL_MS: z.coerce.number().int().positive().default(1000),
  /** How long a claimed job is protected before another worker may take it over. */
  WORKER_LEASE_SECONDS: seconds.default(300),
  /** How many effects (driver phases, compute requests) one process runs at once. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
  /** Most events written by one group commit. */
  COMMIT_BATCH_MAX: z.coerce.number().int().min(1).max(1000).default(256),
  /**
   * How long a stop (SIGTERM/SIGINT) lets the effects in hand finish before it interrupts them
   * and hands them back to run at the next start; 0 interrupts at once. Keep it below the time
   * the supervisor waits before SIGKILL (systemd's TimeoutStopSec, 90 s by default).
   */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).default(20),
  /** The web UI's needs-attention view: a snapshot in a phase that is not a resting one for longer than this is stuck. */
  UI_STUCK_AFTER_SECONDS: seconds.default(300),
  /** The web UI's needs-attention view: a phase deadline closer than this is near. */
  UI_NEAR_DEADLINE_SECONDS: seconds.default(60),
});

/** What the settings must hold together, checked after each is read. */
const serviceSchema = schema.superRefine((c, ctx) => {
  if (c.VOLUME_DRIVER === 'remotefs' && c.VOLUME_MAX_SIZE_GB > QCOW2_MAX_SIZE_GIB) {
    ctx.addIssue({
      code: 'custom',
      path: ['VOLUME_MAX_SIZE_GB'],
      message: `the remotefs driver keeps volumes as qcow2 images, which hold at most ${QCOW2_MAX_SIZE_GIB} GiB`,
    });
  }
});

export type Config = z.infer<typeof serviceSchema>;

/**
 * The standalone compute agent (`npm run compute-agent`), a process of its own: the same log
 * level and callback project as the embedded agent, plus the token it sends to the storage side.
 */
const agentSchema = schema
  .pick({
    LOG_LEVEL: true,
    COMPUTE_AGENT_PROJECT: true,
    COMPUTE_AGENT_MODE: true,
    COMPUTE_AGENT_PAUSE_GUEST: true,
    COMPUTE_AGENT_FREEZE_HOOK: true,
    COMPUTE_AGENT_THAW_HOOK: true,
    COMPUTE_AGENT_HOOK_TIMEOUT_SECONDS: true,
  })
  .extend({
  /** Token the standalone agent sends with its callbacks; unset: the noauth form `nova:<project>`. */
  COMPUTE_AGENT_TOKEN: z.string().min(1).optional(),
});

export type AgentConfig = z.infer<typeof agentSchema>;

function parse<S extends z.ZodType>(s: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = s.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** `argv`: the service's command-line arguments; `--inspect` is INSPECT=1. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  return parse(serviceSchema, argv.includes('--inspect') ? { ...env, INSPECT: '1' } : env);
}

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return parse(agentSchema, env);
}

/** Every variable either process reads, for the README's settings table check. */
export const settingNames = [...new Set([...Object.keys(schema.shape), ...Object.keys(agentSchema.shape)])];

/** The request limits with every limit setting unset (for tools and tests that build a manager). */
export const defaultLimits = limitsOf(loadConfig({}));

/** The limits the manager enforces, from the settings. */
export function limitsOf(config: Pick<Config, 'VOLUME_MAX_SIZE_GB' | 'METADATA_MAX_ITEMS' | `QUOTA_${string}` & keyof Config>) {
  return {
    maxVolumeSizeGiB: config.VOLUME_MAX_SIZE_GB,
    maxMetadataItems: config.METADATA_MAX_ITEMS,
    quotas: {
      volumes: config.QUOTA_VOLUMES,
      snapshots: config.QUOTA_SNAPSHOTS,
      gigabytes: config.QUOTA_GIGABYTES,
      backups: config.QUOTA_BACKUPS,
      backup_gigabytes: config.QUOTA_BACKUP_GIGABYTES,
      groups: config.QUOTA_GROUPS,
    },
  };
}

/** The lease of a claimed job when WORKER_LEASE_SECONDS is unset (for tools that build a worker). */
export const defaultLeaseMs = schema.shape.WORKER_LEASE_SECONDS.parse(undefined) * 1000;

/** The compute agent's freeze/thaw hooks from either schema's settings (undefined: none). */
export function agentHooksOf(c: Pick<Config, 'COMPUTE_AGENT_FREEZE_HOOK' | 'COMPUTE_AGENT_THAW_HOOK' | 'COMPUTE_AGENT_HOOK_TIMEOUT_SECONDS'>) {
  if (!c.COMPUTE_AGENT_FREEZE_HOOK && !c.COMPUTE_AGENT_THAW_HOOK) return undefined;
  return {
    ...(c.COMPUTE_AGENT_FREEZE_HOOK ? { freeze: c.COMPUTE_AGENT_FREEZE_HOOK } : {}),
    ...(c.COMPUTE_AGENT_THAW_HOOK ? { thaw: c.COMPUTE_AGENT_THAW_HOOK } : {}),
    timeoutMs: c.COMPUTE_AGENT_HOOK_TIMEOUT_SECONDS * 1000,
  };
}
