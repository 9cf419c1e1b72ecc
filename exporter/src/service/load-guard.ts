import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Event-loop delay over the last second. Above the threshold the machine is already behind, so the
 * schedulers start nothing new until it catches up (a cycle started then would only make it worse).
 */
export function startLoadGuard(maxDelayMs: () => number): { overloaded(): boolean; stop(): void } {
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let recentDelayMs = 0;
  const timer = setInterval(() => {
    recentDelayMs = delay.max / 1e6;
    delay.reset();
  }, 1_000);
  timer.unref();
  return {
    overloaded: () => recentDelayMs > maxDelayMs(),
    stop() {
      clearInterval(timer);
      delay.disable();
    },
  };
}
