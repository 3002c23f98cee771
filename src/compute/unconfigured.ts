import type { ComputeClient } from './compute-client.js';

/** Used when no compute service is configured: an assisted request fails with a clear reason. */
export class UnconfiguredCompute implements ComputeClient {
  async requestCreate(): Promise<void> {
    throw new Error('no compute service is configured (set COMPUTE_URL)');
  }
  async requestDelete(): Promise<void> {
    throw new Error('no compute service is configured (set COMPUTE_URL)');
  }
}
