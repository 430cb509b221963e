/** What users of other languages type, and what the condition language says instead. */
const SUGGESTIONS: ReadonlyMap<string, string> = new Map([
  ["&&", "and"],
  ["&", "and"],
  ["||", "or"],
  ["|", "or"],
  ["!", "not (or !=)"],
  ["=", "=="],
  ["===", "=="],
  ["startswith", "starts_with"],
  ["startwith", "starts_with"],
  ["endswith", "ends_with"],
  ["endwith", "ends_with"],
  ["contain", "contains"],
  ["includes", "contains"],
  ["match", "matches"],
  ["notin", "not in"],
  ["nil", "null"],
]);

/** " (did you mean 'and'?)" for a token from another language, else "". */
export function suggestionFor(text: string): string {
  const s = SUGGESTIONS.get(text.toLowerCase());
  return s === undefined ? "" : ` (did you mean '${s}'?)`;
}
