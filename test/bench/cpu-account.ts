/**
 * Where a phase of a benchmark spent the machine's CPU, read from /proc: the whole machine's busy
 * share (/proc/stat, exact) and each live process's user + system time (/proc/PID/stat) summed by
 * a group the caller names (the runners, the benchmark's own process, PostgreSQL, Dovecot...).
 * It answers "was this phase bound by the CPU, and whose": a speedup that stops growing while the
 * machine is busy all the time is the machine's limit, not the design's.
 *
 * A process that exits inside the phase takes its time with it (only its parent's cutime would
 * keep it), so sample the end before stopping what was measured; the machine's share counts it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export interface CpuSample {
  at: number;
  machineBusy: number;
  machineTotal: number;
  /** Ticks by "group/pid", so a process seen in both samples is subtracted from itself. */
  processes: Map<string, number>;
}

/**
 * Names a process's group from its pid, command name and its ancestors' pids (parent first), or
 * undefined to leave it out. The ancestry tells this benchmark's Dovecot or PostgreSQL from other
 * ones on a shared machine: their command names are the same.
 */
export type GroupOf = (pid: number, comm: string, ancestors: readonly number[]) => string | undefined;

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the not-busy fields (the 4th and 5th).
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function processTicks(pid: number): { comm: string; ticks: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    // After the name: state is field 3; utime and stime are fields 14 and 15 (1-based).
    return { comm: stat.slice(open + 1, close), ticks: Number(rest[11]) + Number(rest[12]), ppid: Number(rest[1]) };
  } catch {
    return undefined; // it exited between the listing and the read
  }
}

export function cpuSample(groupOf: GroupOf): CpuSample {
  const all = new Map<number, { comm: string; ticks: number; ppid: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const proc = processTicks(pid);
    if (proc) all.set(pid, proc);
  }
  const processes = new Map<string, number>();
  for (const [pid, proc] of all) {
    const ancestors: number[] = [];
    for (let up = proc.ppid; up > 1 && !ancestors.includes(up); up = all.get(up)?.ppid ?? 0) ancestors.push(up);
    const group = groupOf(pid, proc.comm, ancestors);
    if (group !== undefined) processes.set(`${group}/${pid}`, proc.ticks);
  }
  const machine = machineTicks();
  return { at: Date.now(), machineBusy: machine.busy, machineTotal: machine.total, processes };
}

export interface CpuUse {
  wallSeconds: number;
  /** The machine's busy share over the phase, 0-1 of all its cores. */
  machineBusyShare: number;
  cores: number;
  /** CPU seconds by group (processes alive at the end; those born inside the phase from zero). */
  groups: Record<string, number>;
}

export function cpuBetween(start: CpuSample, end: CpuSample): CpuUse {
  const groups: Record<string, number> = {};
  for (const [key, ticks] of end.processes) {
    const group = key.slice(0, key.lastIndexOf('/'));
    const used = ticks - (start.processes.get(key) ?? 0);
    groups[group] = (groups[group] ?? 0) + used / TICKS_PER_SECOND;
  }
  const total = end.machineTotal - start.machineTotal;
  return {
    wallSeconds: (end.at - start.at) / 1_000,
    machineBusyShare: total > 0 ? (end.machineBusy - start.machineBusy) / total : 0,
    cores: availableParallelism(),
    groups,
  };
}

/**
 * "machine busy 97 % of 2 cores (62.1 CPU s in 32.0 s); runners 20.3 s (63 %), postgres 9.8 s (31 %), ...":
 * each group's share of one core over the phase beside its seconds (a single-threaded process at
 * 100 % is bound by its one thread). Groups under 0.05 s are left out.
 */
export function describeCpu(use: CpuUse): string {
  const machineSeconds = use.machineBusyShare * use.cores * use.wallSeconds;
  const share = (seconds: number) => (use.wallSeconds > 0 ? Math.round((100 * seconds) / use.wallSeconds) : 0);
  const groups = Object.entries(use.groups).filter(([, s]) => s >= 0.05).sort((a, b) => b[1] - a[1])
    .map(([g, s]) => `${g} ${s.toFixed(1)} s (${share(s)} %)`).join(', ');
  return `machine busy ${(use.machineBusyShare * 100).toFixed(0)} % of ${use.cores} cores (${machineSeconds.toFixed(1)} CPU s in ${use.wallSeconds.toFixed(1)} s); ${groups}`;
}
