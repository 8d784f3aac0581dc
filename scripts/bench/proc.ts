/**
 * Another process's CPU time and memory, read from Linux's /proc: how workerd (a separate process
 * that Miniflare starts) and the edge-runtime child are measured from outside.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const hasProc = (() => {
  try {
    readFileSync('/proc/self/status', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/** PIDs of this process's children whose command name is `name`. */
export function childPids(name: string, parent = process.pid): number[] {
  if (!hasProc) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && comm === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** On-CPU time of every thread of `pid`, in ms (schedstat: nanosecond resolution, unlike utime/stime's 10 ms ticks). */
export function cpuTimeMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended
    }
  }
  return ns / 1e6;
}

/** VmRSS and VmHWM (the lifetime peak) of `pid`, in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** Samples `pid`'s RSS every `everyMs` while `work` runs: before, peak during, after. */
export async function rssDuring<T>(pid: number, work: () => Promise<T>, everyMs = 50): Promise<{ result: T; beforeMb: number; peakMb: number; afterMb: number }> {
  const beforeMb = memoryMb(pid).rss;
  let peakMb = beforeMb;
  const timer = setInterval(() => {
    peakMb = Math.max(peakMb, memoryMb(pid).rss);
  }, everyMs);
  try {
    const result = await work();
    const afterMb = memoryMb(pid).rss;
    peakMb = Math.max(peakMb, afterMb);
    return { result, beforeMb, peakMb, afterMb };
  } finally {
    clearInterval(timer);
  }
}
