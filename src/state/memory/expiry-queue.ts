/**
 * A min-heap of (expiresAt, key) pairs: lets the memory store drop expired
 * records in amortised O(log n) without a timer.
 */
export class ExpiryQueue<K> {
  readonly #times: number[] = [];
  readonly #keys: K[] = [];

  get size(): number {
    return this.#times.length;
  }

  push(expiresAt: number, key: K): void {
    const times = this.#times;
    const keys = this.#keys;
    let i = times.length;
    times.push(expiresAt);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= expiresAt) break;
      times[i] = times[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    times[i] = expiresAt;
    keys[i] = key;
  }

  /** Removes and returns every key whose time is <= now, earliest first. */
  popDue(now: number, onDue: (key: K) => void): void {
    while (this.#times.length > 0 && this.#times[0]! <= now) {
      onDue(this.#popMin());
    }
  }

  #popMin(): K {
    const times = this.#times;
    const keys = this.#keys;
    const top = keys[0]!;
    const lastTime = times.pop()!;
    const lastKey = keys.pop()!;
    const n = times.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && times[right]! < times[left]! ? right : left;
      if (times[child]! >= lastTime) break;
      times[i] = times[child]!;
      keys[i] = keys[child]!;
      i = child;
    }
    times[i] = lastTime;
    keys[i] = lastKey;
    return top;
  }
}
