// A driver that keeps no data: every phase succeeds at once. It lets the service run end to end
// (API, machines, history) before a storage backend is configured; it declares no assisted
// support, so every snapshot goes through the single-phase path and never waits for compute.
import type { PhaseResult, VolumeDriver } from './driver.js';

export class BookkeepingDriver implements VolumeDriver {
  readonly name = 'bookkeeping';
  readonly supportsAssistedSnapshots = false;
  async createVolume() {
    return { providerLocation: null };
  }
  async deleteVolume() {}
  async createVolumeFromSnapshot() {
    return { providerLocation: null };
  }
  async createClonedVolume() {
    return { providerLocation: null };
  }
  async extendVolume() {}
  async createSnapshot(): Promise<PhaseResult> {
    return {};
  }
  async deleteSnapshot(): Promise<PhaseResult> {
    return {};
  }
  // Reachable only through an admin's reconcile: with no data there is no evidence either way.
  async reconcileCreate(): Promise<PhaseResult> {
    return { reconcile: { verdict: 'unverified', reason: 'the bookkeeping driver keeps no data to inspect', evidence: {} } };
  }
  async reconcileDelete(): Promise<PhaseResult> {
    return { reconcile: { verdict: 'unverified', reason: 'the bookkeeping driver keeps no data to inspect', evidence: {} } };
  }
}
