/** A Map that refuses changes once built: configs are shared by concurrent decisions. */
const sealed = new WeakSet<object>();

export class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    // Map's constructor calls set(), before any field of this class exists.
    super(entries);
    sealed.add(this);
    Object.freeze(this);
  }

  override set(key: K, value: V): this {
    if (sealed.has(this)) throw new TypeError("the config is immutable");
    return super.set(key, value);
  }

  override delete(_key: K): boolean {
    throw new TypeError("the config is immutable");
  }

  override clear(): void {
    throw new TypeError("the config is immutable");
  }
}

/** Freezes objects, arrays and maps all the way down (maps become FrozenMaps). */
export function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    const frozen = new FrozenMap([...value].map(([k, v]) => [k, deepFreeze(v)] as const));
    return frozen as T;
  }
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const frozen = deepFreeze(child);
      if (frozen !== child) (value as Record<string, unknown>)[key] = frozen;
    }
    Object.freeze(value);
  }
  return value;
}
