// CPU use over an interval, from /proc: the whole machine's busy share, and single processes'
// share of one core. Both come in clock ticks, so no tick rate is needed for the ratios.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

interface HostTimes {
  total: number;
  busy: number;
}

function hostTimes(): HostTimes {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { total, busy: total - idle };
}

export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is rest[0]; utime and stime are fields 14 and 15 of the line.
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

let ticksPerSecond: number | undefined;

/** CPU time (user + system) the processes have used so far, in milliseconds. */
export function cpuMsOf(pids: readonly number[]): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return Math.round((pids.reduce((sum, pid) => sum + processTicks(pid), 0) * 1000) / ticksPerSecond);
}

export interface CpuUse {
  /** Share of the whole machine that was busy, 0..100. */
  hostBusyPercent: number;
  /** Per named process: share of one core, 0..100 x cores. */
  processes: Record<string, number>;
}

/** Starts measuring; call the result to stop and get the figures. */
export function measureCpu(pids: Record<string, number>): () => CpuUse {
  const cores = cpus().length;
  const host0 = hostTimes();
  const proc0 = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, processTicks(pid)]));
  return () => {
    const host1 = hostTimes();
    const dTotal = Math.max(1, host1.total - host0.total);
    const processes: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      processes[name] = Math.round(((processTicks(pid) - proc0[name]!) / dTotal) * cores * 1000) / 10;
    }
    return { hostBusyPercent: Math.round(((host1.busy - host0.busy) / dTotal) * 1000) / 10, processes };
  };
}
