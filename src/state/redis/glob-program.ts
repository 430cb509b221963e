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
