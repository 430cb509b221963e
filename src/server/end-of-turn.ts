/**
 * A queue of work that runs at the end of the current turn of the event loop
 * (its `setImmediate` phase), all together, in arrival order: `enqueue(item)`
 * calls `run(item)` then. A server hands each request's work over as it is
 * read; with many connections, one turn reads many requests, and their
 * decisions, audit records and responses then run one after the other with
 * their caches warm instead of each in between the transport's work on the
 * next request. An item waits at most for the rest of its turn.
 *
 * `run` must not throw: one item's failure would leave the rest of its turn
 * unrun.
 */
export function endOfTurnQueue<T>(run: (item: T) => void): (item: T) => void {
  let queued: T[] = [];
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    const items = queued;
    queued = [];
    for (const item of items) run(item);
  };
  return (item) => {
    queued.push(item);
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };
}
