/**
 * Waiting for an approver's answer by asking for the task again and again,
 * less often as time goes on: how a requester learns the outcome when it has
 * no stream of approval events to follow.
 */

/** How long to wait for an approval's answer, and how to stop early. */
export interface WaitForApprovalOptions {
  /** Give up after this many milliseconds and report the task as it then stands (still `pending`). */
  readonly timeoutMs: number;
  /** Aborting it ends the wait at once: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** First pause between two looks at the task. Default 50 ms; it doubles after each look. */
  readonly minIntervalMs?: number | undefined;
  /** Longest pause between two looks. Default 1000 ms. */
  readonly maxIntervalMs?: number | undefined;
}

/**
 * Reads the task with `get` until it is no longer `pending` or `timeoutMs`
 * has passed, pausing between reads (50 ms, doubling up to 1 s by default).
 * Resolves with the last task read — `undefined` when it is unknown — and
 * rejects with the signal's reason once `signal` aborts, or with `get`'s error.
 */
export async function pollApproval<T extends { readonly status: string }>(
  get: (id: string) => Promise<T | undefined>,
  id: string,
  options: WaitForApprovalOptions,
): Promise<T | undefined> {
  const { signal } = options;
  if (!(options.timeoutMs >= 0)) throw new RangeError(`timeoutMs: expected a number of milliseconds >= 0, got ${options.timeoutMs}`);
  const deadline = Date.now() + options.timeoutMs;
  const max = Math.max(1, options.maxIntervalMs ?? 1000);
  let pause = Math.min(max, Math.max(1, options.minIntervalMs ?? 50));
  for (;;) {
    signal?.throwIfAborted();
    let task: T | undefined;
    try {
      task = await get(id);
    } catch (error) {
      // A read the signal cut short fails as the wait does: with the signal's reason.
      signal?.throwIfAborted();
      throw error;
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (task === undefined || task.status !== "pending" || left <= 0) return task;
    await sleep(Math.min(pause, left), signal);
    pause = Math.min(max, pause * 2);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
