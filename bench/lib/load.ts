// One measured load run with autocannon: a warm-up run that is thrown away, then the measured one.
import autocannon from 'autocannon';
import type { CpuUse } from './cpu.js';

export interface LoadSpec {
  /** http://host:port */
  baseUrl: string;
  method: 'GET' | 'POST';
  /** Called once per request: the path it goes to (e.g. the next snapshot, round-robin). */
  nextPath: () => string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The status every request should get; others are counted by code and sampled. */
  expectStatus: number;
  /** Called when the measured run starts (not the warm-up); its result is called when it ends. */
  measure?: () => () => CpuUse;
}

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  latencyP50ms: number;
  latencyP99ms: number;
  latencyMaxms: number;
  non2xx: number;
  /** Answers other than the expected status (2xx included). */
  unexpected: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Up to 5 distinct answers other than the expected status, as "status body". */
  unexpectedSamples: string[];
  /** CPU use during the measured run, when LoadSpec.measure was given. */
  cpu?: CpuUse;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await once(spec, spec.warmupSeconds);
  const stop = spec.measure?.();
  const result = await once(spec, spec.durationSeconds);
  return stop ? { ...result, cpu: stop() } : result;
}

async function once(spec: LoadSpec, durationSeconds: number): Promise<LoadResult> {
  const samples = new Set<string>();
  let unexpected = 0;
  const result = await autocannon({
    url: spec.baseUrl,
    connections: spec.connections,
    pipelining: 1,
    duration: durationSeconds,
    timeout: 10,
    headers: { ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}), ...spec.headers },
    requests: [
      {
        method: spec.method,
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        setupRequest: (req) => ({ ...req, path: spec.nextPath() }),
        onResponse: (status, body) => {
          if (status === spec.expectStatus) return;
          unexpected++;
          if (samples.size < 5) samples.add(`${status} ${body.slice(0, 300)}`);
        },
      },
    ],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
  return {
    requests: result.requests.total,
    reqPerSec: round(result.requests.total / result.duration, 1),
    latencyP50ms: result.latency.p50,
    latencyP99ms: result.latency.p99,
    latencyMaxms: result.latency.max,
    non2xx: result.non2xx,
    unexpected,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    unexpectedSamples: [...samples],
  };
}

export function round(x: number, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Round-robin over ids: each call gives the path for the next one. */
export function roundRobin(ids: readonly string[], toPath: (id: string) => string): () => string {
  let i = 0;
  return () => toPath(ids[i++ % ids.length]!);
}
