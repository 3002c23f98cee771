// This service as Cinder's operators see it: each instance runs the roles of a cinder-scheduler
// (host `<host>`) and of a cinder-volume serving the one backend (host `<host>@<backend>`, pool
// `<host>@<backend>#<backend>`), each a row in the services table that the instance heartbeats,
// so "up"/"down" and updated_at are read off the database as Cinder reads them. Instances that
// share a host name share its rows, as Cinder's nodes sharing `backend_host` do.
//
// The backend has no replication: failover is refused as Cinder refuses it for a backend whose
// replication_status is not enabled. Freeze and thaw set the flag Cinder sets.
import type { BackendCapacity, VolumeDriver } from '../drivers/driver.js';
import type { Engine } from '../engine/engine.js';
import type { ProjectUsage, ServiceIdentityRow, ServiceRow } from '../engine/store/index.js';
import { InvalidRequest, NotFound } from './errors.js';
import { unmetSpec } from './extra-specs.js';

export const SCHEDULER_BINARY = 'cinder-scheduler';
export const VOLUME_BINARY = 'cinder-volume';
/** Cinder's report_interval and service_down_time. */
export const REPORT_INTERVAL_MS = 10_000;
export const SERVICE_DOWN_SECONDS = 60;
const GIB = 1024 ** 3;

export interface ServiceIdentity {
  /** Cinder's `host` option: this instance's name among the services. */
  host: string;
  /** Cinder's storage_availability_zone. */
  availabilityZone: string;
}

export const DEFAULT_IDENTITY: ServiceIdentity = { host: 'localhost', availabilityZone: 'nova' };

export interface ServiceView {
  row: ServiceRow;
  up: boolean;
}

export interface PoolStats {
  name: string;
  capabilities: {
    pool_name: string;
    volume_backend_name: string;
    vendor_name: string;
    driver_version: string;
    storage_protocol: string;
    total_capacity_gb: number | 'unknown';
    free_capacity_gb: number | 'unknown';
    allocated_capacity_gb: number;
    reserved_percentage: number;
    QoS_support: boolean;
    thin_provisioning_support: boolean;
    thick_provisioning_support: boolean;
    multiattach: boolean;
    timestamp: string;
  };
}

