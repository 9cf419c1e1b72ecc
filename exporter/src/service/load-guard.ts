import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';

/** What the guard saw over its last window: how late the loop's timers ran, and how busy it was. */
export interface LoadSample {
  /** The 90th percentile of the event-loop delay over the window, in ms. */
  delayP90Ms: number;
  /** Share of the window the event loop spent running callbacks (0-1), not waiting for I/O. */
  utilization: number;
}

/**
 * Below this share of busy time the runner is not the cause of its timers' lateness: they run
 * late because the machine gives the process no CPU (other processes), and holding cycles back
 * would only delay work (new mail from IDLE waited 4.6 s at the median for a start so in
 * bench:latency) without making anything faster.
 */
export const BUSY_UTILIZATION = 0.8;

/**
 * The decision, apart from the measuring: overloaded when the loop's timers are late most of the
 * window (the 90th percentile, so one long task such as a large scrape or a GC pause does not hold
 * every start back for a second) and the loop itself is busy, i.e. the runner's own backlog.
 */
export function isOverloaded(sample: LoadSample, maxDelayMs: number): boolean {
  return sample.delayP90Ms > maxDelayMs && sample.utilization >= BUSY_UTILIZATION;
}

/**
 * Event-loop delay and utilization over the last second. While the runner is behind on its own
 * work, the schedulers start nothing new until it catches up (a cycle started then would only make
 * it worse).
 */
export function startLoadGuard(maxDelayMs: () => number): { overloaded(): boolean; stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let sample: LoadSample = { delayP90Ms: 0, utilization: 0 };
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    sample = { delayP90Ms: delay.percentile(90) / 1e6, utilization: performance.eventLoopUtilization(now, last).utilization };
    last = now;
    delay.reset();
  }, 1_000);
  timer.unref();
  return {
    overloaded: () => isOverloaded(sample, maxDelayMs()),
    stop() {
      clearInterval(timer);
      delay.disable();
    },
  };
}
