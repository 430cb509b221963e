/**
 * Lua source generated from the TypeScript that defines the same text, so the
 * Redis scripts cannot drift from the engine: a reason such as
 * `Session agent mismatch: expected 'a', got 'b'` is built in Lua by an
 * expression made from the TypeScript function that builds it.
 */

/** A Lua string literal for `text` (any bytes, escaped by code). */
export function luaString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    if (byte === 0x22 || byte === 0x5c) out += "\\" + String.fromCharCode(byte);
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += "\\" + String(byte).padStart(3, "0");
  }
  return out + '"';
}

/**
 * The Lua expression that evaluates to `build(...)` when the arguments are
 * the values of the Lua expressions `args`: `build` is called with marker
 * arguments and its text is cut at the markers. Throws if `build` does not
 * use each argument exactly once, in order, as plain text (a builder that
 * transforms its arguments cannot be reproduced this way).
 */
export function luaConcat<A extends string[]>(build: (...args: A) => string, ...args: { [K in keyof A]: string }): string {
  const markers = args.map((_, i) => `\u0000${i}\u0000`) as A;
  const text = build(...markers);
  const parts: string[] = [];
  let rest = text;
  markers.forEach((marker, i) => {
    const at = rest.indexOf(marker);
    if (at < 0 || rest.indexOf(marker, at + 1) >= 0) throw new Error(`luaConcat: argument ${i} is not used exactly once`);
    if (at > 0) parts.push(luaString(rest.slice(0, at)));
    parts.push(args[i]!);
    rest = rest.slice(at + marker.length);
  });
  if (rest.includes("\u0000")) throw new Error("luaConcat: arguments are used out of order");
  if (rest !== "" || parts.length === 0) parts.push(luaString(rest));
  return parts.join(" .. ");
}