/** Cinder's host matching (`_filter_host`): `h` matches h, h@… and h#…; `h@b` matches h@b and h@b#…; with a pool, exactly. */
export function hostMatches(field: string, value: string): boolean {
  if (field === value) return true;
  if (value.includes('#')) return false;
  if (field.startsWith(`${value}#`)) return true;
  return !value.includes('@') && field.startsWith(`${value}@`);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export class Services {
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly driver: VolumeDriver,
    readonly identity: ServiceIdentity = DEFAULT_IDENTITY,
  ) {}

  get backendName(): string {
    return this.driver.name;
  }
  /** The cinder-volume service's host: `<host>@<backend>`. */
  get backendHost(): string {
    return `${this.identity.host}@${this.backendName}`;
  }
  /** Cinder's `host@backend#pool` of every volume: the backend has one pool, named after it. */
  get poolName(): string {
    return `${this.backendHost}#${this.backendName}`;
  }

  private rows(): ServiceIdentityRow[] {
    const zone = this.identity.availabilityZone;
    return [
      { host: this.identity.host, binary: SCHEDULER_BINARY, topic: SCHEDULER_BINARY, availabilityZone: zone, clusterName: null },
      { host: this.backendHost, binary: VOLUME_BINARY, topic: VOLUME_BINARY, availabilityZone: zone, clusterName: null },
    ];
  }

  /** One heartbeat of this instance's services (the first creates their rows). */
  async heartbeat(): Promise<void> {
    const now = this.engine.clock();
    for (const row of this.rows()) await this.engine.store.heartbeatService(row, now);
  }

  /**
   * Beats now and every REPORT_INTERVAL_MS until stop(); a failed beat (the database away) is
   * reported and the next one tried, and never stops the service: it is then listed as down.
   */
  async start(onError: (err: unknown) => void, intervalMs = REPORT_INTERVAL_MS): Promise<void> {
    await this.heartbeat().catch(onError);
    this.timer = setInterval(() => {
      if (this.beating) return;
      this.beating = this.heartbeat()
        .catch(onError)
        .finally(() => (this.beating = null));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
  }

  /** Every service, with whether it beat within service_down_time; filtered as Cinder filters them. */
  async list(filters: { host?: string; binary?: string } = {}): Promise<ServiceView[]> {
    const now = this.engine.clock().getTime();
    const rows = await this.engine.store.listServices();
    return rows
      .filter((r) => (filters.host === undefined || hostMatches(r.host, filters.host)) && (filters.binary === undefined || r.binary === filters.binary))
      .map((row) => ({ row, up: Math.abs(now - (row.updatedAt ?? row.createdAt).getTime()) <= SERVICE_DOWN_SECONDS * 1000 }));
  }

  /** os-services enable / disable / disable-log-reason; 404 as Cinder's HostBinaryNotFound. */
  async setDisabled(host: string, binary: string, disabled: boolean, reason?: string): Promise<ServiceRow> {
    const flags = disabled ? { disabled: true, ...(reason !== undefined ? { disabledReason: reason } : {}) } : { disabled: false, disabledReason: null };
    const row = await this.engine.store.updateServiceFlags(host, binary, flags, this.engine.clock());
    if (!row) throw new NotFound(`Could not find binary ${binary} on host ${host}.`);
    return row;
  }

  private async volumeServicesOn(host: string): Promise<ServiceView[]> {
    const services = await this.list({ host, binary: VOLUME_BINARY });
    if (services.length === 0) throw new InvalidRequest(`Invalid input received: No service found with host=${host}`);
    return services;
  }

  /** Freeze (true) or thaw (false) the backend on `host`: Cinder's conditional update of `frozen`. */
  async setFrozen(host: string, frozen: boolean): Promise<void> {
    const services = await this.volumeServicesOn(host);
    const now = this.engine.clock();
    const changed: string[] = [];
    const notChanged: string[] = [];
    for (const s of services) {
      if (s.row.frozen !== frozen && (await this.engine.store.setServiceFrozen(s.row.host, VOLUME_BINARY, frozen, now)) > 0) changed.push(s.row.host);
      else notChanged.push(s.row.host);
    }
    if (changed.length === 0) {
      const expected = frozen ? 'False' : 'True';
      throw new InvalidRequest(
        `Invalid input received: No service could be changed: frozen in [${notChanged.map((h) => `'${h}'`).join(', ')}] must be ${expected} to failover.`,
      );
    }
  }

  /** This backend has no replication, so its replication_status is "disabled" and failover is refused as Cinder refuses it. */
  async failover(host: string): Promise<never> {
    const services = await this.volumeServicesOn(host);
    const hosts = services.map((s) => `'${s.row.host}'`).join(', ');
    throw new InvalidRequest(
      `Invalid input received: No service could be changed: replication_status in [${hosts}] must be enabled or failed-over and must be up to failover.`,
    );
  }

  /** The backend's capacity and capabilities, as the cinder-volume service reports them. */
  async pools(): Promise<PoolStats[]> {
    const capacity: BackendCapacity | null = this.driver.capacity ? await this.driver.capacity() : null;
    const usage = await this.engine.store.usagePerProject();
    const allocated = usage.reduce((sum, u) => sum + u.volumeGb, 0);
    const info = this.driver.info ?? { vendorName: 'Open Source', driverVersion: '1.0.0', storageProtocol: 'unknown' };
    return [
      {
        name: this.poolName,
        capabilities: {
          pool_name: this.backendName,
          volume_backend_name: this.backendName,
          vendor_name: info.vendorName,
          driver_version: info.driverVersion,
          storage_protocol: info.storageProtocol,
          total_capacity_gb: capacity ? round2(capacity.totalBytes / GIB) : 'unknown',
          free_capacity_gb: capacity ? round2(capacity.freeBytes / GIB) : 'unknown',
          allocated_capacity_gb: allocated,
          reserved_percentage: 0,
          QoS_support: false,
          thin_provisioning_support: true,
          thick_provisioning_support: false,
          multiattach: false,
          timestamp: this.engine.clock().toISOString(),
        },
      },
    ];
  }

  /**
   * The scheduler's answer for a volume type's extra specs: null when the backend's pool satisfies
   * them, else the first spec it does not (Cinder's NoValidBackend; the caller puts the volume in
   * error and records ACTIONS.SCHEDULE_ALLOCATE_VOLUME / DETAILS.NO_BACKEND_AVAILABLE).
   */
  async unmetSpec(extraSpecs: Readonly<Record<string, string>>): Promise<string | null> {
    const [pool] = await this.pools();
    return unmetSpec(extraSpecs, pool!.capabilities);
  }

  /** The cinder-volume services a capabilities request names (a host, backend or pool). */
  async backendFor(id: string): Promise<ServiceView> {
    const backend = id.split('#')[0]!;
    const found = (await this.list({ binary: VOLUME_BINARY })).find((s) => hostMatches(s.row.host, backend));
    if (!found) throw new NotFound(`Can't find service: ${id}`);
    return found;
  }

  /** os-hosts show: the volume service on `host` (enabled), and the usage it holds. */
  async hostUsage(host: string): Promise<ProjectUsage[]> {
    const services = await this.list({ binary: VOLUME_BINARY });
    if (!services.some((s) => s.row.host === host && !s.row.disabled)) throw new NotFound(`Host ${host} could not be found.`);
    return this.engine.store.usagePerProject();
  }
}
