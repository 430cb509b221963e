import { parseGlob } from "../../policy/fnmatch.ts";

/**
 * A glob compiled for the Redis store's Lua matcher: JSON of
 * `[["l", text] | ["a"] | ["s"] | ["c", negated, lo, hi, …] | ["n"], …]`,
 * the same program `parseGlob` produces, so Redis matches exactly as the
 * engine does (Python fnmatch on code points).
 */
export function globProgram(pattern: string): string {
  const program: unknown[] = [];
  for (const t of parseGlob(pattern)) {
    switch (t.kind) {
      case "literal":
        program.push(["l", t.text]);
        break;
      case "any":
        program.push(["a"]);
        break;
      case "star":
        program.push(["s"]);
        break;
      case "class":
        program.push(["c", t.negated ? 1 : 0, ...t.ranges.flat()]);
        break;
      case "never":
        program.push(["n"]);
        break;
    }
  }
  return JSON.stringify(program);
}

/**
 * Whether the Redis decision script leaves `pattern` to the engine: it has a
 * piece between two stars that holds a wildcard (`?` or a class), which the
 * script would have to search for character by character.
 */
export function leftToEngine(pattern: string): boolean {
  const tokens = parseGlob(pattern);
  const first = tokens.findIndex((t) => t.kind === "star");
  const last = tokens.findLastIndex((t) => t.kind === "star");
  return first >= 0 && tokens.slice(first + 1, last).some((t) => t.kind === "any" || t.kind === "class");
}
