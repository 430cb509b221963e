/** Renders rows as aligned columns with a header; wide cells are kept whole. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - width(c)))).join("  ").trimEnd();
  const head = line(headers);
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  return [color ? bold(head) : head, rule, ...rows.map((r) => line(r.map((c) => c)))].join("\n") + "\n";
}

/** Display width: counts code points (good enough for names and ids). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export const bold = (s: string): string => `\u001b[1m${s}\u001b[22m`;
export const green = (s: string): string => `\u001b[32m${s}\u001b[39m`;
export const red = (s: string): string => `\u001b[31m${s}\u001b[39m`;
export const yellow = (s: string): string => `\u001b[33m${s}\u001b[39m`;
export const dim = (s: string): string => `\u001b[2m${s}\u001b[22m`;

/** Applies a colour only when colour is on. */
export function paint(color: boolean, fn: (s: string) => string, s: string): string {
  return color ? fn(s) : s;
}
