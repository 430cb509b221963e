import { RE2JS } from "re2js";
import { ExpressionSyntaxError } from "./errors.ts";

/** Results remembered per pattern (hot inputs such as resource paths repeat). */
const MEMO_ENTRIES = 1024;
/** Longer inputs are matched every time: remembering them would cost more memory than it saves. */
const MEMO_MAX_LENGTH = 256;

/**
 * Compiles a `matches` pattern with RE2 (linear-time matching; no
 * backtracking regex ever runs on policy text). Returns an unanchored test
 * with a small bounded memo of recent results.
 */
export function compileRegex(pattern: string, source: string, pos: number): (text: string) => boolean {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new ExpressionSyntaxError(`invalid regular expression for 'matches': ${why}`, source, pos);
  }
  const memo = new Map<string, boolean>();
  return (text) => {
    if (text.length > MEMO_MAX_LENGTH) return re.test(text);
    let hit = memo.get(text);
    if (hit === undefined) {
      hit = re.test(text);
      if (memo.size >= MEMO_ENTRIES) memo.clear();
      memo.set(text, hit);
    }
    return hit;
  };
}
