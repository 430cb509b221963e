/**
 * Waits for `work` until `deadline` (ms since the epoch) at most, then goes on
 * without it; a rejection counts as done (the caller reports failures
 * elsewhere). For shutdown steps that must not outlast the grace period,
 * whatever Redis or the disk does. Resolves true when `work` finished in time.
 */
export function within(work: Promise<unknown> | undefined, deadline: number): Promise<boolean> {
  if (work === undefined) return Promise.resolve(true);
  const settled = work.then(
    () => true,
    () => true,
  );
  const left = deadline - Date.now();
  if (!Number.isFinite(left)) return settled;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, left));
  });
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}
