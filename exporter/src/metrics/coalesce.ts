/**
 * At most one run of `run` at a time and one waiting: a call while one runs waits for the next
 * run, which starts when the running one ends, and every call arriving meanwhile shares it. So
 * each answer comes from a run started after the call, and scrapes arriving faster than they
 * are served (Prometheus every second and the status page, or two Prometheus of an HA pair, on a
 * loaded runner) cost one scrape each time, not a queue that grows without end.
 */
export function coalesce<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let waiting: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p = run();
    running = p;
    const done = () => {
      if (running === p) running = undefined;
    };
    // Registered first, so it has run before a waiting call's turn starts the next run.
    p.then(done, done);
    return p;
  };
  return () => {
    if (waiting) return waiting;
    if (!running) return start();
    waiting = running.then(() => undefined, () => undefined).then(() => {
      waiting = undefined;
      return start();
    });
    return waiting;
  };
}
